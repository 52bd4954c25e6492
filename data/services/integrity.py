"""Integrity checks of Dify's agent tables: what each check means, how bad it is, how it reads.

The `/health` page and `python -m data check` both render a `Report`: live from `run_checks` (the
index-backed checks of one workspace), or from the stored results of background jobs
(`data.services.check_jobs`, which walks each check's driving tables window by window). The SQL is in
`data.stores.integrity`. Invariants:

* every check reads at most `scan_limit` rows of its driving table; when it reaches the limit its
  count is a lower bound, shown as "≥ N (bounded)";
* a check that fails to run (e.g. a statement timeout) is reported with its error, never raised, and
  the other checks still run;
* every link in a sample comes from `data.links` and points at a row that exists (an agent link only
  when the agent row exists);
* `Report.has_errors` is True exactly when an `error`-severity check found rows or could not run:
  the CLI's exit status 1.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa

from data import links
from data.stores import integrity as store
from data.stores.integrity import SAMPLE_LIMIT, SCAN_LIMIT, Anomaly, Finding, Scope

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")


@dataclass(frozen=True)
class Check:
    """A named check. `index_backed`: for one workspace it reaches its rows through a Dify index and
    probes references by index; otherwise it must read every row's content (a bounded full scan).

    For background jobs: `tables` are its driving tables, walked in windows of `window_key` order (a
    check without tables runs in one bounded read); `incremental`: a later run may cover only rows
    added since (keys after the last run's cursor) and re-verify the last run's findings, instead of
    reading everything again. For the gap checks (`window_key` agent_id) the incremental unit is the
    agent: only agents with rows added since (and those found last time) are judged again."""

    name: str
    meaning: str
    severity: Severity
    index_backed: bool
    reads: str
    run: Callable[[sa.Connection, Scope], Finding]
    #: Tables (or "table.column") the check needs; without one it is listed as not applicable.
    needs: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    window_key: str = "id"
    incremental: bool = True


_AGENTS, _SNAPSHOTS, _REVISIONS = "agents", "agent_config_snapshots", "agent_config_revisions"
_BINDINGS, _SESSIONS = "workflow_agent_node_bindings", "agent_runtime_sessions"
_TENANT_BINDINGS = "bindings of the workspace (tenant-leading binding indexes)"

CHECKS: tuple[Check, ...] = (
    Check(
        "binding-missing-agent",
        "A node binding names no agent, or an agent that does not exist: the node cannot run.",
        "error",
        True,
        f"{_TENANT_BINDINGS}; agents by primary key",
        store.binding_missing_agent,
        tables=(_BINDINGS,),
    ),
    Check(
        "binding-missing-snapshot",
        "A node binding pins a snapshot that does not exist.",
        "error",
        True,
        f"{_TENANT_BINDINGS}; snapshots by primary key",
        store.binding_missing_snapshot,
        tables=(_BINDINGS,),
    ),
    Check(
        "binding-foreign-snapshot",
        "A node binding pins a snapshot that belongs to another agent.",
        "error",
        True,
        f"{_TENANT_BINDINGS}; snapshots by primary key",
        store.binding_foreign_snapshot,
        tables=(_BINDINGS,),
    ),
    Check(
        "agent-active-snapshot-missing",
        "An agent's active snapshot does not exist: roster bindings of it have nothing to run.",
        "error",
        True,
        "agents of the workspace (tenant-leading agent indexes); snapshots by primary key",
        store.agent_active_snapshot_missing,
        tables=(_AGENTS,),
    ),
    Check(
        "agent-active-snapshot-foreign",
        "An agent's active snapshot belongs to another agent: it runs someone else's config.",
        "error",
        True,
        "agents of the workspace (tenant-leading agent indexes); snapshots by primary key",
        store.agent_active_snapshot_foreign,
        tables=(_AGENTS,),
    ),
    Check(
        "snapshot-missing-agent",
        "A snapshot names an agent that does not exist (history left after a hand deletion).",
        "warning",
        True,
        "snapshots of the workspace (agent_config_snapshot_tenant_* indexes); agents by primary key",
        store.snapshot_missing_agent,
        tables=(_SNAPSHOTS,),
    ),
    Check(
        "revision-missing-snapshot",
        "A revision names a current or previous snapshot that does not exist.",
        "warning",
        True,
        "revisions of the workspace (agent_config_revision_tenant_* indexes); snapshots by primary key",
        store.revision_missing_snapshot,
        tables=(_REVISIONS,),
    ),
    Check(
        "version-gaps",
        "An agent's snapshot versions are not exactly 1..max (normal: a rolled-back save loses its number).",
        "info",
        True,
        "(agent_id, version) in order (agent_config_snapshot_agent_version_unique)",
        store.version_gaps,
        tables=(_SNAPSHOTS,),
        window_key="agent_id",
    ),
    Check(
        "revision-gaps",
        "An agent's revision numbers are not exactly 1..max (normal: a rolled-back save loses its number).",
        "info",
        True,
        "(agent_id, revision) in order (agent_config_revision_agent_revision_unique)",
        store.revision_gaps,
        tables=(_REVISIONS,),
        window_key="agent_id",
    ),
    Check(
        "archived-agent-bound-in-draft",
        "A draft workflow still binds an archived agent: Dify refuses to run it, and publishing copies it.",
        "warning",
        True,
        f"{_TENANT_BINDINGS}; agents by primary key",
        store.archived_agent_bound_in_draft,
        tables=(_BINDINGS,),
    ),
    Check(
        "workflow-only-agent-unreferenced",
        "A workflow-only agent no binding references (normal: save-to-roster leaves the inline agent behind).",
        "info",
        True,
        "agents of the workspace (agent_tenant_scope_idx); bindings by workflow_agent_node_binding_agent_idx",
        store.workflow_only_agent_unreferenced,
        tables=(_AGENTS,),
    ),
    Check(
        "session-missing-agent",
        "A runtime session names an agent that does not exist.",
        "warning",
        True,
        "sessions of the workspace (tenant-leading session lookup indexes); agents by primary key",
        store.session_missing_agent,
        ("agent_runtime_sessions",),
        tables=(_SESSIONS,),
    ),
    Check(
        "session-missing-binding",
        "A workflow runtime session names a node binding that does not exist (e.g. its node was deleted).",
        "warning",
        True,
        "sessions of the workspace (tenant-leading session lookup indexes); bindings by primary key",
        store.session_missing_binding,
        ("agent_runtime_sessions",),
        tables=(_SESSIONS,),
    ),
    Check(
        "session-missing-snapshot",
        "A runtime session names a config snapshot (or, on newer Dify, a draft) that does not exist.",
        "warning",
        True,
        "sessions of the workspace (tenant-leading session lookup indexes); snapshots by primary key",
        store.session_missing_snapshot,
        ("agent_runtime_sessions",),
        tables=(_SESSIONS,),
    ),
    Check(
        "session-owner-mismatch",
        "A runtime session's owner columns do not match its owner_type (workflow run vs conversation).",
        "warning",
        False,
        "every session row's owner columns: no index covers them",
        store.session_owner_mismatch,
        ("agent_runtime_sessions",),
        tables=(_SESSIONS,),
    ),
    Check(
        "unknown-enum-values",
        "A row holds an enum value no Dify version we know writes (Dify's own ORM fails to load it).",
        "warning",
        False,
        "every row of agents, revisions, bindings and sessions (where present): no index covers these columns",
        store.unknown_enum_values,
        tables=(_AGENTS, _REVISIONS, _BINDINGS, _SESSIONS),
    ),
    Check(
        "invalid-json",
        "A JSON column does not parse, or is not the object/list Dify expects (Dify's ORM fails to load it).",
        "error",
        False,
        "every snapshot, binding and session text, parsed in Python in batches",
        store.invalid_json,
        tables=(_SNAPSHOTS, _BINDINGS, _SESSIONS),
    ),
)
#: Checks of what newer Dify added: drafts (1.16+), working environments and home snapshots (1.17+).
#: They run only where their tables are (never on a seed-era database).
NEWER_CHECKS: tuple[Check, ...] = (
    Check(
        "draft-missing-base-snapshot",
        "A draft starts from a snapshot that does not exist (its base was deleted by hand).",
        "warning",
        True,
        "drafts of the workspace (agent_config_draft_tenant_* indexes); snapshots by primary key",
        store.draft_missing_base_snapshot,
        ("agent_config_drafts",),
    ),
    Check(
        "home-snapshot-reference-missing",
        "A config snapshot or draft names a home snapshot that does not exist: every new run of it fails.",
        "error",
        True,
        "snapshots and drafts of the workspace (tenant-leading indexes); home snapshots by primary key",
        store.home_snapshot_reference_missing,
        ("agent_home_snapshots",),
    ),
    Check(
        "workspace-binding-missing-workspace",
        "A working-environment binding names a workspace that does not exist.",
        "warning",
        True,
        "bindings of the workspace (agent_workspace_binding_agent_status_idx); workspaces by primary key",
        store.workspace_binding_missing_workspace,
        ("agent_workspaces", "agent_workspace_bindings"),
    ),
    Check(
        "binding-pointer-missing",
        "A draft or conversation points at a working-environment binding that does not exist "
        "(normal for a finished caller after Dify's collector ran; a live one fails for good).",
        "info",
        False,
        "drafts of the workspace (tenant index); conversations from the start, or through the workspace's "
        "apps (conversation_app_from_user_idx); bindings by primary key",
        store.binding_pointer_missing,
        ("agent_workspace_bindings",),
    ),
    Check(
        "agent-backing-app-missing",
        "A roster agent's backing app (the hidden app that runs it) does not exist: the agent cannot run.",
        "error",
        True,
        "agents of the workspace (agent_tenant_backing_app_id_idx); apps by primary key",
        store.agent_backing_app_missing,
        ("agents.backing_app_id", "apps"),
    ),
)
ALL_CHECKS: tuple[Check, ...] = (*CHECKS, *NEWER_CHECKS)
CHECK_NAMES: tuple[str, ...] = tuple(c.name for c in CHECKS)
ALL_CHECK_NAMES: tuple[str, ...] = tuple(c.name for c in ALL_CHECKS)
BY_NAME = {c.name: c for c in ALL_CHECKS}


@dataclass(frozen=True)
class Link:
    label: str  # "bindings", "agent" or "session": one column per label on the page
    url: str


@dataclass(frozen=True)
class Sample:
    table: str
    id: str
    tenant_id: str
    detail: str
    links: tuple[Link, ...]

    def link(self, label: str) -> str | None:
        return next((link.url for link in self.links if link.label == label), None)


@dataclass(frozen=True)
class Stored:
    """Where a stored result came from: its run, status, when it finished (or last beat), its mode."""

    run_id: str
    status: str  # done | running | failed | interrupted | cancelled
    as_of: datetime  # finished_at, else the last heartbeat, else created_at
    mode: str  # full | incremental
    rows_covered: int
    rows_estimate: int | None
    covered_since: datetime | None  # the full run an incremental run builds on
    window_rows: int
    findings_stored: int
    app_version: str
    scope: str  # "*" or the workspace id the run covered
    table: str | None = None

    @property
    def progress(self) -> float | None:
        if self.status != "running" or not self.rows_estimate:
            return None
        return min(1.0, self.rows_covered / self.rows_estimate)


@dataclass(frozen=True)
class CheckResult:
    name: str
    meaning: str
    severity: Severity
    index_backed: bool
    reads: str
    count: int
    scanned: int
    bounded: bool
    samples: tuple[Sample, ...]
    error: str | None = None
    stored: Stored | None = None  # None: run live now
    never_run: bool = False  # a whole-table check no job has run yet for this scope

    @property
    def found(self) -> bool:
        return self.count > 0

    @property
    def count_label(self) -> str:
        if self.never_run:
            return "not run yet"
        if self.error:
            return "check failed"
        if self.stored and self.stored.status == "running":
            return f"≥ {self.count:,} so far"
        return f"≥ {self.count:,} (bounded)" if self.bounded else f"{self.count:,}"

    @property
    def source_label(self) -> str:
        if self.never_run:
            return "not run yet"
        if self.stored is None:
            return "live"
        mode = " (incremental)" if self.stored.mode == "incremental" else ""
        return f"job {self.stored.status}{mode}"

    @property
    def access_label(self) -> str:
        return "index-backed" if self.index_backed else "bounded full scan"


@dataclass(frozen=True)
class Report:
    tenant_id: str | None
    scan_limit: int
    results: tuple[CheckResult, ...]
    #: (check name, what is missing) of the checks this database cannot run.
    not_applicable: tuple[tuple[str, str], ...] = ()

    @property
    def has_errors(self) -> bool:
        """An error-severity check found rows or could not run (CLI exit status 1)."""
        return any(r.severity == "error" and (r.found or r.error) for r in self.results)

    def get(self, name: str) -> CheckResult | None:
        return next((r for r in self.results if r.name == name), None)

    def totals(self) -> dict[str, int]:
        """Checks with findings (or failures), per severity."""
        return {
            s: sum(1 for r in self.results if r.severity == s and (r.found or r.error)) for s in SEVERITIES
        }


def run_checks(
    conn: sa.Connection,
    *,
    tenant_id: str | None = None,
    names: Sequence[str] | None = None,
    scan_limit: int = SCAN_LIMIT,
    sample_limit: int = SAMPLE_LIMIT,
) -> Report:
    """Run the named checks (all by default), each bounded by `scan_limit` rows, for one workspace or all."""
    unknown = set(names or ()) - set(BY_NAME)
    if unknown:
        raise ValueError(f"unknown check(s): {sorted(unknown)}")
    chosen = [BY_NAME[n] for n in names] if names else list(ALL_CHECKS)
    present = _present(conn)
    scope = base_scope(
        conn, tenant_id=tenant_id, scan_limit=scan_limit, sample_limit=sample_limit, present=present
    )
    runnable = [c for c in chosen if applicable(c, present)]
    skipped = missing_needs(chosen, present)
    return Report(tenant_id, scan_limit, tuple(run_one(conn, check, scope) for check in runnable), skipped)


def applicable(check: Check, present: frozenset[str]) -> bool:
    return all(n in present for n in check.needs)


def missing_needs(chosen: Sequence[Check], present: frozenset[str]) -> tuple[tuple[str, str], ...]:
    """(check, what is missing) for the chosen checks this schema cannot run."""
    return tuple(
        (c.name, ", ".join(n for n in c.needs if n not in present))
        for c in chosen
        if not applicable(c, present)
    )


#: Tables whose newer columns some checks need.
_SURVEYED = ("agents", "agent_config_snapshots", "agent_config_drafts", "conversations")


def _present(conn: sa.Connection) -> frozenset[str]:
    """Tables here, plus "table.column" for the columns of `_SURVEYED` tables (one inspector pass)."""
    inspector = sa.inspect(conn)
    tables = set(inspector.get_table_names())
    found = set(tables)
    for table in _SURVEYED:
        if table in tables:
            found.update(f"{table}.{c['name']}" for c in inspector.get_columns(table))
    return frozenset(found)


present_names = _present


def runs_live(check: Check, tenant_id: str | None) -> bool:
    """Whether a page may run this check inside a render: index-backed, for one workspace
    (milliseconds). Everything else is a background job whose stored result the page shows."""
    return bool(tenant_id) and check.index_backed


def base_scope(
    conn: sa.Connection,
    *,
    tenant_id: str | None = None,
    scan_limit: int = SCAN_LIMIT,
    sample_limit: int = SAMPLE_LIMIT,
    present: frozenset[str] | None = None,
) -> Scope:
    present = _present(conn) if present is None else present
    return Scope(
        tenant_id=tenant_id,
        scan_limit=scan_limit,
        sample_limit=sample_limit,
        has_drafts_table="agent_config_drafts" in present,
        present=present,
        json_prefilter=store.json_prefilter(conn),
    )


def run_finding(conn: sa.Connection, check: Check, scope: Scope) -> Finding:
    """One check in its own savepoint (PostgreSQL aborts the transaction on a timeout otherwise)."""
    if conn.dialect.name == "sqlite":  # pysqlite's savepoints are unreliable; SQLite has no timeout
        return check.run(conn, scope)
    with conn.begin_nested():
        return check.run(conn, scope)


def error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def run_one(conn: sa.Connection, check: Check, scope: Scope) -> CheckResult:
    """One check, live; a failure is reported in the result, never raised."""
    try:
        finding = run_finding(conn, check, scope)
    except sa.exc.SQLAlchemyError as exc:
        return _result(check, Finding(0, 0, False, ()), error=error_text(exc))
    return _result(check, finding)


def never_run(check: Check) -> CheckResult:
    return replace(_result(check, Finding(0, 0, False, ())), never_run=True)


def stored_result(
    check: Check, *, count: int, scanned: int, samples: Sequence[Anomaly], error: str | None, stored: Stored
) -> CheckResult:
    """A result read back from a job's run row and findings (samples rebuilt with today's links)."""
    return replace(_result(check, Finding(count, scanned, False, tuple(samples)), error=error), stored=stored)


def _result(check: Check, finding: Finding, error: str | None = None) -> CheckResult:
    return CheckResult(
        name=check.name,
        meaning=check.meaning,
        severity=check.severity,
        index_backed=check.index_backed,
        reads=check.reads,
        count=finding.count,
        scanned=finding.scanned,
        bounded=finding.bounded,
        samples=tuple(_sample(a) for a in finding.samples),
        error=error,
    )


def _sample(anomaly: Anomaly) -> Sample:
    found: list[Link] = []
    if anomaly.table in ("agent_runtime_sessions", "agent_workspace_bindings"):
        found.append(Link("session", links.link("sessions", tenant=anomaly.tenant_id, session=anomaly.id)))
    if anomaly.app_id and anomaly.workflow_id:
        url = links.link(
            "bindings",
            tenant=anomaly.tenant_id,
            app=anomaly.app_id,
            workflow=anomaly.workflow_id,
            node=anomaly.node_id,
        )
        found.append(Link("bindings", url))
    if anomaly.agent_id:
        found.append(Link("agent", links.link("agent", agent=anomaly.agent_id)))
    return Sample(anomaly.table, anomaly.id, anomaly.tenant_id, anomaly.detail, tuple(found))


# --- rendering for the CLI (the page renders the same Report) ----------------------------------------


def report_dict(report: Report) -> dict[str, Any]:
    return {
        "tenant": report.tenant_id,
        "scan_limit": report.scan_limit,
        "has_errors": report.has_errors,
        "not_applicable": [{"name": n, "missing": m} for n, m in report.not_applicable],
        "checks": [
            {
                "name": r.name,
                "severity": r.severity,
                "meaning": r.meaning,
                "count": r.count,
                "bounded": r.bounded,
                "count_label": r.count_label,
                "scanned": r.scanned,
                "access": r.access_label,
                "reads": r.reads,
                "error": r.error,
                "source": r.source_label,
                "run_id": r.stored.run_id if r.stored else None,
                "as_of": r.stored.as_of.isoformat() + "Z" if r.stored else None,
                "age_seconds": round(age_seconds(r.stored.as_of)) if r.stored else None,
                "samples": [
                    {
                        "table": s.table,
                        "id": s.id,
                        "tenant": s.tenant_id,
                        "detail": s.detail,
                        "links": {link.label: link.url for link in s.links},
                    }
                    for s in r.samples
                ],
            }
            for r in report.results
        ],
    }


def age_seconds(at: datetime, now: datetime | None = None) -> float:
    from data.models import naive_utc_now

    return max(0.0, ((now or naive_utc_now()) - at).total_seconds())


def age_label(at: datetime, now: datetime | None = None) -> str:
    """ "12 s ago", "5 min ago", "3 h ago", "2 d ago"."""
    seconds = age_seconds(at, now)
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return f"{int(seconds)} s ago"


def report_text(report: Report) -> str:
    scope = f"workspace {report.tenant_id}" if report.tenant_id else "all workspaces"
    lines = [f"Integrity checks, {scope} (at most {report.scan_limit:,} rows read per check)"]
    windows = {r.stored.window_rows for r in report.results if r.stored}
    if windows:
        lines.append(
            "Whole-table checks show the latest background job (windows of "
            + ", ".join(f"{w:,}" for w in sorted(windows))
            + " rows per statement); `--fresh` runs them now."
        )
    for r in report.results:
        status = f"failed: {r.error}" if r.error else r.count_label
        source = f", {r.source_label} {age_label(r.stored.as_of)}" if r.stored else ""
        lines.append(f"[{r.severity}] {r.name}: {status}  ({r.access_label}{source})")
        lines.append(f"    {r.meaning}")
        for s in r.samples:
            lines.append(f"    - {s.table} {s.id}: {s.detail}")
            for link in s.links:
                lines.append(f"        {link.label}: {link.url}")
    for name, missing in report.not_applicable:
        lines.append(f"[n/a] {name}: not applicable here (no {missing})")
    totals = report.totals()
    lines.append(
        f"Checks with findings: {totals['error']} error, {totals['warning']} warning, {totals['info']} info."
    )
    return "\n".join(lines)
