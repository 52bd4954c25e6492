"""Agent detail (`/agent?agent=<uuid>`): identity, versions, revisions, bindings, sessions link, active soul;
on Dify 1.15+ databases also role, backing app and flags, drafts (1.16+) and home snapshots (1.17+).

Everything newer than the seed appears only when its table or column is present: a seed-era database
gets exactly the seed-era page."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data import links, pages
from data.stores import agents as agents_store
from ui import context, render
from ui.render import (
    icon_kind,
    icon_text,
    literal,
    notice_invalid,
    page_url_box,
    relative_time,
    safe_md,
    utc,
)

MAX_RAW_CHARS = 20_000
#: "What actually runs" cards shown above the tabs (the Bindings tab lists every binding).
MAX_CARDS = 12
#: Versions offered as "pick two to compare" pills at the top of the page (the newest ones).
COMPARE_CHIPS = 12


def snapshot_label(snapshot_id: str | None, version: int | None) -> str:
    """`v4`, `none`, or the id when the snapshot is not one of this agent's (missing or foreign)."""
    if snapshot_id is None:
        return "none"
    return f"v{version}" if version is not None else f"{snapshot_id} (not one of this agent's snapshots)"


def config_label(v: agents_store.Version) -> str:
    """The versions table's `config` cell: whether Dify can parse the stored config."""
    if v.config_error:
        return "⚠ invalid JSON" if v.config_error.startswith("invalid JSON") else f"⚠ {v.config_error}"
    return "valid JSON" if v.json_checked else "not checked"


def runs_card(b: agents_store.AgentBinding, *, agent_id: str) -> None:
    """One binding: which workflow version (live / draft), what the node pinned, what Dify runs, drift,
    and the two clicks that explain it (the node in the inspector, pinned vs running compared)."""
    draft = b.workflow_version == "draft"
    with st.container(border=True):
        st.markdown(
            (
                ":orange-badge[draft]"
                if draft
                else ":green-badge[live]"
                if b.is_live
                else ":gray-badge[published, not live]"
                if b.is_live is False
                else ":gray-badge[published]"
            )
            + " "
            + safe_md(f"{b.app_name or b.app_id} · {b.workflow_label} · node {b.node_id}")
        )
        cols = st.columns(2)
        with cols[0]:
            literal("Pinned by the node", snapshot_label(b.pinned_snapshot_id, b.pinned_version))
        with cols[1]:
            literal("Running", snapshot_label(b.runs_snapshot_id, b.runs_version))
        if b.binding_type == "roster_agent":
            st.caption("Roster binding: runs the agent's active version, whatever the node pinned.")
        elif b.binding_type == "inline_agent":
            st.caption(
                "Inline binding: runs the pinned snapshot. Saving a new agent version changes nothing here "
                "until the workflow is saved again and published."
            )
        if b.drifts:
            st.warning("Drift: the node pinned one snapshot, Dify runs another.")
        links_row = st.columns(2)
        links_row[0].page_link(
            "app_pages/bindings.py",
            label="Open the node in the bindings inspector",
            query_params=links.query(
                "bindings", tenant=b.tenant_id, app=b.app_id, workflow=b.workflow_id, node=b.node_id
            ),
        )
        if b.drifts and b.pinned_snapshot_id and b.runs_snapshot_id:
            links_row[1].page_link(
                "app_pages/compare.py",
                label="Compare pinned vs running",
                query_params=links.query(
                    "compare",
                    agent=agent_id,
                    left_snapshot=b.pinned_snapshot_id,
                    right_snapshot=b.runs_snapshot_id,
                    binding=b.id,
                ),
            )


def version_label(snapshot_id: str | None, version: int | None) -> str:
    """`v3`, `—` for none, or a flag when the snapshot is not one of this agent's."""
    if snapshot_id is None:
        return "—"
    return f"v{version}" if version is not None else f"missing {snapshot_id[:8]}…"


report = context.schema_report()
settings = context.settings()
params = pages.AGENT.read(dict(st.query_params))
notice_invalid(params.notices)
agent_id = params.values.get("agent")
has_accounts = report.has_table("accounts")

newer_columns = frozenset(c for c in agents_store.AGENT_NEWER_COLUMNS if report.has_column("agents", c))
has_drafts = report.has_table("agent_config_drafts")
has_homes = report.has_table("agent_home_snapshots")
agent = (
    context.read(
        agents_store.get_agent,
        agent_id,
        read=context.read_context(),
        has_core=report.core_tables,
        newer_columns=newer_columns,
    )
    if agent_id
    else None
)
if agent is None:
    st.title("Agent")
    st.warning(safe_md(f"No agent has id {agent_id}.") if agent_id else "No agent chosen.")
    if agent_id:
        context.scope_note()
    with st.form("find-agent"):
        q = st.text_input("Search the roster by name, or paste any id")
        if st.form_submit_button("Search"):
            st.switch_page("app_pages/roster.py", query_params={"q": q.strip()} if q.strip() else None)
    st.stop()

st.title("Agent")
# The emoji itself, or a small constant badge for an uploaded / linked image (never its file id or URL).
if (kind := icon_kind(agent.icon_type, agent.icon)) in ("image", "link", "other"):
    st.markdown(
        ":gray-badge[linked image icon]"
        if kind == "link"
        else ":gray-badge[image icon]"
        if kind == "image"
        else ":gray-badge[icon]"
    )
    render.text(agent.name)  # plain text: never markdown
else:
    render.text(f"{icon_text(agent.icon_type, agent.icon)} {agent.name}".strip())
# The fields that answer most tickets first (workspace, status, app, node, id); the rest one click away,
# so the "what actually runs" cards stay on the first screen.
cols = st.columns(3)
with cols[0]:
    literal("Workspace", agent.workspace)
    literal("Status", agent.status.label())
    if agent.archived_at or agent.archived_by:
        literal("Archived", f"{utc(agent.archived_at)} by {agent.archived_by or '—'}")
with cols[1]:
    literal("App", f"{agent.app_name or '(no app row)'} · {agent.app_id}" if agent.app_id else "—")
    literal("Workflow node", agent.workflow_node_id or "—")
with cols[2]:
    literal("Id", agent.id)
    literal(
        "Updated", f"{utc(agent.updated_at)} ({relative_time(agent.updated_at)}) by {agent.updated_by or '—'}"
    )
with st.expander("More about this agent (scope, source, kind, roster name, created, Dify 1.17 fields)"):
    more = st.columns(3)
    with more[0]:
        literal("Scope", agent.scope.label())
        literal("Source", agent.source.label())
        literal("Kind", agent.kind.label())
        literal("Roster unique name", agent.roster_unique_name or "— (not an active roster agent)")
    with more[1]:
        literal("Workflow (draft)", agent.workflow_id or "—")
        if "role" in agent.newer_columns:
            literal("Role", agent.role or "—")
        if "backing_app_id" in agent.newer_columns:
            if not agent.backing_app_id:
                literal("Backing app", "—")
            elif agent.backing_app_missing:
                literal("Backing app", f"missing: no app row has id {agent.backing_app_id}")
            else:
                literal(
                    "Backing app",
                    f"{agent.backing_app_name or '(apps table absent)'} · {agent.backing_app_id}",
                )
                st.page_link(
                    "app_pages/bindings.py",
                    label="Open the backing app's bindings",
                    query_params=links.query("bindings", tenant=agent.tenant_id, app=agent.backing_app_id),
                )
    with more[2]:
        literal("Created", f"{utc(agent.created_at)} by {agent.created_by or '—'}")
        if "active_config_has_model" in agent.newer_columns:
            literal("Has a model", "yes" if agent.has_model else "no")
        if "active_config_is_published" in agent.newer_columns:
            literal("Published", "yes" if agent.published else "no")
if agent.description:
    with st.expander("Description"):
        render.text(agent.description[:MAX_RAW_CHARS])
console = links.console_link(settings.console_url, app_id=agent.app_id, agent_id=agent.id)
if console:
    st.link_button("Open in Dify", console)
else:
    st.caption(
        "Open in Dify: set `AGENT_DESK_CONSOLE_URL` to your Dify console's address to get a link here."
    )

scope = {"tenant_id": agent.tenant_id, "agent_id": agent.id}
active_id = agent.active_config_snapshot_id
versions = context.read(
    agents_store.list_versions, **scope, active_snapshot_id=active_id, has_accounts=has_accounts
)
revisions = context.read(agents_store.list_revisions, **scope, has_accounts=has_accounts)
bindings = context.read(
    agents_store.bindings_for_agent, **scope, active_snapshot_id=active_id, has_core=report.core_tables
)
active_version = next((v.version for v in versions if v.is_active), None)

# --- compare two versions (ticket: "what changed between v3 and v5"): pick two on the first screen and the
# compare page opens in this tab. The callback keeps the pair and clears the pills, so coming back to this
# page does not re-open the comparison.
PAIR_KEY = f"agent-compare-pair-{agent.id}"
PILLS_KEY = f"agent-compare-pills-{agent.id}"
if (pair := st.session_state.pop(PAIR_KEY, None)) is not None:
    st.switch_page(
        "app_pages/compare.py",
        query_params=links.query("compare", agent=agent.id, left=pair[0], right=pair[1]),
    )


def _keep_pair() -> None:
    chosen = st.session_state.get(PILLS_KEY) or []
    if len(chosen) >= 2:
        st.session_state[PAIR_KEY] = tuple(sorted(chosen[:2]))
        st.session_state[PILLS_KEY] = []


if len(versions) >= 2:
    st.pills(
        "Pick two versions to compare",
        [v.version for v in versions][::-1][-COMPARE_CHIPS:],
        selection_mode="multi",
        format_func=lambda n: f"v{n:d}" + (" (active)" if n == active_version else ""),
        key=PILLS_KEY,
        on_change=_keep_pair,
        help="The compare page opens in this tab; any other pair can be chosen there.",
    )

# --- what actually runs (ticket: "we saved a new version but the published workflow behaves the old way")
st.subheader("What actually runs")
latest = versions[0] if versions else None  # newest version first
if latest is not None and active_version is not None and latest.version != active_version:
    st.warning(
        f"The active version is v{active_version:d}, not the latest (v{latest.version:d}): roster bindings "
        f"run v{active_version:d}. A newer version was saved but not made active (published)."
    )
    st.page_link(
        "app_pages/compare.py",
        label="Compare the active version with the latest",
        query_params=links.query("compare", agent=agent.id, left=active_version, right=latest.version),
    )
if not bindings:
    st.caption("No workflow node binds this agent.")
for b in bindings[:MAX_CARDS]:
    runs_card(b, agent_id=agent.id)
if len(bindings) > MAX_CARDS:
    st.caption(f"Showing {MAX_CARDS:d} of {len(bindings):,} bindings: the Bindings tab lists them all.")
drafts = (
    context.read(
        agents_store.list_drafts,
        **scope,
        active_snapshot_id=active_id,
        has_accounts=has_accounts,
        has_home=report.has_column("agent_config_drafts", "home_snapshot_id"),
    )
    if has_drafts
    else []
)
homes = (
    context.read(
        agents_store.list_home_snapshots,
        **scope,
        drafts=tuple(drafts),
        has_snapshot_home=report.has_column("agent_config_snapshots", "home_snapshot_id"),
    )
    if has_homes
    else []
)

tab_drafts = tab_homes = None
if has_drafts or has_homes:  # Dify 1.16+: two more tabs
    tab_versions, tab_revisions, tab_bindings, tab_drafts, tab_homes, tab_sessions, tab_soul = st.tabs(
        [
            f"Versions ({len(versions)})",
            f"Revisions ({len(revisions)})",
            f"Bindings ({len(bindings)})",
            f"Drafts ({len(drafts)})" if has_drafts else "Drafts",
            f"Home snapshots ({len(homes)})" if has_homes else "Home snapshots",
            "Runtime sessions",
            "Active soul",
        ]
    )
else:  # the seed-era page, unchanged
    tab_versions, tab_revisions, tab_bindings, tab_sessions, tab_soul = st.tabs(
        [
            f"Versions ({len(versions)})",
            f"Revisions ({len(revisions)})",
            f"Bindings ({len(bindings)})",
            "Runtime sessions",
            "Active soul",
        ]
    )

with tab_versions:
    frame = pd.DataFrame(
        [
            {
                "version": v.version,
                "active": "● active" if v.is_active else "",
                "operations": ", ".join(op.label() for op in v.operations) or "(no revision)",
                "created": utc(v.created_at),
                "by": v.created_by or "",
                "note": v.version_note or "",
                "size": f"{v.size:,} chars",
                "config": config_label(v),
                "vs previous": (
                    links.link("compare", agent=agent.id, left=prev, right=v.version)
                    if (prev := next((o.version for o in versions if o.version < v.version), None))
                    is not None
                    else None
                ),
                "vs active": (
                    links.link("compare", agent=agent.id, left=v.version, right=active_version)
                    if active_version is not None and v.version != active_version
                    else None
                ),
            }
            for v in versions
        ],
        columns=[
            "version",
            "active",
            "operations",
            "created",
            "by",
            "note",
            "size",
            "config",
            "vs previous",
            "vs active",
        ],
    )
    broken = [v for v in versions if v.config_error]
    if broken:
        shown = ", ".join(f"v{v.version:d}" for v in broken)
        st.markdown(f":red-badge[invalid JSON] {safe_md(shown)}: Dify cannot run these versions.")
        for v in broken:
            st.caption(safe_md(f"v{v.version}: {v.config_error}"))
    if any(not v.json_checked for v in versions):
        st.caption(f"Only the newest {agents_store.MAX_JSON_CHECKS:d} versions are checked for broken JSON.")
    render.table(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            "vs previous": st.column_config.LinkColumn("vs previous", display_text="compare"),
            "vs active": st.column_config.LinkColumn("vs active", display_text="compare"),
        },
    )
    if agent.active_config_snapshot_id and active_version is None:
        st.error(
            safe_md(
                f"The active snapshot {agent.active_config_snapshot_id} is not one of this agent's snapshots."
            )
        )

with tab_revisions:
    frame = pd.DataFrame(
        [
            {
                "revision": r.revision,
                "operation": r.operation.label(),
                "previous → current": f"{version_label(r.previous_snapshot_id, r.previous_version)} → "
                f"{version_label(r.current_snapshot_id, r.current_version)}",
                "by": r.created_by or "",
                "at": utc(r.created_at),
                "note": r.version_note or "",
            }
            for r in revisions
        ],
        columns=["revision", "operation", "previous → current", "by", "at", "note"],
    )
    render.table(frame, hide_index=True, width="stretch")
    unknown = sorted({r.operation.raw for r in revisions if not r.operation.known})
    if unknown:
        st.warning(safe_md("Operations unknown to this version of Agent Desk: " + ", ".join(unknown)))

with tab_bindings:
    frame = pd.DataFrame(
        [
            {
                "workspace": b.workspace,
                "app": b.app_name or f"(no app row) {b.app_id}",
                "workflow": b.workflow_label,
                "node": b.node_id,
                "type": b.binding_type.label(),
                "pinned": f"v{b.pinned_version}"
                if b.pinned_version is not None
                else (b.pinned_snapshot_id or "—"),
                "runs": f"v{b.runs_version}" if b.runs_version is not None else (b.runs_snapshot_id or "—"),
                "drift": "⚠ drift" if b.drifts else "",
            }
            for b in bindings
        ],
        columns=["workspace", "app", "workflow", "node", "type", "pinned", "runs", "drift"],
    )
    render.table(frame, hide_index=True, width="stretch")
    st.caption(
        "Roster bindings run the agent's active snapshot; the pinned one may lag (drift). "
        "Inline bindings run the pinned snapshot."
    )

if tab_drafts is not None:
    with tab_drafts:
        if not has_drafts:
            st.info("This database has no `agent_config_drafts` table (Dify 1.16 and later have it).")
        else:
            frame = pd.DataFrame(
                [
                    {
                        "draft": d.label,
                        "changes": "● unpublished changes" if d.unpublished else d.state,
                        "base": version_label(d.base_snapshot_id, d.base_version),
                        "last edit": f"{utc(d.updated_at)} ({relative_time(d.updated_at)})",
                        "by": d.updated_by or "",
                        "home snapshot": d.home_snapshot_id or "default",
                        "vs active": (
                            links.link("compare", left_snapshot=active_id, right_draft=d.id)
                            if active_id and active_version is not None
                            else None
                        ),
                        "id": d.id,
                    }
                    for d in drafts
                ],
                columns=["draft", "changes", "base", "last edit", "by", "home snapshot", "vs active", "id"],
            )
            pending = sum(d.unpublished for d in drafts)
            if pending:
                st.markdown(f":orange-badge[Unpublished changes: {pending:,} of {len(drafts)} drafts]")
            render.table(
                frame,
                hide_index=True,
                width="stretch",
                column_config={"vs active": st.column_config.LinkColumn("vs active", display_text="compare")},
            )
            st.caption(
                "A draft has unpublished changes when its config differs from the active snapshot "
                "(semantically: the normalized documents differ). `Draft` is the shared console draft; "
                "a build draft belongs to one account."
            )

if tab_homes is not None:
    with tab_homes:
        if not has_homes:
            st.info("This database has no `agent_home_snapshots` table (Dify 1.17 and later have it).")
        else:
            frame = pd.DataFrame(
                [
                    {
                        "home snapshot": h.id,
                        "status": h.status.label() if h.status is not None else "missing (no row)",
                        "created": utc(h.created_at),
                        "retired": utc(h.retired_at),
                        "snapshots": ", ".join(f"v{v}" for v in h.snapshot_versions),
                        "drafts": ", ".join(h.drafts),
                        "note": (
                            "⚠ referenced, but no such home snapshot"
                            if h.status is None
                            else "⚠ retired while referenced"
                            if h.retired_but_referenced
                            else f"belongs to agent {h.other_agent_id}"
                            if h.other_agent_id
                            else "referenced: never retire"
                            if h.referenced
                            else ""
                        ),
                    }
                    for h in homes
                ],
                columns=["home snapshot", "status", "created", "retired", "snapshots", "drafts", "note"],
            )
            render.table(frame, hide_index=True, width="stretch")
            if any(h.retired_but_referenced for h in homes):
                st.warning(
                    "A retired home snapshot is still referenced: every new run of that config will fail."
                )
            st.caption(
                "Home snapshots hold the files an agent starts from; a snapshot or draft without one uses "
                "the backend's default home. Never retire one that a snapshot or draft references."
            )

with tab_sessions:
    st.caption("No index serves sessions by agent, so they are not counted here on every view.")
    st.page_link(
        "app_pages/sessions.py",
        label="Open this agent's runtime sessions",
        query_params={"tenant": agent.tenant_id, "agent": agent.id},
    )
    render.code(links.link("sessions", tenant=agent.tenant_id, agent=agent.id))

with tab_soul:
    if not agent.active_config_snapshot_id:
        st.info("This agent has no active snapshot.")
    else:
        snapshot = context.read(agents_store.get_snapshot, active_id, tenant_id=agent.tenant_id)
        if snapshot is None:
            st.error("The active snapshot row is missing.")
        elif snapshot.config.ok:
            render.json_code(snapshot.config.value)
        else:
            st.error(safe_md(f"This snapshot's JSON cannot be used: {snapshot.config.error}"))
            raw = snapshot.config.raw or ""
            render.code(raw[:MAX_RAW_CHARS])
            if len(raw) > MAX_RAW_CHARS:
                st.caption(f"Truncated: showing {MAX_RAW_CHARS:,} of {len(raw):,} characters.")

page_url_box(links.link("agent", agent=agent.id))
