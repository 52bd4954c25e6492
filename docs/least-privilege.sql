-- Least-privilege PostgreSQL role for Agent Desk on a real Dify database.
-- Run as the database owner. Agent Desk's own tables are created beforehand with
-- `python -m data migrate` by a role that may CREATE in the schema (e.g. the owner).
CREATE ROLE agent_desk LOGIN PASSWORD 'change-me';
GRANT CONNECT ON DATABASE dify TO agent_desk;
GRANT USAGE ON SCHEMA public TO agent_desk;

-- Reads: the agent tables and the core tables the views join to (no accounts.password* needed:
-- Agent Desk never selects them, but column-level grants keep it that way). Only the tables this
-- database has are granted: a Dify 1.15/1.16 database has agent_runtime_sessions, a 1.17+ one has the
-- working-environment tables (agent_workspaces, agent_workspace_bindings, agent_home_snapshots,
-- agent_config_drafts) and workflow_node_executions instead.
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['agents', 'agent_config_snapshots', 'agent_config_revisions',
    'workflow_agent_node_bindings', 'agent_runtime_sessions', 'tenants', 'tenant_account_joins', 'apps',
    'workflows', 'workflow_runs', 'workflow_pauses', 'conversations', 'agent_config_drafts',
    'agent_debug_conversations', 'agent_workspaces', 'agent_workspace_bindings', 'agent_home_snapshots',
    'workflow_node_executions'] LOOP
    IF to_regclass(format('public.%I', t)) IS NOT NULL THEN
      EXECUTE format('GRANT SELECT ON %I TO agent_desk', t);
    END IF;
  END LOOP;
END $$;
GRANT SELECT (id, name, email, status, created_at, updated_at) ON accounts TO agent_desk;

-- The only writes on Dify's tables (column-level UPDATE also allows the SELECT ... FOR UPDATE SKIP
-- LOCKED the batches lock rows with; never DELETE, never another column):
-- * 1.15/1.16: the session cleanup transition;
-- * 1.17+: the manual retire (docs/sessions.md, "Dify 1.17+"): workspaces' status, retired_at,
--   active_guard, updated_at; bindings' status, retired_at, updated_at. Home snapshots: read only.
DO $$
BEGIN
  IF to_regclass('public.agent_runtime_sessions') IS NOT NULL THEN
    GRANT UPDATE (status, cleaned_at, updated_at) ON agent_runtime_sessions TO agent_desk;
  END IF;
  IF to_regclass('public.agent_workspaces') IS NOT NULL THEN
    GRANT UPDATE (status, retired_at, active_guard, updated_at) ON agent_workspaces TO agent_desk;
  END IF;
  IF to_regclass('public.agent_workspace_bindings') IS NOT NULL THEN
    GRANT UPDATE (status, retired_at, updated_at) ON agent_workspace_bindings TO agent_desk;
  END IF;
END $$;

-- Agent Desk's own tables (audit log) and their version table.
DO $$
DECLARE t text;
BEGIN
  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'agent\_desk\_%' LOOP
    EXECUTE format('GRANT SELECT, INSERT ON %I TO agent_desk', t);
  END LOOP;
  -- The check jobs (issue 16) update their claims and runs in place (heartbeat, progress, status):
  -- the tables of data.guard.OWN_UPDATE_ALLOWED; findings and the audit stay insert-only.
  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public'
           AND tablename IN ('agent_desk_check_claims', 'agent_desk_check_runs') LOOP
    EXECUTE format('GRANT UPDATE ON %I TO agent_desk', t);
  END LOOP;
END $$;
