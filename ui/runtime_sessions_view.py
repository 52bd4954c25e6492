"""`/sessions` on a Dify 1.15-1.16 database: runtime sessions, leak rules, bounded scans, one session's
detail, audited cleanup (the 1.17+ twin is `ui/workspaces_view.py`; the parts both use are in
`ui/session_parts.py`).

Everything that decides lives in `data` (rules, queries, the cleanup and its server-side checks); this
module reads URL parameters, renders, and keeps the pending cleanup in session_state (dialog pattern of
shared/notes/streamlit-1.67.md). Selected rows become ids at once.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from data import links, pages
from data.actor import NotAllowed, Role, WritesDisabled
from data.commands import sessions as commands
from data.models import naive_utc_now
from data.services import audit as audit_service
from data.services.cleanup import CleanupPreview, CleanupResult
from data.services.leaks import RULE_NAMES, RULES, RuleContext
from data.stores import audit as audit_store
from data.stores import leak_trends
from data.stores import sessions as sessions_store
from ui import charts, context, readiness, render
from ui import session_parts as parts
from ui.render import already_masked, literal, notice_invalid, page_url_box, relative_time, safe_md, utc

#: "Everything matching this filter" takes at most this many ids, reading at most FILTER_MAX_SCAN rows.
FILTER_CAP = 5_000
FILTER_MAX_SCAN = 200_000
PENDING, RESULT, REVEALED = "sessions_cleanup_pending", "sessions_cleanup_result", "sessions_revealed"
#: The columns that answer "which sessions leak, and why" first.
FIRST = ("status", "leak rule", "agent", "app", "age", "updated", "owner", "version")
DATETIMES = ("updated", "created", "cleaned")


class _View:
    def __init__(self) -> None:
        self.settings = context.settings()
        params = pages.SESSIONS.read(
            dict(st.query_params), choices={"owner": sessions_store.OWNER_TYPES, "rule": RULE_NAMES}
        )
        self.values = dict(params.values)
        notice_invalid(params.notices)
        self.actor = context.current_actor()
        if self.actor.tenant_id:
            self.values["tenant"] = context.scoped_tenant(self.values.get("tenant"))
        self.block = context.write_block_reason(self.actor)
        # The clock in the cache key is the minute, so repeated reruns share cached reads.
        self.ctx = RuleContext.from_report(
            context.schema_report(),
            now=naive_utc_now().replace(second=0, microsecond=0),
            idle_days=self.settings.idle_days,
        )
        self.audit_ready = context.read(audit_store.audit_tables_present)
        self.indexes = context.read(sessions_store.session_indexes)

    # --- gates ---------------------------------------------------------------------------------------

    @property
    def may_operate(self) -> bool:
        """Viewers get no cleanup control at all (only the sentence saying why); operators and admins get
        the controls, disabled with the reason when the deployment, the audit tables or the scope forbid."""
        return self.actor.role >= Role.OPERATOR

    def clean_block(self, tenant_id: str | None) -> str | None:
        """Why this actor may not clean here (shown next to disabled controls), or None."""
        if not self.audit_ready:
            return "the audit tables are missing: run `python -m data migrate` first"
        if self.block:
            return self.block
        if not self.actor.can(Role.OPERATOR, tenant_id=tenant_id):
            return f"your role ({self.actor.role.name.lower()}) may not clean sessions here: operators and admins may"
        return None

    # --- cleanup: pending preview -> dialog -> result ------------------------------------------------

    def start_preview(self, ids: list[str], source: dict, rule: str | None = None) -> None:
        """Preview on the primary (the apply re-checks against it), then open the dialog on the next run."""
        preview = commands.preview_cleanup(context.engines().write, ids, self.ctx, source=source, rule=rule)
        st.session_state[PENDING] = preview
        st.session_state.pop(RESULT, None)
        st.rerun()

    def confirm(self, preview: CleanupPreview) -> None:
        view = self

        def dismiss() -> None:
            st.session_state.pop(PENDING, None)

        @st.dialog("Clean runtime sessions", width="large", on_dismiss=dismiss)
        def dialog() -> None:
            st.error(
                "Cleaning cannot be undone from the app. It sets `status = cleaned`, `cleaned_at` and `updated_at` "
                "(as Dify's own cleanup does); a later run of the same scope may re-activate a row. "
                "docs/sessions.md has the SQL to re-activate rows from the audit log in an emergency."
            )
            parts.confirm_summary(
                count_label="sessions to clean",
                count=preview.count,
                requested=len(preview.requested),
                skipped=len(preview.not_active) + len(preview.missing),
                per_rule=pd.DataFrame(preview.per_rule, columns=["leak rule", "sessions"]),
                warnings=preview.warnings,
            )
            bound = preview.source.get("bound")
            if bound:
                st.caption(safe_md(bound))
            with st.expander(f"The {preview.count:,} session ids"):
                render.code("\n".join(preview.to_clean) or "(none)")
            reason, typed_ok = parts.reason_and_count(preview.count, units="sessions", key_prefix="cleanup")
            tenants = preview.tenant_ids
            blocked = view.clean_block(tenants[0] if len(tenants) == 1 else view.values.get("tenant"))
            if blocked:
                st.info(safe_md(f"Cleanup is disabled: {blocked}"))
            ready = preview.count > 0 and bool(reason.strip()) and typed_ok and not blocked
            if st.button(
                f"Clean {preview.count:,} sessions", type="primary", disabled=not ready, key="cleanup_confirm"
            ):
                bar = st.progress(0.0, text="Cleaning…")
                try:
                    result = commands.apply_cleanup(
                        context.engines().write,
                        view.settings,
                        view.actor,
                        preview,
                        reason=reason,
                        progress=lambda done, total: bar.progress(
                            done / max(total, 1), text=f"{done:,} / {total:,}"
                        ),
                    )
                except (NotAllowed, WritesDisabled, ValueError, audit_service.AuditUnavailable) as exc:
                    st.error(safe_md(f"Refused: {exc}"))
                    return
                st.session_state[RESULT] = result
                st.session_state.pop(PENDING, None)
                context.clear_caches()
                st.rerun()

        dialog()

    def show_result(self, result: CleanupResult) -> None:
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
        parts.result_footer(result.action_id, dismiss_key="cleanup_result_dismiss", state_key=RESULT)

    # --- one session ---------------------------------------------------------------------------------

    def show_detail(self, session_id: str) -> None:  # noqa: C901 (known debt, ARCHITECTURE.md)
        detail = context.read(sessions_store.get_session, session_id, self.ctx, read=context.read_context())
        st.title("Runtime session")
        back = {k: v for k, v in self.values.items() if k not in parts.NOT_FILTER}
        st.page_link(
            "app_pages/sessions.py",
            label="← Sessions list",
            query_params={k: str(v) for k, v in back.items()},
        )
        if detail is None:
            st.warning(safe_md(f"No runtime session has id {session_id}."))
            context.scope_note()
            return
        row = detail.row
        cols = st.columns(3)
        with cols[0]:
            literal("Status", row.status.label())
            literal("Leak rule", row.rule or "none")
            if row.in_flight:
                st.warning("Its workflow run is running or paused: no leak rule applies.")
            literal("Workspace", row.workspace)
            literal("Owner", row.owner_label)
            parts.id_line("Session id", row.id)
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
                [(layer.name, layer.state) for layer in row.layers.layers],
                columns=["layer", "lifecycle state"],
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
            parts.reveal_history(
                row.id,
                row.tenant_id,
                state_key=REVEALED,
                key_prefix="",
                audit_ready=self.audit_ready,
                block=self.block,
                reveal=lambda engine, actor, rid, reason: commands.reveal_history(
                    engine, actor, rid, reason=reason
                ),
            )

        st.subheader("Cleanup")
        blocked = self.clean_block(row.tenant_id)
        if str(row.status) != "active":
            st.caption("This session is not active: nothing to clean.")
        elif self.may_operate and st.button(
            "Preview cleanup of this session",
            disabled=blocked is not None,
            help=safe_md(blocked) or None,
            key="cleanup_one",
        ):
            self.start_preview([row.id], {"selection": 1, "session": row.id})
        if blocked:
            st.caption(safe_md(f"Cleanup is disabled: {blocked}"))
        parts.audit_history(row.id, audit_ready=self.audit_ready, with_rule=True)
        page_url_box(links.link("sessions", session=row.id))

    # --- the list ------------------------------------------------------------------------------------

    def show_access(self, access: sessions_store.Access) -> None:
        """The bounded-scan note and the index advice, in an expander below the data."""
        if not access.bounded:
            st.caption(safe_md(f"Served by Dify's index {access.served_by} ({access.mode})."))
            return
        with parts.scan_details(
            f"Bounded scan: at most {access.scan_limit:,} sessions read (details below)."
        ):
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
                st.caption(
                    "The scan stopped at its bound: “Next page” continues where it stopped (older sessions)."
                )
            if access.suggestion:
                st.caption(
                    "This index would make the filter's candidates instant (Agent Desk never creates indexes in "
                    "Dify's database; CONCURRENTLY does not block Dify's writes):"
                )
                render.code(access.suggestion, language="sql")

    def flt(self) -> sessions_store.SessionFilter:
        v = self.values
        return sessions_store.SessionFilter(
            tenant_id=v.get("tenant"),
            app_id=v.get("app"),
            agent_id=v.get("agent"),
            owner=v.get("owner"),
            status=v.get("status"),
            rule=v.get("rule"),
            run_id=v.get("run"),
            conversation_id=v.get("conversation"),
            updated_from=v.get("updated_from"),
            updated_to=v.get("updated_to"),
        )

    def session_table(self, rows: list[sessions_store.SessionRow]) -> list[str]:
        base = parts.base_params(self.values)
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
                    "age": relative_time(r.created_at).replace(" ago", ""),
                    "updated": r.updated_at,
                    "created": r.created_at,
                    "cleaned": r.cleaned_at,
                    "size": f"{r.snapshot_chars:,} chars",
                    "layers": r.layers.label(),
                    "id": r.id,
                }
                for r in rows
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
                "created",
                "cleaned",
                "size",
                "layers",
                "id",
            ],
        )
        return parts.selectable(
            frame,
            [r.id for r in rows],
            key_prefix="sessions-table",
            first=FIRST,
            datetimes=DATETIMES,
            what="session",
        )

    def show_list(self) -> None:
        st.title("Runtime sessions")
        parts.filter_form(
            "session-filters",
            self.values,
            owners=sessions_store.OWNER_TYPES,
            statuses=sessions_store.STATUSES,
            rules=RULE_NAMES,
            id_fields=(("run", "Workflow run id"), ("conversation", "Conversation id")),
        )
        parts.rules_expander(
            RULES,
            f"idle = {self.settings.idle_days} days (AGENT_DESK_IDLE_DAYS). First match wins, in this order. "
            "A session whose workflow run is running or paused never matches.",
        )
        flt = self.flt()
        try:
            page = context.read(
                sessions_store.list_sessions,
                flt,
                self.ctx,
                after=self.values.get("after"),
                before=self.values.get("before"),
                indexes=self.indexes,
            )
        except sessions_store.InvalidCursor as exc:
            notice_invalid([str(exc)])
            page = context.read(sessions_store.list_sessions, flt, self.ctx, indexes=self.indexes)
        trends = context.read(leak_trends.session_trends, self.ctx, tenant_id=flt.tenant_id)
        parts.match_counts(trends, flt.rule, len(page.rows))
        selected = self.session_table(page.rows)
        if not page.rows:
            st.info("No sessions match on this page." + (" Try the next page." if page.next_cursor else ""))
        parts.pager(page, self.values)
        self.show_access(page.access)

        st.subheader("Cleanup")
        readiness.panel("cleanup", tenant_id=flt.tenant_id, audit_ready=self.audit_ready)
        blocked = self.clean_block(flt.tenant_id)
        cols = st.columns(2)
        if self.may_operate and cols[0].button(
            f"Preview cleanup of {len(selected)} selected",
            disabled=blocked is not None or not selected,
            help=safe_md(blocked or "Select rows in the table first."),
            key="cleanup_selected",
        ):
            self.start_preview(selected, {"selection": len(selected), **flt.describe()})
        bound = f"the first {FILTER_CAP:,} active matches, newest first" + (
            ""
            if flt.run_id or flt.conversation_id or flt.is_unfiltered
            else f", reading at most {FILTER_MAX_SCAN:,} sessions"
        )
        if self.may_operate and cols[1].button(
            "Preview cleanup of everything matching this filter",
            disabled=blocked is not None,
            help=safe_md(blocked or f"Bounded: {bound}."),
            key="cleanup_filter",
        ):
            with context.engines().write.connect() as conn:
                collected = sessions_store.collect_ids(
                    conn, flt, self.ctx, cap=FILTER_CAP, max_scan=FILTER_MAX_SCAN, indexes=self.indexes
                )
            note = f"Everything matching this filter, bounded: {bound}." + (
                "" if collected.complete else " The bound was reached: more matching sessions may remain."
            )
            self.start_preview(
                list(collected.ids),
                {**flt.describe(), "bound": note, "complete": collected.complete},
                rule=flt.rule,
            )
        st.caption(safe_md(f"Everything matching this filter means {bound}."))
        if blocked:
            st.caption(safe_md(f"Cleanup is disabled: {blocked}"))
        st.subheader("Leaks at a glance")
        charts.leak_trends(trends)
        page_url_box(links.link("sessions", **self.values))

    def render(self) -> None:
        if RESULT in st.session_state:
            self.show_result(st.session_state[RESULT])
        if self.values.get("session"):
            self.show_detail(str(self.values["session"]))
        else:
            self.show_list()
        if PENDING in st.session_state:
            self.confirm(st.session_state[PENDING])


def show() -> None:
    """The whole `/sessions` view on a Dify 1.15-1.16 database."""
    _View().render()
