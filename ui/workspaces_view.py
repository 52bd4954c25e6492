"""`/sessions` on a Dify 1.17+ database: working environments (workspace bindings with their workspace).

Same page, same habits as the runtime-session view (ui/runtime_sessions_view.py; the parts both share
are in ui/session_parts.py): URL parameters are the state, keyset pages, bounded scans said plainly, a
retire preview in a dialog with a reason and a typed count, results linking to the audit log. Everything that decides lives in `data` (rules, queries, the
retire and its server-side checks); this module only reads parameters and renders. Every string from
the database or the URL goes through ui/render.py (`safe_md`, `plain`, `render.table`, `render.code`;
`already_masked` only for the documents the store masked), never as markdown.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from data import links, pages
from data.actor import NotAllowed, Role, WritesDisabled
from data.commands import workspaces as commands
from data.models import naive_utc_now
from data.models.generations import WORKSPACES
from data.rules.workspace_leaks import OWNER_TYPES, RULE_NAMES, RULES, STATUSES, WorkspaceRuleContext
from data.services import audit as audit_service
from data.services.retire import RetirePreview, RetireResult
from data.stores import audit as audit_store
from data.stores import leak_trends
from data.stores import workspaces as store
from ui import charts, context, grid, readiness, render
from ui import session_parts as parts
from ui.render import (
    already_masked,
    literal,
    notice_invalid,
    page_url_box,
    relative_time,
    safe_md,
    utc,
)

FILTER_CAP = 5_000
PENDING, RESULT, REVEALED = "ws_retire_pending", "ws_retire_result", "ws_revealed"
#: The columns that answer "which bindings leak, and why" first.
FIRST = ("status", "rule", "pending", "agent", "app", "age", "updated", "owner", "version")
DATETIMES = ("updated", "created", "retired")


def applies(report: Any) -> bool:
    """True on a Dify 1.17+ database (working environments), detected from the tables present."""
    return report.generation == WORKSPACES


class _View:
    def __init__(self) -> None:
        self.report = context.schema_report()
        self.settings = context.settings()
        params = pages.SESSIONS.read(
            dict(st.query_params), choices={"owner": OWNER_TYPES, "rule": RULE_NAMES}
        )
        self.values = dict(params.values)
        notice_invalid(params.notices)
        self.actor = context.current_actor()
        if self.actor.tenant_id:
            self.values["tenant"] = context.scoped_tenant(self.values.get("tenant"))
        self.block = context.write_block_reason(self.actor)
        self.ctx = WorkspaceRuleContext.from_report(
            self.report,
            now=naive_utc_now().replace(second=0, microsecond=0),
            idle_days=self.settings.idle_days,
            uncollected_hours=self.settings.uncollected_hours,
        )
        self.audit_ready = context.read(audit_store.audit_tables_present)

    # --- gates ---------------------------------------------------------------------------------------

    @property
    def may_operate(self) -> bool:
        """Viewers get no retire control at all (only the sentence saying why)."""
        return self.actor.role >= Role.OPERATOR

    def retire_block(self, tenant_id: str | None) -> str | None:
        if not self.audit_ready:
            return "the audit tables are missing: run `python -m data migrate` first"
        if self.block:
            return self.block
        if not self.actor.can(Role.OPERATOR, tenant_id=tenant_id):
            return f"your role ({self.actor.role.name.lower()}) may not retire here: operators and admins may"
        return None

    # --- retire: preview -> dialog -> result ----------------------------------------------------------

    def start_preview(
        self, *, workspaces: list[str] = (), bindings: list[str] = (), source: dict, rule=None
    ) -> None:
        preview = commands.preview_retire(
            context.engines().write,
            self.ctx,
            workspace_ids=list(workspaces),
            binding_ids=list(bindings),
            source=source,
            rule=rule,
        )
        st.session_state[PENDING] = preview
        st.session_state.pop(RESULT, None)
        st.rerun()

    def confirm(self, preview: RetirePreview) -> None:
        view = self

        def dismiss() -> None:
            st.session_state.pop(PENDING, None)

        @st.dialog("Retire working environments", width="large", on_dismiss=dismiss)
        def dialog() -> None:
            st.error(
                "Retiring cannot be undone (Dify never re-activates a retired row): a chat or run that points "
                "at a retired binding fails for good. It sets status = retired, retired_at, updated_at (and "
                "active_guard = NULL on workspaces), as Dify's own retire does; then Dify's collector may "
                "destroy the sandboxes and delete the rows."
            )
            parts.confirm_summary(
                count_label="rows to retire",
                count=preview.count,
                requested=len(preview.requested),
                skipped=sum(len(v) for _, v in preview.skipped),
                per_rule=pd.DataFrame(preview.per_rule, columns=["rule", "requested rows"]),
                warnings=preview.warnings,
            )
            with st.expander(
                f"The ids ({len(preview.workspace_ids):,} workspaces, {len(preview.binding_ids):,} bindings)"
            ):
                render.code(
                    "\n".join(
                        [
                            *(f"workspace {i}" for i in preview.workspace_ids),
                            *(f"binding {i}" for i in preview.binding_ids),
                        ]
                    )
                    or "(none)"
                )
            reason, typed_ok = parts.reason_and_count(preview.count, units="rows", key_prefix="ws_retire")
            from data.services.collector import NO_BROKER_NOTICE

            collector = commands.collector(view.settings)
            send = st.checkbox(
                "Send the retired ids to Dify's collector after each batch",
                value=collector.enabled,
                disabled=not collector.enabled,
                key="ws_retire_collect",
            )
            if not collector.enabled:
                st.caption(safe_md(NO_BROKER_NOTICE))
            tenants = preview.tenant_ids
            blocked = view.retire_block(tenants[0] if len(tenants) == 1 else view.values.get("tenant"))
            if blocked:
                st.info(safe_md(f"Retire is disabled: {blocked}"))
            ready = preview.count > 0 and bool(reason.strip()) and typed_ok and not blocked
            if st.button(
                f"Retire {preview.count:,} rows", type="primary", disabled=not ready, key="ws_retire_confirm"
            ):
                bar = st.progress(0.0, text="Retiring…")
                engine = context.engines().write
                try:
                    result = commands.apply_retire(
                        engine,
                        view.settings,
                        view.actor,
                        preview,
                        view.ctx,
                        reason=reason,
                        progress=lambda done, total: bar.progress(
                            done / max(total, 1), text=f"{done:,} / {total:,}"
                        ),
                        collect=send,
                    )
                except (NotAllowed, WritesDisabled, ValueError, audit_service.AuditUnavailable) as exc:
                    st.error(safe_md(f"Refused: {exc}"))
                    return
                st.session_state[RESULT] = result
                st.session_state.pop(PENDING, None)
                context.clear_caches()
                st.rerun()

        dialog()

    def show_result(self, result: RetireResult) -> None:
        reasons = "; ".join(f"{why}: {len(ids):,}" for why, ids in result.skipped)
        summary = (
            f"Retire finished: {len(result.retired_workspaces):,} workspaces and {len(result.retired_bindings):,} "
            f"bindings retired, {len(result.guards_cleared):,} guards cleared, {result.skipped_count:,} skipped"
            + (f" ({reasons})" if reasons else "")
            + "."
        )
        if result.error:
            st.error(
                safe_md(f"{summary} {result.error}. {len(result.not_processed):,} not processed: run again.")
            )
        else:
            st.success(safe_md(summary))
        outcomes = [e for batch in result.collection for e in batch]
        if outcomes:
            sent = sum(1 for e in outcomes if e.outcome.sent)
            st.caption(
                safe_md(
                    f"Collection: {sent} messages sent, {len(outcomes) - sent} failed (see the audit log)."
                )
            )
        for error in result.collection_errors:
            st.warning(safe_md(f"Collection failed (the retire stays): {error}"))
        parts.result_footer(result.action_id, dismiss_key="ws_retire_dismiss", state_key=RESULT)

    # --- one binding ------------------------------------------------------------------------------------

    def show_binding(self, binding_id: str) -> None:
        detail = context.read(store.get_binding, binding_id, self.ctx, read=context.read_context())
        st.title("Workspace binding")
        back = {k: v for k, v in self.values.items() if k not in ("session", "after", "before")}
        st.page_link(
            "app_pages/sessions.py",
            label="← Working environments",
            query_params={k: str(v) for k, v in back.items()},
        )
        if detail is None:
            st.warning(safe_md(f"No workspace binding has id {binding_id}."))
            context.scope_note()
            return
        row = detail.row
        cols = st.columns(3)
        with cols[0]:
            parts.id_line("Binding id", row.id)
            literal("Workspace", row.workspace_name)
            literal("Owner", row.owner_label)
            literal("Status", row.status)
            literal("Rule", row.rule or "none")
            if row.protected:
                st.warning(
                    "Protected: a form or tool call is pending, or its run is running or paused. No rule applies."
                )
        with cols[1]:
            literal("App", f"{row.app_name or '(no app row)'} · {row.app_id}")
            literal("Agent", f"{row.agent_name or '(no agent row)'} · {row.facts.agent_status or 'missing'}")
            literal("Runs version", row.version_label)
            literal("Pending", row.pending or "—")
            literal("Backend binding ref (read only)", detail.backend_binding_ref)
            literal("Base home snapshot", detail.base_home_snapshot_id or "default home")
        with cols[2]:
            literal("Created", f"{utc(row.created_at)} ({relative_time(row.created_at)})")
            literal("Updated", f"{utc(row.updated_at)} ({relative_time(row.updated_at)})")
            literal("Retired", utc(row.retired_at) or "—")
            literal("Snapshot size", f"{row.snapshot_chars:,} characters")
        if detail.workspace is not None:
            st.page_link(
                "app_pages/sessions.py",
                label="Open its workspace",
                query_params={"workspace": row.workspace_id},
            )
        if row.facts.agent_status is not None:
            st.page_link("app_pages/agent.py", label="Open the agent", query_params={"agent": row.agent_id})
        st.subheader("Who points at this binding")
        render.table(
            pd.DataFrame([(c.kind, c.label) for c in detail.callers], columns=["caller", "pointer"]),
            hide_index=True,
            width="stretch",
        )
        st.caption(
            "Found through the workspace's owner (the pointer columns have no index). A dangling pointer on a finished caller is normal."
        )
        st.subheader("Layers")
        if row.layers.error:
            st.error(safe_md(f"The stored snapshot is not usable: {row.layers.error}"))
        render.table(
            pd.DataFrame(
                [(x.name, x.state) for x in row.layers.layers], columns=["layer", "lifecycle state"]
            ),
            hide_index=True,
        )
        with st.expander("Session snapshot (runtime state collapsed; masked)"):
            if detail.snapshot_masked is not None:
                render.code(
                    already_masked(json.dumps(detail.snapshot_masked, indent=2, ensure_ascii=False)), "json"
                )
            else:
                render.code(already_masked(detail.snapshot_text_masked))
        if detail.has_history:
            self.show_history(row)
        st.subheader("Retire")
        blocked = self.retire_block(row.tenant_id)
        if row.status != "active":
            st.caption("This binding is not active: nothing to retire.")
        elif self.may_operate and st.button(
            "Preview retiring this binding",
            disabled=blocked is not None,
            help=safe_md(blocked) or None,
            key="ws_retire_one",
        ):
            self.start_preview(bindings=[row.id], source={"selection": 1, "binding": row.id})
        if blocked:
            st.caption(safe_md(f"Retire is disabled: {blocked}"))
        self.audit_history(row.id)
        page_url_box(links.link("sessions", session=row.id))

    def show_history(self, row: store.BindingRow) -> None:
        parts.reveal_history(
            row.id,
            row.tenant_id,
            state_key=REVEALED,
            key_prefix="ws_",
            audit_ready=self.audit_ready,
            block=self.block,
            reveal=lambda engine, actor, rid, reason: commands.reveal_binding_history(
                engine, actor, rid, reason=reason
            ),
        )

    def audit_history(self, target_id: str) -> None:
        parts.audit_history(target_id, audit_ready=self.audit_ready, with_rule=False)

    # --- one workspace ----------------------------------------------------------------------------------

    def show_workspace(self, workspace_id: str) -> None:
        detail = context.read(store.get_workspace, workspace_id, self.ctx, read=context.read_context())
        st.title("Working environment (workspace)")
        st.page_link("app_pages/sessions.py", label="← Working environments", query_params={})
        if detail is None:
            st.warning(safe_md(f"No agent workspace has id {workspace_id}."))
            context.scope_note()
            return
        w = detail.workspace
        f = w.facts
        cols = st.columns(3)
        with cols[0]:
            parts.id_line("Workspace id", f.id)
            literal("Owner", detail.owner.label)
            literal("Owner scope", w.owner_scope_key)
            literal("Status", f.status)
            literal("Rule", w.rule or "none")
            if w.protected:
                st.warning(
                    "Protected: a binding waits for a form or tool call, or its run is running or paused."
                )
        with cols[1]:
            literal("App", f.app_id)
            literal("Active guard", "NULL" if f.active_guard is None else f.active_guard)
            literal("Backend workspace ref (read only)", w.backend_workspace_ref)
            if detail.owner.run_open_pause_since:
                literal("Paused (waiting for a human) since", utc(detail.owner.run_open_pause_since))
        with cols[2]:
            literal("Created", utc(f.created_at))
            literal("Updated", f"{utc(f.updated_at)} ({relative_time(f.updated_at)})")
            literal("Retired", utc(f.retired_at) or "—")
        st.subheader(f"Bindings ({len(detail.bindings)})")
        self.binding_table(detail.bindings, key_prefix="ws-bindings")
        st.subheader("Retire")
        blocked = self.retire_block(f.tenant_id)
        if f.status == "active" or f.active_guard is not None:
            if self.may_operate and st.button(
                "Preview retiring this workspace",
                disabled=blocked is not None,
                help=safe_md(blocked) or None,
                key="ws_retire_workspace",
            ):
                self.start_preview(workspaces=[f.id], source={"selection": 1, "workspace": f.id})
        else:
            st.caption("This workspace is retired: nothing to retire.")
        if blocked:
            st.caption(safe_md(f"Retire is disabled: {blocked}"))
        self.audit_history(f.id)
        page_url_box(links.link("sessions", workspace=f.id))

    # --- the list ---------------------------------------------------------------------------------------

    def binding_table(self, rows, key_prefix: str) -> list[str]:
        base = parts.base_params(self.values)
        frame = pd.DataFrame(
            [
                {
                    "open": links.link("sessions", **base, session=r.id),
                    "owner": r.owner_label,
                    "app": r.app_name or f"(no app row) {r.app_id}",
                    "agent": r.agent_name or f"(no agent row) {r.agent_id}",
                    "version": r.version_label,
                    "status": r.status,
                    "workspace status": r.workspace_status or "(missing)",
                    "rule": r.rule or ("(protected)" if r.protected else ""),
                    "pending": r.pending or "",
                    "age": relative_time(r.created_at).replace(" ago", ""),
                    "updated": r.updated_at,
                    "created": r.created_at,
                    "retired": r.retired_at,
                    "layers": r.layers.label(),
                    "workspace": r.workspace_id,
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
                "status",
                "workspace status",
                "rule",
                "pending",
                "age",
                "updated",
                "created",
                "retired",
                "layers",
                "workspace",
                "id",
            ],
        )
        return parts.selectable(
            frame,
            [r.id for r in rows],
            key_prefix=key_prefix,
            first=FIRST,
            datetimes=DATETIMES,
            what="binding",
        )

    def filter_form(self) -> None:
        parts.filter_form(
            "workspace-filters",
            self.values,
            owners=OWNER_TYPES,
            statuses=STATUSES,
            rules=RULE_NAMES,
            id_fields=(
                ("workspace", "Workspace id (agent_workspaces)"),
                ("run", "Workflow run id"),
                ("conversation", "Conversation id"),
            ),
        )

    def show_counts(self) -> None:
        counts = context.read(store.rule_counts, self.ctx, tenant_id=self.values.get("tenant"))
        cols = st.columns(len(counts.counts))
        for col, c in zip(cols, counts.counts, strict=True):
            col.metric(
                safe_md(c.rule),
                f"{c.total:,}" + ("" if c.exact else "+" if c.total else ""),
                help=f"{c.workspaces:,} workspaces, {c.bindings:,} bindings, {c.homes:,} home snapshots",
            )
        st.caption(safe_md(counts.note))

    def show_access(self, access: store.Access) -> None:
        if not access.bounded:
            st.caption(safe_md(f"Served by Dify's index {access.served_by} ({access.mode})."))
            return
        with parts.scan_details(
            f"Bounded scan: at most {access.scan_limit:,} bindings read (details below)."
        ):
            st.info(
                safe_md(
                    f"Bounded scan: no index of Dify's serves this whole filter, so this page read at most "
                    f"{access.scan_limit:,} bindings in id order"
                    + (f" (candidates from {access.served_by})" if access.served_by else "")
                    + " and shows the matches among them."
                )
            )
            if access.window_cut:
                st.caption(
                    "The scan stopped at its bound: “Next page” continues where it stopped (older bindings)."
                )

    def flt(self) -> store.WorkspaceFilter:
        v = self.values
        return store.WorkspaceFilter(
            tenant_id=v.get("tenant"),
            app_id=v.get("app"),
            agent_id=v.get("agent"),
            owner=v.get("owner"),
            status=v.get("status"),
            rule=v.get("rule"),
            run_id=v.get("run"),
            conversation_id=v.get("conversation"),
            workspace_id=v.get("workspace"),
            updated_from=v.get("updated_from"),
            updated_to=v.get("updated_to"),
        )

    def show_list(self) -> None:
        st.title("Working environments")
        st.caption(
            "Dify 1.17+: agent workspaces and their bindings (agent_workspaces, agent_workspace_bindings)."
        )
        self.show_counts()
        self.filter_form()
        parts.rules_expander(
            RULES,
            f"idle = {self.settings.idle_days} days, uncollected = {self.settings.uncollected_hours} hours. "
            "First match wins, in this order. Never matched: a binding with a pending form or tool call, "
            "rows of a running or paused run, a home snapshot still referenced.",
        )
        flt = self.flt()
        try:
            page = context.read(
                store.list_bindings,
                flt,
                self.ctx,
                after=self.values.get("after"),
                before=self.values.get("before"),
            )
        except store.InvalidCursor as exc:
            notice_invalid([str(exc)])
            page = context.read(store.list_bindings, flt, self.ctx)
        trends = context.read(leak_trends.binding_trends, self.ctx, tenant_id=flt.tenant_id)
        parts.match_counts(trends, flt.rule, len(page.rows))
        selected = self.binding_table(page.rows, key_prefix="bindings-table")
        if not page.rows:
            st.info("No bindings match on this page." + (" Try the next page." if page.next_cursor else ""))
        parts.pager(page, self.values)
        self.show_access(page.access)
        rule = self.values.get("rule")
        matching_ws: tuple = ()
        if rule and rule != "idle":
            matching_ws = context.read(store.workspaces_matching, rule, self.ctx, tenant_id=flt.tenant_id)
            st.subheader(safe_md(f"Workspaces matching {rule}"))
            st.caption(
                f"Workspace-level matches among the newest {store.SCAN_LIMIT:,} workspaces (first 50)."
            )
            grid.show(
                pd.DataFrame(
                    [
                        {
                            "open": links.link("sessions", workspace=w.facts.id),
                            "owner": f"{w.facts.owner_type} {w.facts.owner_id}",
                            "status": w.facts.status,
                            "guard": "NULL" if w.facts.active_guard is None else str(w.facts.active_guard),
                            "active binding": "yes" if w.facts.has_active_binding else "no",
                            "retired": w.facts.retired_at,
                            "id": w.facts.id,
                        }
                        for w in matching_ws
                    ],
                    columns=["open", "owner", "status", "guard", "active binding", "retired", "id"],
                ),
                key="ws-matching-" + rule,
                first=("status", "guard", "active binding"),
                datetimes=("retired",),
                link_columns=("open",),
                what="workspace",
            )
        st.subheader("Retire")
        readiness.panel("retire", tenant_id=flt.tenant_id, audit_ready=self.audit_ready)
        blocked = self.retire_block(flt.tenant_id)
        cols = st.columns(2)
        if self.may_operate and cols[0].button(
            f"Preview retiring {len(selected)} selected",
            disabled=blocked is not None or not selected,
            help=safe_md(blocked or "Select rows in the table first."),
            key="ws_retire_selected",
        ):
            self.start_preview(bindings=selected, source={"selection": len(selected), **flt.describe()})
        can_rule = rule in ("finished-run", "orphaned", "inconsistent", "idle")
        if self.may_operate and cols[1].button(
            safe_md(f"Preview retiring everything matching {rule}")
            if can_rule
            else "Pick a rule (not uncollected) to retire its matches",
            disabled=blocked is not None or not can_rule,
            help=safe_md(blocked or f"At most the first {FILTER_CAP:,} matches, newest first."),
            key="ws_retire_rule",
        ):
            with context.engines().write.connect() as conn:
                targets = store.collect_rule_targets(
                    conn, rule, self.ctx, tenant_id=flt.tenant_id, cap=FILTER_CAP
                )
            note = f"Everything matching {rule}, at most {FILTER_CAP:,} rows." + (
                "" if targets.complete else " The cap was reached: more may remain."
            )
            self.start_preview(
                workspaces=list(targets.workspace_ids),
                bindings=list(targets.binding_ids),
                source={**flt.describe(), "bound": note, "complete": targets.complete},
                rule=rule,
            )
        if rule == "uncollected":
            st.caption(
                "Uncollected rows are already retired: re-send their collection with `python -m data sessions collect --rule uncollected`."
            )
        if blocked:
            st.caption(safe_md(f"Retire is disabled: {blocked}"))
        st.subheader("Leaks at a glance")
        charts.leak_trends(trends)
        page_url_box(links.link("sessions", **self.values))

    def render(self) -> None:
        if RESULT in st.session_state:
            self.show_result(st.session_state[RESULT])
        if self.values.get("session"):
            self.show_binding(str(self.values["session"]))
        elif self.values.get("workspace") and len([k for k in self.values if k not in ("tenant",)]) == 1:
            self.show_workspace(str(self.values["workspace"]))
        else:
            self.show_list()
        if PENDING in st.session_state:
            self.confirm(st.session_state[PENDING])


def show() -> None:
    """The whole `/sessions` view on a Dify 1.17+ database."""
    _View().render()
