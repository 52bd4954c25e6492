"""The parts both `/sessions` views share (runtime sessions on Dify 1.15-1.16, `ui/runtime_sessions_view.py`;
working environments on 1.17+, `ui/workspaces_view.py`): the filter panel, the rule list and per-rule
counts, the selectable grid, paging, the bounded-scan details, the confirm dialog's inputs, the result's
audit link, the audited history reveal and a row's audit history.

Each view keeps what differs (its store, its rules, its write service, its keys); these take them as
arguments. Every string from the database or the URL goes through ui/render.py.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pandas as pd
import streamlit as st

from data.actor import NotAllowed, Role, WritesDisabled
from data.stores import audit as audit_store
from data.stores.leak_trends import LeakTrends
from ui import context, grid, render
from ui.render import already_masked, plain, replace_params, safe_md, set_params, utc
from ui.widgets import copy_id, workspace_select

#: URL parameters that are positions or a detail view, not part of a list's filter.
NOT_FILTER = ("after", "before", "session")


def base_params(values: dict) -> dict:
    """The list's filter (what paging and row links carry on)."""
    return {k: v for k, v in values.items() if k not in NOT_FILTER}


# --- the list ---------------------------------------------------------------------------------------------


def filter_form(
    form_key: str,
    values: dict,
    *,
    owners: Sequence[str],
    statuses: Sequence[str],
    rules: Sequence[str],
    id_fields: Sequence[tuple[str, str]],
) -> None:
    """Workspace, app, agent, owner / status / rule, then `id_fields` ((parameter, label) text inputs)
    and the updated range; "Apply" puts them in the URL."""
    with st.form(form_key):
        cols = st.columns([2, 2, 2, 1, 1, 1])
        tenant = workspace_select(values.get("tenant"), container=cols[0])
        app = cols[1].text_input("App id", value=str(values.get("app") or ""))
        agent = cols[2].text_input("Agent id", value=str(values.get("agent") or ""))
        chosen = {}
        for col, name, options in (
            (cols[3], "owner", owners),
            (cols[4], "status", statuses),
            (cols[5], "rule", rules),
        ):
            opts = [None, *options, *([values[name]] if values.get(name) not in (None, *options) else [])]
            chosen[name] = col.selectbox(
                safe_md(name.capitalize()),
                opts,
                index=opts.index(values.get(name)),
                format_func=lambda v: "any" if v is None else plain(v),
            )
        cols2 = st.columns([2] * len(id_fields) + [1, 1])
        typed = {
            param: cols2[i].text_input(safe_md(label), value=str(values.get(param) or ""))
            for i, (param, label) in enumerate(id_fields)
        }
        updated_from = cols2[-2].date_input(
            "Updated from", value=values.get("updated_from"), format="YYYY-MM-DD"
        )
        updated_to = cols2[-1].date_input("Updated to", value=values.get("updated_to"), format="YYYY-MM-DD")
        if st.form_submit_button("Apply"):
            set_params(
                tenant=tenant,
                app=app.strip(),
                agent=agent.strip(),
                **chosen,
                **{param: text.strip() for param, text in typed.items()},
                updated_from=updated_from,
                updated_to=updated_to,
            )


def rules_expander(rules: Sequence[Any], note: str) -> None:
    with st.expander("Leak rules"):
        for rule in rules:
            st.markdown(safe_md(f"{rule.name}: {rule.summary}"))
        st.caption(safe_md(note))


def match_counts(trends: LeakTrends, rule: str | None, shown: int) -> None:
    """The list's counts in one line: "N sessions match finished-run" (or per rule), then the page's rows."""
    if rule:
        head = f"{trends.count(rule):,} {trends.unit} match {rule} {trends.bound}"
    else:
        per_rule = " · ".join(f"{r} {n:,}" for r, n in trends.by_rule)
        head = f"Leak rule matches {trends.bound}: {per_rule}"
    st.caption(safe_md(f"{head}. {shown:,} {trends.unit} on this page."))


def selectable(
    frame: pd.DataFrame,
    ids: Sequence[str],
    *,
    key_prefix: str,
    first: Sequence[str],
    datetimes: Sequence[str],
    what: str,
) -> list[str]:
    """A multi-row grid whose selection becomes ids at once (streamlit issue 17026: the key follows the
    rows shown, so a positional selection never survives a change of the data under it); one selected
    row also gets a same-tab "Open" link (the `open` column)."""
    key = f"{key_prefix}-" + hashlib.sha1("|".join(ids).encode()).hexdigest()[:12]
    positions = grid.show(
        frame,
        key=key,
        first=first,
        datetimes=datetimes,
        link_columns=("open",),
        link_labels={"open": f"Open {what}"},
        select="multi",
        what=what,
    )
    return [ids[p] for p in positions if 0 <= p < len(ids)]


def pager(page: Any, values: dict) -> None:
    base = base_params(values)
    nav = st.columns([1, 1, 4])
    if page.prev_cursor:
        nav[0].button("← Previous page", on_click=replace_params, kwargs={**base, "before": page.prev_cursor})
    if page.next_cursor:
        nav[1].button("Next page →", on_click=replace_params, kwargs={**base, "after": page.next_cursor})


@contextmanager
def scan_details(summary: str) -> Iterator[None]:
    """One line next to the data, the details (bounded scan, index advice) in an expander below it."""
    st.caption(safe_md(summary))
    with st.expander("How this list was read (bounded scan, index advice)"):
        yield


# --- the action: dialog inputs and result ------------------------------------------------------------------


def confirm_summary(
    *,
    count_label: str,
    count: int,
    requested: int,
    skipped: int,
    per_rule: pd.DataFrame,
    warnings: Sequence[str],
) -> None:
    """The dialog's numbers, its per-rule table and its warnings."""
    cols = st.columns(3)
    cols[0].metric(safe_md(count_label), f"{count:,}")
    cols[1].metric("requested", f"{requested:,}")
    cols[2].metric("skipped now", f"{skipped:,}")
    render.table(per_rule, hide_index=True, width="content")
    for warning in warnings:
        st.warning(safe_md(warning), icon="⚠️")


def reason_and_count(count: int, *, units: str, key_prefix: str) -> tuple[str, bool]:
    """The required reason and, above AGENT_DESK_CLEANUP_CONFIRM_ABOVE, the typed count."""
    reason = st.text_input("Reason (required; recorded in the audit log)", key=f"{key_prefix}_reason")
    typed_ok = True
    if count > context.settings().cleanup_confirm_above:
        typed = st.text_input(
            safe_md(f"Type the number of {units} ({count}) to confirm"), key=f"{key_prefix}_typed"
        )
        typed_ok = typed.strip().replace(",", "") == str(count)
    return reason, typed_ok


def result_footer(action_id: str, *, dismiss_key: str, state_key: str) -> None:
    st.page_link(
        "app_pages/audit.py", label="Open this action in the audit log", query_params={"target": action_id}
    )
    if st.button("Dismiss", key=dismiss_key):
        st.session_state.pop(state_key, None)
        st.rerun()


# --- one row ----------------------------------------------------------------------------------------------


def id_line(label: str, value: str | None) -> None:
    """An id with a copy button (`ui.widgets.copy_id`)."""
    copy_id(label, value)


def reveal_history(
    row_id: str,
    tenant_id: str | None,
    *,
    state_key: str,
    key_prefix: str,
    audit_ready: bool,
    block: str | None,
    reveal: Callable[[Any, Any, str, str], Any],
) -> None:
    """The conversation history: collapsed; opening it is audited, admins only, never when writes are off."""
    actor = context.current_actor()
    revealed = st.session_state.get(state_key, {})
    with st.expander("Conversation history (user content: opening it is recorded in the audit log)"):
        if row_id in revealed:
            st.caption(
                safe_md(f"Revealed for you; audit action {revealed[row_id].action_id}. Secrets stay masked.")
            )
            render.code(
                already_masked(json.dumps(revealed[row_id].snapshot, indent=2, ensure_ascii=False)), "json"
            )
            return
        why_not = None
        if not audit_ready:
            why_not = "the audit tables are missing"
        elif block:
            why_not = block
        elif not actor.can(Role.ADMIN, tenant_id=tenant_id):
            why_not = f"only admins may open a conversation history (your role: {actor.role.name.lower()})"
        reason = st.text_input(
            "Reason for opening it (required)", key=f"{key_prefix}reveal_reason", disabled=why_not is not None
        )
        if why_not:
            st.caption(safe_md(f"Not available: {why_not}"))
        if st.button(
            "Reveal history (audited)",
            disabled=why_not is not None or not reason.strip(),
            key=f"{key_prefix}reveal",
        ):
            try:
                result = reveal(context.engines().write, actor, row_id, reason)
            except (NotAllowed, WritesDisabled, ValueError, LookupError) as exc:
                st.error(safe_md(f"Refused: {exc}"))
                return
            st.session_state[state_key] = {**revealed, row_id: result}
            context.clear_caches()
            st.rerun()


def audit_history(target_id: str, *, audit_ready: bool, with_rule: bool) -> None:
    st.subheader("Audit history")
    if not audit_ready:
        st.caption("The audit tables are missing: run `python -m data migrate`.")
        return
    history = context.read(audit_store.session_history, target_id)
    columns = ["when", "who", "action", "change", "reason", *(["rule"] if with_rule else []), "action id"]
    render.table(
        pd.DataFrame(
            [
                {
                    "when": utc(h.action.created_at),
                    "who": h.action.actor,
                    "action": h.action.action,
                    "change": f"{h.from_status or ''} → {h.to_status or '(read)'}",
                    "reason": h.action.reason,
                    "rule": h.action.rule or "",
                    "action id": h.action.id,
                }
                for h in history
            ],
            columns=columns,
        ),
        hide_index=True,
        width="stretch",
    )
