"""The audited read of a 1.17+ binding's conversation history (its `session_snapshot` history layer).

Same rules as the runtime-session reveal (`data.services.audit.reveal_history`): ADMIN only, never when
the engine's write policy blocks writes (`data.guard.require_write`), a reason required, and the audit
row committed (in `write_transaction`) before the history is returned.
"""

from __future__ import annotations

import sqlalchemy as sa

from data.actor import Actor, Role
from data.guard import require_write, write_transaction
from data.masking import mask_session_snapshot
from data.services import audit
from data.stores.workspaces import binding_snapshot_for_reveal
from data.tolerant import parse_json


def reveal_binding_history(
    engine: sa.Engine, actor: Actor, binding_id: str, *, reason: str
) -> audit.RevealedHistory:
    text = audit.require_reason(reason)
    with engine.connect() as conn:
        audit.ensure_audit_tables(conn)
        row = binding_snapshot_for_reveal(conn, binding_id)
    if row is None:
        raise LookupError(f"no workspace binding has id {binding_id}")
    grant = require_write(engine, actor, Role.ADMIN, tenant_id=row.tenant_id)
    with write_transaction(engine, grant) as conn:
        action_id = audit.start_action(
            conn,
            actor=actor,
            action=audit.REVEAL_ACTION,
            reason=text,
            tenant_id=row.tenant_id,
            target_id=binding_id,
            requested=1,
        )
        audit.record_targets(
            conn,
            action_id,
            [{"target_id": binding_id, "tenant_id": row.tenant_id, "from_status": str(row.status)}],
        )
        audit.record_batch(conn, action_id, batch_no=None, applied=1, skipped=0, outcome="done")
    parsed = parse_json(row.session_snapshot, expect_object=True)
    document = mask_session_snapshot(parsed.value, reveal_history=True) if parsed.ok else None
    return audit.RevealedHistory(action_id, binding_id, document)
