"""Manual session cleanup: a preview, then the change in batches, each batch one transaction with its audit.

What a cleanup does to a row is exactly what Dify's own `mark_cleaned` does (schema reference 8.5):
`status='cleaned'`, `cleaned_at` = now and `updated_at` = now (naive UTC), and nothing else. It never
deletes a row and never touches `backend_run_id` or `session_snapshot`.

The statements are in `data.stores.session_writes` (and the audit INSERTs in `data.stores.audit_writes`); this
module orchestrates them. Each batch, its failure and the end are logged (`data.logs`).

Invariants (tested on PostgreSQL with real concurrent connections):

* Server-side gate first: `require_write(engine, actor, Role.OPERATOR, ...)` applies the policy the
  engine was built with; a viewer, a read-only deployment, local mode without AGENT_DESK_ALLOW_WRITES on
  a non-demo database, or a workspace-scoped actor asking for any other workspace's row is refused
  before anything is written (no audit row either). Every write runs in `write_transaction`.
* One transaction per batch. In it: the batch's rows are locked with `FOR UPDATE SKIP LOCKED` under
  a short `lock_timeout` (PostgreSQL; MySQL 8 has the same clause), so a row a Dify writer holds is
  skipped ("locked") instead of waited for; each locked row is re-checked (still active, same
  `updated_at` as in the preview, inside the actor's workspace); the UPDATE re-checks
  `status = 'active'` itself; the per-id audit rows and the batch's audit row are inserted. A failure
  anywhere rolls back the whole batch, audit included, so the audit always equals the transitions.
  The audit is append-only (see `data.models.audit`).
* A row is transitioned at most once per cleanup, and a row Dify re-activated or re-saved after the
  preview (its `updated_at` moved) is skipped, never overwritten: no lost update.
* Dify's writers wait at most for one batch (they do not use SKIP LOCKED): batches stay small.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from data import logs
from data.actor import Actor, NotAllowed, Role
from data.guard import require_write, write_transaction
from data.logs import log_batch, log_batch_failure
from data.models import naive_utc_now
from data.models.enums import SessionOwnerType, SessionStatus
from data.rules.session_leaks import RULE_NAMES, RuleContext, classify, in_flight
from data.services import audit
from data.stores import session_writes
from data.stores.session_leaks import load_facts

ACTIVE = SessionStatus.ACTIVE.value
CLEANED = SessionStatus.CLEANED.value
DEFAULT_BATCH_SIZE = 1_000
LOCK_TIMEOUT_MS = 200
NO_RULE = "no rule"
CLEAN_OP = "sessions.clean"
_log = logs.get_logger("cleanup")

SKIP_ALREADY_CLEANED = "already cleaned"
SKIP_CHANGED = "re-activated or changed since the preview"
SKIP_GONE = "gone (no such row)"
SKIP_LOCKED = "locked by another writer"
SKIP_OUTSIDE = "outside the actor's workspace"


# --- preview ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewRow:
    id: str
    tenant_id: str
    owner_type: str
    status: str
    updated_at: datetime
    rule: str | None
    in_flight: bool


@dataclass(frozen=True)
class CleanupPreview:
    """What a cleanup would do, computed now; `apply_cleanup` re-checks every row in its transaction."""

    requested: tuple[str, ...]  # every id asked for, deduplicated, in the order given
    rows: tuple[PreviewRow, ...]  # those that exist
    to_clean: tuple[str, ...]  # active now
    expected_updated_at: Mapping[str, datetime]  # of `to_clean`: a moved updated_at means "changed"
    per_rule: tuple[tuple[str, int], ...]  # over `to_clean`, in rule order, then "no rule"
    warnings: tuple[str, ...]
    not_active: tuple[str, ...]
    missing: tuple[str, ...]
    tenant_ids: tuple[str, ...]
    source: Mapping[str, Any] = field(default_factory=dict)  # what was asked (selection or filter + bounds)
    rule: str | None = None

    @property
    def count(self) -> int:
        return len(self.to_clean)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def preview_cleanup(
    conn: sa.Connection,
    ids: Sequence[str],
    ctx: RuleContext,
    *,
    source: Mapping[str, Any] | None = None,
    rule: str | None = None,
) -> CleanupPreview:
    """Exact count, the ids, the count per rule and the warnings, for these ids as they are now."""
    requested = tuple(dict.fromkeys(ids))
    facts = load_facts(conn, requested, ctx)
    preview_rows = tuple(
        PreviewRow(
            id=f.id,
            tenant_id=f.tenant_id,
            owner_type=f.owner_type,
            status=f.status,
            updated_at=f.updated_at,
            rule=classify(f, ctx),
            in_flight=in_flight(f, ctx),
        )
        for f in (facts[i] for i in requested if i in facts)
    )
    active = [r for r in preview_rows if r.status == ACTIVE]
    counts = Counter(r.rule or NO_RULE for r in active)
    per_rule = tuple((name, counts[name]) for name in (*RULE_NAMES, NO_RULE) if counts[name])
    running = [r for r in active if r.in_flight]
    memory = [
        r
        for r in active
        if r.owner_type == SessionOwnerType.CONVERSATION.value
        and r.rule in (None, "idle")
        and not r.in_flight
    ]
    unmatched = [r for r in active if r.rule is None and not r.in_flight]
    not_active = tuple(r.id for r in preview_rows if r.status != ACTIVE)
    missing = tuple(i for i in requested if i not in facts)
    warnings = []
    if running:
        warnings.append(
            f"{_plural(len(running), 'session')} belong to a workflow run that is still running or paused "
            "(a paused run resumes from its session): cleaning breaks that run."
        )
    if memory:
        warnings.append(
            f"{_plural(len(memory), 'conversation session')} hold a chat's agent memory: after cleaning, "
            "the chat loses it and its next message starts without history."
        )
    if unmatched:
        warnings.append(f"{_plural(len(unmatched), 'session')} match no leak rule.")
    if not_active:
        warnings.append(f"{_plural(len(not_active), 'session')} are not active and will be skipped.")
    if missing:
        warnings.append(f"{_plural(len(missing), 'id')} match no session and will be skipped.")
    return CleanupPreview(
        requested=requested,
        rows=preview_rows,
        to_clean=tuple(r.id for r in active),
        expected_updated_at={r.id: r.updated_at for r in active},
        per_rule=per_rule,
        warnings=tuple(warnings),
        not_active=not_active,
        missing=missing,
        tenant_ids=tuple(sorted({r.tenant_id for r in active})),
        source=dict(source or {}),
        rule=rule,
    )


# --- apply -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CleanupResult:
    action_id: str
    requested: int
    transitioned: tuple[str, ...]
    skipped: tuple[tuple[str, tuple[str, ...]], ...]  # (reason, ids)
    not_processed: tuple[str, ...]  # ids of the failed batch and the ones after it
    batches_done: int
    batches_total: int
    error: str | None = None

    @property
    def skipped_count(self) -> int:
        return sum(len(ids) for _, ids in self.skipped)

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class _Batch:
    transitioned: list[str] = field(default_factory=list)
    skipped: dict[str, list[str]] = field(default_factory=dict)

    def skip(self, reason: str, session_id: str) -> None:
        self.skipped.setdefault(reason, []).append(session_id)


def _run_batch(
    conn: sa.Connection,
    action_id: str,
    batch_no: int,
    ids: Sequence[str],
    expected: Mapping[str, datetime],
    allowed_tenant: str | None,
) -> _Batch:
    """One batch inside the caller's transaction: lock, re-check, transition, audit."""
    batch = _Batch()
    locked = session_writes.lock_sessions(conn, ids)
    unseen = [i for i in ids if i not in locked]
    present = session_writes.existing_ids(conn, unseen) if session_writes.locks_rows(conn) else set()
    for session_id in unseen:
        batch.skip(SKIP_LOCKED if session_id in present else SKIP_GONE, session_id)
    eligible = []
    for session_id in ids:
        row = locked.get(session_id)
        if row is None:
            continue
        if row.status != ACTIVE:
            batch.skip(SKIP_ALREADY_CLEANED, session_id)
        elif allowed_tenant is not None and row.tenant_id != allowed_tenant:
            batch.skip(SKIP_OUTSIDE, session_id)
        elif expected.get(session_id) != row.updated_at:
            batch.skip(SKIP_CHANGED, session_id)
        else:
            eligible.append(row)
    if eligible:
        now = naive_utc_now()
        # The UPDATE re-checks status = 'active' itself.
        done = session_writes.mark_cleaned(conn, [r.id for r in eligible], now=now)
        targets = []
        for row in eligible:
            if row.id in done:
                batch.transitioned.append(row.id)
                targets.append(
                    {
                        "target_id": row.id,
                        "tenant_id": row.tenant_id,
                        "from_status": ACTIVE,
                        "to_status": CLEANED,
                        "prior_updated_at": row.updated_at,
                        "cleaned_at": now,
                    }
                )
            else:
                batch.skip(SKIP_CHANGED, row.id)
        audit.record_targets(conn, action_id, targets)
    audit.record_batch(
        conn,
        action_id,
        batch_no=batch_no,
        applied=len(batch.transitioned),
        skipped=sum(len(v) for v in batch.skipped.values()),
        outcome="applied",
        detail={why: len(v) for why, v in batch.skipped.items()} or None,
    )
    return batch


def _require_own_workspace(engine: sa.Engine, actor: Actor, ids: Sequence[str]) -> None:
    """A workspace-scoped actor may name only its own workspace's rows: read their workspaces now (the
    preview is the caller's object) and refuse, before anything is written, if any is another's."""
    assert actor.tenant_id is not None
    with engine.connect() as conn:
        others = session_writes.tenants_other_than(conn, ids, tenant_id=actor.tenant_id)
    if others:
        logs.event(
            _log,
            CLEAN_OP,
            "refused",
            actor=actor,
            level=logging.WARNING,
            refusal="outside_workspace",
            rows=len(ids),
        )
        raise NotAllowed(
            f"{actor.identity} ({actor.role.name.lower()}) may act only in workspace {actor.tenant_id}: "
            f"{len(others)} other workspace(s) among the requested sessions"
        )


def apply_cleanup(
    engine: sa.Engine,
    actor: Actor,
    preview: CleanupPreview,
    *,
    reason: str,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
    on_batch: Callable[[int, sa.Connection], None] | None = None,
) -> CleanupResult:
    """Clean the previewed rows. `on_batch(batch_number, conn)` runs inside each batch's transaction,
    after its writes and before its commit (progress reporting, and failure injection in tests)."""
    text = audit.require_reason(reason)
    tenants = preview.tenant_ids
    grant = require_write(engine, actor, Role.OPERATOR, tenant_id=tenants[0] if len(tenants) == 1 else None)
    allowed_tenant = actor.tenant_id
    ids = list(preview.requested)
    if allowed_tenant is not None:
        _require_own_workspace(engine, actor, ids)
    with write_transaction(engine, grant) as conn:
        audit.ensure_audit_tables(conn)
        action_id = audit.start_action(
            conn,
            actor=actor,
            action=audit.CLEAN_ACTION,
            reason=text,
            tenant_id=tenants[0] if len(tenants) == 1 else None,
            rule=preview.rule,
            filter=preview.source,
            requested=len(ids),
        )
    batches = [ids[i : i + batch_size] for i in range(0, len(ids), batch_size)]
    transitioned: list[str] = []
    skipped: dict[str, list[str]] = {}
    error = None
    done_batches = 0
    for number, chunk in enumerate(batches, start=1):
        try:
            # Only a lock we could not skip could make us wait (e.g. a table lock): never for long.
            with write_transaction(engine, grant, lock_timeout_ms=LOCK_TIMEOUT_MS) as conn:
                batch = _run_batch(
                    conn, action_id, number, chunk, preview.expected_updated_at, allowed_tenant
                )
                if on_batch is not None:
                    on_batch(number, conn)
        except Exception as exc:  # the batch rolled back as a whole (its audit rows with it)
            error = (
                f"batch {number} of {len(batches)} failed and was rolled back: {type(exc).__name__}: {exc}"
            )
            log_batch_failure(_log, CLEAN_OP, actor, exc, action_id=action_id, batch=number, rows=len(chunk))
            audit.record_batch_quietly(
                engine, grant, action_id, number, 0, 0, "failed", {"error": error[:2_000]}
            )
            break
        done_batches = number
        log_batch(
            _log,
            CLEAN_OP,
            actor,
            action_id,
            number,
            len(batch.transitioned),
            batch.skipped,
            stale=SKIP_CHANGED,
            locked=SKIP_LOCKED,
        )
        transitioned.extend(batch.transitioned)
        for why, skipped_ids in batch.skipped.items():
            skipped.setdefault(why, []).extend(skipped_ids)
        if progress is not None:
            progress(min(number * batch_size, len(ids)), len(ids))
    not_processed = tuple(i for chunk in batches[done_batches:] for i in chunk)
    detail: dict[str, Any] = {
        "skipped": {why: len(v) for why, v in skipped.items()},
        "batches": f"{done_batches}/{len(batches)}",
    }
    if error:
        detail["error"] = error[:2_000]
        detail["not_processed"] = len(not_processed)
    skipped_total = sum(len(v) for v in skipped.values())
    outcome = "failed" if error else "done"
    if not audit.record_batch_quietly(
        engine, grant, action_id, None, len(transitioned), skipped_total, outcome, detail
    ):
        # The per-batch rows are already exact; only the closing row is missing ("interrupted").
        error = (error + "; " if error else "") + "the audit's closing row could not be written"
    logs.event(
        _log,
        CLEAN_OP,
        outcome,
        actor=actor,
        level=logging.ERROR if error else logging.INFO,
        tenant_id=tenants[0] if len(tenants) == 1 else None,
        action_id=action_id,
        rows=len(transitioned),
        skipped=skipped_total,
        batches=f"{done_batches}/{len(batches)}",
    )
    return CleanupResult(
        action_id=action_id,
        requested=len(ids),
        transitioned=tuple(transitioned),
        skipped=tuple((why, tuple(v)) for why, v in skipped.items()),
        not_processed=not_processed,
        batches_done=done_batches,
        batches_total=len(batches),
        error=error,
    )
