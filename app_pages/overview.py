"""Overview (`/`): counts per table and per status, exact on small tables, "≈" estimates on large ones."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data import links, pages
from data.stores import overview as overview_store
from ui import context, render
from ui.render import notice_invalid, page_url_box, plain, safe_md, set_params
from ui.widgets import workspace_select

report = context.schema_report()
params = pages.OVERVIEW.read(dict(st.query_params))
notice_invalid(params.notices)
tenant_id = context.scoped_tenant(params.values.get("tenant"))

st.title("Overview")
if (choice := workspace_select(tenant_id)) != tenant_id:
    set_params(tenant=choice)
if tenant_id and tenant_id not in {w.id for w in context.workspaces()}:
    st.warning(safe_md(f"Workspace {tenant_id} has no row in the tenants table."))

tables = context.read(overview_store.overview, tenant_id=tenant_id, present=report.agent_tables)
columns = st.columns(len(tables))
for column, table in zip(columns, tables, strict=True):
    column.metric(safe_md(table.table), table.total.label())
st.caption('Exact up to 20,000 rows; beyond that "≈" is the database\'s own estimate (no full COUNT).')

# Status breakdowns as charts (people look rather than read), two per row, the numbers folded below.
breakdowns = [t for t in tables if t.breakdown]
for start in range(0, len(breakdowns), 2):
    row = st.columns(2)
    for column, table in zip(row, breakdowns[start : start + 2], strict=False):
        with column:
            st.subheader(safe_md(f"{table.table} by {table.breakdown_column}"))
            estimated = not all(count.exact for _, count in table.breakdown)
            chart = pd.DataFrame(
                {
                    "value": [plain(value) or "(empty)" for value, _ in table.breakdown],
                    "rows": [count.value for _, count in table.breakdown],
                }
            )
            st.bar_chart(
                chart, x="value", y="rows", horizontal=True, sort="-rows", height=60 + 28 * len(chart)
            )
            if estimated:
                st.caption("≈ estimates from the database's statistics.")
            with st.expander("Numbers"):
                frame = pd.DataFrame(
                    [{"value": value, "rows": count.label()} for value, count in table.breakdown],
                    columns=["value", "rows"],
                )
                render.table(frame, hide_index=True)

page_url_box(links.link("overview", tenant=tenant_id))
