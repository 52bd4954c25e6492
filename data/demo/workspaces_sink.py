"""The demo's `workspaces` generation (Dify 1.17+): the same story, as working environments.

`data.demo` tells the story once (`stories/`); for this generation its rows go through
`WorkspacesSink`, which writes what a Dify 1.17 database holds instead of runtime sessions:

* every runtime session becomes an `agent_workspace_bindings` row (same id, same session state) in
  the workspace of its owner scope: a workflow run's node (`<node_id>:<binding id>`) or a
  conversation (`root`); active sessions stay active; cleaned ones were retired and, mostly, collected
  (row deleted), a few never collected (still retired, long after `retired_at`);
* a paused run's bindings wait for a human (`pending_form_id`): they must never be touched;
* conversations point at their binding; agent nodes get `workflow_node_executions` rows;
* agents get the 1.15/1.16 columns (role, backing app, has-a-model / published flags);

and `data.demo.stories.workspaces` adds the 1.16/1.17 rows the session story has no counterpart for
(drafts, home snapshots, build-draft workspaces, hand-placed leaks and inconsistencies).
Deterministic like the rest of the demo: one seeded RNG stream, every timestamp relative to `now`.
"""

from __future__ import annotations

import random
import uuid
from collections import OrderedDict
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from data.demo.builders import app_row, binding_row, workspace_row
from data.demo.ids import DemoIds, WorkspaceIds
from data.demo.primitives import _v4, _v7
from data.demo.scales import CHUNK_SIZE
from data.demo.sink import _Sink
from data.models import (
    Agent,
    AgentConfigSnapshot,
    AgentRuntimeSession,
    AgentWorkspace,
    AgentWorkspaceBinding,
    App,
    Conversation,
    WorkflowNodeExecution,
    WorkflowRun,
)
from data.models.generations import (
    WORKSPACES,
)

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
                **app_row(
                    app_id=app_id,
                    tenant_id=values["tenant_id"],
                    name=values["name"],
                    mode="agent",
                    icon="🤖",
                    created_at=values["created_at"],
                    updated_at=values["created_at"],
                ),
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
            workspace = workspace_row(
                self.rng,
                workspace_id=_v7(s["created_at"], self.rng),
                tenant_id=s["tenant_id"],
                app_id=s["app_id"],
                owner_type=s["owner_type"],
                owner_id=owner_id,
                scope_key=scope_key,
                created_at=s["created_at"],
                bindings=[],
            )
            self.open[key] = workspace
            while len(self.open) > self.window:
                self._close_oldest()
        self.open.move_to_end(key)
        run = self.runs.get(owner_id) if workflow else None
        paused = run is not None and run["status"] == "paused"
        binding = binding_row(
            self.rng,
            binding_id=s["id"],
            tenant_id=s["tenant_id"],
            app_id=s["app_id"],
            workspace_id=workspace["id"],
            agent_id=s["agent_id"],
            version=(s["agent_config_snapshot_id"] or DemoIds.MISSING_SNAPSHOT, "snapshot"),
            run_ref=s["backend_run_id"],
            session_snapshot=s["session_snapshot"],
            status="active" if active else "retired",
            retired_at=None if active else retired_at,
            pending=paused and active,
            created_at=s["created_at"],
            updated_at=s["updated_at"],
        )
        binding["collected"] = collected
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

    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError):
        return _v4(rng)
