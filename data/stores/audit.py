"""Reading the audit log: actions with filters (newest first) and one session's history.

`applied` is the number of the action's per-id rows (exact by construction: written in the transaction
of each change); `skipped` sums its batch rows; `outcome` comes from its closing row, and an action
without one is "interrupted" (the process stopped mid-way; its committed batches are all recorded).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from data.models import AuditAction, AuditBatch, AuditTarget
from data.models.audit import ACTIONS_TABLE, BATCHES_TABLE, TARGETS_TABLE
from data.stores.filters import contains, day_range

#: Rows the /audit page shows (and the CSV exports) for one filter; narrow the filter for more.
MAX_ROWS = 2_000


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None  # case-insensitive substring
    action: str | None = None
    tenant_id: str | None = None
    target: str | None = None  # any id: the action's id, its target, or one of its affected ids
    date_from: date | None = None
    date_to: date | None = None  # inclusive day


@dataclass(frozen=True)
class AuditEntry:
    id: str
    created_at: datetime
    finished_at: datetime | None
    actor: str
    action: str
    tenant_id: str | None
    target_id: str | None
    reason: str
    rule: str | None
    filter: str | None
    requested: int
    applied: int
    skipped: int
    outcome: str
    detail: str | None
    app_version: str


@dataclass(frozen=True)
class SessionAuditEntry:
    """One action that touched a session, with what it did to that row."""

    action: AuditEntry
    from_status: str | None
    to_status: str | None
    prior_updated_at: datetime | None
    cleaned_at: datetime | None


def audit_tables_present(conn: sa.Connection) -> bool:
    names = set(sa.inspect(conn).get_table_names())
    return {ACTIONS_TABLE, TARGETS_TABLE, BATCHES_TABLE} <= names


def _entry(row: sa.Row) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        created_at=row.created_at,
        finished_at=row.finished_at,
        actor=row.actor,
        action=row.action,
        tenant_id=row.tenant_id,
        target_id=row.target_id,
        reason=row.reason,
        rule=row.rule,
        filter=row.filter,
        requested=int(row.requested or 0),
        applied=int(row.applied or 0),
        skipped=int(row.skipped or 0),
        outcome=row.outcome or "interrupted",
        detail=row.detail,
        app_version=row.app_version,
    )


def _actions() -> sa.Select:
    """Action rows with their derived counts and closing row (one correlated count each, indexed)."""
    closing = aliased(AuditBatch, name="closing")
    applied = (
        sa.select(sa.func.count())
        .where(AuditTarget.action_id == AuditAction.id)
        .correlate(AuditAction)  # only the action: a caller may join the targets table too
        .scalar_subquery()
    )
    skipped = (
        sa.select(sa.func.coalesce(sa.func.sum(AuditBatch.skipped), 0))
        .where(AuditBatch.action_id == AuditAction.id, AuditBatch.batch_no.is_not(None))
        .correlate(AuditAction)
        .scalar_subquery()
    )
    return sa.select(
        AuditAction,
        applied.label("applied"),
        skipped.label("skipped"),
        closing.outcome,
        closing.detail,
        closing.created_at.label("finished_at"),
    ).outerjoin(closing, sa.and_(closing.action_id == AuditAction.id, closing.batch_no.is_(None)))


def list_actions(conn: sa.Connection, flt: AuditFilter, *, limit: int = MAX_ROWS) -> list[AuditEntry]:
    """Newest first, at most `limit` rows (the page says when the limit is reached)."""
    query = _actions()
    if flt.actor:
        query = query.where(contains(AuditAction.actor, flt.actor))
    if flt.action:
        query = query.where(AuditAction.action == flt.action)
    if flt.tenant_id:
        query = query.where(AuditAction.tenant_id == flt.tenant_id)
    if flt.target:
        affected = sa.exists().where(
            AuditTarget.action_id == AuditAction.id, AuditTarget.target_id == flt.target
        )
        query = query.where(
            sa.or_(AuditAction.id == flt.target, AuditAction.target_id == flt.target, affected)
        )
    query = query.where(*day_range(AuditAction.created_at, flt.date_from, flt.date_to))
    query = query.order_by(AuditAction.created_at.desc(), AuditAction.id.desc()).limit(limit)
    return [_entry(row) for row in conn.execute(query)]


def session_history(conn: sa.Connection, session_id: str) -> list[SessionAuditEntry]:
    """Every audited action on one session, newest first (index agent_desk_audit_targets_target_idx)."""
    rows = conn.execute(
        _actions()
        .add_columns(
            AuditTarget.from_status,
            AuditTarget.to_status,
            AuditTarget.prior_updated_at,
            AuditTarget.cleaned_at.label("target_cleaned_at"),
        )
        .join(AuditTarget, AuditTarget.action_id == AuditAction.id)
        .where(AuditTarget.target_id == session_id)
        .order_by(AuditTarget.created_at.desc(), AuditTarget.id.desc())
    )
    return [
        SessionAuditEntry(_entry(r), r.from_status, r.to_status, r.prior_updated_at, r.target_cleaned_at)
        for r in rows
    ]


def target_ids(conn: sa.Connection, action_id: str) -> list[str]:
    """The ids an action affected (for the emergency re-activation and for tests)."""
    return list(
        conn.execute(
            sa.select(AuditTarget.target_id)
            .where(AuditTarget.action_id == action_id)
            .order_by(AuditTarget.target_id)
        ).scalars()
    )
