"""Agent Desk's audit log: one row per action, one row per affected id (its own tables, own branch).

Invariants the services keep (and the tests check):

* An action row is written before its first change; each cleanup batch adds its per-id rows and
  bumps the action's `applied` / `skipped` counters in the SAME transaction as the change, so
  `applied` always equals the number of per-id rows of a clean action, even after a crash.
* Per-id rows exist only for rows that really transitioned (or, for an audited read such as
  revealing a conversation history, for the one session that was read).
* Timestamps are naive UTC, like Dify's.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from data.models.base import naive_utc_now, uuidv7
from data.models.own import AppBase
from data.types import LongText, StringUUID

ACTIONS_TABLE = "agent_desk_audit_actions"
TARGETS_TABLE = "agent_desk_audit_targets"


class AuditAction(AppBase):
    """One thing someone did: who, when, what, where, why, with which rule or filter, how many."""

    __tablename__ = ACTIONS_TABLE
    __table_args__ = (
        sa.PrimaryKeyConstraint("id", name="agent_desk_audit_actions_pkey"),
        sa.Index("agent_desk_audit_actions_created_idx", "created_at", "id"),
        sa.Index("agent_desk_audit_actions_actor_idx", "actor", "created_at"),
        sa.Index("agent_desk_audit_actions_tenant_idx", "tenant_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(StringUUID, default=uuidv7)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, default=naive_utc_now)
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime, nullable=True)
    actor: Mapped[str] = mapped_column(sa.String(255), nullable=False)  # email, local:<user>, cli:<name>
    action: Mapped[str] = mapped_column(sa.String(64), nullable=False)  # e.g. sessions.clean
    tenant_id: Mapped[str | None] = mapped_column(StringUUID, nullable=True)
    target_id: Mapped[str | None] = mapped_column(StringUUID, nullable=True)  # single-target actions
    reason: Mapped[str] = mapped_column(LongText, nullable=False)
    rule: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    filter: Mapped[str | None] = mapped_column(LongText, nullable=True)  # JSON: filter or selection
    requested: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    applied: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    skipped: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    outcome: Mapped[str] = mapped_column(sa.String(32), nullable=False)  # running | done | failed
    detail: Mapped[str | None] = mapped_column(LongText, nullable=True)  # JSON: skip reasons, error
    app_version: Mapped[str] = mapped_column(sa.String(32), nullable=False)


class AuditTarget(AppBase):
    """One affected id of an action; `target_id` is indexed for the per-session history."""

    __tablename__ = TARGETS_TABLE
    __table_args__ = (
        sa.PrimaryKeyConstraint("id", name="agent_desk_audit_targets_pkey"),
        sa.ForeignKeyConstraint(
            ["action_id"], [f"{ACTIONS_TABLE}.id"], name="agent_desk_audit_targets_action_fkey"
        ),
        sa.Index("agent_desk_audit_targets_target_idx", "target_id", "created_at"),
        sa.Index("agent_desk_audit_targets_action_idx", "action_id"),
    )

    id: Mapped[str] = mapped_column(StringUUID, default=uuidv7)
    action_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    target_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    tenant_id: Mapped[str | None] = mapped_column(StringUUID, nullable=True)
    from_status: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    to_status: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    # The row's updated_at before the change, and the cleaned_at the change wrote: together they let an
    # operator re-activate exactly the rows this action left untouched since (docs/sessions.md).
    prior_updated_at: Mapped[datetime | None] = mapped_column(sa.DateTime, nullable=True)
    cleaned_at: Mapped[datetime | None] = mapped_column(sa.DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, default=naive_utc_now)
