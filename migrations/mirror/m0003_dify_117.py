"""Mirror: Dify 1.17's working environments (Dify migration f6e4c5686857 and its neighbours).

Drops agent_runtime_sessions (Dify copies no data either) and creates agent_home_snapshots,
agent_workspaces and agent_workspace_bindings; adds home_snapshot_id to agent_config_snapshots and
agent_config_drafts, the agent_workspace_binding_id pointers (drafts, conversations) and the core
table workflow_node_executions (the columns the views read, with its 1.17 pointer). Ids have no
server default: Dify mints them (UUIDv7). Written by hand from
shared/reference/dify-agent-working-environment.md section 3.

Revision ID: m0003_dify_117
Revises: m0002_dify_116
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from data.types import LongText, StringUUID

revision: str = "m0003_dify_117"
down_revision: str | None = "m0002_dify_116"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOW = sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    op.drop_table("agent_runtime_sessions")
    op.create_table(
        "agent_home_snapshots",
        sa.Column("id", StringUUID(), nullable=False),
        sa.Column("tenant_id", StringUUID(), nullable=False),
        sa.Column("agent_id", StringUUID(), nullable=False),
        sa.Column("snapshot_ref", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=_NOW, nullable=False),
        sa.Column("status", sa.String(length=32), server_default="active", nullable=False),
        sa.Column("retired_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="agent_home_snapshot_pkey"),
    )
    op.create_index(
        "agent_home_snapshot_tenant_agent_idx",
        "agent_home_snapshots",
        ["tenant_id", "agent_id"],
        unique=False,
    )
    op.create_index(
        "agent_home_snapshot_status_retired_idx",
        "agent_home_snapshots",
        ["status", "retired_at"],
        unique=False,
    )
    op.create_table(
        "agent_workspaces",
        sa.Column("id", StringUUID(), nullable=False),
        sa.Column("tenant_id", StringUUID(), nullable=False),
        sa.Column("app_id", StringUUID(), nullable=False),
        sa.Column("owner_type", sa.String(length=32), nullable=False),
        sa.Column("owner_id", StringUUID(), nullable=False),
        sa.Column("owner_scope_key", sa.String(length=255), nullable=False),
        sa.Column("backend_workspace_ref", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=32), server_default="active", nullable=False),
        sa.Column("active_guard", sa.SmallInteger(), server_default=sa.text("1"), nullable=True),
        sa.Column("retired_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), server_default=_NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(), server_default=_NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name="agent_workspace_pkey"),
    )
    op.create_index(
        "agent_workspace_owner_active_unique",
        "agent_workspaces",
        ["tenant_id", "owner_type", "owner_id", "owner_scope_key", "active_guard"],
        unique=True,
    )
    op.create_index(
        "agent_workspace_status_retired_idx", "agent_workspaces", ["status", "retired_at"], unique=False
    )
    op.create_index(
        "agent_workspace_tenant_app_status_idx",
        "agent_workspaces",
        ["tenant_id", "app_id", "status"],
        unique=False,
    )
    op.create_index(
        "agent_workspace_tenant_status_idx", "agent_workspaces", ["tenant_id", "status"], unique=False
    )
    op.create_table(
        "agent_workspace_bindings",
        sa.Column("id", StringUUID(), nullable=False),
        sa.Column("tenant_id", StringUUID(), nullable=False),
        sa.Column("app_id", StringUUID(), nullable=False),
        sa.Column("workspace_id", StringUUID(), nullable=False),
        sa.Column("agent_id", StringUUID(), nullable=False),
        sa.Column("base_home_snapshot_id", StringUUID(), nullable=True),
        sa.Column("agent_config_version_id", StringUUID(), nullable=False),
        sa.Column("agent_config_version_kind", sa.String(length=32), nullable=False),
        sa.Column("backend_binding_ref", sa.String(length=255), nullable=False),
        sa.Column("session_snapshot", LongText(), nullable=True),
        sa.Column("status", sa.String(length=32), server_default="active", nullable=False),
        sa.Column("retired_at", sa.DateTime(), nullable=True),
        sa.Column("pending_form_id", StringUUID(), nullable=True),
        sa.Column("pending_tool_call_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(), server_default=_NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(), server_default=_NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name="agent_workspace_binding_pkey"),
    )
    op.create_index(
        "agent_workspace_binding_agent_status_idx",
        "agent_workspace_bindings",
        ["tenant_id", "agent_id", "status"],
        unique=False,
    )
    op.create_index(
        "agent_workspace_binding_status_retired_idx",
        "agent_workspace_bindings",
        ["status", "retired_at"],
        unique=False,
    )
    op.create_index(
        "agent_workspace_binding_workspace_status_idx",
        "agent_workspace_bindings",
        ["tenant_id", "workspace_id", "status"],
        unique=False,
    )
    op.add_column("agent_config_snapshots", sa.Column("home_snapshot_id", StringUUID(), nullable=True))
    op.add_column("agent_config_drafts", sa.Column("home_snapshot_id", StringUUID(), nullable=True))
    op.add_column("agent_config_drafts", sa.Column("agent_workspace_binding_id", StringUUID(), nullable=True))
    op.add_column("conversations", sa.Column("agent_workspace_binding_id", StringUUID(), nullable=True))
    op.create_table(
        "workflow_node_executions",
        sa.Column("id", StringUUID(), nullable=False),
        sa.Column("tenant_id", StringUUID(), nullable=False),
        sa.Column("app_id", StringUUID(), nullable=False),
        sa.Column("workflow_id", StringUUID(), nullable=False),
        sa.Column("triggered_from", sa.String(length=255), nullable=False),
        sa.Column("workflow_run_id", StringUUID(), nullable=True),
        sa.Column("index", sa.Integer(), nullable=False),
        sa.Column("node_id", sa.String(length=255), nullable=False),
        sa.Column("node_type", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=255), nullable=False),
        sa.Column("created_by_role", sa.String(length=255), nullable=False),
        sa.Column("created_by", StringUUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=_NOW, nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("agent_workspace_binding_id", StringUUID(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="workflow_node_execution_pkey"),
    )
    op.create_index(
        "workflow_node_execution_workflow_run_idx",
        "workflow_node_executions",
        ["tenant_id", "app_id", "workflow_id", "triggered_from", "workflow_run_id"],
        unique=False,
    )
    op.create_index(
        "workflow_node_execution_node_run_idx",
        "workflow_node_executions",
        ["tenant_id", "app_id", "workflow_id", "triggered_from", "node_id"],
        unique=False,
    )


def downgrade() -> None:
    from data.models import AgentRuntimeSession

    op.drop_table("workflow_node_executions")
    op.drop_column("conversations", "agent_workspace_binding_id")
    op.drop_column("agent_config_drafts", "agent_workspace_binding_id")
    op.drop_column("agent_config_drafts", "home_snapshot_id")
    op.drop_column("agent_config_snapshots", "home_snapshot_id")
    op.drop_table("agent_workspace_bindings")
    op.drop_table("agent_workspaces")
    op.drop_table("agent_home_snapshots")
    # Back to 1.16: an empty sessions table (its 1.16 columns included; the index as the model has it).
    AgentRuntimeSession.__table__.create(op.get_bind())
    # The 1.16 columns the model deliberately does not map (m0002's downgrade drops them).
    op.add_column("agent_runtime_sessions", sa.Column("pending_form_id", StringUUID(), nullable=True))
    op.add_column(
        "agent_runtime_sessions", sa.Column("pending_tool_call_id", sa.String(length=255), nullable=True)
    )
    op.add_column("agent_runtime_sessions", sa.Column("home_snapshot_id", StringUUID(), nullable=True))
