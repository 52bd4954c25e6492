"""Agent Desk's integrity-check jobs: `agent_desk_check_claims` (one job per check and scope),
`agent_desk_check_runs` (one row per job: status, heartbeat, progress, cursor) and
`agent_desk_check_findings` (offending rows per run, masked). See `data/models/check_runs.py`.

Revision ID: a0003_check_runs
Revises: a0002_audit
Create Date: 2026-11-27

Portable (PostgreSQL, SQLite, MySQL): StringUUID / LongText / String / DateTime / BigInteger / Boolean,
no server-side defaults (the services supply every value). Creates only `agent_desk_*` tables: safe on
a real Dify database.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from data.types import LongText, StringUUID

revision: str = "a0003_check_runs"
down_revision: str | None = "a0002_audit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agent_desk_check_claims",
        sa.Column("check_name", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=36), nullable=False),
        sa.Column("run_id", StringUUID(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("check_name", "scope", name="agent_desk_check_claims_pkey"),
    )
    op.create_table(
        "agent_desk_check_runs",
        sa.Column("id", StringUUID(), nullable=False),
        sa.Column("check_name", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=36), nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=True),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("base_run_id", StringUUID(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("covered_since", sa.DateTime(), nullable=True),
        sa.Column("rows_read", sa.BigInteger(), nullable=False),
        sa.Column("rows_covered", sa.BigInteger(), nullable=False),
        sa.Column("rows_estimate", sa.BigInteger(), nullable=True),
        sa.Column("found", sa.BigInteger(), nullable=False),
        sa.Column("findings_stored", sa.Integer(), nullable=False),
        sa.Column("window_rows", sa.Integer(), nullable=False),
        sa.Column("cursor", LongText(), nullable=True),
        sa.Column("error", LongText(), nullable=True),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("app_version", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="agent_desk_check_runs_pkey"),
    )
    op.create_index(
        "agent_desk_check_runs_check_idx", "agent_desk_check_runs", ["check_name", "scope", "created_at"]
    )
    op.create_table(
        "agent_desk_check_findings",
        sa.Column("id", StringUUID(), nullable=False),
        sa.Column("run_id", StringUUID(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("row_id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=True),
        sa.Column("detail", LongText(), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=True),
        sa.Column("app_id", sa.String(length=64), nullable=True),
        sa.Column("workflow_id", sa.String(length=64), nullable=True),
        sa.Column("node_id", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["agent_desk_check_runs.id"], name="agent_desk_check_findings_run_fkey"
        ),
        sa.PrimaryKeyConstraint("id", name="agent_desk_check_findings_pkey"),
    )
    op.create_index("agent_desk_check_findings_run_idx", "agent_desk_check_findings", ["run_id", "seq"])


def downgrade() -> None:
    # Children before parents (MySQL refuses to drop an index a foreign key still needs).
    op.drop_table("agent_desk_check_findings")
    op.drop_table("agent_desk_check_runs")
    op.drop_table("agent_desk_check_claims")
