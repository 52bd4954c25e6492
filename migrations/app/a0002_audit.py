"""Agent Desk's audit log (append-only): `agent_desk_audit_actions` (one row per action),
`agent_desk_audit_targets` (one row per affected id, indexed by id for the per-session history) and
`agent_desk_audit_batches` (outcome of each batch and of the whole action).

Revision ID: a0002_audit
Revises: a0001_baseline
Create Date: 2026-11-26

Portable (PostgreSQL, SQLite, MySQL): StringUUID / LongText / DateTime only, no server-side defaults
(the services supply every value). Creates only `agent_desk_*` tables: safe on a real Dify database.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from data.types import LongText, StringUUID

revision: str = "a0002_audit"
down_revision: str | None = "a0001_baseline"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agent_desk_audit_actions",
        sa.Column("id", StringUUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", StringUUID(), nullable=True),
        sa.Column("target_id", StringUUID(), nullable=True),
        sa.Column("reason", LongText(), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=True),
        sa.Column("filter", LongText(), nullable=True),
        sa.Column("requested", sa.Integer(), nullable=False),
        sa.Column("app_version", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="agent_desk_audit_actions_pkey"),
    )
    op.create_index("agent_desk_audit_actions_created_idx", "agent_desk_audit_actions", ["created_at", "id"])
    op.create_index("agent_desk_audit_actions_actor_idx", "agent_desk_audit_actions", ["actor", "created_at"])
    op.create_index(
        "agent_desk_audit_actions_tenant_idx", "agent_desk_audit_actions", ["tenant_id", "created_at"]
    )
    op.create_table(
        "agent_desk_audit_targets",
        sa.Column("id", StringUUID(), nullable=False),
        sa.Column("action_id", StringUUID(), nullable=False),
        sa.Column("target_id", StringUUID(), nullable=False),
        sa.Column("tenant_id", StringUUID(), nullable=True),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=True),
        sa.Column("prior_updated_at", sa.DateTime(), nullable=True),
        sa.Column("cleaned_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"], ["agent_desk_audit_actions.id"], name="agent_desk_audit_targets_action_fkey"
        ),
        sa.PrimaryKeyConstraint("id", name="agent_desk_audit_targets_pkey"),
    )
    op.create_index(
        "agent_desk_audit_targets_target_idx", "agent_desk_audit_targets", ["target_id", "created_at"]
    )
    op.create_index("agent_desk_audit_targets_action_idx", "agent_desk_audit_targets", ["action_id"])
    op.create_table(
        "agent_desk_audit_batches",
        sa.Column("id", StringUUID(), nullable=False),
        sa.Column("action_id", StringUUID(), nullable=False),
        sa.Column("batch_no", sa.Integer(), nullable=True),
        sa.Column("applied", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("detail", LongText(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"], ["agent_desk_audit_actions.id"], name="agent_desk_audit_batches_action_fkey"
        ),
        sa.PrimaryKeyConstraint("id", name="agent_desk_audit_batches_pkey"),
    )
    op.create_index("agent_desk_audit_batches_action_idx", "agent_desk_audit_batches", ["action_id"])


def downgrade() -> None:
    # Dropping a table drops its indexes; dropping an index first fails on MySQL when a foreign key
    # still needs it. Children before parents.
    op.drop_table("agent_desk_audit_batches")
    op.drop_table("agent_desk_audit_targets")
    op.drop_table("agent_desk_audit_actions")
