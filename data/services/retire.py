"""Retiring Dify 1.17+ working environments by hand: a preview, then batches, each one transaction with
its audit, then the hand-off to Dify's collector after each commit.

What a retire does is exactly Dify's own (reference section 5, rules 2-3), nothing more:

* a workspace: `status='retired', retired_at=now, active_guard=NULL, updated_at=now WHERE status='active'`
  and its active bindings retired with it (`status, retired_at, updated_at`);
* a binding: `status='retired', retired_at=now, updated_at=now WHERE status='active'` (and no pending
  form or tool call); when it was its workspace's last active binding, the workspace is retired too;
* a RETIRED workspace whose `active_guard` is still set (rule `inconsistent`): `active_guard=NULL,
  updated_at=now` (it blocks Dify from creating the owner's next workspace). Never an un-retire.

Never a DELETE, never another column (session_snapshot, the pending fields, the refs and the callers'
pointers are never touched), tenant id in every statement, naive UTC.

The statements are in `data.stores.workspace_writes` (and the audit INSERTs in `data.stores.audit_writes`); this
module orchestrates them. Each batch, its failure and the end are logged (`data.logs`).

Invariants (tested on PostgreSQL with real concurrent connections, and MariaDB):
* Server-side gate first: `require_write(engine, actor, Role.OPERATOR, ...)` applies the write policy
  the engine was built with (data/guard.py), then the role and the workspace scope. Every write, the
  locking reads included, runs in `write_transaction` with that one grant; the guard lets through
  exactly the `FOR UPDATE SKIP LOCKED` reads of agent_workspaces / agent_workspace_bindings, the
  UPDATEs of the columns above and the audit INSERTs (tests/test_workspaces.py checks the set).
* One transaction per batch of units (a unit = one workspace with the bindings retired in it). In it,
  under a short lock timeout (`write_transaction(..., lock_timeout_ms=LOCK_TIMEOUT_MS)`), the workspace rows and then the binding rows are locked with
  `FOR UPDATE SKIP LOCKED`; a unit with any row another writer holds is skipped whole ("locked"),
  never waited for. Each unit is re-checked: still active, `updated_at` unchanged since the preview
  (a binding Dify saved since is in use: skipped), the same set of active bindings as previewed (a new
  binding: skipped), no pending form or tool call, its run not running or paused, inside the actor's
  workspace. The UPDATEs re-check status (and the pending fields) themselves; a row count differing
  from the locked rows rolls the batch back. Audit rows go in the same transaction: audit == changes.
* Rows are only ever moved to retired (active_guard only ever to NULL), so a retire can never cause a
  violation of Dify's unique index `agent_workspace_owner_active_unique`.
* After each batch commits, `collect(retired_batch, grant)` (if given) gets the batch's retired ids
  and the retire's own grant (the hand-off audits with it); its failure never undoes the retire (it is
  reported on the result).
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from data import logs
from data.actor import Actor, Role
from data.guard import WriteGrant, require_write, write_transaction
from data.logs import log_batch, log_batch_failure
from data.models import naive_utc_now
from data.rules.workspace_leaks import (
    ACTIVE,
    OWNER_CONVERSATION,
    OWNER_RUN,
    RETIRE_RULES,
    RETIRED,
    WorkspaceRuleContext,
    binding_protected,
    classify_binding,
    classify_workspace,
    guard_mismatch,
    workspace_protected,
)
from data.services import audit
from data.stores import workspace_writes as writes
from data.stores.workspaces import active_bindings_of, load_binding_facts, load_workspace_facts

RETIRE_ACTION = audit.RETIRE_ACTION
DEFAULT_BATCH_SIZE = 500  # units (workspaces) per transaction
LOCK_TIMEOUT_MS = 200
NO_RULE = "no rule"
_log = logs.get_logger("retire")

SKIP_ALREADY_RETIRED = "already retired"
SKIP_CHANGED = "changed since the preview (in use again)"
SKIP_GONE = "gone (no such row)"
SKIP_LOCKED = "locked by another writer"
SKIP_OUTSIDE = "outside the actor's workspace"
SKIP_PROTECTED = "protected (pending form or tool call, or its run is running or paused)"


@dataclass(frozen=True)
class Unit:
    """One workspace and what a retire does in it."""

    workspace_id: str
    tenant_id: str
    retire_workspace: bool  # the workspace itself is a target (rule 2)
    repair_guard: bool  # a retired workspace whose active_guard is still set
    bindings: Mapping[str, datetime]  # binding id -> updated_at at preview (targets, or all active ones)
    workspace_updated_at: datetime | None  # None: no workspace row (bindings of a missing workspace)
    workspace_follows: bool = False  # binding targets are its last active bindings: rule 3 retires it

    @property
    def rows(self) -> int:
        return len(self.bindings) + int(self.retire_workspace or self.repair_guard or self.workspace_follows)


@dataclass(frozen=True)
class RetirePreview:
    requested_workspaces: tuple[str, ...]
    requested_bindings: tuple[str, ...]
    units: tuple[Unit, ...]
    per_rule: tuple[tuple[str, int], ...]  # over the requested rows that will change
    warnings: tuple[str, ...]
    skipped: tuple[tuple[str, tuple[str, ...]], ...]  # (reason, ids) known now
    tenant_ids: tuple[str, ...]
    source: Mapping[str, Any] = field(default_factory=dict)
    rule: str | None = None

    @property
    def count(self) -> int:
        """Exactly how many rows would change now (workspaces + bindings)."""
        return sum(u.rows for u in self.units)

    @property
    def workspace_ids(self) -> tuple[str, ...]:
        return tuple(
            u.workspace_id for u in self.units if u.retire_workspace or u.workspace_follows or u.repair_guard
        )

    @property
    def binding_ids(self) -> tuple[str, ...]:
        return tuple(b for u in self.units for b in u.bindings)

    @property
    def requested(self) -> tuple[str, ...]:
        return (*self.requested_workspaces, *self.requested_bindings)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def preview_retire(  # noqa: C901 (known debt, ARCHITECTURE.md)
    conn: sa.Connection,
    ctx: WorkspaceRuleContext,
    *,
    workspace_ids: Sequence[str] = (),
    binding_ids: Sequence[str] = (),
    source: Mapping[str, Any] | None = None,
    rule: str | None = None,
) -> RetirePreview:
    """Exact count, the ids, per rule and warnings, for these rows as they are now (read on the primary)."""
    req_w = tuple(dict.fromkeys(workspace_ids))
    req_b = tuple(dict.fromkeys(binding_ids))
    wfacts = load_workspace_facts(conn, req_w, ctx)
    bfacts = load_binding_facts(conn, req_b, ctx)
    skipped: dict[str, list[str]] = defaultdict(list)
    per_rule: Counter[str] = Counter()
    memory = 0
    units: dict[str, Unit] = {}
    targets_w = []
    for wid in req_w:
        f = wfacts.get(wid)
        if f is None:
            skipped[SKIP_GONE].append(wid)
        elif workspace_protected(f, ctx):
            skipped[SKIP_PROTECTED].append(wid)
        elif f.status == ACTIVE:
            targets_w.append(f)
        elif guard_mismatch(f):
            units[wid] = Unit(wid, f.tenant_id, False, True, {}, f.updated_at)
            per_rule[classify_workspace(f, ctx) or NO_RULE] += 1
        else:
            skipped[SKIP_ALREADY_RETIRED].append(wid)
    by_tenant: dict[str, list[str]] = defaultdict(list)
    for f in targets_w:
        by_tenant[f.tenant_id].append(f.id)
    active_of: dict[str, dict[str, datetime]] = {}
    for tenant, ids in by_tenant.items():
        active_of.update(active_bindings_of(conn, tenant, ids))
    for f in targets_w:
        bindings = active_of.get(f.id, {})
        units[f.id] = Unit(f.id, f.tenant_id, True, False, dict(bindings), f.updated_at)
        per_rule[classify_workspace(f, ctx) or NO_RULE] += 1
        if f.owner_type == OWNER_CONVERSATION and classify_workspace(f, ctx) is None:
            memory += 1
    loose: dict[str, dict[str, datetime]] = defaultdict(dict)
    loose_tenant: dict[str, str] = {}
    for bid in req_b:
        bf = bfacts.get(bid)
        if bf is None:
            skipped[SKIP_GONE].append(bid)
        elif bf.status != ACTIVE:
            skipped[SKIP_ALREADY_RETIRED].append(bid)
        elif binding_protected(bf, ctx):
            skipped[SKIP_PROTECTED].append(bid)
        elif bf.workspace_id in units and units[bf.workspace_id].retire_workspace:
            continue  # retired with its workspace (counted there)
        else:
            loose[bf.workspace_id][bid] = bf.updated_at
            loose_tenant[bf.workspace_id] = bf.tenant_id
            found = classify_binding(bf, ctx)
            per_rule[found or NO_RULE] += 1
            if (
                bf.workspace is not None
                and bf.workspace.owner_type == OWNER_CONVERSATION
                and found in (None, "idle")
            ):
                memory += 1
    if loose:
        by_t: dict[str, list[str]] = defaultdict(list)
        for wid, tenant in loose_tenant.items():
            by_t[tenant].append(wid)
        loose_ws = load_workspace_facts(conn, list(loose), ctx)
        for tenant, ids in by_t.items():
            active_of.update(active_bindings_of(conn, tenant, ids))
        for wid, bindings in loose.items():
            wf = loose_ws.get(wid)
            if wid in units:  # a retired workspace with a guard to repair, and bindings in it
                u = units[wid]
                units[wid] = Unit(
                    wid, u.tenant_id, False, u.repair_guard, dict(bindings), u.workspace_updated_at
                )
                continue
            follows = wf is not None and wf.status == ACTIVE and set(active_of.get(wid, {})) <= set(bindings)
            units[wid] = Unit(
                wid, loose_tenant[wid], False, False, dict(bindings), wf.updated_at if wf else None, follows
            )
    unit_list = tuple(units.values())
    warnings = []
    unmatched = per_rule.get(NO_RULE, 0)
    if unmatched:
        warnings.append(f"{_plural(unmatched, 'row')} match no leak rule.")
    if memory:
        warnings.append(
            f"{_plural(memory, 'conversation row')} hold a chat's agent state: after retiring, that chat fails "
            "for good ('binding unavailable')."
        )
    idle = per_rule.get("idle", 0)
    if idle:
        warnings.append(
            f"{_plural(idle, 'idle binding')}: the chat or run it serves loses its state and cannot resume."
        )
    followers = sum(1 for u in unit_list if u.workspace_follows)
    if followers:
        warnings.append(
            f"{_plural(followers, 'workspace')} lose their last active binding and are retired too."
        )
    for reason, ids in skipped.items():
        warnings.append(f"{_plural(len(ids), 'row')} will be skipped: {reason}.")
    order = (*RETIRE_RULES, "uncollected", NO_RULE)
    return RetirePreview(
        requested_workspaces=req_w,
        requested_bindings=req_b,
        units=unit_list,
        per_rule=tuple((name, per_rule[name]) for name in order if per_rule[name]),
        warnings=tuple(warnings),
        skipped=tuple((k, tuple(v)) for k, v in skipped.items()),
        tenant_ids=tuple(sorted({u.tenant_id for u in unit_list})),
        source=dict(source or {}),
        rule=rule,
    )


# --- apply -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetiredBatch:
    """What one committed batch retired, per tenant: workspace id -> its retired binding ids, and bindings
    retired in workspaces that stay active (the shapes of `collector.plan_collection`)."""

    action_id: str
    batch_no: int
    workspaces: Mapping[str, Mapping[str, tuple[str, ...]]]  # tenant -> workspace -> bindings
    loose: Mapping[str, Mapping[str, tuple[str, ...]]]  # tenant -> workspace -> bindings


@dataclass(frozen=True)
class RetireResult:
    action_id: str
    requested: int
    retired_workspaces: tuple[str, ...]
    retired_bindings: tuple[str, ...]
    guards_cleared: tuple[str, ...]
    skipped: tuple[tuple[str, tuple[str, ...]], ...]
    not_processed: tuple[str, ...]
    batches_done: int
    batches_total: int
    error: str | None = None
    collection: tuple[Any, ...] = ()  # what the collect callback returned, per batch
    collection_errors: tuple[str, ...] = ()

    @property
    def transitioned(self) -> tuple[str, ...]:
        return (*self.retired_workspaces, *self.retired_bindings, *self.guards_cleared)

    @property
    def skipped_count(self) -> int:
        return sum(len(ids) for _, ids in self.skipped)

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class _Batch:
    workspaces: list[tuple[str, str, datetime]] = field(default_factory=list)  # (id, tenant, prior updated)
    bindings: list[tuple[str, str, str, datetime]] = field(default_factory=list)  # (id, tenant, ws, prior)
    guards: list[tuple[str, str, datetime]] = field(default_factory=list)
    skipped: dict[str, list[str]] = field(default_factory=dict)

    def skip(self, reason: str, ids: Sequence[str]) -> None:
        self.skipped.setdefault(reason, []).extend(ids)


def _run_batch(  # noqa: C901 (known debt, ARCHITECTURE.md)
    conn: sa.Connection,
    ctx: WorkspaceRuleContext,
    action_id: str,
    batch_no: int,
    units: Sequence[Unit],
    allowed_tenant: str | None,
) -> _Batch:
    batch = _Batch()
    by_tenant: dict[str, list[Unit]] = defaultdict(list)
    for u in units:
        by_tenant[u.tenant_id].append(u)
    now = naive_utc_now()
    for tenant, tunits in by_tenant.items():
        if allowed_tenant is not None and tenant != allowed_tenant:
            for u in tunits:
                batch.skip(SKIP_OUTSIDE, [u.workspace_id, *u.bindings])
            continue
        wids = [u.workspace_id for u in tunits]
        # Lock order: workspaces, then bindings (as Dify's retire does), never waiting for either.
        locked_w = writes.lock_workspaces(conn, wids, tenant_id=tenant)
        present_w = writes.existing_workspace_ids(conn, wids, tenant_id=tenant)
        all_bids = [b for u in tunits for b in u.bindings]
        current_active = writes.active_binding_ids(conn, wids, tenant_id=tenant)
        wanted_b = sorted(
            set(all_bids) | {b for u in tunits if u.retire_workspace for b in current_active[u.workspace_id]}
        )
        locked_b = writes.lock_bindings(conn, wanted_b, tenant_id=tenant)
        in_flight = writes.runs_in_flight(
            conn,
            ctx,
            {r.id: r.owner_id for r in locked_w.values() if r.owner_type == OWNER_RUN},
        )
        retire_w: list[str] = []
        retire_b: list[str] = []
        repair: list[str] = []
        for u in tunits:
            ids = [u.workspace_id, *u.bindings]
            w = locked_w.get(u.workspace_id)
            if w is None and u.workspace_updated_at is not None:
                batch.skip(SKIP_LOCKED if u.workspace_id in present_w else SKIP_GONE, ids)
                continue
            if u.workspace_id in in_flight:
                batch.skip(SKIP_PROTECTED, ids)
                continue
            active_now = current_active[u.workspace_id]
            if u.retire_workspace:
                assert w is not None  # a workspace target has its row (a missing one was skipped above)
                if str(w.status) != ACTIVE:
                    batch.skip(SKIP_ALREADY_RETIRED, ids)
                    continue
                if w.updated_at != u.workspace_updated_at or active_now != set(u.bindings):
                    batch.skip(SKIP_CHANGED, ids)
                    continue
            elif u.repair_guard and w is not None and (str(w.status) == ACTIVE or w.active_guard is None):
                batch.skip(
                    SKIP_CHANGED if str(w.status) == ACTIVE else SKIP_ALREADY_RETIRED, [u.workspace_id]
                )
                ids = list(u.bindings)
                u = Unit(u.workspace_id, u.tenant_id, False, False, u.bindings, u.workspace_updated_at)
            # Bindings: all locked, active, unchanged, not pending (for a workspace target: all or none).
            problem = None
            good = []
            for bid, expected in u.bindings.items():
                b = locked_b.get(bid)
                if b is None:
                    problem = problem or SKIP_LOCKED
                    if not u.retire_workspace:
                        batch.skip(SKIP_LOCKED if bid in active_now or bid in locked_b else SKIP_GONE, [bid])
                elif str(b.status) != ACTIVE:
                    problem = problem or SKIP_ALREADY_RETIRED
                    if not u.retire_workspace:
                        batch.skip(SKIP_ALREADY_RETIRED, [bid])
                elif b.pending_form_id is not None or b.pending_tool_call_id is not None:
                    problem = problem or SKIP_PROTECTED
                    if not u.retire_workspace:
                        batch.skip(SKIP_PROTECTED, [bid])
                elif b.updated_at != expected:
                    problem = problem or SKIP_CHANGED
                    if not u.retire_workspace:
                        batch.skip(SKIP_CHANGED, [bid])
                else:
                    good.append(bid)
            if u.retire_workspace:
                if problem:
                    batch.skip(problem, ids)
                    continue
                retire_w.append(u.workspace_id)
                retire_b.extend(good)
                continue
            if u.repair_guard:
                repair.append(u.workspace_id)
            retire_b.extend(good)
            # Rule 3: the workspace's last active binding retires the workspace.
            if w is not None and str(w.status) == ACTIVE and good and active_now <= set(good):
                retire_w.append(u.workspace_id)
        prior_w = {i: locked_w[i].updated_at for i in (*retire_w, *repair)}
        prior_b = {i: (locked_b[i].workspace_id, locked_b[i].updated_at) for i in retire_b}
        if retire_b:
            writes.retire_bindings(conn, retire_b, tenant_id=tenant, now=now)
        if retire_w:
            writes.retire_workspaces(conn, retire_w, tenant_id=tenant, now=now)
        if repair:
            writes.clear_guards(conn, repair, tenant_id=tenant, now=now)
        batch.workspaces += [(i, tenant, prior_w[i]) for i in retire_w]
        batch.bindings += [(i, tenant, prior_b[i][0], prior_b[i][1]) for i in retire_b]
        batch.guards += [(i, tenant, prior_w[i]) for i in repair]
    targets = [
        *(
            {
                "target_id": i,
                "tenant_id": t,
                "from_status": ACTIVE,
                "to_status": RETIRED,
                "prior_updated_at": p,
                "cleaned_at": now,
            }
            for i, t, p in batch.workspaces
        ),
        *(
            {
                "target_id": i,
                "tenant_id": t,
                "from_status": ACTIVE,
                "to_status": RETIRED,
                "prior_updated_at": p,
                "cleaned_at": now,
            }
            for i, t, _, p in batch.bindings
        ),
        *(
            {
                "target_id": i,
                "tenant_id": t,
                "from_status": "retired+guard",
                "to_status": RETIRED,
                "prior_updated_at": p,
            }
            for i, t, p in batch.guards
        ),
    ]
    audit.record_targets(conn, action_id, targets)
    audit.record_batch(
        conn,
        action_id,
        batch_no=batch_no,
        applied=len(targets),
        skipped=sum(len(v) for v in batch.skipped.values()),
        outcome="applied",
        detail={
            "workspaces": len(batch.workspaces),
            "bindings": len(batch.bindings),
            "guards_cleared": len(batch.guards),
            **({"skipped": {k: len(v) for k, v in batch.skipped.items()}} if batch.skipped else {}),
        },
    )
    return batch


def _retired_batch(action_id: str, number: int, batch: _Batch) -> RetiredBatch:
    workspaces: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for wid, tenant, _ in batch.workspaces:
        workspaces[tenant][wid] = []
    loose: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for bid, tenant, wid, _ in batch.bindings:
        if wid in workspaces[tenant]:
            workspaces[tenant][wid].append(bid)
        else:
            loose[tenant].setdefault(wid, []).append(bid)
    return RetiredBatch(
        action_id,
        number,
        {t: {w: tuple(b) for w, b in ws.items()} for t, ws in workspaces.items() if ws},
        {t: {w: tuple(b) for w, b in ws.items()} for t, ws in loose.items() if ws},
    )


def apply_retire(
    engine: sa.Engine,
    actor: Actor,
    preview: RetirePreview,
    ctx: WorkspaceRuleContext,
    *,
    reason: str,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[int, int], None] | None = None,
    on_batch: Callable[[int, sa.Connection], None] | None = None,
    collect: Callable[[RetiredBatch, WriteGrant], Any] | None = None,
) -> RetireResult:
    """Retire the previewed units. `on_batch(n, conn)` runs inside each batch's transaction before its
    commit (tests inject failures there); `collect(retired_batch, grant)` runs after each commit."""
    text = audit.require_reason(reason)
    tenants = preview.tenant_ids
    single = tenants[0] if len(tenants) == 1 else None
    grant = require_write(engine, actor, Role.OPERATOR, tenant_id=single)
    units = list(preview.units)
    with write_transaction(engine, grant) as conn:
        audit.ensure_audit_tables(conn)
        action_id = audit.start_action(
            conn,
            actor=actor,
            action=RETIRE_ACTION,
            reason=text,
            tenant_id=single,
            rule=preview.rule,
            filter={
                **preview.source,
                "workspaces": len(preview.requested_workspaces),
                "bindings": len(preview.requested_bindings),
            },
            requested=preview.count,
        )
    batches = [units[i : i + batch_size] for i in range(0, len(units), batch_size)]
    retired_w: list[str] = []
    retired_b: list[str] = []
    guards: list[str] = []
    skipped: dict[str, list[str]] = {k: list(v) for k, v in preview.skipped}
    collected: list[Any] = []
    collect_errors: list[str] = []
    error = None
    done = 0
    for number, chunk in enumerate(batches, start=1):
        try:
            # Rows another writer holds are skipped (SKIP LOCKED); the timeout bounds any other lock wait.
            with write_transaction(engine, grant, lock_timeout_ms=LOCK_TIMEOUT_MS) as conn:
                batch = _run_batch(conn, ctx, action_id, number, chunk, actor.tenant_id)
                if on_batch is not None:
                    on_batch(number, conn)
        except Exception as exc:  # the batch rolled back as a whole, its audit rows with it
            error = (
                f"batch {number} of {len(batches)} failed and was rolled back: {type(exc).__name__}: {exc}"
            )
            log_batch_failure(_log, RETIRE_ACTION, actor, exc, action_id=action_id, batch=number)
            audit.record_batch_quietly(
                engine, grant, action_id, number, 0, 0, "failed", {"error": error[:2_000]}
            )
            break
        done = number
        rows = len(batch.workspaces) + len(batch.bindings) + len(batch.guards)
        log_batch(
            _log,
            RETIRE_ACTION,
            actor,
            action_id,
            number,
            rows,
            batch.skipped,
            stale=SKIP_CHANGED,
            locked=SKIP_LOCKED,
        )
        retired_w += [i for i, _, _ in batch.workspaces]
        retired_b += [i for i, _, _, _ in batch.bindings]
        guards += [i for i, _, _ in batch.guards]
        for why, ids in batch.skipped.items():
            skipped.setdefault(why, []).extend(ids)
        if collect is not None and (batch.workspaces or batch.bindings):
            try:  # after the commit: a failed hand-off never undoes the retire
                collected.append(collect(_retired_batch(action_id, number, batch), grant))
            except Exception as exc:
                collect_errors.append(f"batch {number}: {type(exc).__name__}: {exc}"[:500])
                logs.event(
                    _log,
                    "collect.handoff",
                    "failed",
                    actor=actor,
                    level=logging.ERROR,
                    related_action_id=action_id,
                    batch=number,
                    error_type=logs.error_type(exc),
                )
        if progress is not None:
            progress(min(number * batch_size, len(units)), len(units))
    not_processed = tuple(i for chunk in batches[done:] for u in chunk for i in (u.workspace_id, *u.bindings))
    changed = len(retired_w) + len(retired_b) + len(guards)
    skipped_total = sum(len(v) for v in skipped.values())
    detail: dict[str, Any] = {
        "skipped": {k: len(v) for k, v in skipped.items()},
        "batches": f"{done}/{len(batches)}",
    }
    if error:
        detail.update(error=error[:2_000], not_processed=len(not_processed))
    if not audit.record_batch_quietly(
        engine, grant, action_id, None, changed, skipped_total, "failed" if error else "done", detail
    ):
        error = (error + "; " if error else "") + "the audit's closing row could not be written"
    logs.event(
        _log,
        RETIRE_ACTION,
        "failed" if error else "done",
        actor=actor,
        level=logging.ERROR if error else logging.INFO,
        tenant_id=single,
        action_id=action_id,
        rows=changed,
        skipped=skipped_total,
        batches=f"{done}/{len(batches)}",
    )
    return RetireResult(
        action_id=action_id,
        requested=preview.count,
        retired_workspaces=tuple(retired_w),
        retired_bindings=tuple(retired_b),
        guards_cleared=tuple(guards),
        skipped=tuple((k, tuple(v)) for k, v in skipped.items() if v),
        not_processed=not_processed,
        batches_done=done,
        batches_total=len(batches),
        error=error,
        collection=tuple(collected),
        collection_errors=tuple(collect_errors),
    )


# --- the hand-off to Dify's collector (the one call site) ------------------------------------------------


def collect_after_retire(
    engine: sa.Engine, reason: str, collector: Any
) -> Callable[[RetiredBatch, WriteGrant], list[Any]]:
    """The `collect` callback of `apply_retire`: one `collect_agent_resources` message per workspace,
    sent and audited by `data.services.collector` after the batch committed, under the retire's own
    grant (so the hand-off can never be more than the retire that was allowed)."""
    from data.services.collector import plan_collection, send_and_record

    def send(batch: RetiredBatch, grant: WriteGrant) -> list[Any]:
        results: list[Any] = []
        for tenant in sorted(set(batch.workspaces) | set(batch.loose)):
            plans = plan_collection(
                tenant_id=tenant,
                retired_workspaces=dict(batch.workspaces.get(tenant, {})),
                retired_bindings=dict(batch.loose.get(tenant, {})),
            )
            results += send_and_record(
                engine,
                grant=grant,
                batches=plans,
                reason=reason,
                collector=collector,
                trigger="retire",
                related_action_id=batch.action_id,
            )
        return results

    return send
