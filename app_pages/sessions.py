"""Runtime sessions (`/sessions`): leak rules, bounded scans, one session's detail, audited cleanup.

Everything that matters lives in `data` (rules, queries, the cleanup and its server-side checks); this
page reads URL parameters, renders, and keeps the pending cleanup in session_state (dialog pattern of
shared/notes/streamlit-1.67.md). Selected rows become ids at once.
"""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import streamlit as st

from data import links
from data.actor import NotAllowed, Role, WritesDisabled
from data.models import naive_utc_now
from data.params import parse_params
from data.services import audit as audit_service
from data.services.cleanup import (
    CleanupPreview,
    CleanupResult,
    apply_cleanup,
    preview_cleanup,
)
from data.services.leaks import RULE_NAMES, RULES, RuleContext
from data.stores import audit as audit_store
from data.stores import sessions as sessions_store
from ui import context, render, workspaces_view
from ui.render import (
    already_masked,
    literal,
    notice_invalid,
    page_url_box,
    plain,
    relative_time,
    safe_md,
    set_params,
    utc,
)
from ui.widgets import workspace_select

#: "Everything matching this filter" takes at most this many ids, reading at most FILTER_MAX_SCAN rows.
FILTER_CAP = 5_000
FILTER_MAX_SCAN = 200_000
SPEC = {
    "tenant": "uuid",
    "app": "uuid",
    "agent": "uuid",
    "owner": sessions_store.OWNER_TYPES,
    "status": "slug",  # known or not (a newer Dify may write other values)
    "rule": RULE_NAMES,
    "run": "uuid",
    "conversation": "uuid",
    "updated_from": "date",
    "updated_to": "date",
    "after": "cursor",
    "before": "cursor",
    "session": "uuid",
}
PENDING, RESULT, REVEALED = "sessions_cleanup_pending", "sessions_cleanup_result", "sessions_revealed"

report = context.schema_report()
if workspaces_view.applies(report):  # Dify 1.17+: working environments (issue 11, ui/workspaces_view.py)
    workspaces_view.show()
    st.stop()
if not report.has_sessions:  # no runtime table at all
    st.title("Sessions")
    st.warning(render.safe_md(report.runtime_unavailable() or ""))
    st.stop()
settings = context.settings()
params = parse_params(dict(st.query_params), SPEC)
values = dict(params.values)
notice_invalid(params.notices)
if context.current_actor().tenant_id:
    values["tenant"] = context.scoped_tenant(values.get("tenant"))
actor = context.current_actor()
block = context.write_block_reason(actor)
# The clock in the cache key is the minute, so repeated reruns share cached reads.
ctx = RuleContext.from_report(
    report, now=naive_utc_now().replace(second=0, microsecond=0), idle_days=settings.idle_days
)
audit_ready = context.read(audit_store.audit_tables_present)
if not audit_ready and settings.is_demo:
    audit_service.upgrade_demo_audit_tables(settings)
    context.clear_caches()
    audit_ready = context.read(audit_store.audit_tables_present)
indexes = context.read(sessions_store.session_indexes)


#: Viewers get no cleanup control at all (only the sentence saying why); operators and admins get the
#: controls, disabled with the reason when the deployment, the audit tables or the workspace scope forbid.
may_operate = actor.role >= Role.OPERATOR


def clean_block(tenant_id: str | None) -> str | None:
    """Why this actor may not clean here (shown next to disabled controls), or None."""
    if not audit_ready:
        return "the audit tables are missing: run `python -m data migrate` first"
    if block:
        return block
    if not actor.can(Role.OPERATOR, tenant_id=tenant_id):
        return f"your role ({actor.role.name.lower()}) may not clean sessions here: operators and admins may"
    return None


def age(row: sessions_store.SessionRow) -> str:
    return relative_time(row.created_at).replace(" ago", "")


# --- cleanup: pending preview -> dialog -> result ----------------------------------------------------


def start_preview(ids: list[str], source: dict, rule: str | None = None) -> None:
    """Preview on the primary (the apply re-checks against it), then open the dialog on the next run."""
    with context.engines().write.connect() as conn:
        preview = preview_cleanup(conn, ids, ctx, source=source, rule=rule)
    st.session_state[PENDING] = preview
    st.session_state.pop(RESULT, None)
    st.rerun()


def _dismiss() -> None:
    st.session_state.pop(PENDING, None)


@st.dialog("Clean runtime sessions", width="large", on_dismiss=_dismiss)
def confirm_dialog(preview: CleanupPreview) -> None:
    st.error(
        "Cleaning cannot be undone from the app. It sets `status = cleaned`, `cleaned_at` and `updated_at` "
        "(as Dify's own cleanup does); a later run of the same scope may re-activate a row. "
        "docs/sessions.md has the SQL to re-activate rows from the audit log in an emergency."
    )
    cols = st.columns(3)
    cols[0].metric("sessions to clean", f"{preview.count:,}")
    cols[1].metric("requested", f"{len(preview.requested):,}")
    cols[2].metric("skipped now", f"{len(preview.not_active) + len(preview.missing):,}")
    render.table(
        pd.DataFrame(preview.per_rule, columns=["leak rule", "sessions"]), hide_index=True, width="content"
    )
    for warning in preview.warnings:
        st.warning(safe_md(warning), icon="⚠️")
    bound = preview.source.get("bound")
    if bound:
        st.caption(safe_md(bound))
    with st.expander(f"The {preview.count:,} session ids"):
        render.code("\n".join(preview.to_clean) or "(none)")
    reason = st.text_input("Reason (required; recorded in the audit log)", key="cleanup_reason")
    threshold = context.settings().cleanup_confirm_above
    typed_ok = True
    if preview.count > threshold:
        typed = st.text_input(
            safe_md(f"Type the number of sessions ({preview.count}) to confirm"), key="cleanup_typed"
        )
        typed_ok = typed.strip().replace(",", "") == str(preview.count)
    blocked = clean_block(preview.tenant_ids[0] if len(preview.tenant_ids) == 1 else values.get("tenant"))
    if blocked:
        st.info(safe_md(f"Cleanup is disabled: {blocked}"))
    ready = preview.count > 0 and bool(reason.strip()) and typed_ok and not blocked
    if st.button(
        f"Clean {preview.count:,} sessions", type="primary", disabled=not ready, key="cleanup_confirm"
    ):
        bar = st.progress(0.0, text="Cleaning…")
        try:
            result = apply_cleanup(
                context.engines().write,
                actor,
                preview,
                reason=reason,
                batch_size=context.settings().cleanup_batch_size,
                progress=lambda done, total: bar.progress(done / max(total, 1), text=f"{done:,} / {total:,}"),
            )
        except (NotAllowed, WritesDisabled, ValueError, audit_service.AuditUnavailable) as exc:
            st.error(safe_md(f"Refused: {exc}"))
            return
        st.session_state[RESULT] = result
        st.session_state.pop(PENDING, None)
        context.clear_caches()
        st.rerun()


def show_result(result: CleanupResult) -> None:
    reasons = "; ".join(f"{why}: {len(ids):,}" for why, ids in result.skipped)
    summary = (
        f"Cleanup finished: {len(result.transitioned):,} transitioned, {result.skipped_count:,} skipped"
        + (f" ({reasons})" if reasons else "")
        + f" of {result.requested:,} requested."
    )
    if result.error:
        st.error(
            safe_md(f"{summary} {result.error}. {len(result.not_processed):,} not processed: run again.")
        )
    else:
        st.success(safe_md(summary))
    st.page_link(
        "app_pages/audit.py",
        label="Open this action in the audit log",
        query_params={"target": result.action_id},
    )
    if st.button("Dismiss", key="cleanup_result_dismiss"):
        st.session_state.pop(RESULT, None)
        st.rerun()


# --- one session ---------------------------------------------------------------------------------------


def show_detail(session_id: str) -> None:
    detail = context.read(sessions_store.get_session, session_id, ctx, read=context.read_context())
    st.title("Runtime session")
    back = {k: v for k, v in values.items() if k not in ("session", "after", "before")}
    st.page_link(
        "app_pages/sessions.py", label="← Sessions list", query_params={k: str(v) for k, v in back.items()}
    )
    if detail is None:
        st.warning(safe_md(f"No runtime session has id {session_id}."))
        context.scope_note()
        return
    row = detail.row
    cols = st.columns(3)
    with cols[0]:
        literal("Id", row.id)
        literal("Workspace", row.workspace)
        literal("Owner", row.owner_label)
        literal("Status", row.status.label())
        literal("Leak rule", row.rule or "none")
        if row.in_flight:
            st.warning("Its workflow run is running or paused: no leak rule applies.")
    with cols[1]:
        literal("App", f"{row.app_name or '(no app row)'} · {row.app_id}")
        literal("Agent", f"{row.agent_name or '(no agent row)'} · {detail.agent_status or 'missing'}")
        literal(
            "Snapshot version",
            f"v{row.snapshot_version}" if row.snapshot_version is not None else (row.snapshot_id or "—"),
        )
        literal("Backend run id", row.backend_run_id or "—")
        literal("Node execution", detail.node_execution_id or "—")
    with cols[2]:
        literal("Created", f"{utc(row.created_at)} ({relative_time(row.created_at)})")
        literal("Updated", f"{utc(row.updated_at)} ({relative_time(row.updated_at)})")
        literal("Cleaned", utc(row.cleaned_at) or "—")
        literal("Snapshot size", f"{row.snapshot_chars:,} characters")
    if detail.agent_status is not None:
        st.page_link("app_pages/agent.py", label="Open the agent", query_params={"agent": row.agent_id})

    if detail.run is not None:
        st.subheader("Workflow run")
        run = detail.run
        if not run.exists:
            st.warning(safe_md(f"The workflow run {run.id} has no row (archived or removed)."))
        else:
            literal("Run", f"{run.id} · {run.status} · triggered from {run.triggered_from}")
            literal("Started / finished", f"{utc(run.created_at)} / {utc(run.finished_at) or '—'}")
            if run.open_pause_since:
                literal("Paused (waiting for a human) since", utc(run.open_pause_since))
        if detail.binding is not None:
            b = detail.binding
            literal(
                "Binding",
                f"{b.id} · {b.binding_type} · node {b.node_id} · workflow {b.workflow_version}"
                if b.exists
                else f"{b.id} (no binding row)",
            )
    if detail.conversation is not None:
        st.subheader("Conversation")
        c = detail.conversation
        if not c.exists:
            st.warning(safe_md(f"The conversation {c.id} has no row (deleted)."))
        else:
            render.text(already_masked(c.name))  # masked by the store; plain text
            literal(
                "Conversation",
                f"{c.id} · from {c.from_source} · updated {utc(c.updated_at)}"
                + (" · deleted (is_deleted)" if c.is_deleted else ""),
            )

    st.subheader("Layers")
    if row.layers.error:
        st.error(safe_md(f"The stored snapshot is not usable: {row.layers.error}"))
    render.table(
        pd.DataFrame(
            [(layer.name, layer.state) for layer in row.layers.layers], columns=["layer", "lifecycle state"]
        ),
        hide_index=True,
        width="content",
    )
    st.subheader("Composition layer specs")
    if detail.specs_error:
        st.warning(safe_md(f"composition_layer_specs: {detail.specs_error}"))
    render.table(
        pd.DataFrame(
            [(s.name, s.type, s.origin or "") for s in detail.specs], columns=["name", "type", "origin"]
        ),
        hide_index=True,
        width="content",
    )
    with st.expander("Layer spec configs (prompts collapsed here; masked)"):
        render.code(
            already_masked(json.dumps(detail.specs_masked, indent=2, ensure_ascii=False, sort_keys=True)),
            language="json",
        )
    with st.expander("Session snapshot (history collapsed; masked)"):
        if detail.snapshot_masked is not None:
            render.code(
                already_masked(json.dumps(detail.snapshot_masked, indent=2, ensure_ascii=False)), "json"
            )
        else:
            render.code(already_masked(detail.snapshot_text_masked))
    if detail.has_history:
        show_history(row)

    st.subheader("Cleanup")
    blocked = clean_block(row.tenant_id)
    if str(row.status) != "active":
        st.caption("This session is not active: nothing to clean.")
    elif may_operate and st.button(
        "Preview cleanup of this session",
        disabled=blocked is not None,
        help=safe_md(blocked) or None,
        key="cleanup_one",
    ):
        start_preview([row.id], {"selection": 1, "session": row.id})
    if blocked:
        st.caption(safe_md(f"Cleanup is disabled: {blocked}"))

    st.subheader("Audit history")
    if audit_ready:
        history = context.read(audit_store.session_history, row.id)
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
                columns=["when", "who", "action", "change", "reason", "rule", "action id"],
            ),
            hide_index=True,
            width="stretch",
        )
    else:
        st.caption("The audit tables are missing: run `python -m data migrate`.")
    page_url_box(links.link("sessions", session=row.id))


def show_history(row: sessions_store.SessionRow) -> None:
    """The conversation history: collapsed; opening it is audited, admins only, never when writes are off."""
    revealed = st.session_state.get(REVEALED, {})
    with st.expander("Conversation history (user content: opening it is recorded in the audit log)"):
        if row.id in revealed:
            st.caption(
                safe_md(f"Revealed for you; audit action {revealed[row.id].action_id}. Secrets stay masked.")
            )
            render.code(
                already_masked(json.dumps(revealed[row.id].snapshot, indent=2, ensure_ascii=False)), "json"
            )
            return
        why_not = None
        if not audit_ready:
            why_not = "the audit tables are missing"
        elif block:
            why_not = block
        elif not actor.can(Role.ADMIN, tenant_id=row.tenant_id):
            why_not = f"only admins may open a conversation history (your role: {actor.role.name.lower()})"
        reason = st.text_input(
            "Reason for opening it (required)", key="reveal_reason", disabled=why_not is not None
        )
        if why_not:
            st.caption(safe_md(f"Not available: {why_not}"))
        if st.button(
            "Reveal history (audited)", disabled=why_not is not None or not reason.strip(), key="reveal"
        ):
            try:
                result = audit_service.reveal_history(
                    context.engines().write,
                    actor,
                    row.id,
                    reason=reason,
                )
            except (NotAllowed, WritesDisabled, ValueError, LookupError) as exc:
                st.error(safe_md(f"Refused: {exc}"))
                return
            st.session_state[REVEALED] = {**revealed, row.id: result}
            context.clear_caches()
            st.rerun()


# --- the list -------------------------------------------------------------------------------------------


def filter_form() -> None:
    with st.form("session-filters"):
        cols = st.columns([2, 2, 2, 1, 1, 1])
        tenant = workspace_select(values.get("tenant"), container=cols[0])
        app = cols[1].text_input("App id", value=str(values.get("app") or ""))
        agent = cols[2].text_input("Agent id", value=str(values.get("agent") or ""))
        chosen = {}
        for col, name, options in (
            (cols[3], "owner", sessions_store.OWNER_TYPES),
            (cols[4], "status", sessions_store.STATUSES),
            (cols[5], "rule", RULE_NAMES),
        ):
            opts = [None, *options, *([values[name]] if values.get(name) not in (None, *options) else [])]
            chosen[name] = col.selectbox(
                safe_md(name.capitalize()),
                opts,
                index=opts.index(values.get(name)),
                format_func=lambda v: "any" if v is None else plain(v),
            )
        cols2 = st.columns([2, 2, 1, 1])
        run = cols2[0].text_input("Workflow run id", value=str(values.get("run") or ""))
        conversation = cols2[1].text_input("Conversation id", value=str(values.get("conversation") or ""))
        updated_from = cols2[2].date_input(
            "Updated from", value=values.get("updated_from"), format="YYYY-MM-DD"
        )
        updated_to = cols2[3].date_input("Updated to", value=values.get("updated_to"), format="YYYY-MM-DD")
        if st.form_submit_button("Apply"):
            set_params(
                tenant=tenant,
                app=app.strip(),
                agent=agent.strip(),
                **chosen,
                run=run.strip(),
                conversation=conversation.strip(),
                updated_from=updated_from,
                updated_to=updated_to,
            )


def show_access(access: sessions_store.Access) -> None:
    if not access.bounded:
        st.caption(safe_md(f"Served by Dify's index {access.served_by} ({access.mode})."))
        return
    if access.served_by:
        st.caption(
            safe_md(
                f"Bounded scan through the index {access.served_by}: this page read at most "
                f"{access.scan_limit:,} candidate rows in id order."
            )
        )
    else:
        st.info(
            safe_md(
                f"Bounded scan: no index of Dify's serves this filter (only workspace + run, workspace + "
                f"conversation, backend run id and id are indexed), so this page read at most "
                f"{access.scan_limit:,} sessions in id order and shows the matches among them."
            )
        )
    if access.window_cut:
        st.caption("The scan stopped at its bound: “Next page” continues where it stopped (older sessions).")
    if access.suggestion:
        st.caption(
            "This index would make the filter's candidates instant (Agent Desk never creates indexes in "
            "Dify's database; CONCURRENTLY does not block Dify's writes):"
        )
        render.code(access.suggestion, language="sql")


def show_list() -> None:
    st.title("Runtime sessions")
    filter_form()
    with st.expander("Leak rules"):
        for rule in RULES:
            st.markdown(safe_md(f"{rule.name}: {rule.summary}"))
        st.caption(
            safe_md(
                f"idle = {settings.idle_days} days (AGENT_DESK_IDLE_DAYS). First match wins, in this order. "
                "A session whose workflow run is running or paused never matches."
            )
        )
    flt = sessions_store.SessionFilter(
        tenant_id=values.get("tenant"),
        app_id=values.get("app"),
        agent_id=values.get("agent"),
        owner=values.get("owner"),
        status=values.get("status"),
        rule=values.get("rule"),
        run_id=values.get("run"),
        conversation_id=values.get("conversation"),
        updated_from=values.get("updated_from"),
        updated_to=values.get("updated_to"),
    )
    try:
        page = context.read(
            sessions_store.list_sessions,
            flt,
            ctx,
            after=values.get("after"),
            before=values.get("before"),
            indexes=indexes,
        )
    except sessions_store.InvalidCursor as exc:
        notice_invalid([str(exc)])
        page = context.read(sessions_store.list_sessions, flt, ctx, indexes=indexes)
    show_access(page.access)
    base = {k: v for k, v in values.items() if k not in ("after", "before", "session")}
    frame = pd.DataFrame(
        [
            {
                "open": links.link("sessions", **base, session=r.id),
                "owner": r.owner_label,
                "app": r.app_name or f"(no app row) {r.app_id}",
                "agent": r.agent_name or f"(no agent row) {r.agent_id}",
                "version": f"v{r.snapshot_version}"
                if r.snapshot_version is not None
                else (r.snapshot_id or "—"),
                "backend run": r.backend_run_id or "",
                "status": r.status.label(),
                "leak rule": r.rule or ("(run in flight)" if r.in_flight else ""),
                "age": age(r),
                "updated": f"{relative_time(r.updated_at)} · {utc(r.updated_at)}",
                "cleaned": utc(r.cleaned_at),
                "size": f"{r.snapshot_chars:,} chars",
                "layers": r.layers.label(),
                "id": r.id,
            }
            for r in page.rows
        ],
        columns=[
            "open",
            "owner",
            "app",
            "agent",
            "version",
            "backend run",
            "status",
            "leak rule",
            "age",
            "updated",
            "cleaned",
            "size",
            "layers",
            "id",
        ],
    )
    ids = [r.id for r in page.rows]
    # The key follows the rows shown: a positional selection never survives a change of the data under it
    # (streamlit issue 17026), and positions become ids right here.
    key = "sessions-table-" + hashlib.sha1("|".join(ids).encode()).hexdigest()[:12]
    event = render.table(
        frame,
        hide_index=True,
        width="stretch",
        key=key,
        on_select="rerun",
        selection_mode="multi-row",
        column_config={"open": st.column_config.LinkColumn("open", display_text="open")},
    )
    positions = list(event.selection.rows) if event is not None else []
    selected = [ids[p] for p in positions if 0 <= p < len(ids)]
    if not page.rows:
        st.info("No sessions match on this page." + (" Try the next page." if page.next_cursor else ""))

    nav = st.columns([1, 1, 4])
    if page.prev_cursor and nav[0].button("← Previous page"):
        set_params(**base, before=page.prev_cursor)
    if page.next_cursor and nav[1].button("Next page →"):
        set_params(**base, after=page.next_cursor)

    st.subheader("Cleanup")
    blocked = clean_block(flt.tenant_id)
    cols = st.columns(2)
    if may_operate and cols[0].button(
        f"Preview cleanup of {len(selected)} selected",
        disabled=blocked is not None or not selected,
        help=safe_md(blocked or "Select rows in the table first."),
        key="cleanup_selected",
    ):
        start_preview(selected, {"selection": len(selected), **flt.describe()})
    bound = f"the first {FILTER_CAP:,} active matches, newest first" + (
        ""
        if flt.run_id or flt.conversation_id or flt.is_unfiltered
        else f", reading at most {FILTER_MAX_SCAN:,} sessions"
    )
    if may_operate and cols[1].button(
        "Preview cleanup of everything matching this filter",
        disabled=blocked is not None,
        help=safe_md(blocked or f"Bounded: {bound}."),
        key="cleanup_filter",
    ):
        with context.engines().write.connect() as conn:
            collected = sessions_store.collect_ids(
                conn, flt, ctx, cap=FILTER_CAP, max_scan=FILTER_MAX_SCAN, indexes=indexes
            )
        note = f"Everything matching this filter, bounded: {bound}." + (
            "" if collected.complete else " The bound was reached: more matching sessions may remain."
        )
        start_preview(
            list(collected.ids),
            {**flt.describe(), "bound": note, "complete": collected.complete},
            rule=flt.rule,
        )
    st.caption(safe_md(f"Everything matching this filter means {bound}."))
    if blocked:
        st.caption(safe_md(f"Cleanup is disabled: {blocked}"))
    page_url_box(links.link("sessions", **values))


if RESULT in st.session_state:
    show_result(st.session_state[RESULT])
if values.get("session"):
    show_detail(str(values["session"]))
else:
    show_list()
if PENDING in st.session_state:
    confirm_dialog(st.session_state[PENDING])
