"""Writing the audit log, and the audited read of a session's conversation history.

The log is append-only (INSERTs only; the least-privilege role has no UPDATE on it). The statements
are in `data.stores.audit_writes`; these helpers add the rules (a reason is required) and the log
record, and take the caller's connection: callers put them in the same transaction as the change they
record (see `data.services.cleanup`). Every write runs in `data.guard.write_transaction` on the guarded
engine, which allows inserts into Agent Desk's own tables only (plus the session cleanup transition).

Agent Desk's own tables are created by `python -m data migrate`; the embedded demo gets them when its
engines are opened (`data.db.upgrade_demo_own_tables`), never on a page load.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from data import logs
from data.actor import Actor, Role
from data.errors import AuditUnavailable, InvalidParameter, NotFound
from data.guard import WriteGrant, require_write, write_transaction
from data.masking import mask_session_snapshot
from data.stores import audit_writes
from data.stores.audit import audit_tables_present
from data.stores.session_writes import session_for_reveal
from data.tolerant import parse_json

__all__ = [
    "ACTIONS",
    "CLEAN_ACTION",
    "MAX_REASON",
    "RETIRE_ACTION",
    "REVEAL_ACTION",
    "AuditUnavailable",
    "RevealedHistory",
    "ensure_audit_tables",
    "record_batch",
    "record_batch_quietly",
    "record_targets",
    "require_reason",
    "reveal_history",
    "start_action",
]

_log = logs.get_logger("audit")

CLEAN_ACTION = "sessions.clean"
REVEAL_ACTION = "session.reveal_history"
RETIRE_ACTION = "workspaces.retire"  # Dify 1.17+ (data/services/retire.py)
ACTIONS = (CLEAN_ACTION, REVEAL_ACTION, RETIRE_ACTION)
MAX_REASON = 2_000


def ensure_audit_tables(conn: sa.Connection) -> None:
    if not audit_tables_present(conn):
        raise AuditUnavailable(
            "the audit tables are missing: run `python -m data migrate` (Agent Desk's own tables) first"
        )


def require_reason(reason: str | None) -> str:
    """Every audited action needs a reason a colleague can read later."""
    text = (reason or "").strip()
    if not text:
        raise InvalidParameter("a reason is required")
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
    action_id = audit_writes.insert_action(
        conn,
        actor_identity=actor.identity,
        action=action,
        reason=require_reason(reason),
        tenant_id=tenant_id,
        target_id=target_id,
        rule=rule,
        filter=filter,
        requested=requested,
        now=now,
    )
    logs.event(
        _log,
        "audit.action",
        "recorded",
        actor=actor,
        tenant_id=tenant_id,
        audit_action=action,
        action_id=action_id,
        rows=requested,
    )
    return action_id


def record_targets(conn: sa.Connection, action_id: str, targets: Sequence[Mapping[str, Any]]) -> None:
    """One row per affected id (`target_id`, `tenant_id`, `from_status`, `to_status`, ...)."""
    audit_writes.insert_targets(conn, action_id, targets)


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
    audit_writes.insert_batch(
        conn, action_id, batch_no=batch_no, applied=applied, skipped=skipped, outcome=outcome, detail=detail
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
    except Exception as exc:
        logs.event(
            _log,
            "audit.batch",
            "failed",
            actor=grant.actor,
            level=logging.ERROR,
            action_id=action_id,
            batch=batch_no,
            error_type=logs.error_type(exc),
        )
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
        row = session_for_reveal(conn, session_id)
    if row is None:
        raise NotFound(f"no runtime session has id {session_id}")
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
            [{"target_id": session_id, "tenant_id": row.tenant_id, "from_status": row.status}],
        )
        record_batch(conn, action_id, batch_no=None, applied=1, skipped=0, outcome="done")
    parsed = parse_json(row.session_snapshot, expect_object=True)
    document = mask_session_snapshot(parsed.value, reveal_history=True) if parsed.ok else None
    return RevealedHistory(action_id, session_id, document)
