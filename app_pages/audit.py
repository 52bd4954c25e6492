"""Audit log (`/audit`): every audited action, filtered through the URL, with a CSV export."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data import links, pages
from data.masking import mask_text
from data.services import audit as audit_service
from data.services.export import to_csv
from data.stores import audit as audit_store
from ui import context, grid
from ui.render import already_masked, notice_invalid, page_url_box, plain, safe_md, set_params, utc
from ui.widgets import workspace_select

settings = context.settings()
params = pages.AUDIT.read(dict(st.query_params))
values = dict(params.values)
notice_invalid(params.notices)
if context.current_actor().tenant_id:
    values["tenant"] = context.scoped_tenant(values.get("tenant"))

st.title("Audit log")
if not context.read(audit_store.audit_tables_present):
    st.warning("The audit tables are missing: run `python -m data migrate` (Agent Desk's own tables).")
    st.stop()

names = {w.id: w.name for w in context.workspaces()}
with st.form("audit-filters"):
    cols = st.columns([2, 2, 2, 3, 1, 1])
    actor_text = cols[0].text_input("Actor contains", value=str(values.get("actor") or ""))
    action_options = [None, *audit_service.ACTIONS]
    if values.get("action") and values["action"] not in action_options:
        action_options.append(values["action"])
    action = cols[1].selectbox(
        "Action",
        action_options,
        index=action_options.index(values.get("action")),
        format_func=lambda v: "any" if v is None else plain(v),
    )
    tenant = workspace_select(values.get("tenant"), container=cols[2])
    target = cols[3].text_input("Any id (action, session, ...)", value=str(values.get("target") or ""))
    date_from = cols[4].date_input("From", value=values.get("from"), format="YYYY-MM-DD")
    date_to = cols[5].date_input("To", value=values.get("to"), format="YYYY-MM-DD")
    if st.form_submit_button("Apply"):
        set_params(
            actor=actor_text.strip(),
            action=action,
            tenant=tenant,
            target=target.strip(),
            **{"from": date_from, "to": date_to},
        )

flt = audit_store.AuditFilter(
    actor=values.get("actor"),
    action=values.get("action"),
    tenant_id=values.get("tenant"),
    target=values.get("target"),
    date_from=values.get("from"),
    date_to=values.get("to"),
)
entries = context.read(audit_store.list_actions, flt)
if len(entries) >= audit_store.MAX_ROWS:
    st.warning(f"Showing the newest {audit_store.MAX_ROWS:,} actions: narrow the filter to see older ones.")
st.caption(safe_md(f"{len(entries):,} actions match (newest first, at most {audit_store.MAX_ROWS:,})."))
st.caption(
    "One row per action. “applied” counts the rows the action changed (each recorded in the transaction "
    "that changed it); an action without an outcome was interrupted."
)

COLUMNS = [
    "when",
    "actor",
    "action",
    "workspace",
    "reason",
    "rule",
    "filter",
    "requested",
    "applied",
    "skipped",
    "outcome",
    "app version",
    "target",
    "action id",
]


def cells(e: audit_store.AuditEntry) -> list[object]:
    # Reasons and filters are typed by people: the table (ui.render) and the CSV export mask every cell,
    # except the actor: who acted is Agent Desk's own record and the point of the trail (shown as is).
    return [
        utc(e.created_at),
        already_masked(e.actor),
        e.action,
        names.get(e.tenant_id or "", e.tenant_id or "all"),
        e.reason,
        e.rule or "",
        e.filter or "",
        e.requested,
        e.applied,
        e.skipped,
        e.outcome,
        e.app_version,
        e.target_id or "",
        e.id,
    ]


frame = pd.DataFrame([cells(e) for e in entries], columns=COLUMNS)
frame["open"] = [links.link("sessions", session=e.target_id) if e.target_id else None for e in entries]
frame["when"] = [e.created_at for e in entries]  # a real datetime column (sortable); CSV keeps text
grid.show(
    frame,
    key="audit-table",
    first=("when", "action", "outcome", "applied", "actor", "reason", "rule"),
    keep=("action id",),
    datetimes=("when",),
    link_columns=("open",),
    link_labels={"open": "Open the session"},
    masked_columns=("actor",),  # shown as is (see `cells`); pandas drops the `Masked` marker
    what="action",
)
if not entries:
    st.info("No audited actions match these filters.")
else:
    st.download_button(
        "Download audit.csv",
        to_csv(COLUMNS, [cells(e) for e in entries]),
        file_name="audit.csv",
        mime="text/csv",
    )
    for e in entries:
        if e.outcome == "failed" and e.detail:
            st.caption(safe_md(already_masked(f"{e.id}: {mask_text(e.detail)[:500]}")))
page_url_box(links.link("audit", **values))
