-- Least-privilege PostgreSQL role for Agent Desk on a real Dify database.
-- Run as the database owner. Agent Desk's own tables are created beforehand with
-- `python -m data migrate` by a role that may CREATE in the schema (e.g. the owner).
CREATE ROLE agent_desk LOGIN PASSWORD 'change-me';
GRANT CONNECT ON DATABASE dify TO agent_desk;
GRANT USAGE ON SCHEMA public TO agent_desk;

-- Reads: the five agent tables and the core tables the views join to (no accounts.password* needed:
-- Agent Desk never selects them, but column-level grants keep it that way).
GRANT SELECT ON agents, agent_config_snapshots, agent_config_revisions, workflow_agent_node_bindings,
  agent_runtime_sessions, tenants, tenant_account_joins, apps, workflows, workflow_runs, workflow_pauses,
  conversations TO agent_desk;
GRANT SELECT (id, name, email, status, created_at, updated_at) ON accounts TO agent_desk;

-- The one write on Dify's tables: the session cleanup transition.
GRANT UPDATE (status, cleaned_at, updated_at) ON agent_runtime_sessions TO agent_desk;

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
