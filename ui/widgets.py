"""Widgets shared by several pages."""

from __future__ import annotations

from typing import Any

import streamlit as st

from data import links
from data.types import normalize_uuid
from ui import context, render
from ui.render import plain, safe_md


def workspace_select(
    current: str | None, *, container: Any = st, empty_label: str = "All workspaces", key: str | None = None
) -> str | None:
    """The workspace picker: chosen by name, carried as an id; a URL's unknown id stays selectable.

    Lists only the workspaces the viewer's role covers (`context.workspaces`).
    """
    names = {w.id: w.name for w in context.workspaces()}
    scope = context.current_actor().tenant_id
    options: list[str | None] = [scope] if scope else [None, *names]
    if current and current not in options:
        options.append(current)
    return container.selectbox(
        "Workspace",
        options,
        index=options.index(current),
        format_func=lambda v: plain(empty_label) if v is None else plain(names.get(v, v)),
        key=key,
    )


#: What the sidebar box resolves, in the contract's order (for the "not found" notice).
ID_KINDS = "agent, snapshot, revision, binding, session, draft, app, workflow, run or conversation"


def id_box() -> None:
    """The sidebar's "paste any id" box: an id opens the view of what it names (the roster's resolution,
    `agents_store.resolve_id`, contract order) with `st.switch_page` and that view's URL parameters; other
    text searches the roster by name; an unknown id gets a notice and stays on the current page.

    The target page's store lookup applies the viewer's workspace scope in its SQL (`context.read_context`)."""
    from data.stores import agents as agents_store  # late: keeps `ui.widgets` light for other pages

    with st.form("id-box", clear_on_submit=False, border=False):
        text = st.text_input("Open any id", key="id-box-q", placeholder="agent, binding, session… id")
        submitted = st.form_submit_button("Open", key="id-box-open")
    value = (text or "").strip()
    if not submitted or not value:
        return
    pasted = normalize_uuid(value) if len(value) in (32, 36) else None
    if pasted is None:
        st.switch_page("app_pages/roster.py", query_params=links.query("roster", q=value[:200]))
    report = context.schema_report()
    match = context.read(
        agents_store.resolve_id,
        pasted,
        has_core=report.core_tables,
        agent_tables=report.agent_tables,
        read=context.read_context(),
    )
    if match is None:
        st.warning(safe_md(f"No {ID_KINDS} has id {pasted}."))
        return
    st.switch_page(f"app_pages/{match.page}.py", query_params=match.params)


def breadcrumbs(trail: list[tuple[str, str, dict[str, str]]], *, container: Any = st) -> None:
    """`a > b > c`: each step a same-tab `st.page_link` (page name and the parameters `data.links.query`
    gives it); the last step is where you are (plain text)."""
    if not trail:
        return
    with container:
        cols = st.columns([3] * len(trail) + [max(12 - 3 * len(trail), 1)], gap="small")
        for i, (label, page, params) in enumerate(trail):
            shown = ("› " if i else "") + label
            if i == len(trail) - 1:
                cols[i].markdown(safe_md(shown))
            else:
                cols[i].page_link(
                    f"app_pages/{page}.py", label=safe_md(shown), query_params=links.query(page, **params)
                )


def copy_id(label: str, value: str | None, *, container: Any = st) -> None:
    """An id with a copy button (st.code has one built in), under its label."""
    container.caption(safe_md(label))
    render.code(value or "—", container=container)
