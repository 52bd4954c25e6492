"""Health (`/health`): integrity checks of Dify's agent tables; `check=<name>` opens one check's samples.

The page never runs a whole-table check inside a render. Index-backed checks of one workspace run live
(milliseconds, cached 30 s); every other check shows the latest stored result of its background job
(data.services.check_jobs) with its age, the progress of a running job (polled every 2 s), and, for
operators and admins, "run again" / "full re-run" / "cancel". `python -m data check` shows the same.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data import links, pages
from data.actor import NotAllowed, WritesDisabled
from data.services import check_jobs, integrity
from data.stores.check_runs import tables_present
from ui import charts, context, grid
from ui.render import literal, notice_invalid, page_url_box, safe_md, set_params
from ui.widgets import workspace_select

SEVERITY_ICONS = {"error": "🔴 error", "warning": "🟠 warning", "info": "🔵 info"}
LINK_LABELS = ("bindings", "agent", "session")
POLL_SECONDS = 2

params = pages.HEALTH.read(dict(st.query_params), choices={"check": integrity.ALL_CHECK_NAMES})
values = dict(params.values)
notice_invalid(params.notices)
tenant_id = context.scoped_tenant(values.get("tenant"))
check = values.get("check")
st.title("Health")

report = context.schema_report()
chosen = workspace_select(tenant_id, key="health-tenant")
if chosen != tenant_id:
    set_params(tenant=chosen, check=check)


@st.cache_resource(show_spinner=False, ttl=60)
def _jobs_available() -> bool:
    with context.engines().write.connect() as conn:
        return tables_present(conn)


jobs_ok = _jobs_available()
actor = context.current_actor()
block = check_jobs.run_block_reason(context.engines().write, actor)
# The report's link first (ticket: "send the integrity report for workspace W to engineering"): the URL to
# paste is on the first screen, above the checks.
page_url_box(links.link("health", tenant=tenant_id, check=check))
with st.expander("How these checks run"):
    st.caption(
        "Index-backed checks of one workspace run live (at most "
        f"{integrity.SCAN_LIMIT:,} rows each). Every other check runs as a background job, one at a time per "
        f"check and scope for everyone, in windows of at most {check_jobs.WINDOW_ROWS:,} rows per statement; "
        "this page shows its latest stored result and how old it is."
    )
if not jobs_ok:
    st.info(
        "Background checks need Agent Desk's own tables: run `python -m data migrate`. Until then only the "
        "index-backed checks of one workspace are shown."
    )


def status(result: integrity.CheckResult) -> str:
    if result.never_run:
        return "⏳ not run yet"
    if result.stored and result.stored.status == "interrupted":
        return "⚠ interrupted"
    if result.stored and result.stored.status == "cancelled":
        return "⚠ cancelled"
    if result.error:
        return "⚠ failed"
    return SEVERITY_ICONS[result.severity] if result.found else "✅ ok"


def as_of(result: integrity.CheckResult) -> str:
    return integrity.age_label(result.stored.as_of) if result.stored else "now"


present = context.read(integrity.present_names)


def job_names() -> list[str]:
    return [c.name for c in check_jobs.whole_table_checks(tenant_id, present)]


def current(names: list[str] | None) -> tuple[integrity.Report, dict]:
    """Live results (cached) for the checks that may run live, stored results (fresh) for the rest."""
    asked = [integrity.BY_NAME[n] for n in (names or integrity.ALL_CHECK_NAMES)]
    wanted = [c.name for c in asked if integrity.applicable(c, present)]
    live = [n for n in wanted if integrity.runs_live(integrity.BY_NAME[n], tenant_id)]
    jobs = [n for n in wanted if n not in live]
    by_name: dict[str, integrity.CheckResult] = {}
    if live:
        for r in context.read(integrity.run_checks, tenant_id=tenant_id, names=tuple(live)).results:
            by_name[r.name] = r
    running: dict = {}
    if jobs and jobs_ok:
        stored, running = context.read_uncached(check_jobs.report, tenant_id=tenant_id, names=tuple(jobs))
        by_name.update({r.name: r for r in stored.results})
    for name in jobs:
        by_name.setdefault(name, integrity.never_run(integrity.BY_NAME[name]))
    results = tuple(by_name[n] for n in wanted)
    return integrity.Report(
        tenant_id, integrity.SCAN_LIMIT, results, integrity.missing_needs(asked, present)
    ), running


def start(names: list[str], mode: str) -> None:
    try:
        claims = check_jobs.start_background(
            context.engines().write,
            names,
            actor=actor,
            tenant_id=tenant_id,
            mode=mode,
        )
    except (NotAllowed, WritesDisabled) as exc:
        st.session_state["health-started"] = ("error", f"Not started: {exc}")
        return
    shared = sum(1 for c in claims if not c.started)
    text = f"Started {len(claims) - shared} job(s)" + (
        f"; {shared} already running, shared" if shared else ""
    )
    st.session_state["health-started"] = ("ok", text)


def controls(names: list[str], running: dict, key: str) -> None:
    if not jobs_ok or not names:
        return
    if block:
        st.caption(safe_md(block))
        return
    cols = st.columns(3)
    if message := st.session_state.pop("health-started", None):
        (st.error if message[0] == "error" else st.success)(safe_md(message[1]))
    if cols[0].button("Run again", key=f"{key}-run", help="incremental where the check allows it"):
        start(names, "auto")
        st.rerun()
    if cols[1].button("Full re-run", key=f"{key}-full", help="read every row again"):
        start(names, "full")
        st.rerun()
    if running and cols[2].button("Cancel running", key=f"{key}-cancel"):
        try:
            for run in running.values():
                check_jobs.cancel(context.engines().write, run.id, actor=actor)
            text = f"Asked {len(running)} job(s) to stop after their window"
            st.session_state["health-started"] = ("ok", text)
        except (NotAllowed, WritesDisabled) as exc:
            st.session_state["health-started"] = ("error", f"Not cancelled: {exc}")
        st.rerun()


def progress(running: dict) -> None:
    for name, run in running.items():
        covered = f"{run.rows_covered:,}" + (f" of ≈{run.rows_estimate:,}" if run.rows_estimate else "")
        text = f"{name}: {covered} rows, {run.found:,} found so far ({run.mode}, by {run.requested_by})"
        fraction = min(1.0, run.rows_covered / run.rows_estimate) if run.rows_estimate else 0.0
        st.progress(fraction, text=safe_md(text))


def samples_table(result: integrity.CheckResult) -> None:
    labels = [label for label in LINK_LABELS if any(s.link(label) for s in result.samples)]
    frame = pd.DataFrame(
        [
            {"table": s.table, "id": s.id, "detail": s.detail, **{label: s.link(label) for label in labels}}
            for s in result.samples
        ],
        columns=["table", "id", "detail", *labels],
    )
    grid.show(
        frame,
        key=f"health-samples-{result.name}",
        first=("table", "id", "detail"),
        link_columns=labels,
        link_labels={label: f"Open its {label}" for label in labels},
        what="sample",
    )


def one_check() -> dict:
    full, running = current([check])
    if not full.results:
        st.subheader(safe_md(check))
        st.info(safe_md(f"Not applicable here: this database has no {full.not_applicable[0][1]}."))
        return {}
    result = full.results[0]
    st.subheader(safe_md(result.name))
    st.caption(safe_md(result.meaning))
    cols = st.columns(5)
    cols[0].metric("Found", result.count_label)
    cols[1].metric("Severity", result.severity)
    cols[2].metric("Rows read", f"{result.scanned:,}")
    cols[3].metric("Access", result.access_label)
    cols[4].metric("As of", as_of(result))
    literal("Reads", result.reads)
    if result.stored:
        s = result.stored
        since = (
            f", covering rows since the full run of {s.covered_since:%Y-%m-%d %H:%M} UTC"
            if s.covered_since and s.mode == "incremental"
            else ""
        )
        literal(
            "Job",
            f"{s.status}, {s.mode}{since}; windows of {s.window_rows:,} rows; {s.findings_stored:,} findings "
            f"stored; Agent Desk {s.app_version}; run {s.run_id}",
        )
    if result.never_run:
        st.info("No job has run this check for this scope yet.")
    if result.error:
        st.error(safe_md(f"This check could not run to the end: {result.error}"))
    progress(running)
    samples_table(result)
    if result.count > len(result.samples):
        st.caption(safe_md(f"Showing the first {len(result.samples)} of {result.count_label} rows."))
    if not result.found and not result.error and not result.never_run:
        st.success("Nothing found.")
    if not integrity.runs_live(integrity.BY_NAME[check], tenant_id):
        controls([check], running, "one")
    st.page_link(
        "app_pages/health.py", label="All checks", query_params={"tenant": tenant_id} if tenant_id else None
    )
    return running


def all_checks() -> dict:
    full, running = current(None)
    totals = full.totals()
    cols = st.columns(3)
    for col, severity in zip(cols, integrity.SEVERITIES, strict=True):
        col.metric(safe_md(f"{severity} checks with findings"), totals[severity])
    frame = pd.DataFrame(
        [
            {
                "status": status(r),
                "check": r.name,
                "found": r.count_label,
                "severity": r.severity,
                "rows read": r.scanned,
                "access": r.access_label,
                "source": r.source_label,
                "as of": as_of(r),
                "meaning": r.meaning,
                "open": links.link("health", tenant=tenant_id, check=r.name),
            }
            for r in full.results
        ],
        columns=[
            "status",
            "check",
            "found",
            "severity",
            "rows read",
            "access",
            "source",
            "as of",
            "meaning",
            "open",
        ],
    )
    grid.show(
        frame,
        key="health-checks",
        first=("status", "check", "found", "severity", "as of"),
        keep=("check", "status", "found"),
        link_columns=("open",),
        what="check",
    )
    charts.findings_per_check(
        [(r.name, r.severity, r.count) for r in full.results if not r.never_run and not r.error],
        caption="Findings per check, from the latest stored result of each job (or the live index-backed "
        f"check, at most {integrity.SCAN_LIMIT:,} rows read); a bounded check's bar is a lower bound (≥).",
    )
    progress(running)
    if full.not_applicable:
        st.caption(
            safe_md(
                "Not applicable here: "
                + "; ".join(f"{name} (no {missing})" for name, missing in full.not_applicable)
            )
        )
    for r in full.results:
        if r.error:
            st.error(safe_md(f"{r.name} could not run: {r.error}"))
    controls(job_names(), running, "all")
    return running


def _polling() -> bool:
    """Whether a job of this scope runs now (here or on another server): then the view polls."""
    if not jobs_ok:
        return False
    names = [n for n in ([check] if check else job_names()) if n in job_names()]
    if check_jobs.running_here():
        return True
    return bool(context.read_uncached(check_jobs.running_jobs, tenant_id, names))


polling = _polling()


@st.fragment(run_every=POLL_SECONDS if polling else None)
def view() -> None:
    running = one_check() if check else all_checks()
    if polling and not running and not check_jobs.running_here():
        st.rerun()  # the jobs finished: a full run of the page stops the polling


view()
