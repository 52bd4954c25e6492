"""Health (`/health`): integrity checks of Dify's agent tables; `check=<name>` opens one check's samples.

The same report as `python -m data check` (data.services.integrity); every check is bounded.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data import links
from data.params import parse_params
from data.services import integrity
from ui import context
from ui.render import literal, md_escape, notice_invalid, page_url_box, set_params
from ui.widgets import workspace_select

SPEC = {"tenant": "uuid", "check": integrity.ALL_CHECK_NAMES}
SEVERITY_ICONS = {"error": "🔴 error", "warning": "🟠 warning", "info": "🔵 info"}
LINK_LABELS = ("bindings", "agent", "session")

params = parse_params(dict(st.query_params), SPEC)
values = dict(params.values)
notice_invalid(params.notices)
tenant_id = context.scoped_tenant(values.get("tenant"))
check = values.get("check")
st.title("Health")

report = context.schema_report()
chosen = workspace_select(tenant_id, key="health-tenant")
if chosen != tenant_id:
    set_params(tenant=chosen, check=check)
st.caption(
    f"Each check reads at most {integrity.SCAN_LIMIT:,} rows of its table; a count that reached the bound "
    "is shown as “≥ N (bounded)”. Index-backed checks seek Dify's indexes for one workspace; the others "
    "must read every row (a bounded full scan)."
)


def status(result: integrity.CheckResult) -> str:
    if result.error:
        return "⚠ failed"
    return SEVERITY_ICONS[result.severity] if result.found else "✅ ok"


single = context.read(integrity.run_checks, tenant_id=tenant_id, names=(check,)) if check else None
if single is not None and not single.results:  # the check's tables are not in this database
    st.subheader(str(check))
    st.info(md_escape(f"Not applicable here: this database has no {single.not_applicable[0][1]}."))
elif single is not None:
    result = single.results[0]
    st.subheader(result.name)
    st.caption(md_escape(result.meaning))
    cols = st.columns(4)
    cols[0].metric("Found", result.count_label)
    cols[1].metric("Severity", result.severity)
    cols[2].metric("Rows read", f"{result.scanned:,}")
    cols[3].metric("Access", result.access_label)
    literal("Reads", result.reads)
    if result.error:
        st.error(md_escape(f"This check could not run: {result.error}"))
    labels = [label for label in LINK_LABELS if any(s.link(label) for s in result.samples)]
    frame = pd.DataFrame(
        [
            {"table": s.table, "id": s.id, "detail": s.detail, **{label: s.link(label) for label in labels}}
            for s in result.samples
        ],
        columns=["table", "id", "detail", *labels],
    )
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={label: st.column_config.LinkColumn(label, display_text="open") for label in labels},
    )
    if result.count > len(result.samples):
        st.caption(f"Showing the first {len(result.samples)} of {result.count_label} rows.")
    if not result.found and not result.error:
        st.success("Nothing found.")
    st.page_link(
        "app_pages/health.py", label="All checks", query_params={"tenant": tenant_id} if tenant_id else None
    )
else:
    full = context.read(integrity.run_checks, tenant_id=tenant_id)
    totals = full.totals()
    cols = st.columns(3)
    for col, severity in zip(cols, integrity.SEVERITIES, strict=True):
        col.metric(f"{severity} checks with findings", totals[severity])
    frame = pd.DataFrame(
        [
            {
                "status": status(r),
                "check": r.name,
                "found": r.count_label,
                "severity": r.severity,
                "rows read": r.scanned,
                "access": r.access_label,
                "meaning": r.meaning,
                "open": links.link("health", tenant=tenant_id, check=r.name),
            }
            for r in full.results
        ],
        columns=["status", "check", "found", "severity", "rows read", "access", "meaning", "open"],
    )
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={"open": st.column_config.LinkColumn("open", display_text="samples")},
    )
    for r in full.results:
        if r.error:
            st.error(md_escape(f"{r.name} could not run: {r.error}"))
    if full.not_applicable:
        st.caption(
            md_escape(
                "Not applicable here: "
                + "; ".join(f"{name} (no {missing})" for name, missing in full.not_applicable)
            )
        )

page_url_box(links.link("health", tenant=tenant_id, check=check))
