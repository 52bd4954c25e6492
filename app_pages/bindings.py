"""Bindings (`/bindings`): which agent each workflow node runs, per workflow version; draft vs published.

URL parameters (the contract): `tenant` -> `app` -> `workflow` (a workflows.id: the draft or one
published copy) -> `node`; `against` names another version of the same app to compare with.
"""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd
import streamlit as st

from data import links, pages
from data.stores import bindings as store
from ui import context, grid, render
from ui.render import already_masked, literal, notice_invalid, page_url_box, plain, safe_md, set_params, utc
from ui.widgets import breadcrumbs, copy_id, workspace_select

report = context.schema_report()
core = report.core_tables
optional = {
    "has_workflows": report.has_table("workflows"),
    "has_marked_name": report.has_column("workflows", "marked_name"),
    "has_apps": report.has_table("apps"),
}
params = pages.BINDINGS.read(dict(st.query_params))
values = dict(params.values)
notice_invalid(params.notices)
st.title("Node bindings")
crumb_slot = st.container()  # workspace › app › version › node, filled once they are known


def agent_text(b: store.NodeBinding) -> str:
    if b.agent is not None:
        return b.agent.name
    return "— (no agent)" if b.agent_id is None else f"missing agent {b.agent_id}"


def snapshot_text(ref: store.SnapshotRef | None, agent_id: str | None) -> str:
    if ref is None:
        return "—"
    if ref.exists and ref.agent_id != agent_id:
        return f"v{ref.version} of another agent"
    return ref.label()


def bindings_link(**extra: object) -> str:
    base = {k: values.get(k) for k in ("tenant", "app", "workflow", "against")}
    return links.link("bindings", **{**base, **extra})


def crumbs() -> None:
    """Workspace › app › version › node, as far as the URL goes; each step a same-tab link."""
    tenant, app, workflow, node = (values.get(k) for k in ("tenant", "app", "workflow", "node"))
    if not tenant:
        return
    names = {w.id: w.name for w in context.workspaces()}
    trail = [(plain(names.get(tenant, tenant)), "bindings", {"tenant": tenant})]
    if app:
        app_label = {
            a.id: a.label
            for a in context.read(store.list_apps, tenant_id=tenant, has_apps=optional["has_apps"])
        }
        trail.append((plain(app_label.get(app, app)), "bindings", {"tenant": tenant, "app": app}))
    if app and workflow:
        label = (
            next((v.label for v in versions if v.id == workflow), workflow)
            if "versions" in globals()
            else workflow
        )
        trail.append((plain(label), "bindings", {"tenant": tenant, "app": app, "workflow": workflow}))
    if app and workflow and node:
        trail.append(
            (
                plain(f"node {node}"),
                "bindings",
                {"tenant": tenant, "app": app, "workflow": workflow, "node": node},
            )
        )
    breadcrumbs(trail, container=crumb_slot)


# --- where: a pasted app or workflow id finds its workspace (primary keys of the core tables) ------
if not values.get("tenant") and (values.get("app") or values.get("workflow")):
    found = context.read(
        store.locate,
        app_id=values.get("app"),
        workflow_id=values.get("workflow"),
        has_core=core,
        read=context.read_context(),
    )
    if found is not None:
        values["tenant"] = found.tenant_id
        values["app"] = values.get("app") or found.app_id
if values.get("tenant") and values.get("workflow") and not values.get("app"):
    # The workflow's app, from its bindings (works without the core tables too).
    values["app"] = context.read(
        store.app_of_workflow, tenant_id=values["tenant"], workflow_id=values["workflow"]
    )
if values.get("tenant") and not context.read_context().sees(values["tenant"]):
    st.warning(safe_md(f"No workspace {values['tenant']} is visible here."))
    context.scope_note()  # a workspace-scoped role sees only its own workspace
    st.stop()
tenant_id = context.scoped_tenant(values.get("tenant"))
values["tenant"] = tenant_id

chosen_tenant = workspace_select(tenant_id, empty_label="Choose a workspace", key="bindings-tenant")
if chosen_tenant != tenant_id:
    set_params(tenant=chosen_tenant)
if not tenant_id:
    if values.get("app") or values.get("workflow"):
        st.warning("This app or workflow id is not in the core tables: choose its workspace.")
    st.info("Choose a workspace to see its apps with agent nodes.")
    page_url_box(links.link("bindings"))
    st.stop()

# --- app ---------------------------------------------------------------------------------------
apps = context.read(store.list_apps, tenant_id=tenant_id, has_apps=optional["has_apps"])
app_labels = {a.id: a.label for a in apps}
app_id = values.get("app")
app_options = [None, *app_labels] + ([app_id] if app_id and app_id not in app_labels else [])
chosen_app = st.selectbox(
    "App",
    app_options,
    index=app_options.index(app_id),
    format_func=lambda v: "Choose an app" if v is None else plain(app_labels.get(v, f"{v} (no bindings)")),
    key="bindings-app",
)
if chosen_app != app_id:
    set_params(tenant=tenant_id, app=chosen_app)
if not app_id:
    st.caption(f"{len(apps)} apps of this workspace have agent node bindings.")
    frame = pd.DataFrame(
        [
            {
                "app": a.name or "(no app row)",
                "mode": a.mode or "",
                "bindings": a.bindings,
                "open": links.link("bindings", tenant=tenant_id, app=a.id),
                "id": a.id,
            }
            for a in apps
        ],
        columns=["app", "mode", "bindings", "open", "id"],
    )
    crumbs()
    grid.show(frame, key="bindings-apps", first=("app", "bindings"), link_columns=("open",), what="app")
    page_url_box(links.link("bindings", tenant=tenant_id))
    st.stop()

# --- workflow versions -------------------------------------------------------------------------
versions = context.read(store.list_versions, tenant_id=tenant_id, app_id=app_id, **optional)
by_id = {v.id: v for v in versions}
if not versions:
    st.warning(safe_md(f"App {app_id} has no workflow versions or bindings in this workspace."))
    page_url_box(links.link("bindings", tenant=tenant_id, app=app_id))
    st.stop()
if not optional["has_workflows"]:
    st.caption("No `workflows` table: versions come from the bindings (labels are version strings).")


def version_text(v: store.WorkflowVersion) -> str:
    live = " · live" if v.is_live else ""
    return f"{v.label}{live} ({v.bindings} bindings)"


workflow_id = values.get("workflow")
if workflow_id and workflow_id not in by_id:
    notice_invalid([f"Workflow {workflow_id} is not a version of this app; choose one below."])
    workflow_id = None
workflow_options = [None, *by_id]
chosen_workflow = st.selectbox(
    "Workflow version",
    workflow_options,
    index=workflow_options.index(workflow_id),
    format_func=lambda v: "Choose a version (draft first)" if v is None else plain(version_text(by_id[v])),
    key="bindings-workflow",
)
if chosen_workflow != workflow_id:
    set_params(tenant=tenant_id, app=app_id, workflow=chosen_workflow)
if not workflow_id:
    frame = pd.DataFrame(
        [
            {
                "version": v.label,
                "stored version": v.version,
                "live": "● live" if v.is_live else "",
                "published": None if v.is_draft else v.created_at,
                "bindings": v.bindings,
                "open": links.link("bindings", tenant=tenant_id, app=app_id, workflow=v.id),
                "workflow id": v.id,
            }
            for v in versions
        ],
        columns=["version", "stored version", "live", "published", "bindings", "open", "workflow id"],
    )
    crumbs()
    grid.show(
        frame,
        key="bindings-versions",
        first=("version", "live", "bindings", "published"),
        keep=("workflow id",),
        datetimes=("published",),
        link_columns=("open",),
        what="version",
    )
    page_url_box(links.link("bindings", tenant=tenant_id, app=app_id))
    st.stop()

version = by_id[workflow_id]
values.update(tenant=tenant_id, app=app_id, workflow=workflow_id)
cols = st.columns(3)
with cols[0]:
    literal("Version", version.label)
    literal("Stored version", version.version)
with cols[1]:
    literal("Workflow id", version.id)
    literal("Live", "yes (apps.workflow_id)" if version.is_live else "no")
with cols[2]:
    literal("Created", utc(version.created_at) if version.created_at else "— (no workflows row)")
    literal("Bindings", version.bindings)
if version.version_mismatch:
    st.warning(
        safe_md(
            f"Bindings of this row carry version string(s) {', '.join(version.binding_versions)}, "
            f"but the workflows row says {version.version}."
        )
    )

view = context.read(
    store.workflow_bindings,
    tenant_id=tenant_id,
    workflow_id=workflow_id,
    has_workflows=optional["has_workflows"],
)
if view.graph_error:
    st.warning(safe_md(f"The workflow graph cannot be read ({view.graph_error}): node titles are unknown."))

# --- one node ----------------------------------------------------------------------------------
node_id = values.get("node")
if node_id:
    binding = next((b for b in view.bindings if b.node_id == node_id), None)
    if binding is None:
        st.warning(safe_md(f"Node {node_id} has no binding in this version."))
    else:
        st.subheader("Node")
        render.text(f"{binding.node_id} · {binding.node_title or '(title unknown)'}")
        for problem in binding.problems:
            st.error(safe_md(problem))
        left, right = st.columns(2)
        with left:
            literal("Binding type", binding.binding_type.label())
            literal("Agent", agent_text(binding))
            if binding.agent is not None:
                literal("Agent scope", binding.agent.scope.label())
                literal("Agent status", binding.agent.status.label())
                st.page_link(
                    "app_pages/agent.py", label="Open the agent", query_params={"agent": binding.agent.id}
                )
        with right:
            literal("Pinned snapshot", snapshot_text(binding.pinned, binding.agent_id))
            literal("Runs (what Dify executes)", snapshot_text(binding.runs, binding.agent_id))
            copy_id("Binding id", binding.id)
            literal("Updated", utc(binding.updated_at))
        if binding.drifts and binding.pinned and binding.runs:
            st.badge("Drift: the pinned snapshot is not what runs", icon="⚠️", color="orange")
            st.page_link(
                "app_pages/compare.py",
                label="Compare pinned vs running snapshot",
                query_params=links.query(
                    "compare",
                    left_snapshot=binding.pinned.id,
                    right_snapshot=binding.runs.id,
                    binding=binding.id,
                ),
            )
        job = store.node_job_view(binding.node_job_config)
        st.subheader("Node-job config")
        if job.error:
            st.error(safe_md(f"The node-job config cannot be read: {job.error}"))
        else:
            literal("Mode", job.mode or "—")
            st.caption("Workflow prompt (masked)")
            render.text(already_masked(job.workflow_prompt or "(empty)"))
            st.caption("Declared outputs")
            if job.uses_default_outputs:
                st.caption("None declared: Dify's defaults apply (text, files, json).")
            else:
                render.table(
                    pd.DataFrame(
                        [asdict(o) for o in job.outputs],
                        columns=["name", "type", "required", "failure_strategy"],
                    ).rename(columns={"failure_strategy": "failure strategy"}),
                    masked_columns=("name", "type", "required", "failure strategy"),  # node_job_view masked
                    hide_index=True,
                    width="stretch",
                )
            st.caption("Previous-node output refs")
            render.text(already_masked("\n".join(job.previous_refs) or "(none)"))
            st.caption("Human contacts (masked)")
            if job.human_contacts:
                render.code(already_masked(job.human_contacts), language="json")
            else:
                st.text("(none)")
        with st.expander("Raw node-job config (masked)"):
            render.code(already_masked(job.raw or "(empty)"), language="json")
    st.page_link(
        "app_pages/bindings.py",
        label="All nodes of this version",
        query_params={k: v for k, v in values.items() if k != "node" and v},
    )

# --- every node of the version -----------------------------------------------------------------
st.subheader("Bindings of " + safe_md(version.label))
frame = pd.DataFrame(
    [
        {
            "node": bindings_link(node=b.node_id),
            "node id": b.node_id,
            "title": b.node_title or "",
            "type": b.binding_type.label(),
            "agent": agent_text(b),
            "scope": b.agent.scope.label() if b.agent else "",
            "status": b.agent.status.label() if b.agent else "",
            "pinned": snapshot_text(b.pinned, b.agent_id),
            "runs": snapshot_text(b.runs, b.agent_id),
            "drift": "⚠ drift" if b.drifts else "",
            "compare": (
                links.link("compare", left_snapshot=b.pinned.id, right_snapshot=b.runs.id, binding=b.id)
                if b.drifts and b.pinned and b.runs
                else None
            ),
            "problems": " ".join(b.problems),
        }
        for b in view.bindings
    ],
    columns=[
        "node",
        "node id",
        "title",
        "type",
        "agent",
        "scope",
        "status",
        "pinned",
        "runs",
        "drift",
        "compare",
        "problems",
    ],
)
crumbs()
grid.show(
    frame,
    key="bindings-nodes",
    first=("drift", "title", "agent", "runs", "pinned", "type", "status"),
    keep=("node id", "drift"),
    link_columns=("node", "compare"),
    link_labels={"node": "Open the node", "compare": "Compare pinned vs running snapshot"},
    what="node",
)
st.caption(
    "Roster bindings run the agent's active snapshot (drift: the pinned one lags it); "
    "inline bindings run the pinned snapshot."
)
if view.unbound_agent_nodes:
    st.warning(
        safe_md(
            "Agent nodes in the graph without a binding: "
            + ", ".join(f"{n.id} ({n.title})" for n in view.unbound_agent_nodes)
        )
    )

# --- draft vs published ------------------------------------------------------------------------
st.subheader("Compare with another version")
against_id = values.get("against")
if against_id and (against_id not in by_id or against_id == workflow_id):
    notice_invalid([f"`against` {against_id} is not another version of this app; ignored."])
    against_id = None
    values.pop("against", None)
others = [None, *(v.id for v in versions if v.id != workflow_id)]
chosen_against = st.selectbox(
    "Compare with",
    others,
    index=others.index(against_id),
    format_func=lambda v: "(no comparison)" if v is None else plain(version_text(by_id[v])),
    key="bindings-against",
)
if chosen_against != against_id:
    set_params(**{**values, "against": chosen_against})
if against_id:
    before = context.read(
        store.workflow_bindings,
        tenant_id=tenant_id,
        workflow_id=against_id,
        has_workflows=optional["has_workflows"],
    )
    comparison = store.compare_bindings(before, view)
    st.caption(
        safe_md(
            f"From {by_id[against_id].label} (before) to {version.label} (after): "
            f"{len(comparison.changes)} nodes changed, {comparison.unchanged} unchanged."
        )
    )

    def side(b: store.NodeBinding | None) -> str:
        if b is None:
            return "—"
        return f"{b.binding_type.label()} · {agent_text(b)} · pinned {snapshot_text(b.pinned, b.agent_id)}"

    grid.show(
        pd.DataFrame(
            [
                {
                    "node id": c.node_id,
                    "title": c.title or "",
                    "changes": ", ".join(c.changes),
                    "before": side(c.before),
                    "after": side(c.after),
                    "config diff": (
                        links.link("compare", left_binding=c.before.id, right_binding=c.after.id)
                        if c.config_changed and c.before and c.after
                        else None
                    ),
                }
                for c in comparison.changes
            ],
            columns=[
                "node id",
                "title",
                "changes",
                "before",
                "after",
                "config diff",
            ],
        ),
        key="bindings-against-table",
        first=("node id", "title", "changes"),
        keep=("node id", "changes"),
        link_columns=("config diff",),
        link_labels={"config diff": "Open the config diff"},
        what="node",
    )
    if not comparison.changes:
        st.success("No node differs between these two versions.")

page_url_box(links.link("bindings", **values))
