"""The demo's `workspaces` generation (Dify 1.17+): the same story, as working environments.

`data.demo` tells the story once; for this generation its rows go through `WorkspacesSink`, which
writes what a Dify 1.17 database holds instead of runtime sessions:

* every runtime session becomes an `agent_workspace_bindings` row (same id, same session state) in
  the workspace of its owner scope: a workflow run's node (`<node_id>:<binding id>`) or a
  conversation (`root`); active sessions stay active; cleaned ones were retired and, mostly, collected
  (row deleted), a few never collected (still retired, long after `retired_at`);
* a paused run's bindings wait for a human (`pending_form_id`): they must never be touched;
* conversations point at their binding; agent nodes get `workflow_node_executions` rows;
* agents get the 1.15/1.16 columns (role, backing app, has-a-model / published flags);

and `add_story` adds the 1.16/1.17 rows the session story has no counterpart for: drafts (shared and
build drafts, with and without unpublished changes, one whose base snapshot is gone), home snapshots
(referenced, unreferenced, retired and never collected, a reference to a missing one), build-draft
workspaces, and every kind of leak and inconsistency (`WorkspaceIds`).
Deterministic like the rest of the demo: one seeded RNG stream, every timestamp relative to `now`.
"""

from __future__ import annotations

import copy
import json
import random
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from data.demo import (
    CHUNK_SIZE,
    DemoIds,
    _Ctx,
    _hex,
    _orm_json,
    _Sink,
    _Tenant,
    _v4,
    _v7,
    _wk4,
    _wk7,
)
from data.models import (
    Agent,
    AgentConfigDraft,
    AgentConfigSnapshot,
    AgentDebugConversation,
    AgentHomeSnapshot,
    AgentRuntimeSession,
    AgentWorkspace,
    AgentWorkspaceBinding,
    App,
    Conversation,
    WorkflowNodeExecution,
    WorkflowRun,
)
from data.models.generations import WORKSPACES

#: Share of retired (cleaned) rows Dify's collector never deleted: "stuck" retired rows.
UNCOLLECTED_SHARE = 0.08
ROLES = (
    "Customer support",
    "Triage",
    "Research",
    "Writing",
    "Clinical intake",
    "Operations",
    "Onboarding",
)


class WorkspaceIds:
    """Fixed ids of the working-environment rows the story promises (workspaces generation only).

    Bindings that replace a runtime session keep the session's id (`DemoIds.*_SESSION`)."""

    # --- drafts (agent_config_drafts) ---
    SHOWCASE_SHARED_DRAFT = _wk7("1d0", 1)  # Acme showcase: shared draft with unpublished changes vs v6
    SHOWCASE_BUILD_DRAFT = _wk7("1d0", 2)  # Maya's build draft of the showcase: same config as v6
    GEN_E_SHARED_DRAFT = _wk7("1d0", 3)  # Northwind Gen E: renamed CLI tool, new note, one more file
    MISSING_BASE_DRAFT = _wk7("1d0", 4)  # base_snapshot_id names no snapshot (health)
    MISSING_HOME_DRAFT = _wk7("1d0", 5)  # home_snapshot_id names no home snapshot (health)
    MISSING_DRAFT = _wk7("f00", 0x11)  # owner of a build_draft workspace, no row (leak)

    # --- home snapshots (agent_home_snapshots) ---
    HOME_REFERENCED = _wk7("1e0", 1)  # referenced by the Gen E snapshots and its draft
    HOME_UNREFERENCED = _wk7("1e0", 2)  # active, nobody references it
    HOME_RETIRED_UNCOLLECTED = _wk7("1e0", 3)  # retired 9 days ago, never collected
    HOME_RETIRED_REFERENCED = _wk7("1e0", 4)  # retired, yet the showcase build draft still names it
    MISSING_HOME = _wk7("f00", 0x10)  # named by a draft, no row

    # --- workspaces and their bindings ---
    BUILD_DRAFT_WORKSPACE = _wk7("1f0", 1)  # active, owner = SHOWCASE_BUILD_DRAFT (legitimate)
    BUILD_DRAFT_BINDING = _wk7("1f1", 1)
    MISSING_DRAFT_WORKSPACE = _wk7("1f0", 2)  # active, its build draft is gone (leak)
    MISSING_DRAFT_BINDING = _wk7("1f1", 2)
    ARCHIVED_AGENT_WORKSPACE = _wk7("1f0", 3)  # active conversation workspace of an archived agent
    ARCHIVED_AGENT_BINDING = _wk7("1f1", 3)  # active binding of ARCHIVED_BOUND_AGENT (leak)
    EMPTY_WORKSPACE = _wk7("1f0", 4)  # active, no active binding (inconsistent)
    EMPTY_WORKSPACE_BINDING = _wk7("1f1", 4)  # its only binding, retired
    RETIRED_WORKSPACE = _wk7("1f0", 5)  # retired, yet one binding is still active (inconsistent)
    ACTIVE_IN_RETIRED_BINDING = _wk7("1f1", 5)
    GUARD_MISMATCH_WORKSPACE = _wk7("1f0", 6)  # status retired but active_guard 1 (inconsistent)
    UNCOLLECTED_WORKSPACE = _wk7("1f0", 7)  # retired 12 days ago with its binding, never collected
    UNCOLLECTED_BINDING = _wk7("1f1", 7)
    MISSING_APP_WORKSPACE = _wk7("1f0", 8)  # active, its app no longer exists (leak)
    MISSING_APP_BINDING = _wk7("1f1", 8)
    PENDING_FORM_WORKSPACE = _wk7("1f0", 9)  # a live chat waiting for a human: never touch
    PENDING_FORM_BINDING = _wk7("1f1", 9)
    DANGLING_BINDING = _wk7("f00", 0x12)  # named by a conversation pointer and a workspace-less binding
    MISSING_WORKSPACE_BINDING = _wk7("1f1", 10)  # workspace_id names no workspace (health)
    MISSING_WORKSPACE = _wk7("f00", 0x13)

    # --- core rows ---
    PENDING_FORM_CONVERSATION = _wk4("510", 1)  # live conversation, waiting for a human-input form
    DANGLING_POINTER_CONVERSATION = _wk4("510", 2)  # agent_workspace_binding_id names nothing
    BUILD_DEBUG_CONVERSATION = _wk4("510", 3)  # Maya's build-draft debug conversation
    EMPTY_CONVERSATION = _wk4("510", 4)  # owner of EMPTY_WORKSPACE: a real, live chat (so: inconsistent)
    MISSING_APP = _wk4("f10", 1)  # named by MISSING_APP_WORKSPACE, no apps row
    MISSING_BACKING_APP = _wk4("f10", 2)  # backing_app_id of SAVED_AS_NEW_AGENT, no apps row


class WorkspacesSink(_Sink):
    """A `_Sink` that writes the workspaces generation: runtime sessions become working environments.

    Memory stays bounded: the sessions of one run or conversation arrive together, so workspaces are
    kept open only for the most recent owners (and written once they fall out of that window).
    """

    def __init__(
        self, conn: sa.Connection, *, now: datetime, seed: int, chunk_size: int = CHUNK_SIZE
    ) -> None:
        super().__init__(conn, chunk_size, generation=WORKSPACES)
        self.now = now
        self.rng = random.Random(f"{seed}/workspaces")
        self.open: OrderedDict[tuple[str, ...], dict[str, Any]] = OrderedDict()  # scope key -> workspace row
        self.held_conversations: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.runs: OrderedDict[str, dict[str, Any]] = OrderedDict()  # recent workflow runs by id
        self.snapshot_has_model: dict[str, bool] = {}  # snapshot id -> has a model (until its agent row)
        # agent id -> [(snapshot id, text)] of the agents add_story builds drafts of, in version order
        self.snapshot_texts: dict[str, list[tuple[str, str]]] = {}
        self.node_index: dict[str, int] = {}
        self.window = chunk_size

    # --- interception ---------------------------------------------------------------------------

    def add(self, model: type, **values: Any) -> None:
        if model is AgentRuntimeSession:
            self._session(values)
            return
        if model is Conversation:
            self._release_conversations()
            self.held_conversations[values["id"]] = values
            return
        self._release_conversations()
        if model is WorkflowRun:
            self.runs[values["id"]] = values
            while len(self.runs) > self.window:
                self.runs.popitem(last=False)
        elif model is AgentConfigSnapshot:
            self._snapshot(values)
        elif model is Agent:
            self._agent(values)
        super().add(model, **values)

    def flush(self, name: str | None = None) -> None:
        if name is None:
            self._release_conversations()
            while self.open:
                self._close_oldest()
        super().flush(name)

    def _release_conversations(self) -> None:
        while self.held_conversations:
            _, row = self.held_conversations.popitem(last=False)
            super().add(Conversation, **row)

    # --- agents and snapshots --------------------------------------------------------------------

    def _snapshot(self, values: dict[str, Any]) -> None:
        text = values["config_snapshot"] or ""
        self.snapshot_has_model[values["id"]] = '"model":{' in text.replace(" ", "")
        if len(self.snapshot_has_model) > 20 * self.window:  # bulk agents finish right after their saves
            self.snapshot_has_model.clear()
        if values["agent_id"] in (DemoIds.SHOWCASE_AGENT, DemoIds.GEN_E_AGENT):
            self.snapshot_texts.setdefault(values["agent_id"], []).append((values["id"], text))
        if values["agent_id"] == DemoIds.GEN_E_AGENT:
            values["home_snapshot_id"] = WorkspaceIds.HOME_REFERENCED

    def _agent(self, values: dict[str, Any]) -> None:
        roster = values["scope"] == "roster"
        active = values["active_config_snapshot_id"]
        values["role"] = self.rng.choice(ROLES) if roster else ""
        values["active_config_has_model"] = bool(active and self.snapshot_has_model.get(active))
        values["active_config_is_published"] = bool(roster and active and self.rng.random() < 0.9)
        if values["id"] == DemoIds.SAVED_AS_NEW_AGENT:
            values["backing_app_id"] = WorkspaceIds.MISSING_BACKING_APP  # the hidden app was deleted by hand
        elif roster and values["app_id"]:
            values["backing_app_id"] = values["app_id"]  # an Agent App's agent runs in that app
        elif roster and values["status"] == "active":
            app_id = _v4(self.rng)  # the hidden app Dify creates for a roster agent
            values["backing_app_id"] = app_id
            super().add(
                App,
                id=app_id,
                tenant_id=values["tenant_id"],
                name=values["name"],
                mode="agent",
                icon_type="emoji",
                icon="🤖",
                status="normal",
                workflow_id=None,
                created_at=values["created_at"],
                updated_at=values["created_at"],
            )

    # --- sessions -> workspaces + bindings -------------------------------------------------------

    def _session(self, s: dict[str, Any]) -> None:
        workflow = s["owner_type"] == "workflow_run"
        if workflow:
            owner_id, scope_key = s["workflow_run_id"], f"{s['node_id']}:{s['binding_id']}"
        else:
            owner_id, scope_key = s["conversation_id"], "root"
        key = (s["tenant_id"], s["owner_type"], owner_id, scope_key)
        active = s["status"] == "active"
        retired_at = s["cleaned_at"]
        # Retired and collected: Dify's collector deleted the row. A few were never collected.
        collected = not active and self.rng.random() >= UNCOLLECTED_SHARE
        workspace = self.open.get(key)
        if workspace is None:
            workspace = {
                "id": _v7(s["created_at"], self.rng),
                "tenant_id": s["tenant_id"],
                "app_id": s["app_id"],
                "owner_type": s["owner_type"],
                "owner_id": owner_id,
                "owner_scope_key": scope_key,
                "backend_workspace_ref": f"sbx-{_hex(self.rng, 20)}",
                "created_at": s["created_at"],
                "bindings": [],
            }
            self.open[key] = workspace
            while len(self.open) > self.window:
                self._close_oldest()
        self.open.move_to_end(key)
        run = self.runs.get(owner_id) if workflow else None
        paused = run is not None and run["status"] == "paused"
        binding = {
            "id": s["id"],
            "tenant_id": s["tenant_id"],
            "app_id": s["app_id"],
            "workspace_id": workspace["id"],
            "agent_id": s["agent_id"],
            "base_home_snapshot_id": None,
            "agent_config_version_id": s["agent_config_snapshot_id"] or DemoIds.MISSING_SNAPSHOT,
            "agent_config_version_kind": "snapshot",
            "backend_binding_ref": f"run-{s['backend_run_id'] or _hex(self.rng, 16)}",
            "session_snapshot": s["session_snapshot"],
            "status": "active" if active else "retired",
            "retired_at": None if active else retired_at,
            "pending_form_id": _v4(self.rng) if paused and active else None,
            "pending_tool_call_id": f"call_{_hex(self.rng, 12)}" if paused and active else None,
            "created_at": s["created_at"],
            "updated_at": s["updated_at"],
            "collected": collected,
        }
        workspace["bindings"].append(binding)
        if not workflow and s["conversation_id"] in self.held_conversations:
            self.held_conversations[s["conversation_id"]]["agent_workspace_binding_id"] = s["id"]
        if workflow:
            self._node_execution(s, run, binding)

    def _node_execution(self, s: dict[str, Any], run: dict[str, Any] | None, binding: dict[str, Any]) -> None:
        if run is None:  # the run row is gone (or never existed): so are its node executions
            return
        index = self.node_index.get(run["id"], 0) + 1
        self.node_index = {run["id"]: index}
        ended = run["finished_at"] is not None
        super().add(
            WorkflowNodeExecution,
            id=str(_uuid_of(s["node_execution_id"], self.rng)),
            tenant_id=s["tenant_id"],
            app_id=s["app_id"],
            workflow_id=s["workflow_id"],
            triggered_from="workflow-run" if run["triggered_from"] != "debugging" else "single-step",
            workflow_run_id=run["id"],
            index=index,
            node_id=s["node_id"],
            node_type="agent",
            title=f"Agent {s['node_id'][-4:]}",
            status="succeeded" if ended else run["status"],
            created_by_role=run["created_by_role"],
            created_by=run["created_by"],
            created_at=s["created_at"],
            finished_at=s["updated_at"] if ended else None,
            agent_workspace_binding_id=binding["id"],
        )

    def _close_oldest(self) -> None:
        _, workspace = self.open.popitem(last=False)
        self.write_workspace(workspace)

    def write_workspace(self, workspace: dict[str, Any], *, guard_mismatch: bool = False) -> None:
        """Write a workspace and the bindings that were not collected; a workspace is active while one of
        its bindings is (Dify retires the workspace with its last active binding)."""
        bindings = workspace.pop("bindings")
        active = workspace.pop("status", None) or (
            "active" if any(b["status"] == "active" for b in bindings) else "retired"
        )
        retired_at = None
        if active == "retired":
            retired_at = workspace.pop("retired_at", None) or max(
                b["retired_at"] or b["updated_at"] for b in bindings
            )
        kept = [b for b in bindings if not b.pop("collected", False)]
        if active == "retired" and not kept and not workspace.pop("keep", False):
            return  # collected together with its bindings
        workspace.pop("keep", None)
        workspace.pop("retired_at", None)
        updated = max([workspace["created_at"], *(b["updated_at"] for b in bindings)])
        super().add(
            AgentWorkspace,
            **workspace,
            status=active,
            active_guard=1 if active == "active" or guard_mismatch else None,
            retired_at=retired_at,
            updated_at=updated,
        )
        for binding in kept:
            super().add(AgentWorkspaceBinding, **binding)


def _uuid_of(value: str | None, rng: random.Random) -> str:
    """The node execution id a session recorded (a uuid string), or a fresh one."""
    import uuid

    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError):
        return _v4(rng)


# ============================================================================================
# The 1.16/1.17 rows the session story has no counterpart for
# ============================================================================================


def _doc(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _latest(sink: WorkspacesSink, agent_id: str) -> tuple[str, dict[str, Any]]:
    """The newest snapshot (the active one: every save moves the pointer) of an agent and its document."""
    snapshot_id, text = sink.snapshot_texts[agent_id][-1]
    return snapshot_id, _doc(text)


def add_story(ctx: _Ctx, tenants: Sequence[_Tenant]) -> None:
    """Drafts, home snapshots, build drafts, debug conversations, and hand-placed leaks (WorkspaceIds)."""
    sink = ctx.sink
    assert isinstance(sink, WorkspacesSink)
    sink.flush()  # close every workspace the story opened: the rows below are placed by hand
    rng = random.Random(f"{ctx.seed}/workspaces/story")
    acme, northwind = tenants[0], tenants[1]
    maya, kenji = acme.members[0], acme.members[1]
    W = WorkspaceIds

    # --- home snapshots -----------------------------------------------------------------------
    for home_id, tenant, agent_id, age, status, retired in (
        (W.HOME_REFERENCED, northwind, DemoIds.GEN_E_AGENT, 40, "active", None),
        (W.HOME_UNREFERENCED, northwind, DemoIds.GEN_E_AGENT, 30, "active", None),
        (W.HOME_RETIRED_UNCOLLECTED, acme, DemoIds.SHOWCASE_AGENT, 20, "retired", ctx.ago(9)),
        (W.HOME_RETIRED_REFERENCED, acme, DemoIds.SHOWCASE_AGENT, 15, "retired", ctx.ago(2)),
    ):
        sink.add(
            AgentHomeSnapshot,
            id=home_id,
            tenant_id=tenant.id,
            agent_id=agent_id,
            snapshot_ref=f"home/{tenant.id[:8]}/{_hex(rng, 24)}",
            created_at=ctx.ago(age),
            status=status,
            retired_at=retired,
        )

    # --- drafts -------------------------------------------------------------------------------
    showcase_id, showcase = _latest(sink, DemoIds.SHOWCASE_AGENT)
    changed = copy.deepcopy(showcase)
    prompt = changed.setdefault("prompt", {})
    prompt["system_prompt"] = (prompt.get("system_prompt") or "") + "\nOffer a callback for billing disputes."
    gen_e_id, gen_e = _latest(sink, DemoIds.GEN_E_AGENT)
    gen_e_draft = _gen_e_draft(gen_e, rng)

    def draft(
        draft_id: str,
        tenant: _Tenant,
        agent_id: str,
        doc: dict[str, Any],
        *,
        base: str | None,
        age: float,
        build_for: Any = None,
        home: str | None = None,
        binding: str | None = None,
    ) -> None:
        at = ctx.ago(age)
        sink.add(
            AgentConfigDraft,
            id=draft_id,
            tenant_id=tenant.id,
            agent_id=agent_id,
            draft_type="debug_build" if build_for else "draft",
            account_id=build_for.id if build_for else None,
            draft_owner_key=build_for.id if build_for else "",
            base_snapshot_id=base,
            config_snapshot=_orm_json(doc),
            created_by=(build_for or maya).id,
            updated_by=(build_for or kenji).id,
            created_at=at - timedelta(days=2),
            updated_at=at,
            home_snapshot_id=home,
            agent_workspace_binding_id=binding,
        )

    draft(W.SHOWCASE_SHARED_DRAFT, acme, DemoIds.SHOWCASE_AGENT, changed, base=showcase_id, age=0.2)
    draft(
        W.SHOWCASE_BUILD_DRAFT,
        acme,
        DemoIds.SHOWCASE_AGENT,
        showcase,
        base=showcase_id,
        age=0.05,
        build_for=maya,
        home=W.HOME_RETIRED_REFERENCED,
        binding=W.BUILD_DRAFT_BINDING,
    )
    draft(
        W.GEN_E_SHARED_DRAFT,
        northwind,
        DemoIds.GEN_E_AGENT,
        gen_e_draft,
        base=gen_e_id,
        age=1,
        home=W.HOME_REFERENCED,
    )
    draft(
        W.MISSING_BASE_DRAFT,
        acme,
        DemoIds.SAVED_AS_NEW_AGENT,
        showcase,
        base=DemoIds.MISSING_SNAPSHOT,
        age=6,
    )
    draft(
        W.MISSING_HOME_DRAFT,
        northwind,
        DemoIds.GEN_E_AGENT,
        gen_e,
        base=gen_e_id,
        age=3,
        build_for=northwind.members[1],
        home=W.MISSING_HOME,
    )
    sink.add(
        Conversation,
        id=W.BUILD_DEBUG_CONVERSATION,
        app_id=DemoIds.APP_SUPPORT_ASSISTANT,
        mode="agent",
        name="Build draft debugging",
        inputs={},
        status="normal",
        from_source="console",
        from_end_user_id=None,
        from_account_id=maya.id,
        is_deleted=False,
        created_at=ctx.ago(0.05),
        updated_at=ctx.ago(0.01),
        agent_workspace_binding_id=W.BUILD_DRAFT_BINDING,
    )
    sink.add(
        AgentDebugConversation,
        id=_v7(ctx.ago(0.05), rng),
        tenant_id=acme.id,
        agent_id=DemoIds.SHOWCASE_AGENT,
        app_id=DemoIds.APP_SUPPORT_ASSISTANT,
        account_id=maya.id,
        conversation_id=W.BUILD_DEBUG_CONVERSATION,
        draft_type="debug_build",
        created_at=ctx.ago(0.05),
        updated_at=ctx.ago(0.01),
    )

    # --- hand-placed workspaces ----------------------------------------------------------------
    def workspace(
        workspace_id: str,
        binding_ids: Sequence[tuple[str, str]],
        *,
        tenant: _Tenant,
        app_id: str,
        owner_type: str,
        owner_id: str,
        agent_id: str,
        age: float,
        version: tuple[str, str] | None = None,
        status: str | None = None,
        retired_age: float | None = None,
        pending: bool = False,
        guard_mismatch: bool = False,
    ) -> None:
        at = ctx.ago(age)
        retired_at = ctx.ago(retired_age) if retired_age is not None else None
        version_id, kind = version or (showcase_id, "snapshot")
        bindings = [
            {
                "id": binding_id,
                "tenant_id": tenant.id,
                "app_id": app_id,
                "workspace_id": workspace_id,
                "agent_id": agent_id,
                "base_home_snapshot_id": None,
                "agent_config_version_id": version_id,
                "agent_config_version_kind": kind,
                "backend_binding_ref": f"run-{_hex(rng, 16)}",
                "session_snapshot": '{"schema_version":1,"layers":[{"name":"history","lifecycle_state":'
                '"suspended","runtime_state":{"messages":[]}}]}',
                "status": binding_status,
                "retired_at": retired_at if binding_status == "retired" else None,
                "pending_form_id": _v4(rng) if pending else None,
                "pending_tool_call_id": f"call_{_hex(rng, 12)}" if pending else None,
                "created_at": at,
                "updated_at": retired_at or at + timedelta(minutes=5),
            }
            for binding_id, binding_status in binding_ids
        ]
        row: dict[str, Any] = {
            "id": workspace_id,
            "tenant_id": tenant.id,
            "app_id": app_id,
            "owner_type": owner_type,
            "owner_id": owner_id,
            "owner_scope_key": "root",
            "backend_workspace_ref": f"sbx-{_hex(rng, 20)}",
            "created_at": at,
            "bindings": bindings,
            "keep": True,
        }
        if status:
            row["status"] = status
        if retired_at:
            row["retired_at"] = retired_at
        sink.write_workspace(row, guard_mismatch=guard_mismatch)

    app = DemoIds.APP_SUPPORT_ASSISTANT
    workspace(
        W.BUILD_DRAFT_WORKSPACE,
        [(W.BUILD_DRAFT_BINDING, "active")],
        tenant=acme,
        app_id=app,
        owner_type="build_draft",
        owner_id=W.SHOWCASE_BUILD_DRAFT,
        agent_id=DemoIds.SHOWCASE_AGENT,
        age=0.05,
        version=(W.SHOWCASE_BUILD_DRAFT, "build_draft"),
    )
    workspace(
        W.MISSING_DRAFT_WORKSPACE,
        [(W.MISSING_DRAFT_BINDING, "active")],
        tenant=acme,
        app_id=app,
        owner_type="build_draft",
        owner_id=W.MISSING_DRAFT,
        agent_id=DemoIds.SHOWCASE_AGENT,
        age=11,
        version=(W.MISSING_DRAFT, "build_draft"),
    )
    workspace(
        W.ARCHIVED_AGENT_WORKSPACE,
        [(W.ARCHIVED_AGENT_BINDING, "active")],
        tenant=acme,
        app_id=DemoIds.APP_RESEARCH_DIGEST,
        owner_type="conversation",
        owner_id=_v4(rng),
        agent_id=DemoIds.ARCHIVED_BOUND_AGENT,
        age=20,
    )
    # The owner exists (a live chat), so the empty workspace is `inconsistent`, not `orphaned`. Its
    # pointer names the retired binding. The one rng draw stays where the owner id used to be drawn.
    sink.add(
        Conversation,
        id=W.EMPTY_CONVERSATION,
        app_id=app,
        mode="agent",
        name="Change my delivery address",
        inputs={},
        status="normal",
        from_source="api",
        from_end_user_id=_v4(rng),
        from_account_id=None,
        is_deleted=False,
        created_at=ctx.ago(5),
        updated_at=ctx.ago(4),
        agent_workspace_binding_id=W.EMPTY_WORKSPACE_BINDING,
    )
    workspace(
        W.EMPTY_WORKSPACE,
        [(W.EMPTY_WORKSPACE_BINDING, "retired")],
        tenant=acme,
        app_id=app,
        owner_type="conversation",
        owner_id=W.EMPTY_CONVERSATION,
        agent_id=DemoIds.SHOWCASE_AGENT,
        age=5,
        status="active",
        retired_age=4,
    )
    workspace(
        W.RETIRED_WORKSPACE,
        [(W.ACTIVE_IN_RETIRED_BINDING, "active")],
        tenant=acme,
        app_id=app,
        owner_type="conversation",
        owner_id=_v4(rng),
        agent_id=DemoIds.SHOWCASE_AGENT,
        age=8,
        status="retired",
        retired_age=7,
    )
    workspace(
        W.GUARD_MISMATCH_WORKSPACE,
        [],
        tenant=acme,
        app_id=app,
        owner_type="conversation",
        owner_id=_v4(rng),
        agent_id=DemoIds.SHOWCASE_AGENT,
        age=9,
        status="retired",
        retired_age=8,
        guard_mismatch=True,
    )
    workspace(
        W.UNCOLLECTED_WORKSPACE,
        [(W.UNCOLLECTED_BINDING, "retired")],
        tenant=northwind,
        app_id=app,
        owner_type="conversation",
        owner_id=_v4(rng),
        agent_id=DemoIds.GEN_E_AGENT,
        age=14,
        status="retired",
        retired_age=12,
        version=(gen_e_id, "snapshot"),
    )
    workspace(
        W.MISSING_APP_WORKSPACE,
        [(W.MISSING_APP_BINDING, "active")],
        tenant=acme,
        app_id=W.MISSING_APP,
        owner_type="conversation",
        owner_id=_v4(rng),
        agent_id=DemoIds.SHOWCASE_AGENT,
        age=16,
    )
    sink.add(
        Conversation,
        id=W.PENDING_FORM_CONVERSATION,
        app_id=app,
        mode="agent",
        name="Refund over the approval limit",
        inputs={"customer_tier": "enterprise"},
        status="normal",
        from_source="api",
        from_end_user_id=_v4(rng),
        from_account_id=None,
        is_deleted=False,
        created_at=ctx.ago(0, hours=3),
        updated_at=ctx.ago(0, hours=2),
        agent_workspace_binding_id=W.PENDING_FORM_BINDING,
    )
    workspace(
        W.PENDING_FORM_WORKSPACE,
        [(W.PENDING_FORM_BINDING, "active")],
        tenant=acme,
        app_id=app,
        owner_type="conversation",
        owner_id=W.PENDING_FORM_CONVERSATION,
        agent_id=DemoIds.SHOWCASE_AGENT,
        age=0.125,
        pending=True,
    )
    # A binding whose workspace does not exist, and a conversation pointing at a binding that does not.
    sink.add(
        AgentWorkspaceBinding,
        id=W.MISSING_WORKSPACE_BINDING,
        tenant_id=acme.id,
        app_id=app,
        workspace_id=W.MISSING_WORKSPACE,
        agent_id=DemoIds.SHOWCASE_AGENT,
        base_home_snapshot_id=None,
        agent_config_version_id=showcase_id,
        agent_config_version_kind="snapshot",
        backend_binding_ref=f"run-{_hex(rng, 16)}",
        session_snapshot=None,
        status="active",
        retired_at=None,
        pending_form_id=None,
        pending_tool_call_id=None,
        created_at=ctx.ago(21),
        updated_at=ctx.ago(21),
    )
    sink.add(
        Conversation,
        id=W.DANGLING_POINTER_CONVERSATION,
        app_id=app,
        mode="agent",
        name="Where is my order?",
        inputs={},
        status="normal",
        from_source="api",
        from_end_user_id=_v4(rng),
        from_account_id=None,
        is_deleted=False,
        created_at=ctx.ago(30),
        updated_at=ctx.ago(29),
        agent_workspace_binding_id=W.DANGLING_BINDING,
    )


def _gen_e_draft(doc: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """The Gen E draft: the CLI tool renamed (same id), a new note, one more file, a knowledge tweak."""
    draft = copy.deepcopy(doc)
    draft["config_note"] = "Draft: add the 2027 template and rename the PDF tool."
    for tool in (draft.get("tools") or {}).get("cli_tools") or []:
        tool["name"] = "pdf-render-v2"
        tool["command"] = "pdf-render --from markdown --to pdf --template 2027"
    files = draft.setdefault("config_files", [])
    files.append(
        {
            "name": "discharge_template_2027.docx",
            "file_kind": "upload_file",
            "file_id": _v4(rng),
            "size": 50211,
            "hash": f"sha256:{_hex(rng, 64)}",
            "mime_type": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        }
    )
    for knowledge_set in (draft.get("knowledge") or {}).get("sets") or []:
        knowledge_set.setdefault("retrieval", {})["top_k"] = 8
    return draft
