"""The SQL of the runtime-session cleanup (Dify 1.15-1.16): the locking read, the transition, and the
reads the gate and the audited reveal need.

Every function takes the caller's connection; the locking read and the UPDATE run only inside
`data.guard.write_transaction` (the guard refuses them elsewhere). What a cleanup does to a row is
exactly Dify's own `mark_cleaned`: `status='cleaned'`, `cleaned_at` = `updated_at` = now, nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from data.errors import Conflict
from data.models import AgentRuntimeSession
from data.models.enums import SessionStatus

S = AgentRuntimeSession
ACTIVE = SessionStatus.ACTIVE.value
CLEANED = SessionStatus.CLEANED.value
#: Ids per statement when reading by id outside a batch.
CHUNK = 1_000


@dataclass(frozen=True)
class LockedSession:
    """A session row as the batch's locking read saw it."""

    id: str
    tenant_id: str
    status: str
    updated_at: datetime


@dataclass(frozen=True)
class SessionForReveal:
    tenant_id: str
    status: str
    session_snapshot: Any


def locks_rows(conn: sa.Connection) -> bool:
    """Whether this database takes row locks with `FOR UPDATE SKIP LOCKED` (SQLite has none)."""
    return conn.dialect.name in ("postgresql", "mysql", "mariadb")


def lock_sessions(conn: sa.Connection, ids: Sequence[str]) -> dict[str, LockedSession]:
    """Lock these rows, skipping the ones another writer holds (`FOR UPDATE SKIP LOCKED`)."""
    query = sa.select(S.id, S.tenant_id, S.status, S.updated_at).where(S.id.in_(list(ids)))
    if locks_rows(conn):
        query = query.with_for_update(skip_locked=True)
    return {r.id: LockedSession(r.id, r.tenant_id, str(r.status), r.updated_at) for r in conn.execute(query)}


def existing_ids(conn: sa.Connection, ids: Sequence[str]) -> set[str]:
    """Which of these ids exist (a plain read: it sees locked rows too)."""
    if not ids:
        return set()
    return set(conn.execute(sa.select(S.id).where(S.id.in_(list(ids)))).scalars())


def mark_cleaned(conn: sa.Connection, ids: Sequence[str], *, now: datetime) -> set[str]:
    """The transition, re-checking `status = 'active'` in the statement; the ids it changed.

    Without RETURNING (MySQL) the rows must be the caller's (locked): a row count other than
    `len(ids)` raises `Conflict`, so the caller's transaction rolls back."""
    statement = (
        sa.update(S)
        .where(S.id.in_(list(ids)), S.status == ACTIVE)
        .values(status=CLEANED, cleaned_at=now, updated_at=now)
    )
    if conn.dialect.update_returning:
        return set(conn.execute(statement.returning(S.id)).scalars())
    if conn.execute(statement).rowcount != len(ids):
        raise Conflict("the number of updated rows differs from the locked rows: batch rolled back")
    return set(ids)


def tenants_other_than(conn: sa.Connection, ids: Sequence[str], *, tenant_id: str) -> set[str]:
    """The workspaces, other than `tenant_id`, that any of these sessions belong to."""
    others: set[str] = set()
    for start in range(0, len(ids), CHUNK):
        chunk = list(ids[start : start + CHUNK])
        query = sa.select(S.tenant_id).where(S.id.in_(chunk), S.tenant_id != tenant_id).distinct()
        others.update(conn.execute(query).scalars())
    return others


def session_for_reveal(conn: sa.Connection, session_id: str) -> SessionForReveal | None:
    """The row the audited history reveal needs (its workspace decides the gate)."""
    row = conn.execute(sa.select(S.tenant_id, S.status, S.session_snapshot).where(S.id == session_id)).first()
    return None if row is None else SessionForReveal(row.tenant_id, str(row.status), row.session_snapshot)
