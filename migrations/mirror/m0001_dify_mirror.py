"""Mirror of Dify's agent tables (seed 1fc9a7802c + migration 121e7346074d) and core tables.

For the embedded demo, tests and benchmarks only: `data.migrate` refuses to run it where Dify's
tables or Dify's `alembic_version` exist. Generated with autogenerate from `data.models`, then
reviewed; PostgreSQL also gets a `uuidv7()` function (PostgreSQL 15 has none) used as the default
of the agent tables' primary keys, as Dify's own migrations do.

Revision ID: m0001_dify_mirror
Revises:
Create Date: 2026-11-25 11:09:53.413248
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from data.types import LongText, StringUUID

# RFC 9562 v7: 48-bit Unix milliseconds, version 7, variant 10, random rest (from gen_random_uuid's
# random bytes; its variant bits are already 10, the version nibble is rewritten from 4 to 7).
UUIDV7_FUNCTION = """
CREATE OR REPLACE FUNCTION uuidv7() RETURNS uuid AS $$
DECLARE
    ms_bytes bytea := substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3);
    raw bytea := uuid_send(gen_random_uuid());
BEGIN
    raw := overlay(raw PLACING ms_bytes FROM 1 FOR 6);
    raw := set_byte(raw, 6, (get_byte(raw, 6) & 15) | 112);
    RETURN encode(raw, 'hex')::uuid;
END
$$ LANGUAGE plpgsql VOLATILE
"""
AGENT_TABLES = (
    "agents",
    "agent_config_snapshots",
    "agent_config_revisions",
    "workflow_agent_node_bindings",
    "agent_runtime_sessions",
)

revision: str = "m0001_dify_mirror"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    is_postgresql = op.get_bind().dialect.name == "postgresql"
    if is_postgresql:
        op.execute(UUIDV7_FUNCTION)
    op.create_table(
        "accounts",
        sa.Column("id", StringUUID(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="active", nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.Column("updated_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="account_pkey"),
    )
    op.create_index("account_email_idx", "accounts", ["email"], unique=False)
    op.create_table(
        "agent_config_revisions",
        sa.Column("id", StringUUID(), nullable=False),
        sa.Column("tenant_id", StringUUID(), nullable=False),
        sa.Column("agent_id", StringUUID(), nullable=False),
        sa.Column("previous_snapshot_id", StringUUID(), nullable=True),
        sa.Column("current_snapshot_id", StringUUID(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("operation", sa.String(length=64), nullable=False),
        sa.Column("summary", LongText(), nullable=True),
        sa.Column("version_note", LongText(), nullable=True),
        sa.Column("created_by", StringUUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="agent_config_revision_pkey"),
        sa.UniqueConstraint("agent_id", "revision", name="agent_config_revision_agent_revision_unique"),
    )
    op.create_index(
        "agent_config_revision_tenant_agent_created_at_idx",
        "agent_config_revisions",
        ["tenant_id", "agent_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "agent_config_revision_tenant_current_snapshot_created_at_idx",
        "agent_config_revisions",
        ["tenant_id", "current_snapshot_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "agent_config_snapshots",
        sa.Column("id", StringUUID(), nullable=False),
        sa.Column("tenant_id", StringUUID(), nullable=False),
        sa.Column("agent_id", StringUUID(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "config_snapshot",
            LongText(),
            nullable=False,
            comment="Serialized services.entities.agent_entities.AgentSoulConfig JSON.",
        ),
        sa.Column("summary", LongText(), nullable=True),
        sa.Column("version_note", LongText(), nullable=True),
        sa.Column("created_by", StringUUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.Column("updated_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="agent_config_snapshot_pkey"),
        sa.UniqueConstraint("agent_id", "version", name="agent_config_snapshot_agent_version_unique"),
    )
    op.create_index(
        "agent_config_snapshot_tenant_agent_created_at_idx",
        "agent_config_snapshots",
        ["tenant_id", "agent_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "agent_config_snapshot_tenant_created_at_idx",
        "agent_config_snapshots",
        ["tenant_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "agent_runtime_sessions",
        sa.Column("id", StringUUID(), nullable=False),
        sa.Column("tenant_id", StringUUID(), nullable=False),
        sa.Column("app_id", StringUUID(), nullable=False),
        sa.Column("owner_type", sa.String(length=32), nullable=False),
        sa.Column("agent_id", StringUUID(), nullable=False),
        sa.Column("backend_run_id", sa.String(length=255), nullable=True),
        sa.Column("session_snapshot", LongText(), nullable=False),
        sa.Column("workflow_id", StringUUID(), nullable=True),
        sa.Column("workflow_run_id", StringUUID(), nullable=True),
        sa.Column("node_id", sa.String(length=255), nullable=True),
        sa.Column("node_execution_id", sa.String(length=255), nullable=True),
        sa.Column("binding_id", StringUUID(), nullable=True),
        sa.Column("agent_config_snapshot_id", StringUUID(), nullable=True),
        sa.Column("composition_layer_specs", LongText(), nullable=False),
        sa.Column("conversation_id", StringUUID(), nullable=True),
        sa.Column("status", sa.String(length=32), server_default="active", nullable=False),
        sa.Column("cleaned_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.Column("updated_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="agent_runtime_session_pkey"),
    )
    op.create_index(
        "agent_runtime_session_backend_run_idx", "agent_runtime_sessions", ["backend_run_id"], unique=False
    )
    op.create_index(
        "agent_runtime_session_conversation_lookup_idx",
        "agent_runtime_sessions",
        ["tenant_id", "conversation_id", "status"],
        unique=False,
    )
    op.create_index(
        "agent_runtime_session_conversation_scope_unique",
        "agent_runtime_sessions",
        ["tenant_id", "conversation_id", "agent_id", "agent_config_snapshot_id"],
        unique=True,
        postgresql_where=sa.text("conversation_id IS NOT NULL"),
        sqlite_where=sa.text("conversation_id IS NOT NULL"),
    )
    op.create_index(
        "agent_runtime_session_workflow_lookup_idx",
        "agent_runtime_sessions",
        ["tenant_id", "workflow_run_id", "node_id", "status"],
        unique=False,
    )
    op.create_index(
        "agent_runtime_session_workflow_scope_unique",
        "agent_runtime_sessions",
        ["tenant_id", "workflow_run_id", "node_id", "binding_id", "agent_id"],
        unique=True,
        postgresql_where=sa.text("workflow_run_id IS NOT NULL"),
        sqlite_where=sa.text("workflow_run_id IS NOT NULL"),
    )
    op.create_table(
        "agents",
        sa.Column("id", StringUUID(), nullable=False),
        sa.Column("tenant_id", StringUUID(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", LongText(), nullable=False),
        sa.Column("icon_type", sa.String(length=32), nullable=True),
        sa.Column(
            "icon",
            sa.String(length=255),
            nullable=True,
            comment="Icon payload interpreted by icon_type: emoji character, image file id, or external URL.",
        ),
        sa.Column("icon_background", sa.String(length=255), nullable=True),
        sa.Column("agent_kind", sa.String(length=32), server_default="dify_agent", nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("app_id", StringUUID(), nullable=True),
        sa.Column("workflow_id", StringUUID(), nullable=True),
        sa.Column("workflow_node_id", sa.String(length=255), nullable=True),
        sa.Column("active_config_snapshot_id", StringUUID(), nullable=True),
        sa.Column("status", sa.String(length=32), server_default="active", nullable=False),
        sa.Column(
            "roster_unique_name",
            sa.String(length=255),
            sa.Computed(
                "CASE WHEN scope = 'roster' AND status = 'active' THEN name ELSE NULL END",
            ),
            nullable=True,
        ),
        sa.Column("created_by", StringUUID(), nullable=True),
        sa.Column("updated_by", StringUUID(), nullable=True),
        sa.Column("archived_by", StringUUID(), nullable=True),
        sa.Column("archived_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.Column("updated_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="agent_pkey"),
        sa.UniqueConstraint("tenant_id", "roster_unique_name", name="agents_tenant_id_key"),
    )
    op.create_index(
        "agent_active_config_snapshot_id_idx", "agents", ["active_config_snapshot_id"], unique=False
    )
    op.create_index("agent_tenant_app_id_idx", "agents", ["tenant_id", "app_id"], unique=False)
    op.create_index("agent_tenant_scope_idx", "agents", ["tenant_id", "scope"], unique=False)
    op.create_index("agent_tenant_updated_at_idx", "agents", ["tenant_id", "updated_at"], unique=False)
    op.create_index("agent_tenant_workflow_id_idx", "agents", ["tenant_id", "workflow_id"], unique=False)
    op.create_table(
        "apps",
        sa.Column("id", StringUUID(), nullable=False),
        sa.Column("tenant_id", StringUUID(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("mode", sa.String(length=255), nullable=False),
        sa.Column("icon_type", sa.String(length=255), nullable=True),
        sa.Column("icon", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=255), server_default="normal", nullable=False),
        sa.Column("workflow_id", StringUUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.Column("updated_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="app_pkey"),
    )
    op.create_index("app_tenant_id_idx", "apps", ["tenant_id"], unique=False)
    op.create_table(
        "conversations",
        sa.Column("id", StringUUID(), nullable=False),
        sa.Column("app_id", StringUUID(), nullable=False),
        sa.Column("mode", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=255), nullable=False),
        sa.Column("from_source", sa.String(length=255), nullable=False),
        sa.Column("from_end_user_id", StringUUID(), nullable=True),
        sa.Column("from_account_id", StringUUID(), nullable=True),
        sa.Column("is_deleted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.Column("updated_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="conversation_pkey"),
    )
    op.create_index(
        "conversation_app_from_user_idx",
        "conversations",
        ["app_id", "from_source", "from_end_user_id"],
        unique=False,
    )
    op.create_table(
        "tenant_account_joins",
        sa.Column("id", StringUUID(), nullable=False),
        sa.Column("tenant_id", StringUUID(), nullable=False),
        sa.Column("account_id", StringUUID(), nullable=False),
        sa.Column("role", sa.String(length=16), server_default="normal", nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.Column("updated_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="tenant_account_join_pkey"),
        sa.UniqueConstraint("tenant_id", "account_id", name="unique_tenant_account_join"),
    )
    op.create_index(
        "tenant_account_join_account_id_idx", "tenant_account_joins", ["account_id"], unique=False
    )
    op.create_index("tenant_account_join_tenant_id_idx", "tenant_account_joins", ["tenant_id"], unique=False)
    op.create_table(
        "tenants",
        sa.Column("id", StringUUID(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("plan", sa.String(length=255), server_default="basic", nullable=False),
        sa.Column("status", sa.String(length=255), server_default="normal", nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.Column("updated_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="tenant_pkey"),
    )
    op.create_table(
        "workflow_agent_node_bindings",
        sa.Column("id", StringUUID(), nullable=False),
        sa.Column("tenant_id", StringUUID(), nullable=False),
        sa.Column("app_id", StringUUID(), nullable=False),
        sa.Column("workflow_id", StringUUID(), nullable=False),
        sa.Column("workflow_version", sa.String(length=255), nullable=False),
        sa.Column("node_id", sa.String(length=255), nullable=False),
        sa.Column("binding_type", sa.String(length=32), nullable=False),
        sa.Column("agent_id", StringUUID(), nullable=True),
        sa.Column("current_snapshot_id", StringUUID(), nullable=True),
        sa.Column("node_job_config", LongText(), nullable=False),
        sa.Column("created_by", StringUUID(), nullable=True),
        sa.Column("updated_by", StringUUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.Column("updated_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="workflow_agent_node_binding_pkey"),
        sa.UniqueConstraint(
            "tenant_id",
            "workflow_id",
            "workflow_version",
            "node_id",
            name="workflow_agent_node_binding_node_version_unique",
        ),
    )
    op.create_index(
        "workflow_agent_node_binding_agent_idx",
        "workflow_agent_node_bindings",
        ["tenant_id", "agent_id"],
        unique=False,
    )
    op.create_index(
        "workflow_agent_node_binding_app_idx",
        "workflow_agent_node_bindings",
        ["tenant_id", "app_id"],
        unique=False,
    )
    op.create_index(
        "workflow_agent_node_binding_current_snapshot_idx",
        "workflow_agent_node_bindings",
        ["tenant_id", "current_snapshot_id"],
        unique=False,
    )
    op.create_index(
        "workflow_agent_node_binding_workflow_version_idx",
        "workflow_agent_node_bindings",
        ["tenant_id", "workflow_id", "workflow_version"],
        unique=False,
    )
    op.create_table(
        "workflow_pauses",
        sa.Column("id", StringUUID(), nullable=False),
        sa.Column("workflow_id", StringUUID(), nullable=False),
        sa.Column("workflow_run_id", StringUUID(), nullable=False),
        sa.Column("resumed_at", sa.DateTime(), nullable=True),
        sa.Column("state_object_key", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.Column("updated_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="workflow_pauses_pkey"),
        sa.UniqueConstraint("workflow_run_id", name="workflow_pauses_workflow_run_id_key"),
    )
    op.create_table(
        "workflow_runs",
        sa.Column("id", StringUUID(), nullable=False),
        sa.Column("tenant_id", StringUUID(), nullable=False),
        sa.Column("app_id", StringUUID(), nullable=False),
        sa.Column("workflow_id", StringUUID(), nullable=False),
        sa.Column("type", sa.String(length=255), nullable=False),
        sa.Column("triggered_from", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=255), nullable=False),
        sa.Column("created_by_role", sa.String(length=255), nullable=False),
        sa.Column("created_by", StringUUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="workflow_run_pkey"),
    )
    op.create_index("workflow_run_created_at_id_idx", "workflow_runs", ["created_at", "id"], unique=False)
    op.create_index(
        "workflow_run_triggerd_from_idx",
        "workflow_runs",
        ["tenant_id", "app_id", "triggered_from"],
        unique=False,
    )
    op.create_table(
        "workflows",
        sa.Column("id", StringUUID(), nullable=False),
        sa.Column("tenant_id", StringUUID(), nullable=False),
        sa.Column("app_id", StringUUID(), nullable=False),
        sa.Column("type", sa.String(length=255), nullable=False),
        sa.Column("version", sa.String(length=255), nullable=False),
        sa.Column("graph", LongText(), nullable=False),
        sa.Column("marked_name", sa.String(length=255), server_default="", nullable=False),
        sa.Column("created_by", StringUUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="workflow_pkey"),
    )
    op.create_index("workflow_version_idx", "workflows", ["tenant_id", "app_id", "version"], unique=False)
    if is_postgresql:
        for table in AGENT_TABLES:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN id SET DEFAULT uuidv7()")


def downgrade() -> None:
    op.drop_index("workflow_version_idx", table_name="workflows")
    op.drop_table("workflows")
    op.drop_index("workflow_run_triggerd_from_idx", table_name="workflow_runs")
    op.drop_index("workflow_run_created_at_id_idx", table_name="workflow_runs")
    op.drop_table("workflow_runs")
    op.drop_table("workflow_pauses")
    op.drop_index(
        "workflow_agent_node_binding_workflow_version_idx", table_name="workflow_agent_node_bindings"
    )
    op.drop_index(
        "workflow_agent_node_binding_current_snapshot_idx", table_name="workflow_agent_node_bindings"
    )
    op.drop_index("workflow_agent_node_binding_app_idx", table_name="workflow_agent_node_bindings")
    op.drop_index("workflow_agent_node_binding_agent_idx", table_name="workflow_agent_node_bindings")
    op.drop_table("workflow_agent_node_bindings")
    op.drop_table("tenants")
    op.drop_index("tenant_account_join_tenant_id_idx", table_name="tenant_account_joins")
    op.drop_index("tenant_account_join_account_id_idx", table_name="tenant_account_joins")
    op.drop_table("tenant_account_joins")
    op.drop_index("conversation_app_from_user_idx", table_name="conversations")
    op.drop_table("conversations")
    op.drop_index("app_tenant_id_idx", table_name="apps")
    op.drop_table("apps")
    op.drop_index("agent_tenant_workflow_id_idx", table_name="agents")
    op.drop_index("agent_tenant_updated_at_idx", table_name="agents")
    op.drop_index("agent_tenant_scope_idx", table_name="agents")
    op.drop_index("agent_tenant_app_id_idx", table_name="agents")
    op.drop_index("agent_active_config_snapshot_id_idx", table_name="agents")
    op.drop_table("agents")
    op.drop_index(
        "agent_runtime_session_workflow_scope_unique",
        table_name="agent_runtime_sessions",
        postgresql_where=sa.text("workflow_run_id IS NOT NULL"),
        sqlite_where=sa.text("workflow_run_id IS NOT NULL"),
    )
    op.drop_index("agent_runtime_session_workflow_lookup_idx", table_name="agent_runtime_sessions")
    op.drop_index(
        "agent_runtime_session_conversation_scope_unique",
        table_name="agent_runtime_sessions",
        postgresql_where=sa.text("conversation_id IS NOT NULL"),
        sqlite_where=sa.text("conversation_id IS NOT NULL"),
    )
    op.drop_index("agent_runtime_session_conversation_lookup_idx", table_name="agent_runtime_sessions")
    op.drop_index("agent_runtime_session_backend_run_idx", table_name="agent_runtime_sessions")
    op.drop_table("agent_runtime_sessions")
    op.drop_index("agent_config_snapshot_tenant_created_at_idx", table_name="agent_config_snapshots")
    op.drop_index("agent_config_snapshot_tenant_agent_created_at_idx", table_name="agent_config_snapshots")
    op.drop_table("agent_config_snapshots")
    op.drop_index(
        "agent_config_revision_tenant_current_snapshot_created_at_idx", table_name="agent_config_revisions"
    )
    op.drop_index("agent_config_revision_tenant_agent_created_at_idx", table_name="agent_config_revisions")
    op.drop_table("agent_config_revisions")
    op.drop_index("account_email_idx", table_name="accounts")
    op.drop_table("accounts")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS uuidv7()")
