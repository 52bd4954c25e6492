"""Integrity checks as background jobs: claimed once per database, check and scope; window by window;
stored in Agent Desk's own tables; incremental where the check allows it.

Invariants:

* **One job per (check, scope) across servers.** `request` takes the claim row with one conditional
  UPDATE (`data.stores.check_runs.take_claim`) and inserts the run row in the same transaction; a
  second server asking at the same time matches nothing and gets the running job's id instead.
* **Bounded work per statement.** A job walks each driving table in key order, `window_rows` keys per
  window (`data.stores.integrity.window_upto`), each window a key range `(after, upto]` read in its
  own transaction with the engine's statement timeout. After each window it commits the findings and
  the progress (rows read, cursor = last key per table), then beats the claim's heartbeat.
* **Killed means interrupted.** A job that stops without finishing leaves its run `running` with a
  heartbeat that goes stale: readers show it as `interrupted` (`RunRow.effective_status`), and the next
  job for the claim records it so before starting. Its committed findings stay readable.
* **Cancellable.** `cancel` sets `cancel_requested` on the run row; the job stops after its current
  window (`cancelled`), whichever server runs it.
* **Incremental.** For checks with `incremental=True`, a run whose base (the latest `done` run of the
  same check and scope) stored all its findings re-verifies those rows by primary key and reads only
  keys after the base's cursor: rows added since (uuidv7 ids sort by creation). Snapshots are
  immutable, so for them this is exact; for mutable tables an old row that *became* bad since is
  found by the next full run (`covered_since` says when the last full run started).
* Findings are stored up to `FINDINGS_CAP` per run, masked; the count is always exact for the rows read.
* **Reads read-only, bookkeeping in short own-grant transactions.** Every read of Dify's tables runs on
  a plain (read-only) connection of the guarded engine. Every write (claim, run row, each window's
  findings + progress + heartbeat, finish) is one short `data.guard.write_transaction` with the
  `own` grant of `data.guard.require_bookkeeping`, which can insert into and update only Agent Desk's
  check-job tables (`OWN_UPDATE_ALLOWED`) and never a Dify table. Who may: operators and admins
  (workspace-scoped ones for their workspace), never in read-only mode (docs/bindings-and-health.md).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa

from data import logs
from data.actor import Actor, Role
from data.errors import InvalidParameter, JobsUnavailable, SchemaUnsupported
from data.guard import WriteGrant, policy_of, read_only_reason, require_bookkeeping, write_transaction
from data.models import (
    Agent,
    AgentConfigRevision,
    AgentConfigSnapshot,
    AgentRuntimeSession,
    WorkflowAgentNodeBinding,
    naive_utc_now,
)
from data.models.check_runs import ALL_SCOPE
from data.services import integrity
from data.stores import check_runs as runs
from data.stores import check_windows
from data.stores import integrity as checks_store
from data.stores.integrity import Anomaly, Scope

#: The cap on work per window: driving-table keys read per statement (the page and CLI state it).
WINDOW_ROWS = 5_000
#: Findings stored per run (the page shows the first 20 as samples).
FINDINGS_CAP = 1_000
#: A running job beats its heartbeat after every window; older than this, it is taken for dead.
STALE_AFTER = timedelta(seconds=90)
#: Rows re-verified per statement in an incremental run.
RECHECK_BATCH = 500

#: The driving tables' models (Any: mypy cannot see the mapped columns through `type`).
MODELS: dict[str, Any] = {
    m.__tablename__: m
    for m in (Agent, AgentConfigSnapshot, AgentConfigRevision, WorkflowAgentNodeBinding, AgentRuntimeSession)
}

Mode = Literal["auto", "full", "incremental"]
_log = logs.get_logger("check_jobs")


@dataclass(frozen=True)
class Claimed:
    """The answer to a request: `run_id` is the job now running (ours when `started`)."""

    run_id: str
    started: bool
    check: str
    scope: str
    table: str | None
    mode: str
    base: runs.RunRow | None = None
    #: The own (bookkeeping) grant of whoever asked: `execute` writes the run's rows with it.
    grant: WriteGrant | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Outcome:
    run_id: str
    status: str  # done | failed | cancelled | interrupted | running (held elsewhere, not waited for)
    started: bool
    rows_read: int = 0
    found: int = 0
    error: str | None = None


def scope_key(tenant_id: str | None) -> str:
    return tenant_id or ALL_SCOPE


def ensure_tables(conn: sa.Connection) -> None:
    if not runs.tables_present(conn):
        raise JobsUnavailable(
            "the check-job tables are missing: run `python -m data migrate` (Agent Desk's own tables) first"
        )


def whole_table_checks(tenant_id: str | None, present: frozenset[str] | None = None) -> list[integrity.Check]:
    """The checks a page may not run live for this scope (they become jobs), of those this schema
    can run (all when `present` is None)."""
    return [
        c
        for c in integrity.ALL_CHECKS
        if not integrity.runs_live(c, tenant_id) and (present is None or integrity.applicable(c, present))
    ]


# --- requesting a job -----------------------------------------------------------------------------


def request(
    engine: sa.Engine,
    check_name: str,
    *,
    tenant_id: str | None = None,
    table: str | None = None,
    mode: Mode = "auto",
    actor: Actor,
    window_rows: int = WINDOW_ROWS,
    stale_after: timedelta = STALE_AFTER,
) -> Claimed:
    """Claim (check, scope) for a new run as `actor`, or name the run that holds it. Never runs the
    check. The gate comes first: `require_bookkeeping` (operator, this workspace, not read-only)."""
    check = integrity.BY_NAME[check_name]
    if table is not None and table not in check.tables:
        raise InvalidParameter(
            f"{check_name} does not read {table!r} (it reads {', '.join(check.tables) or '-'})"
        )
    grant = require_bookkeeping(engine, actor, Role.OPERATOR, tenant_id=tenant_id)
    scope = scope_key(tenant_id)
    with engine.connect() as conn:  # the reads: read-only, before any write transaction
        missing = integrity.missing_needs([check], integrity.present_names(conn))
        if missing:
            raise SchemaUnsupported(f"{check_name} does not apply to this schema: it needs {missing[0][1]}")
        ensure_tables(conn)
        exists = runs.claim_row_exists(conn, check_name, scope)
        estimate = _estimate(conn, check, table)
    if not exists:
        try:
            with write_transaction(engine, grant) as conn:
                runs.ensure_claim_row(conn, check_name, scope)
        except sa.exc.IntegrityError:
            pass  # another server created it just now
    for attempt in range(5):
        try:
            claimed = _claim(engine, grant, check, scope, table, mode, window_rows, stale_after, estimate)
            logs.event(
                _log,
                "checks.claim",
                "claimed" if claimed.started else "held",
                actor=actor,
                tenant_id=tenant_id,
                check=check_name,
                run_id=claimed.run_id or None,
            )
            return claimed
        except sa.exc.OperationalError:
            # SQLite: a concurrent writer ("database is locked"); PostgreSQL / MySQL: the lock timeout
            # while another server's claim transaction commits. Its result decides on the next try.
            if attempt == 4:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def _claim(
    engine: sa.Engine,
    grant: WriteGrant,
    check: integrity.Check,
    scope: str,
    table: str | None,
    mode: Mode,
    window_rows: int,
    stale_after: timedelta,
    estimate: int | None,
) -> Claimed:
    """One own-grant transaction: read the claim, take it (compare-and-swap), insert the run row."""
    check_name = check.name
    with write_transaction(engine, grant) as conn:
        now = naive_utc_now()
        holder, heartbeat = runs.claim_holder(conn, check_name, scope)
        if holder is not None and heartbeat is not None and heartbeat >= now - stale_after:
            return _held(conn, holder, check_name, scope)
        base = _base(conn, check, scope, table, mode)
        run_id = runs.new_run_id()
        if not runs.take_claim(
            conn, check_name, scope, seen=holder, run_id=run_id, now=now, stale_before=now - stale_after
        ):
            holder, _ = runs.claim_holder(conn, check_name, scope)  # another server just took it
            return _held(conn, holder, check_name, scope)
        if holder is not None:
            runs.mark_interrupted(conn, holder, now)
        runs.insert_run(
            conn,
            run_id=run_id,
            check=check_name,
            scope=scope,
            table=table,
            mode="incremental" if base else "full",
            base_run_id=base.id if base else None,
            covered_since=base.covered_since if base else None,
            requested_by=grant.actor.identity,
            window_rows=window_rows,
            rows_estimate=estimate,
            now=now,
        )
    return Claimed(run_id, True, check_name, scope, table, "incremental" if base else "full", base, grant)


def _held(conn: sa.Connection, holder: str | None, check: str, scope: str) -> Claimed:
    run = runs.get_run(conn, holder) if holder else None
    return Claimed(
        holder or "", False, check, scope, run.table_name if run else None, run.mode if run else ""
    )


def _base(
    conn: sa.Connection, check: integrity.Check, scope: str, table: str | None, mode: Mode
) -> runs.RunRow | None:
    """The run an incremental run builds on, or None (then the run is full)."""
    if mode == "full" or not check.incremental or not check.tables:
        return None
    base = runs.latest_run(conn, check.name, scope, status="done", table=table)
    if base is None or not base.complete_findings:
        return None
    return base


def _estimate(conn: sa.Connection, check: integrity.Check, table: str | None) -> int | None:
    total = 0
    for name in (table,) if table else check.tables:
        estimate = checks_store.table_estimate(conn, MODELS[name]) if name in MODELS else None
        if estimate is None:
            return None
        total += estimate
    return total or None


# --- running a claimed job ------------------------------------------------------------------------


@dataclass
class _Progress:
    rows_read: int = 0
    rows_covered: int = 0
    found: int = 0
    stored: int = 0
    windows: int = 0


class _Stop(Exception):
    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


def execute(
    engine: sa.Engine,
    claimed: Claimed,
    *,
    window_rows: int = WINDOW_ROWS,
    on_window: Callable[[int], None] | None = None,
) -> Outcome:
    """Run a job this process claimed, to the end (or until cancelled or taken over). Never raises for
    a failing check: the run ends `failed` with the error.

    Dify's rows are read on one plain (read-only) connection; each window's bookkeeping is one short
    write transaction of the claim's own grant, on another connection."""
    assert claimed.started and claimed.grant is not None
    grant = claimed.grant
    check = integrity.BY_NAME[claimed.check]
    tenant_id = None if claimed.scope == ALL_SCOPE else claimed.scope
    done = _Progress()
    cursor: dict[str, str] = {}
    status, error = "done", None
    with engine.connect() as conn:
        try:
            scope = integrity.base_scope(conn, tenant_id=tenant_id)
            scope = replace(scope, sample_limit=FINDINGS_CAP)

            def commit(found: Sequence[Anomaly], count: int, rows: int, covered: int) -> None:
                conn.commit()  # end the read's (read-only) transaction: no snapshot held across windows
                keep = list(found[: max(0, FINDINGS_CAP - done.stored)])
                now = naive_utc_now()
                with write_transaction(engine, grant) as w:
                    if not runs.beat(w, claimed.check, claimed.scope, claimed.run_id, now):
                        raise _Stop("interrupted")  # another server took the claim: our heartbeat was late
                    runs.insert_findings(w, claimed.run_id, done.stored, keep)
                    runs.progress(
                        w,
                        claimed.run_id,
                        now=now,
                        rows_read=done.rows_read + rows,
                        rows_covered=done.rows_covered + covered,
                        found=done.found + count,
                        findings_stored=done.stored + len(keep),
                        cursor=cursor,
                    )
                    cancelled = runs.cancel_requested(w, claimed.run_id)
                done.found += count
                done.stored += len(keep)
                done.rows_read += rows
                done.rows_covered += covered
                done.windows += 1
                if cancelled:
                    raise _Stop("cancelled")
                if on_window:
                    on_window(done.windows)

            tables = [t for t in ([claimed.table] if claimed.table else check.tables) if scope.has(t)]
            if claimed.base is not None and check.window_key != "id":
                cursor.update(claimed.base.cursor)
                done.rows_covered = claimed.base.rows_covered
                for table in tables:
                    _rejudge_agents(conn, check, scope, claimed, table, cursor, commit)
                tables = []  # the agents not judged again keep their verdict
            elif claimed.base is not None:
                _recheck(conn, check, scope, claimed, commit)
                cursor.update(claimed.base.cursor)
                done.rows_covered = claimed.base.rows_covered
            if not check.tables:  # a check without declared tables: one bounded read, as before
                finding = integrity.run_finding(
                    conn, check, replace(scope, scan_limit=checks_store.SCAN_LIMIT)
                )
                commit(finding.samples, finding.count, finding.scanned, finding.scanned)
            for table in tables:
                _walk(conn, check, scope, table, cursor, window_rows, commit)
        except _Stop as stop:
            status = stop.status
        except sa.exc.SQLAlchemyError as exc:
            status, error = "failed", integrity.error_text(exc)
        finally:
            if conn.in_transaction():
                conn.rollback()
    with write_transaction(engine, grant) as w:
        runs.finish(w, claimed.run_id, status=status, now=naive_utc_now(), error=error)
        runs.release(w, claimed.check, claimed.scope, claimed.run_id)
    logs.event(
        _log,
        "checks.finish",
        status,
        actor=grant.actor,
        level=logging.ERROR if status == "failed" else logging.INFO,
        tenant_id=tenant_id,
        check=claimed.check,
        run_id=claimed.run_id,
        rows=done.rows_read,
        found=done.found,
    )
    return Outcome(claimed.run_id, status, True, done.rows_read, done.found, error)


def _walk(
    conn: sa.Connection,
    check: integrity.Check,
    scope: Scope,
    table: str,
    cursor: dict[str, str],
    window_rows: int,
    commit: Callable[[Sequence[Anomaly], int, int, int], None],
) -> None:
    """Every window of `table` after `cursor[table]`, in key order, to the last key that exists now."""
    model = MODELS[table]
    after = cursor.get(table)
    if check.window_key != "id":  # the id watermark an incremental run of this check starts from
        cursor[f"{table}@id"] = _last_key(conn, model, "id", scope.tenant_id, None) or ""
    last = _last_key(conn, model, check.window_key, scope.tenant_id, after)
    while last is not None and (after is None or after < last):
        upto = checks_store.window_upto(
            conn, model, check.window_key, tenant_id=scope.tenant_id, after=after, rows=window_rows
        )
        upto = last if upto is None or upto > last else upto
        window = replace(scope, table=table, key_after=after, key_upto=upto, scan_limit=window_rows * 4)
        finding = integrity.run_finding(conn, check, window)
        cursor[table] = upto
        commit(finding.samples, finding.count, finding.scanned, finding.scanned)
        after = upto


def _last_key(
    conn: sa.Connection, model: Any, key: str, tenant_id: str | None, after: str | None
) -> str | None:
    value = check_windows.last_key(conn, model, key, tenant_id=tenant_id, after=after)
    conn.commit()
    return value


def _rejudge_agents(
    conn: sa.Connection,
    check: integrity.Check,
    scope: Scope,
    claimed: Claimed,
    table: str,
    cursor: dict[str, str],
    commit: Callable[[Sequence[Anomaly], int, int, int], None],
) -> None:
    """Gap checks, incrementally: judge again the agents with rows after the id watermark (rows added
    since the base run) and the agents the base run found; every other agent's rows are unchanged."""
    assert claimed.base is not None
    model = MODELS[table]
    mark = cursor.get(f"{table}@id") or None
    newest = _last_key(conn, model, "id", scope.tenant_id, None)
    # A primary-key range scan of the rows added since the base run.
    added = check_windows.rows_per_agent(
        conn, model, tenant_id=scope.tenant_id, after_id=mark, upto_id=newest
    )
    previous = [a.id for a in runs.findings(conn, claimed.base.id) if a.table == table]
    conn.commit()
    agents = sorted(set(added) | set(previous))
    cursor[f"{table}@id"] = newest or mark or ""
    for start in range(0, len(agents), RECHECK_BATCH):
        chosen = tuple(agents[start : start + RECHECK_BATCH])
        finding = integrity.run_finding(
            conn, check, replace(scope, table=table, only_agents=chosen, key_after=None, key_upto=None)
        )
        commit(finding.samples, finding.count, finding.scanned, sum(added.get(a, 0) for a in chosen))
    if not agents:
        commit((), 0, 0, 0)


def _recheck(
    conn: sa.Connection,
    check: integrity.Check,
    scope: Scope,
    claimed: Claimed,
    commit: Callable[[Sequence[Anomaly], int, int, int], None],
) -> None:
    """Re-verify the base run's findings by primary key: the ones still wrong are carried over."""
    assert claimed.base is not None
    previous = runs.findings(conn, claimed.base.id)
    conn.commit()
    by_table: dict[str, list[str]] = {}
    for anomaly in previous:
        by_table.setdefault(anomaly.table, []).append(anomaly.id)
    for table, ids in by_table.items():
        for start in range(0, len(ids), RECHECK_BATCH):
            chosen = tuple(ids[start : start + RECHECK_BATCH])
            finding = integrity.run_finding(conn, check, replace(scope, table=table, only_ids=chosen))
            commit(finding.samples, finding.count, finding.scanned, 0)


# --- entry points: foreground (CLI, bench), background (page), cancel ---------------------------


def run_now(
    engine: sa.Engine,
    check_name: str,
    *,
    tenant_id: str | None = None,
    table: str | None = None,
    mode: Mode = "auto",
    actor: Actor,
    window_rows: int = WINDOW_ROWS,
    wait: bool = True,
    poll_seconds: float = 1.0,
    on_window: Callable[[int], None] | None = None,
) -> Outcome:
    """Run one job in the foreground as `actor`. If another process holds it, wait for that job (when
    `wait`)."""
    claimed = request(
        engine,
        check_name,
        tenant_id=tenant_id,
        table=table,
        mode=mode,
        actor=actor,
        window_rows=window_rows,
    )
    if claimed.started:
        return execute(engine, claimed, window_rows=window_rows, on_window=on_window)
    while True:
        with engine.connect() as conn:
            run = runs.get_run(conn, claimed.run_id)
        status = run.effective_status(naive_utc_now(), STALE_AFTER) if run else "interrupted"
        if not wait or status != "running":
            return Outcome(
                claimed.run_id,
                status,
                False,
                run.rows_read if run else 0,
                run.found if run else 0,
                run.error if run else None,
            )
        time.sleep(poll_seconds)


_LOCK = threading.Lock()
_THREADS: dict[str, threading.Thread] = {}  # run id -> the thread of this process that runs it


def run_block_reason(engine: sa.Engine, actor: Actor) -> str | None:
    """Why this actor may not start or cancel check jobs on `engine` (for the page's early message;
    `require_bookkeeping` decides): read-only mode, or a role below operator. Viewers see the stored
    results. Local mode without AGENT_DESK_ALLOW_WRITES may run them: they write no Dify table."""
    if policy_of(engine).read_only:
        return f"{read_only_reason()}: checks cannot be started"
    if actor.role < Role.OPERATOR:
        return "viewers see the latest results; operators and admins run checks"
    return None


def start_background(
    engine: sa.Engine,
    check_names: Sequence[str],
    *,
    actor: Actor,
    tenant_id: str | None = None,
    mode: Mode = "auto",
) -> list[Claimed]:
    """Claim each check now (so everyone sees it running) and run the claimed ones, one after the
    other, in a daemon thread of this process with its own connections. Checks held elsewhere are
    shared, not started again. The gate is checked here, not only by hiding the button."""
    require_bookkeeping(engine, actor, Role.OPERATOR, tenant_id=tenant_id)  # before claiming anything
    claims = [request(engine, name, tenant_id=tenant_id, mode=mode, actor=actor) for name in check_names]
    mine = [c for c in claims if c.started]
    if mine:

        def work() -> None:
            for claimed in mine:
                try:
                    execute(engine, claimed)
                finally:
                    with _LOCK:
                        _THREADS.pop(claimed.run_id, None)

        thread = threading.Thread(target=work, name=f"agent-desk-checks-{mine[0].run_id}", daemon=True)
        with _LOCK:
            for claimed in mine:
                _THREADS[claimed.run_id] = thread
        thread.start()
    return claims


def running_here() -> set[str]:
    with _LOCK:
        return {run_id for run_id, thread in _THREADS.items() if thread.is_alive()}


def cancel(engine: sa.Engine, run_id: str, *, actor: Actor) -> bool:
    """Ask a running job to stop after its current window (any server): an operator of its scope."""
    with engine.connect() as conn:
        run = runs.get_run(conn, run_id)
    scope = None if run is None or run.scope == ALL_SCOPE else run.scope
    grant = require_bookkeeping(engine, actor, Role.OPERATOR, tenant_id=scope)
    with write_transaction(engine, grant) as conn:
        requested = runs.request_cancel(conn, run_id)
    logs.event(
        _log,
        "checks.cancel",
        "requested" if requested else "not_running",
        actor=actor,
        tenant_id=scope,
        run_id=run_id,
    )
    return requested


# --- reading stored results -------------------------------------------------------------------------


@dataclass(frozen=True)
class JobView:
    """A check's stored state for one scope: the result to show and the job running now, if any."""

    result: integrity.CheckResult
    running: runs.RunRow | None  # the latest run, when it is still running


def stored_result(
    conn: sa.Connection,
    check: integrity.Check,
    tenant_id: str | None,
    *,
    table: str | None = None,
    sample_limit: int = checks_store.SAMPLE_LIMIT,
    now: datetime | None = None,
    stale_after: timedelta = STALE_AFTER,
) -> JobView:
    """The latest result of a check for a scope, from the stored runs (never runs the check).

    The result is the latest finished run of the scope (done, or failed / interrupted / cancelled with
    what it found so far); for one workspace with no run of its own, the latest all-workspace run
    whose findings are complete, narrowed to that workspace."""
    now = now or naive_utc_now()
    scope = scope_key(tenant_id)
    latest = runs.latest_run(conn, check.name, scope, table=table)
    running = latest if latest and latest.effective_status(now, stale_after) == "running" else None
    shown = latest
    if running is not None:  # show the last finished run while a new one runs
        shown = runs.latest_run(conn, check.name, scope, status="done", table=table) or running
    narrowed = False
    if shown is None and tenant_id:
        every = runs.latest_run(conn, check.name, ALL_SCOPE, status="done", table=table)
        if every is not None:
            shown, narrowed = every, True
    if shown is None:
        return JobView(integrity.never_run(check), running)
    status = shown.effective_status(now, stale_after)
    samples = runs.findings(conn, shown.id, tenant_id=tenant_id if narrowed else None, limit=sample_limit)
    count = runs.count_findings(conn, shown.id, tenant_id=tenant_id) if narrowed else shown.found
    error = shown.error if status in ("failed", "interrupted", "cancelled") else None
    if status == "interrupted" and not error:
        error = "the job stopped before it finished (no heartbeat); run it again"
    stored = integrity.Stored(
        run_id=shown.id,
        status=status,
        as_of=shown.finished_at or shown.heartbeat_at or shown.created_at,
        mode=shown.mode,
        rows_covered=shown.rows_covered,
        rows_estimate=shown.rows_estimate,
        covered_since=shown.covered_since,
        window_rows=shown.window_rows,
        findings_stored=shown.findings_stored,
        app_version=shown.app_version,
        scope=shown.scope,
        table=shown.table_name,
    )
    result = integrity.stored_result(
        check, count=count, scanned=shown.rows_covered, samples=samples, error=error, stored=stored
    )
    if narrowed and not shown.complete_findings:
        result = replace(result, bounded=True)  # only the stored findings could be narrowed
    return JobView(result, running)


def running_jobs(
    conn: sa.Connection, tenant_id: str | None, names: Sequence[str], *, now: datetime | None = None
) -> dict[str, runs.RunRow]:
    """The jobs of these checks running now for this scope (any server): one index seek per check."""
    now = now or naive_utc_now()
    found = {}
    for name in names:
        run = runs.latest_run(conn, name, scope_key(tenant_id))
        if run is not None and run.effective_status(now, STALE_AFTER) == "running":
            found[name] = run
    return found


def report(
    conn: sa.Connection,
    *,
    tenant_id: str | None = None,
    names: Sequence[str] | None = None,
    table: str | None = None,
    sample_limit: int = checks_store.SAMPLE_LIMIT,
    now: datetime | None = None,
) -> tuple[integrity.Report, dict[str, runs.RunRow]]:
    """The report a page or the CLI shows: live results for the checks that may run live, stored
    results for the others; and the jobs running now, by check."""
    chosen = [integrity.BY_NAME[n] for n in names] if names else list(integrity.ALL_CHECKS)
    present = integrity.present_names(conn)
    live_scope = integrity.base_scope(conn, tenant_id=tenant_id, sample_limit=sample_limit, present=present)
    results, running = [], {}
    for check in chosen:
        if not integrity.applicable(check, present):
            continue
        if table is not None and table not in check.tables:
            continue
        if integrity.runs_live(check, tenant_id) and table is None:
            results.append(integrity.run_one(conn, check, live_scope))
            continue
        view = stored_result(conn, check, tenant_id, table=table, sample_limit=sample_limit, now=now)
        results.append(view.result)
        if view.running:
            running[check.name] = view.running
    skipped = integrity.missing_needs(chosen, present)
    return integrity.Report(tenant_id, checks_store.SCAN_LIMIT, tuple(results), skipped), running
