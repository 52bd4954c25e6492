"""Roster (`/roster`): every agent across workspaces, filtered and searched, keyset-paginated."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data import links, pages
from data.models.enums import AgentKind, AgentScope, AgentSource, AgentStatus
from data.services.export import to_csv
from data.stores import agents as agents_store
from data.stores import roster as roster_store
from data.types import normalize_uuid
from ui import context, grid
from ui.render import (
    icon_text,
    notice_invalid,
    page_url_box,
    plain,
    relative_time,
    replace_params,
    safe_md,
    set_params,
    utc,
)
from ui.widgets import workspace_select

EXPORT_CAP = 5_000

report = context.schema_report()
settings = context.settings()
params = pages.ROSTER.read(dict(st.query_params))
values = params.values
if context.current_actor().tenant_id:
    values["tenant"] = context.scoped_tenant(None)
notice_invalid(params.notices)

st.title("Agent roster")

# A pasted id opens the view of whatever it names (contract order), before any list is shown.
query_text = str(values.get("q") or "")
pasted = normalize_uuid(query_text) if len(query_text) in (32, 36) else None
if pasted:
    match = context.read(
        agents_store.resolve_id,
        pasted,
        has_core=report.core_tables,
        agent_tables=report.agent_tables,
        read=context.read_context(),
    )
    if match is not None:
        st.switch_page(f"app_pages/{match.page}.py", query_params=match.params)
    st.warning(
        safe_md(
            f"No agent, snapshot, revision, binding, session, app, workflow, run or conversation has id {pasted}."
        )
    )


def options(enum: type, current: object) -> list[str | None]:
    known = [m.value for m in enum]
    return [None, *known, *([current] if current and current not in known else [])]


with st.form("roster-filters"):
    cols = st.columns([2, 3, 1, 1, 1, 1])
    tenant = workspace_select(values.get("tenant"), container=cols[0])
    q = cols[1].text_input("Search name or paste any id", value=query_text)
    chosen = {}
    for col, (name, enum) in zip(
        cols[2:],
        (("scope", AgentScope), ("status", AgentStatus), ("source", AgentSource), ("kind", AgentKind)),
        strict=True,
    ):
        opts = options(enum, values.get(name))
        chosen[name] = col.selectbox(
            safe_md(name.capitalize()),
            opts,
            index=opts.index(values.get(name)),
            format_func=lambda v: "any" if v is None else plain(v),
        )
    cols2 = st.columns([1, 1, 1, 3])
    updated_from = cols2[0].date_input("Updated from", value=values.get("updated_from"), format="YYYY-MM-DD")
    updated_to = cols2[1].date_input("Updated to", value=values.get("updated_to"), format="YYYY-MM-DD")
    sort = cols2[2].selectbox(
        "Sort",
        roster_store.SORTS,
        index=roster_store.SORTS.index(values.get("sort", "updated")),
        format_func={"updated": "updated (newest)", "name": "name (A–Z)", "created": "created (newest)"}.get,
    )
    if st.form_submit_button("Apply"):
        set_params(
            tenant=tenant,
            q=q.strip(),
            **chosen,
            updated_from=updated_from,
            updated_to=updated_to,
            sort=None if sort == "updated" else sort,
        )

flt = roster_store.RosterFilter(
    tenant_id=values.get("tenant"),
    name_query=query_text or None,
    scope=values.get("scope"),
    status=values.get("status"),
    source=values.get("source"),
    kind=values.get("kind"),
    updated_from=values.get("updated_from"),
    updated_to=values.get("updated_to"),
    sort=values.get("sort", "updated"),
)
optional = {"has_tenants": report.has_table("tenants"), "has_accounts": report.has_table("accounts")}
try:
    page = context.read(
        roster_store.list_roster, flt, after=values.get("after"), before=values.get("before"), **optional
    )
except roster_store.InvalidCursor as exc:
    notice_invalid([str(exc)])
    page = context.read(roster_store.list_roster, flt, **optional)

st.caption(
    safe_md(f"{page.total.label()} agents match" + ("" if page.total.exact else " (estimate; no full count)"))
)

frame = pd.DataFrame(
    [
        {
            "open": links.link("agent", agent=row.id),
            "icon": icon_text(row.icon_type, row.icon),
            "name": row.name,
            "workspace": row.workspace,
            "scope": row.scope.label(),
            "status": row.status.label(),
            "source": row.source.label(),
            "active version": row.active_version,
            "versions": row.version_count,
            "bindings (draft / published)": f"{row.draft_bindings} / {row.published_bindings}",
            "updated": row.updated_at,
            "last change": relative_time(row.updated_at),
            "updated by": row.updated_by or "",
            "id": row.id,
        }
        for row in page.rows
    ],
    columns=[
        "open",
        "icon",
        "name",
        "workspace",
        "scope",
        "status",
        "source",
        "active version",
        "versions",
        "bindings (draft / published)",
        "updated",
        "last change",
        "updated by",
        "id",
    ],
)
grid.show(
    frame,
    key="roster-table",
    first=("icon", "name", "status", "active version", "bindings (draft / published)", "last change"),
    datetimes=("updated",),
    link_columns=("open",),
    what="agent",
)
if not page.rows:
    st.info("No agents match these filters.")

nav = st.columns([1, 1, 4])
base = {k: v for k, v in values.items() if k not in ("after", "before")}
if page.prev_cursor:
    nav[0].button("← Previous page", on_click=replace_params, kwargs={**base, "before": page.prev_cursor})
if page.next_cursor:
    nav[1].button("Next page →", on_click=replace_params, kwargs={**base, "after": page.next_cursor})

if settings.console_url:
    st.link_button(
        "Open the agent roster in Dify", links.console_link(settings.console_url, roster=True) or ""
    )
else:
    st.caption(
        "Open in Dify: set `AGENT_DESK_CONSOLE_URL` to your Dify console's address to get "
        "“Open in Dify” links here and on every agent page."
    )

with st.expander("Export CSV"):
    st.caption(f"Exports the current filter, up to {EXPORT_CAP:,} rows, with the values shown above.")
    if st.button("Prepare CSV"):
        rows = context.read_uncached(roster_store.export_rows, flt, cap=EXPORT_CAP, **optional)
        st.download_button(
            "Download roster.csv",
            to_csv(
                [
                    "id",
                    "name",
                    "workspace",
                    "scope",
                    "status",
                    "source",
                    "kind",
                    "active_version",
                    "versions",
                    "draft_bindings",
                    "published_bindings",
                    "created_at",
                    "updated_at",
                    "updated_by",
                ],
                [
                    [
                        r.id,
                        r.name,
                        r.workspace,
                        r.scope.raw,
                        r.status.raw,
                        r.source.raw,
                        r.kind.raw,
                        r.active_version,
                        r.version_count,
                        r.draft_bindings,
                        r.published_bindings,
                        utc(r.created_at),
                        utc(r.updated_at),
                        r.updated_by,
                    ]
                    for r in rows
                ],
            ),
            file_name="roster.csv",
            mime="text/csv",
        )
        if len(rows) >= EXPORT_CAP:
            st.warning(f"Capped at {EXPORT_CAP:,} rows: narrow the filter for a complete export.")

page_url_box(links.link("roster", **values))
