"""Agent Desk's own branch: baseline (no tables yet; the audit tables arrive in a later revision).

Revision ID: a0001_baseline
Revises:
Create Date: 2026-11-25

Safe on a real Dify database: this branch only ever creates tables named `agent_desk_*` and keeps its
own version table (`agent_desk_alembic_version`).
"""

from collections.abc import Sequence

revision: str = "a0001_baseline"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
