"""Writing the audit log: the three append-only INSERTs (action, per-id targets, batch outcomes).

INSERTs only (the least-privilege role has no UPDATE on these tables). Every function takes the
caller's connection: the caller (`data.services.audit`, the write services) puts it in the same
`data.guard.write_transaction` as the change it records. Reads of the log are in `data.stores.audit`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

import data
from data.models import AuditAction, AuditBatch, AuditTarget, naive_utc_now, uuidv7


def _json(value: Mapping[str, Any] | None) -> str | None:
    return json.dumps(dict(value), sort_keys=True, default=str) if value else None


def insert_action(
    conn: sa.Connection,
    *,
    actor_identity: str,
    action: str,
    reason: str,
    tenant_id: str | None = None,
    target_id: str | None = None,
    rule: str | None = None,
    filter: Mapping[str, Any] | None = None,
    requested: int = 0,
    now: datetime | None = None,
) -> str:
    """The action row; returns its id (a uuidv7)."""
    action_id = uuidv7()
    conn.execute(
        sa.insert(AuditAction).values(
            id=action_id,
            created_at=now or naive_utc_now(),
            actor=actor_identity,
            action=action,
            tenant_id=tenant_id,
            target_id=target_id,
            reason=reason,
            rule=rule,
            filter=_json(filter),
            requested=requested,
            app_version=data.__version__,
        )
    )
    return action_id


def insert_targets(conn: sa.Connection, action_id: str, targets: Sequence[Mapping[str, Any]]) -> int:
    """One row per affected id (`target_id`, `tenant_id`, `from_status`, `to_status`, ...); the count."""
    if not targets:
        return 0
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
    return len(targets)


def insert_batch(
    conn: sa.Connection,
    action_id: str,
    *,
    batch_no: int | None,
    applied: int,
    skipped: int,
    outcome: str,
    detail: Mapping[str, Any] | None = None,
) -> str:
    """A batch's outcome, or with `batch_no` None the closing row of the action; returns its id."""
    batch_id = uuidv7()
    conn.execute(
        sa.insert(AuditBatch).values(
            id=batch_id,
            action_id=action_id,
            batch_no=batch_no,
            applied=applied,
            skipped=skipped,
            outcome=outcome,
            detail=_json(detail),
            created_at=naive_utc_now(),
        )
    )
    return batch_id
