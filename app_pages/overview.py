"""Overview (`/`): counts per table and per status, exact on small tables, "≈" estimates on large ones."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data import links
from data.params import parse_params
from data.stores import overview as overview_store
from ui import context
from ui.render import md_escape, notice_invalid, set_params
from ui.widgets import workspace_select

report = context.schema_report()
params = parse_params(dict(st.query_params), {"tenant": "uuid"})
notice_invalid(params.notices)
tenant_id = context.scoped_tenant(params.values.get("tenant"))

st.title("Overview")
if (choice := workspace_select(tenant_id)) != tenant_id:
    set_params(tenant=choice)
if tenant_id and tenant_id not in {w.id for w in context.workspaces()}:
    st.warning(md_escape(f"Workspace {tenant_id} has no row in the tenants table."))

tables = context.read(overview_store.overview, tenant_id=tenant_id, present=report.agent_tables)
columns = st.columns(len(tables))
for column, table in zip(columns, tables, strict=True):
    column.metric(table.table, table.total.label())
st.caption('Exact up to 20,000 rows; beyond that "≈" is the database\'s own estimate (no full COUNT).')

for table in tables:
    if not table.breakdown:
        continue
    st.subheader(f"{table.table} by {table.breakdown_column}")
    frame = pd.DataFrame(
        [{"value": value, "rows": count.label()} for value, count in table.breakdown],
        columns=["value", "rows"],
    )
    st.dataframe(frame, hide_index=True)

st.page_link("app_pages/overview.py", label="Link to this view")
st.code(links.link("overview", tenant=tenant_id), language=None)
