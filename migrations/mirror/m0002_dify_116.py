"""Mirror: what Dify 1.15/1.16 added to the agent tables after the seed (still runtime sessions).

agents.role / active_config_has_model (+ agent_tenant_invitable_idx) / backing_app_id
(+ agent_tenant_backing_app_id_idx) / active_config_is_published / debug_conversation_id;
agent_config_drafts and agent_debug_conversations; agent_runtime_sessions.pending_form_id /
pending_tool_call_id / home_snapshot_id and the 5-column conversation index.
Written by hand from shared/reference/dify-agent-working-environment.md sections 2-3.

Revision ID: m0002_dify_116
Revises: m0001_dify_mirror
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from data.types import LongText, StringUUID

revision: str = "m0002_dify_116"
down_revision: str | None = "m0001_dify_mirror"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOW = sa.text("CURRENT_TIMESTAMP")
_CONVERSATION_INDEX = "agent_runtime_session_conversation_scope_unique"
_WHERE = {
    "postgresql_where": sa.text("conversation_id IS NOT NULL"),
    "sqlite_where": sa.text("conversation_id IS NOT NULL"),
}


def upgrade() -> None:
    op.add_column("agents", sa.Column("role", sa.String(length=255), server_default="", nullable=False))
    op.add_column(
        "agents",
        sa.Column("active_config_has_model", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("agents", sa.Column("backing_app_id", StringUUID(), nullable=True))
    op.add_column(
        "agents",
        sa.Column("active_config_is_published", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column("agents", sa.Column("debug_conversation_id", StringUUID(), nullable=True))
    op.create_index(
        "agent_tenant_invitable_idx",
        "agents",
        ["tenant_id", "scope", "status", "active_config_has_model", "updated_at"],
        unique=False,
    )
    op.create_index(
        "agent_tenant_backing_app_id_idx", "agents", ["tenant_id", "backing_app_id"], unique=False
    )

    op.create_table(
        "agent_config_drafts",
        sa.Column("id", StringUUID(), nullable=False),
        sa.Column("tenant_id", StringUUID(), nullable=False),
        sa.Column("agent_id", StringUUID(), nullable=False),
        sa.Column("draft_type", sa.String(length=32), nullable=False),
        sa.Column("account_id", StringUUID(), nullable=True),
        sa.Column("draft_owner_key", sa.String(length=255), server_default="", nullable=False),
        sa.Column("base_snapshot_id", StringUUID(), nullable=True),
        sa.Column("config_snapshot", LongText(), nullable=False),
        sa.Column("created_by", StringUUID(), nullable=True),
        sa.Column("updated_by", StringUUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(), server_default=_NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(), server_default=_NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name="agent_config_draft_pkey"),
        sa.UniqueConstraint(
            "tenant_id",
            "agent_id",
            "draft_type",
            "draft_owner_key",
            name="agent_config_draft_agent_type_account_unique",
        ),
    )
    op.create_index(
        "agent_config_draft_tenant_agent_idx", "agent_config_drafts", ["tenant_id", "agent_id"], unique=False
    )
    op.create_index(
        "agent_config_draft_tenant_base_snapshot_idx",
        "agent_config_drafts",
        ["tenant_id", "base_snapshot_id"],
        unique=False,
    )
    op.create_table(
        "agent_debug_conversations",
        sa.Column("id", StringUUID(), nullable=False),
        sa.Column("tenant_id", StringUUID(), nullable=False),
        sa.Column("agent_id", StringUUID(), nullable=False),
        sa.Column("app_id", StringUUID(), nullable=False),
        sa.Column("account_id", StringUUID(), nullable=False),
        sa.Column("conversation_id", StringUUID(), nullable=False),
        sa.Column("draft_type", sa.String(length=32), server_default="debug_build", nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=_NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(), server_default=_NOW, nullable=False),
        sa.PrimaryKeyConstraint("id", name="agent_debug_conversation_pkey"),
        sa.UniqueConstraint(
            "tenant_id", "agent_id", "account_id", "draft_type", name="agent_debug_conversation_unique"
        ),
    )

    op.add_column("agent_runtime_sessions", sa.Column("pending_form_id", StringUUID(), nullable=True))
    op.add_column(
        "agent_runtime_sessions", sa.Column("pending_tool_call_id", sa.String(length=255), nullable=True)
    )
    op.add_column("agent_runtime_sessions", sa.Column("home_snapshot_id", StringUUID(), nullable=True))
    op.drop_index(_CONVERSATION_INDEX, table_name="agent_runtime_sessions", **_WHERE)
    op.create_index(
        _CONVERSATION_INDEX,
        "agent_runtime_sessions",
        ["tenant_id", "conversation_id", "agent_id", "agent_config_snapshot_id", "home_snapshot_id"],
        unique=True,
        **_WHERE,
    )


def downgrade() -> None:
    op.drop_index(_CONVERSATION_INDEX, table_name="agent_runtime_sessions", **_WHERE)
    op.create_index(
        _CONVERSATION_INDEX,
        "agent_runtime_sessions",
        ["tenant_id", "conversation_id", "agent_id", "agent_config_snapshot_id"],
        unique=True,
        **_WHERE,
    )
    for column in ("home_snapshot_id", "pending_tool_call_id", "pending_form_id"):
        op.drop_column("agent_runtime_sessions", column)
    op.drop_table("agent_debug_conversations")
    op.drop_index("agent_config_draft_tenant_base_snapshot_idx", table_name="agent_config_drafts")
    op.drop_index("agent_config_draft_tenant_agent_idx", table_name="agent_config_drafts")
    op.drop_table("agent_config_drafts")
    op.drop_index("agent_tenant_backing_app_id_idx", table_name="agents")
    op.drop_index("agent_tenant_invitable_idx", table_name="agents")
    for column in (
        "debug_conversation_id",
        "active_config_is_published",
        "backing_app_id",
        "active_config_has_model",
        "role",
    ):
        op.drop_column("agents", column)
