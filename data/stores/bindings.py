"""Node bindings of one workspace: apps -> workflow versions -> nodes, and draft vs published.

Every query is tenant-filtered and served by an index Dify ships:
* apps with bindings: `workflow_agent_node_binding_app_idx` (tenant_id, app_id);
* the bindings of one workflow row: `workflow_agent_node_binding_workflow_version_idx`
  (tenant_id, workflow_id, workflow_version);
* workflow versions of an app: `workflow_version_idx` (tenant_id, app_id, version) when the core
  `workflows` table exists, else the distinct (workflow_id, workflow_version) of the app's bindings;
* agents and snapshots a page of bindings names: their primary keys (ids IN the page's ids).

What runs (schema reference, section 7): a `roster_agent` binding runs the agent's live
`active_config_snapshot_id`; an `inline_agent` binding runs its pinned `current_snapshot_id`. The
pinned snapshot of a roster binding may lag: that is "drift", shown, never "fixed".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from data.diff import diff_configs
from data.masking import mask_document, mask_json_text, mask_text
from data.models import Agent, AgentConfigSnapshot, App, Workflow, WorkflowAgentNodeBinding
from data.models.enums import AgentStatus, BindingType
from data.read_context import ReadContext
from data.stores.scope import in_scope
from data.tolerant import EnumValue, parse_json

B = WorkflowAgentNodeBinding
MAX_APPS = 2_000
MAX_VERSIONS = 500  # published versions listed per app (newest first); the draft always comes first
AGENT_NODE_TYPE = "agent-v2"


# --- workspace -> apps ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BoundApp:
    """An app that has node bindings. `name` is None when no `apps` row exists (deleted, or no table)."""

    id: str
    name: str | None
    mode: str | None
    bindings: int

    @property
    def label(self) -> str:
        return f"{self.name} ({self.bindings} bindings)" if self.name else f"{self.id} (no app row)"


def list_apps(conn: sa.Connection, *, tenant_id: str, has_apps: bool) -> list[BoundApp]:
    """Apps of the workspace that have bindings, by name (`workflow_agent_node_binding_app_idx`)."""
    counts = conn.execute(
        sa.select(B.app_id, sa.func.count())
        .where(B.tenant_id == tenant_id)
        .group_by(B.app_id)
        .order_by(B.app_id)
        .limit(MAX_APPS)
    ).all()
    names: dict[str, tuple[str, str]] = {}
    if has_apps and counts:
        names = {
            row.id: (row.name, row.mode)
            for row in conn.execute(
                sa.select(App.id, App.name, App.mode).where(
                    App.tenant_id == tenant_id, App.id.in_([app_id for app_id, _ in counts])
                )
            )
        }
    apps: list[BoundApp] = []
    for app_id, count in counts:
        name, mode = names.get(app_id) or (None, None)
        apps.append(BoundApp(app_id, name, mode, bindings=int(count)))
    return sorted(apps, key=lambda a: (a.name is None, (a.name or "").lower(), a.id))


# --- app -> workflow versions --------------------------------------------------------------------


@dataclass(frozen=True)
class WorkflowVersion:
    """One `workflows` row of an app (the draft or a published copy), as far as the database knows it.

    Invariant: `has_row` is False exactly when the id comes only from bindings (no `workflows` row,
    or no `workflows` table); then `marked_name` is "" and `created_at` is None.
    """

    id: str
    app_id: str
    version: str
    marked_name: str
    created_at: datetime | None
    has_row: bool
    is_live: bool  # `apps.workflow_id`: the published version users run
    bindings: int
    binding_versions: tuple[str, ...] = ()  # workflow_version strings the bindings carry

    @property
    def is_draft(self) -> bool:
        return self.version == "draft"

    @property
    def label(self) -> str:
        """`marked_name`, else "Draft", else the version string (core tables reference, section 6)."""
        return version_label(self.version, self.marked_name)

    @property
    def version_mismatch(self) -> bool:
        """Bindings that name this row but carry another version string (an anomaly: section 9)."""
        return self.has_row and any(v != self.version for v in self.binding_versions)


def version_label(version: str, marked_name: str | None = None) -> str:
    if marked_name:
        return marked_name
    return "Draft" if version == "draft" else version


def _version_order(v: WorkflowVersion) -> tuple:
    # Draft first, then published newest first: published version strings are str(datetime), so they
    # sort like their publish times. Descending is done by negating the characters.
    return (not v.is_draft, tuple(-ord(c) for c in v.version), v.id)


def list_versions(
    conn: sa.Connection,
    *,
    tenant_id: str,
    app_id: str,
    has_workflows: bool,
    has_marked_name: bool,
    has_apps: bool,
) -> list[WorkflowVersion]:
    """The draft, then published versions newest first: workflows rows merged with the bindings' ids."""
    from_bindings: dict[str, dict[str, int]] = {}
    for workflow_id, workflow_version, count in conn.execute(
        sa.select(B.workflow_id, B.workflow_version, sa.func.count())
        .where(B.tenant_id == tenant_id, B.app_id == app_id)
        .group_by(B.workflow_id, B.workflow_version)
    ):
        from_bindings.setdefault(workflow_id, {})[workflow_version] = int(count)
    rows: dict[str, WorkflowVersion] = {}
    if has_workflows:
        marked = Workflow.marked_name if has_marked_name else sa.literal("")
        for row in conn.execute(
            sa.select(Workflow.id, Workflow.version, marked.label("marked_name"), Workflow.created_at)
            .where(Workflow.tenant_id == tenant_id, Workflow.app_id == app_id)
            .order_by(Workflow.version.desc())
            .limit(MAX_VERSIONS + 1)  # "draft" sorts after digits: it is among the first rows
        ):
            counts = from_bindings.get(row.id, {})
            rows[row.id] = WorkflowVersion(
                id=row.id,
                app_id=app_id,
                version=row.version,
                marked_name=row.marked_name or "",
                created_at=row.created_at,
                has_row=True,
                is_live=False,
                bindings=sum(counts.values()),
                binding_versions=tuple(sorted(counts)),
            )
    for workflow_id, counts in from_bindings.items():
        if workflow_id not in rows:
            # No workflows row: the version string the bindings carry is all we know.
            version = "draft" if "draft" in counts else max(counts)
            rows[workflow_id] = WorkflowVersion(
                id=workflow_id,
                app_id=app_id,
                version=version,
                marked_name="",
                created_at=None,
                has_row=False,
                is_live=False,
                bindings=sum(counts.values()),
                binding_versions=tuple(sorted(counts)),
            )
    live = _live_workflow_id(conn, tenant_id=tenant_id, app_id=app_id) if has_apps else None
    versions = [replace(v, is_live=True) if v.id == live else v for v in rows.values()]
    return sorted(versions, key=_version_order)


def _live_workflow_id(conn: sa.Connection, *, tenant_id: str, app_id: str) -> str | None:
    return conn.execute(
        sa.select(App.workflow_id).where(App.id == app_id, App.tenant_id == tenant_id)
    ).scalar()


def get_version(
    conn: sa.Connection,
    *,
    tenant_id: str,
    app_id: str,
    workflow_id: str,
    has_workflows: bool,
    has_marked_name: bool,
    has_apps: bool,
) -> WorkflowVersion | None:
    """One version of the app (None when neither a workflows row nor a binding names it)."""
    versions = list_versions(
        conn,
        tenant_id=tenant_id,
        app_id=app_id,
        has_workflows=has_workflows,
        has_marked_name=has_marked_name,
        has_apps=has_apps,
    )
    return next((v for v in versions if v.id == workflow_id), None)


@dataclass(frozen=True)
class Location:
    """Where a pasted app or workflow id lives (found by primary key in the core tables)."""

    tenant_id: str
    app_id: str | None


def locate(
    conn: sa.Connection,
    *,
    app_id: str | None = None,
    workflow_id: str | None = None,
    has_core: frozenset[str] = frozenset(),
    read: ReadContext,
) -> Location | None:
    """The workspace (and app) of a workflow or app id, by primary key; None without the core table.

    Without the core tables a workflow id cannot be placed (no binding index starts with it): the page
    then asks for the workspace."""
    if workflow_id and "workflows" in has_core:
        row = conn.execute(
            sa.select(Workflow.tenant_id, Workflow.app_id).where(
                Workflow.id == workflow_id, *in_scope(Workflow.tenant_id, read)
            )
        ).first()
        if row:
            return Location(row.tenant_id, row.app_id)
    if app_id and "apps" in has_core:
        tenant_id = conn.execute(
            sa.select(App.tenant_id).where(App.id == app_id, *in_scope(App.tenant_id, read))
        ).scalar()
        if tenant_id:
            return Location(tenant_id, app_id)
    return None


def app_of_workflow(conn: sa.Connection, *, tenant_id: str, workflow_id: str) -> str | None:
    """The app a workflow id belongs to, from its bindings (`..._workflow_version_idx`)."""
    return conn.execute(
        sa.select(B.app_id).where(B.tenant_id == tenant_id, B.workflow_id == workflow_id).limit(1)
    ).scalar()


# --- workflow -> node bindings -------------------------------------------------------------------


@dataclass(frozen=True)
class AgentRef:
    id: str
    name: str
    scope: EnumValue
    status: EnumValue
    active_snapshot_id: str | None


@dataclass(frozen=True)
class SnapshotRef:
    """A snapshot id as a binding names it. `version` and `agent_id` are None when no row exists."""

    id: str
    version: int | None
    agent_id: str | None

    @property
    def exists(self) -> bool:
        return self.version is not None

    def label(self) -> str:
        return f"v{self.version}" if self.exists else f"missing ({self.id})"


@dataclass(frozen=True)
class NodeBinding:
    """One node's binding on one workflow row, with what it points at resolved (or reported missing).

    Invariants: `runs` is the agent's active snapshot for roster bindings and the pinned one for
    inline bindings; `drifts` only when both are known and differ; `problems` are plain sentences
    (empty when the binding is sound).
    """

    id: str
    tenant_id: str
    app_id: str
    workflow_id: str
    workflow_version: str
    node_id: str
    node_title: str | None
    binding_type: EnumValue
    agent_id: str | None
    agent: AgentRef | None
    pinned: SnapshotRef | None
    runs: SnapshotRef | None
    node_job_config: str
    updated_at: datetime
    problems: tuple[str, ...]

    @property
    def is_roster(self) -> bool:
        return self.binding_type == BindingType.ROSTER_AGENT

    @property
    def drifts(self) -> bool:
        return (
            self.is_roster
            and self.runs is not None
            and (self.pinned is None or self.pinned.id != self.runs.id)
        )


@dataclass(frozen=True)
class GraphNode:
    id: str
    title: str
    type: str


@dataclass(frozen=True)
class WorkflowBindings:
    """The bindings of one workflow row, by graph order where the graph is known, else by node id."""

    tenant_id: str
    workflow_id: str
    bindings: tuple[NodeBinding, ...]
    graph_error: str | None  # None: parsed (or no workflows row to parse)
    unbound_agent_nodes: tuple[GraphNode, ...]  # agent-v2 nodes in the graph that have no binding


def parse_graph(text: str | None) -> tuple[dict[str, GraphNode], str | None]:
    """Graph nodes by id from `workflows.graph`, or the reason it cannot be read. Never raises."""
    result = parse_json(text, expect_object=True)
    if not result.ok:
        return {}, result.error
    nodes = result.value.get("nodes")
    if not isinstance(nodes, list):
        return {}, "the graph has no node list"
    found: dict[str, GraphNode] = {}
    for node in nodes:
        if not isinstance(node, dict) or "id" not in node:
            continue
        data = _object(node.get("data"))
        found[str(node["id"])] = GraphNode(
            str(node["id"]), str(data.get("title") or ""), str(data.get("type") or "")
        )
    return found, None


def _graph(
    conn: sa.Connection, tenant_id: str, workflow_id: str
) -> tuple[dict[str, GraphNode], str | None, bool]:
    text = conn.execute(
        sa.select(Workflow.graph).where(Workflow.id == workflow_id, Workflow.tenant_id == tenant_id)
    ).scalar()
    if text is None:
        return {}, None, False
    nodes, error = parse_graph(text)
    return nodes, error, True


def workflow_bindings(
    conn: sa.Connection, *, tenant_id: str, workflow_id: str, has_workflows: bool
) -> WorkflowBindings:
    """Every binding of one workflow row (`..._workflow_version_idx`), agents and snapshots resolved."""
    rows = conn.execute(sa.select(B).where(B.tenant_id == tenant_id, B.workflow_id == workflow_id)).all()
    agent_ids = sorted({r.agent_id for r in rows if r.agent_id})
    agents = {
        a.id: AgentRef(a.id, a.name, a.scope, a.status, a.active_config_snapshot_id)
        for a in (
            conn.execute(
                sa.select(
                    Agent.id, Agent.name, Agent.scope, Agent.status, Agent.active_config_snapshot_id
                ).where(Agent.tenant_id == tenant_id, Agent.id.in_(agent_ids))
            )
            if agent_ids
            else ()
        )
    }
    snapshot_ids = sorted(
        {r.current_snapshot_id for r in rows if r.current_snapshot_id}
        | {a.active_snapshot_id for a in agents.values() if a.active_snapshot_id}
    )
    snapshots = {
        s.id: SnapshotRef(s.id, s.version, s.agent_id)
        for s in (
            conn.execute(
                sa.select(
                    AgentConfigSnapshot.id, AgentConfigSnapshot.version, AgentConfigSnapshot.agent_id
                ).where(AgentConfigSnapshot.tenant_id == tenant_id, AgentConfigSnapshot.id.in_(snapshot_ids))
            )
            if snapshot_ids
            else ()
        )
    }
    graph, graph_error, has_row = _graph(conn, tenant_id, workflow_id) if has_workflows else ({}, None, False)
    bindings = [
        _node_binding(r, agents, snapshots, graph, graph_known=has_row and not graph_error) for r in rows
    ]
    order = {node_id: i for i, node_id in enumerate(graph)}
    bindings.sort(key=lambda b: (order.get(b.node_id, len(order)), b.node_id))
    bound = {b.node_id for b in bindings}
    unbound = tuple(n for n in graph.values() if n.type == AGENT_NODE_TYPE and n.id not in bound)
    return WorkflowBindings(tenant_id, workflow_id, tuple(bindings), graph_error, unbound)


def _snapshot(snapshot_id: str | None, snapshots: dict[str, SnapshotRef]) -> SnapshotRef | None:
    if snapshot_id is None:
        return None
    return snapshots.get(snapshot_id) or SnapshotRef(snapshot_id, None, None)


def _node_binding(
    row: sa.Row,
    agents: dict[str, AgentRef],
    snapshots: dict[str, SnapshotRef],
    graph: dict[str, GraphNode],
    *,
    graph_known: bool,
) -> NodeBinding:
    agent = agents.get(row.agent_id) if row.agent_id else None
    pinned = _snapshot(row.current_snapshot_id, snapshots)
    roster = row.binding_type == BindingType.ROSTER_AGENT
    # Roster bindings run the agent's live active snapshot (unknown when the agent is missing).
    active = _snapshot(agent.active_snapshot_id, snapshots) if agent else None
    runs = active if roster else pinned
    node = graph.get(row.node_id)
    problems = _problems(row, agent, pinned, runs if roster else None)
    if graph_known and node is None:
        problems += (f"Node {row.node_id} is not in this workflow's graph (a left-over binding).",)
    return NodeBinding(
        id=row.id,
        tenant_id=row.tenant_id,
        app_id=row.app_id,
        workflow_id=row.workflow_id,
        workflow_version=row.workflow_version,
        node_id=row.node_id,
        node_title=node.title if node else None,
        binding_type=row.binding_type,
        agent_id=row.agent_id,
        agent=agent,
        pinned=pinned,
        runs=runs,
        node_job_config=row.node_job_config,
        updated_at=row.updated_at,
        problems=problems,
    )


def _problems(
    row: sa.Row, agent: AgentRef | None, pinned: SnapshotRef | None, active: SnapshotRef | None
) -> tuple[str, ...]:
    """What is wrong with a binding, in words a support engineer can paste into a ticket."""
    problems: list[str] = []
    if not row.binding_type.known:
        problems.append(f"Binding type {row.binding_type.raw!r} is unknown to Agent Desk.")
    if row.agent_id is None:
        problems.append("The binding names no agent.")
    elif agent is None:
        problems.append(f"Agent {row.agent_id} does not exist in this workspace (deleted?).")
    else:
        if agent.status == AgentStatus.ARCHIVED:
            problems.append("The agent is archived: Dify refuses to run it.")
        elif not agent.status.known:
            problems.append(f"The agent's status {agent.status.raw!r} is unknown to Agent Desk.")
    if pinned is not None and not pinned.exists:
        problems.append(f"The pinned snapshot {pinned.id} does not exist.")
    elif pinned is not None and row.agent_id and pinned.agent_id != row.agent_id:
        problems.append(f"The pinned snapshot {pinned.id} belongs to another agent ({pinned.agent_id}).")
    if row.binding_type == BindingType.ROSTER_AGENT and agent is not None:
        if agent.active_snapshot_id is None:
            problems.append("The agent has no active snapshot: there is nothing to run.")
        elif active is not None and not active.exists:
            problems.append(f"The agent's active snapshot {active.id} does not exist.")
        elif active is not None and active.agent_id != agent.id:
            problems.append(f"The agent's active snapshot {active.id} belongs to another agent.")
    if row.binding_type == BindingType.INLINE_AGENT and pinned is None:
        problems.append("The inline binding pins no snapshot: there is nothing to run.")
    return tuple(problems)


# --- node-job config -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DeclaredOutput:
    name: str
    type: str
    required: str
    failure_strategy: str


@dataclass(frozen=True)
class NodeJobView:
    """A node-job config ready to show: every user-typed value already masked.

    Invariant: nothing here needs masking again; `raw` is `mask_json_text` of the stored text.
    `error` is set when the text is not a JSON object (the other fields are then empty).
    """

    error: str | None
    mode: str | None
    workflow_prompt: str
    outputs: tuple[DeclaredOutput, ...]
    previous_refs: tuple[str, ...]
    human_contacts: str  # masked JSON text ("" when none)
    raw: str

    @property
    def uses_default_outputs(self) -> bool:
        """An empty `declared_outputs` means Dify's runtime defaults (text, files, json) apply."""
        return self.error is None and not self.outputs


def node_job_view(text: str | None) -> NodeJobView:
    """Parse and mask a stored `node_job_config`; never raises (schema reference, section 5.3)."""
    parsed = parse_json(text, expect_object=True)
    raw = mask_json_text(text)
    if not parsed.ok:
        return NodeJobView(parsed.error, None, "", (), (), "", raw)
    doc: dict[str, Any] = parsed.value
    outputs = _array(doc.get("declared_outputs"))
    refs = _array(doc.get("previous_node_output_refs"))
    contacts = _array(doc.get("human_contacts"))
    prompt = doc.get("workflow_prompt")
    return NodeJobView(
        error=None,
        mode=str(doc["mode"]) if doc.get("mode") is not None else None,
        workflow_prompt=mask_text(
            prompt if isinstance(prompt, str) else json.dumps(prompt, ensure_ascii=False)
        ),
        outputs=tuple(_declared_output(o) for o in outputs if isinstance(o, dict)),
        previous_refs=tuple(_ref_text(r) for r in refs),
        human_contacts=(
            json.dumps(mask_document(contacts, ("human_contacts",)), ensure_ascii=False, indent=2)
            if contacts
            else ""
        ),
        raw=raw,
    )


def _object(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else an empty one: stored JSON may hold any shape."""
    return value if isinstance(value, dict) else {}


def _array(value: Any) -> list[Any]:
    """`value` when it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def _declared_output(out: dict[str, Any]) -> DeclaredOutput:
    required = out.get("required", True)  # Dify's default is required
    return DeclaredOutput(
        name=mask_text(str(out.get("name") or "")),
        type=str(out.get("type") or ""),
        required="yes" if required is True else "no" if required is False else str(required),
        failure_strategy=_failure_text(out.get("failure_strategy")),
    )


def _failure_text(strategy: Any) -> str:
    """`stop`, `default_value (…)` or `fail_branch`, plus retries; a stored null means the defaults."""
    if not isinstance(strategy, dict):
        return "stop (default)"
    on_failure = str(strategy.get("on_failure") or "stop")
    text = on_failure
    if on_failure == "default_value":
        default = mask_document(strategy.get("default_value"), ("default_value",))
        text += f" ({json.dumps(default, ensure_ascii=False)[:80]})"
    retry = _object(strategy.get("retry"))
    if retry.get("enabled"):
        text += f", retry {retry.get('max_retries', 0)}× every {retry.get('retry_interval_ms', 0)} ms"
    return text


def _ref_text(ref: Any) -> str:
    """`node.output` for the usual shapes (Gen C free-form dicts, later typed selectors)."""
    if isinstance(ref, dict):
        node = ref.get("node_id")
        output = ref.get("output") or ref.get("variable") or ref.get("name") or ref.get("key")
        if node and output:
            return mask_text(f"{node}.{output}")
        for key in ("value_selector", "variable_selector", "selector"):
            if isinstance(ref.get(key), list):
                return mask_text(".".join(str(p) for p in ref[key]))
    return json.dumps(mask_document(ref, ("previous_node_output_refs",)), ensure_ascii=False)[:200]


# --- draft vs published --------------------------------------------------------------------------

ADDED, REMOVED, REBOUND, TYPE_CHANGED, CONFIG_CHANGED, REPINNED = (
    "added",
    "removed",
    "re-bound to another agent",
    "binding type changed",
    "node-job config changed",
    "pinned snapshot changed",
)


@dataclass(frozen=True)
class NodeChange:
    """How one node differs from `against` (before) to `workflow` (after).

    Invariant: `changes` is non-empty; `before` is None exactly for "added", `after` for "removed".
    """

    node_id: str
    title: str | None
    changes: tuple[str, ...]
    before: NodeBinding | None
    after: NodeBinding | None

    @property
    def config_changed(self) -> bool:
        return CONFIG_CHANGED in self.changes


@dataclass(frozen=True)
class Comparison:
    changes: tuple[NodeChange, ...]
    unchanged: int


def compare_bindings(before: WorkflowBindings, after: WorkflowBindings) -> Comparison:
    """Node by node: added, removed, re-bound, type changed, config changed (semantic), re-pinned."""
    old = {b.node_id: b for b in before.bindings}
    new = {b.node_id: b for b in after.bindings}
    order = [b.node_id for b in after.bindings] + [n for n in old if n not in new]
    changes: list[NodeChange] = []
    unchanged = 0
    for node_id in order:
        a, b = old.get(node_id), new.get(node_id)
        either = b or a
        title = either.node_title if either else None
        kinds = _change_kinds(a, b)
        if kinds:
            changes.append(NodeChange(node_id, title, kinds, a, b))
        else:
            unchanged += 1
    return Comparison(tuple(changes), unchanged)


def _change_kinds(a: NodeBinding | None, b: NodeBinding | None) -> tuple[str, ...]:
    if a is None:
        return (ADDED,)
    if b is None:
        return (REMOVED,)
    kinds = []
    if a.agent_id != b.agent_id:
        kinds.append(REBOUND)
    if a.binding_type != b.binding_type:
        kinds.append(TYPE_CHANGED)
    # Semantic comparison: stored texts differ in key order and materialized defaults (docs/diff.md).
    if (
        a.node_job_config != b.node_job_config
        and not diff_configs(a.node_job_config, b.node_job_config, "node_job").equal
    ):
        kinds.append(CONFIG_CHANGED)
    if (a.pinned.id if a.pinned else None) != (b.pinned.id if b.pinned else None) and REBOUND not in kinds:
        kinds.append(REPINNED)
    return tuple(kinds)
