"""Agent Desk's audit log, append-only: its database role needs only SELECT and INSERT on these tables.

* `agent_desk_audit_actions`: one row per action (who, when, what, workspace, reason, rule or filter,
  rows requested, app version), written before the action changes anything.
* `agent_desk_audit_targets`: one row per affected id, indexed by id (per-session history), written in
  the SAME transaction as the change it records. An action's "applied" count is the number of its
  target rows, so it equals the transitions exactly, even after a crash mid-way.
* `agent_desk_audit_batches`: one row per committed batch (applied / skipped with reasons), a row for a
  batch that failed and was rolled back, and a closing row (`batch_no` NULL) with the outcome. An
  action without a closing row was interrupted.

Rows are never updated or deleted by the app. Timestamps are naive UTC, like Dify's.
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
BATCHES_TABLE = "agent_desk_audit_batches"


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
    actor: Mapped[str] = mapped_column(sa.String(255), nullable=False)  # email, local:<user>, cli:<name>
    action: Mapped[str] = mapped_column(sa.String(64), nullable=False)  # e.g. sessions.clean
    tenant_id: Mapped[str | None] = mapped_column(StringUUID, nullable=True)
    target_id: Mapped[str | None] = mapped_column(StringUUID, nullable=True)  # single-target actions
    reason: Mapped[str] = mapped_column(LongText, nullable=False)
    rule: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    filter: Mapped[str | None] = mapped_column(LongText, nullable=True)  # JSON: filter or selection
    requested: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
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


class AuditBatch(AppBase):
    """The outcome of one batch of an action (or, with `batch_no` NULL, of the whole action)."""

    __tablename__ = BATCHES_TABLE
    __table_args__ = (
        sa.PrimaryKeyConstraint("id", name="agent_desk_audit_batches_pkey"),
        sa.ForeignKeyConstraint(
            ["action_id"], [f"{ACTIONS_TABLE}.id"], name="agent_desk_audit_batches_action_fkey"
        ),
        sa.Index("agent_desk_audit_batches_action_idx", "action_id"),
    )

    id: Mapped[str] = mapped_column(StringUUID, default=uuidv7)
    action_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    batch_no: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)  # NULL: the closing row
    applied: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    skipped: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    outcome: Mapped[str] = mapped_column(sa.String(32), nullable=False)  # applied | failed | done
    detail: Mapped[str | None] = mapped_column(LongText, nullable=True)  # JSON: skip reasons, error
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, default=naive_utc_now)
