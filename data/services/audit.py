"""Writing the audit log, and the audited read of a session's conversation history.

The log is append-only (INSERTs only; the least-privilege role has no UPDATE on it). The write helpers
take the caller's connection: callers put them in the same transaction as the change they record (see
`data.services.cleanup`). Every write runs in `data.guard.write_transaction` on the guarded engine,
which allows inserts into Agent Desk's own tables only (plus the session cleanup transition).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

import data
from data import migrate
from data.actor import Actor, Role
from data.db import create_migration_engine
from data.guard import WriteGrant, require_write, write_transaction
from data.masking import mask_session_snapshot
from data.models import AgentRuntimeSession, AuditAction, AuditBatch, AuditTarget, naive_utc_now, uuidv7
from data.settings import Settings
from data.stores.audit import audit_tables_present
from data.tolerant import parse_json

CLEAN_ACTION = "sessions.clean"
REVEAL_ACTION = "session.reveal_history"
RETIRE_ACTION = "workspaces.retire"  # Dify 1.17+ (data/services/retire.py)
ACTIONS = (CLEAN_ACTION, REVEAL_ACTION, RETIRE_ACTION)
MAX_REASON = 2_000


class AuditUnavailable(RuntimeError):
    """The audit tables do not exist: run `python -m data migrate` (the app's own branch)."""


def ensure_audit_tables(conn: sa.Connection) -> None:
    if not audit_tables_present(conn):
        raise AuditUnavailable(
            "the audit tables are missing: run `python -m data migrate` (Agent Desk's own tables) first"
        )


def upgrade_demo_audit_tables(settings: Settings) -> None:
    """An embedded demo created before the audit tables existed gets them (the demo only: migrations
    never run implicitly against a real Dify database, nor in read-only mode)."""
    if not settings.is_demo or settings.read_only:
        return
    engine = create_migration_engine(settings)
    try:
        migrate.upgrade(engine, "app")
    finally:
        engine.dispose()


def require_reason(reason: str | None) -> str:
    """Every audited action needs a reason a colleague can read later."""
    text = (reason or "").strip()
    if not text:
        raise ValueError("a reason is required")
    return text[:MAX_REASON]


def start_action(
    conn: sa.Connection,
    *,
    actor: Actor,
    action: str,
    reason: str,
    tenant_id: str | None = None,
    target_id: str | None = None,
    rule: str | None = None,
    filter: Mapping[str, Any] | None = None,
    requested: int = 0,
    now: datetime | None = None,
) -> str:
    """The action row, written (and committed by the caller) before anything changes."""
    action_id = uuidv7()
    conn.execute(
        sa.insert(AuditAction).values(
            id=action_id,
            created_at=now or naive_utc_now(),
            actor=actor.identity,
            action=action,
            tenant_id=tenant_id,
            target_id=target_id,
            reason=require_reason(reason),
            rule=rule,
            filter=json.dumps(dict(filter), sort_keys=True, default=str) if filter else None,
            requested=requested,
            app_version=data.__version__,
        )
    )
    return action_id


def record_targets(conn: sa.Connection, action_id: str, targets: Sequence[Mapping[str, Any]]) -> None:
    """One row per affected id (`target_id`, `tenant_id`, `from_status`, `to_status`, ...)."""
    if not targets:
        return
    now = naive_utc_now()
    conn.execute(
        sa.insert(AuditTarget),
        [
            {
                "id": uuidv7(),
                "action_id": action_id,
                "created_at": now,
                "tenant_id": None,
                "from_status": None,
                "to_status": None,
                "prior_updated_at": None,
                "cleaned_at": None,
                **t,
            }
            for t in targets
        ],
    )


def record_batch(
    conn: sa.Connection,
    action_id: str,
    *,
    batch_no: int | None,
    applied: int,
    skipped: int,
    outcome: str,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """A batch's outcome (in the batch's own transaction), a failed batch's error (after its rollback),
    or, with `batch_no` None, the closing row of the whole action."""
    conn.execute(
        sa.insert(AuditBatch).values(
            id=uuidv7(),
            action_id=action_id,
            batch_no=batch_no,
            applied=applied,
            skipped=skipped,
            outcome=outcome,
            detail=json.dumps(dict(detail), sort_keys=True, default=str) if detail else None,
            created_at=naive_utc_now(),
        )
    )


# --- the audited read: a session's conversation history ------------------------------------------


def record_batch_quietly(
    engine: sa.Engine,
    grant: WriteGrant,
    action_id: str,
    batch_no: int | None,
    applied: int,
    skipped: int,
    outcome: str,
    detail: Mapping[str, Any],
) -> bool:
    """A batch audit row in its own write transaction (after a failed batch, or the closing row of a
    cleanup or retire); never raises, so a failing audit write cannot mask the failure it records."""
    try:
        with write_transaction(engine, grant) as conn:
            record_batch(
                conn,
                action_id,
                batch_no=batch_no,
                applied=applied,
                skipped=skipped,
                outcome=outcome,
                detail=detail,
            )
        return True
    except Exception:
        return False


@dataclass(frozen=True)
class RevealedHistory:
    action_id: str
    session_id: str
    snapshot: Any  # the snapshot with the history runtime state shown; secrets still masked


def reveal_history(engine: sa.Engine, actor: Actor, session_id: str, *, reason: str) -> RevealedHistory:
    """Open the `history` layer of one session: ADMIN only, never when writes are blocked, audited first.

    The audit row is committed before the history is returned, so nobody reads it unrecorded.
    """
    text = require_reason(reason)
    with engine.connect() as conn:
        ensure_audit_tables(conn)
        row = conn.execute(
            sa.select(
                AgentRuntimeSession.tenant_id,
                AgentRuntimeSession.status,
                AgentRuntimeSession.session_snapshot,
            ).where(AgentRuntimeSession.id == session_id)
        ).first()
    if row is None:
        raise LookupError(f"no runtime session has id {session_id}")
    grant = require_write(engine, actor, Role.ADMIN, tenant_id=row.tenant_id)
    with write_transaction(engine, grant) as conn:
        action_id = start_action(
            conn,
            actor=actor,
            action=REVEAL_ACTION,
            reason=text,
            tenant_id=row.tenant_id,
            target_id=session_id,
            requested=1,
        )
        record_targets(
            conn,
            action_id,
            [{"target_id": session_id, "tenant_id": row.tenant_id, "from_status": str(row.status)}],
        )
        record_batch(conn, action_id, batch_no=None, applied=1, skipped=0, outcome="done")
    parsed = parse_json(row.session_snapshot, expect_object=True)
    document = mask_session_snapshot(parsed.value, reveal_history=True) if parsed.ok else None
    return RevealedHistory(action_id, session_id, document)
