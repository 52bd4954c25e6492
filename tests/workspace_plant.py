"""Planted Dify 1.17+ working-environment rows: one row per case every rule must match or must skip.

Used by tests/test_workspaces.py on SQLite, PostgreSQL and MariaDB. The tables come from the mirror's
metadata (the 1.17 generation: no agent_runtime_sessions); the rows are inserted with Core, and every
NOT NULL column a case does not care about gets a neutral value (`insert`).
"""

from __future__ import annotations

import contextlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from data.models import (
    Agent,
    AgentConfigSnapshot,
    App,
    Conversation,
    DifyBase,
    Tenant,
    WorkflowPause,
    WorkflowRun,
    uuidv7,
)
from data.models.drafts import AgentConfigDraft
from data.models.workspaces import AgentHomeSnapshot, AgentWorkspace, AgentWorkspaceBinding

W, B, H = AgentWorkspace, AgentWorkspaceBinding, AgentHomeSnapshot
NOW = datetime(2026, 11, 20, 12, 0, 0)


def _ms(at: datetime) -> int:
    return int((at - datetime(1970, 1, 1)).total_seconds() * 1000)


def v7(at: datetime) -> str:
    return uuidv7(_ms(at))


def _neutral(column: sa.Column) -> Any:
    kind = column.type
    python = None
    with contextlib.suppress(NotImplementedError, AttributeError):
        python = kind.python_type
    name = type(kind).__name__.lower()
    if "uuid" in name:
        return str(uuid.uuid4())
    if python is datetime:
        return NOW
    if python is bool:
        return False
    if python is int:
        return 0
    if isinstance(kind, sa.JSON):
        return {}
    return "x"


def insert(conn: sa.Connection, model: Any, **values: Any) -> str:
    """Insert one row, filling NOT NULL columns without a default; returns its id."""
    row = dict(values)
    for column in model.__table__.columns:
        if column.name in row or column.nullable or column.server_default is not None:
            continue
        if column.default is not None and not callable(getattr(column.default, "arg", None)):
            row[column.name] = column.default.arg
            continue
        row[column.name] = v7(NOW - timedelta(days=400)) if column.primary_key else _neutral(column)
    conn.execute(sa.insert(model.__table__).values(**row))
    return row["id"]


def create_tables(engine: sa.Engine) -> None:
    """The 1.17+ mirror tables (no agent_runtime_sessions) and Agent Desk's own branch."""
    from data import migrate

    tables = [t for name, t in DifyBase.metadata.tables.items() if name != "agent_runtime_sessions"]
    DifyBase.metadata.create_all(engine, tables=tables)
    migrate.upgrade(engine, "app")


SNAPSHOT_DOC = json.dumps(
    {
        "schema_version": 1,
        "layers": [
            {
                "name": "history",
                "lifecycle_state": "suspended",
                "runtime_state": {"messages": ["planted private chat"]},
            },
            {
                "name": "files",
                "lifecycle_state": "active",
                "runtime_state": {"token": "sk-planted-secret-0001"},
            },
        ],
    }
)


@dataclass
class Planted:
    tenant: str
    app: str
    agent: str
    archived_agent: str
    #: id -> the rule its row must carry (None: must match no rule)
    workspaces: dict[str, str | None] = field(default_factory=dict)
    bindings: dict[str, str | None] = field(default_factory=dict)
    homes: dict[str, str | None] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # case name -> id

    def id(self, name: str) -> str:
        return self.names[name]


def plant(conn: sa.Connection, *, tenant: str | None = None, now: datetime = NOW) -> Planted:
    """Every case once, in one tenant (created unless given)."""
    if tenant is None:
        tenant = insert(conn, Tenant, id=str(uuid.uuid4()), name="Planted workspace")
    app = insert(conn, App, id=str(uuid.uuid4()), tenant_id=tenant, name="Planted app", mode="agent-chat")
    agent = insert(
        conn, Agent, id=v7(now - timedelta(days=90)), tenant_id=tenant, name="Planted agent", status="active"
    )
    archived = insert(
        conn,
        Agent,
        id=v7(now - timedelta(days=89)),
        tenant_id=tenant,
        name="Archived agent",
        status="archived",
    )
    snapshot = insert(
        conn,
        AgentConfigSnapshot,
        id=v7(now - timedelta(days=80)),
        tenant_id=tenant,
        agent_id=agent,
        version=1,
    )
    p = Planted(tenant, app, agent, archived)
    clock = [now - timedelta(days=60)]

    def tick() -> datetime:
        clock[0] += timedelta(minutes=7)
        return clock[0]

    def conversation(*, deleted: bool = False) -> str:
        return insert(
            conn,
            Conversation,
            id=str(uuid.uuid4()),
            app_id=app,
            name="chat",
            mode="agent-chat",
            inputs={},
            status="normal",
            from_source="api",
            is_deleted=deleted,
        )

    def run(status: str, *, pause: bool = False) -> str:
        rid = str(uuid.uuid4())
        insert(
            conn,
            WorkflowRun,
            id=rid,
            tenant_id=tenant,
            app_id=app,
            workflow_id=str(uuid.uuid4()),
            type="workflow",
            triggered_from="app-run",
            version="v1",
            status=status,
            created_by_role="account",
            created_by=str(uuid.uuid4()),
        )
        if pause:
            insert(
                conn,
                WorkflowPause,
                id=str(uuid.uuid4()),
                workflow_id=str(uuid.uuid4()),
                workflow_run_id=rid,
                state_object_key="k",
                resumed_at=None,
            )
        return rid

    def draft() -> str:
        return insert(
            conn,
            AgentConfigDraft,
            id=v7(tick()),
            tenant_id=tenant,
            agent_id=agent,
            draft_type="debug_build",
            account_id=str(uuid.uuid4()),
            draft_owner_key=str(uuid.uuid4()),
            config_snapshot="{}",
        )

    def workspace(
        name: str,
        rule: str | None,
        owner_type: str,
        owner_id: str,
        *,
        status: str = "active",
        guard: int | str | None = "auto",
        retired_at: datetime | None = None,
        app_id: str | None = None,
    ) -> str:
        at = tick()
        wid = v7(at)
        insert(
            conn,
            W,
            id=wid,
            tenant_id=tenant,
            app_id=app_id or app,
            owner_type=owner_type,
            owner_id=owner_id,
            owner_scope_key="root" if owner_type != "workflow_run" else f"node_{name}:{uuid.uuid4()}",
            backend_workspace_ref=f"sandbox-{name}",
            status=status,
            active_guard=(1 if status == "active" else None) if guard == "auto" else guard,
            retired_at=retired_at,
            created_at=at,
            updated_at=at,
        )
        p.workspaces[wid] = rule
        p.names[f"w:{name}"] = wid
        return wid

    def binding(
        name: str,
        rule: str | None,
        wid: str,
        *,
        status: str = "active",
        updated: datetime | None = None,
        retired_at: datetime | None = None,
        agent_id: str | None = None,
        pending_form: bool = False,
        pending_tool: bool = False,
        created: datetime | None = None,
    ) -> str:
        at = created or tick()
        bid = v7(at)
        insert(
            conn,
            B,
            id=bid,
            tenant_id=tenant,
            app_id=app,
            workspace_id=wid,
            agent_id=agent_id or agent,
            base_home_snapshot_id=None,
            agent_config_version_id=snapshot,
            agent_config_version_kind="snapshot",
            backend_binding_ref=f"binding-{name}",
            session_snapshot=SNAPSHOT_DOC,
            status=status,
            retired_at=retired_at,
            pending_form_id=str(uuid.uuid4()) if pending_form else None,
            pending_tool_call_id="call_planted" if pending_tool else None,
            created_at=at,
            updated_at=updated or now - timedelta(hours=1),
        )
        p.bindings[bid] = rule
        p.names[f"b:{name}"] = bid
        return bid

    recent_retired = now - timedelta(hours=1)
    old_retired = now - timedelta(days=3)
    # finished-run: the workspace and its binding.
    w = workspace("run_done", "finished-run", "workflow_run", run("succeeded"))
    binding("run_done", "finished-run", w)
    w = workspace("run_failed", "finished-run", "workflow_run", run("failed"))
    binding("run_failed", "finished-run", w)
    # Never: a paused run (status), a running run with an open pause, a pending form, a pending tool call.
    w = workspace("run_paused", None, "workflow_run", run("paused"))
    binding("run_paused", None, w, pending_form=True)
    w = workspace("run_open_pause", None, "workflow_run", run("succeeded", pause=True))
    binding("run_open_pause", None, w, updated=now - timedelta(days=30))
    w = workspace("run_running_idle", None, "workflow_run", run("running"))
    binding("run_running_idle", None, w, updated=now - timedelta(days=30))
    # orphaned: conversation deleted / missing, draft missing, run row missing, app missing.
    w = workspace("conv_deleted", "orphaned", "conversation", conversation(deleted=True))
    binding("conv_deleted", "orphaned", w)
    w = workspace("conv_missing", "orphaned", "conversation", str(uuid.uuid4()))
    binding("conv_missing", "orphaned", w)
    w = workspace("draft_missing", "orphaned", "build_draft", str(uuid.uuid4()))
    binding("draft_missing", "orphaned", w)
    w = workspace("run_missing", "orphaned", "workflow_run", str(uuid.uuid4()))
    binding("run_missing", "orphaned", w)
    w = workspace("app_missing", "orphaned", "conversation", conversation(), app_id=str(uuid.uuid4()))
    binding("app_missing", None, w)  # the binding's own app exists; its workspace carries the rule
    # A deleted conversation whose binding waits for a form: protected, and so is its workspace.
    w = workspace("conv_deleted_pending", None, "conversation", conversation(deleted=True))
    binding("conv_deleted_pending", None, w, pending_form=True)
    # Bindings orphaned by their agent (archived / missing) in a live workspace.
    w = workspace("live_archived_agent", None, "conversation", conversation())
    binding("archived_agent", "orphaned", w, agent_id=archived)
    binding("missing_agent", "orphaned", w, agent_id=str(uuid.uuid4()))
    binding("live_next_to_archived", None, w)
    # A binding whose workspace row is missing.
    binding("no_workspace", "orphaned", str(uuid.uuid4()))
    # inconsistent.
    workspace("empty", "inconsistent", "conversation", conversation())
    w = workspace("guard_null", "inconsistent", "conversation", conversation(), guard=None)
    binding("in_guard_null", None, w)
    workspace(
        "retired_guard",
        "inconsistent",
        "conversation",
        conversation(),
        status="retired",
        guard=1,
        retired_at=recent_retired,
    )
    w = workspace(
        "retired_with_active",
        None,
        "conversation",
        conversation(),
        status="retired",
        retired_at=recent_retired,
    )
    binding("active_in_retired", "inconsistent", w)
    w = workspace("dup", None, "conversation", conversation())
    binding("dup_old", "inconsistent", w)
    binding("dup_new", None, w)
    # idle (a live chat), and an idle one with a pending tool call (protected).
    w = workspace("idle", None, "conversation", conversation())
    binding("idle", "idle", w, updated=now - timedelta(days=30))
    w = workspace("idle_pending", None, "conversation", conversation())
    binding("idle_pending", None, w, updated=now - timedelta(days=30), pending_tool=True)
    # A build draft that exists: nothing.
    w = workspace("draft_ok", None, "build_draft", draft())
    binding("draft_ok", None, w)
    # uncollected: retired 3 days ago; retired an hour ago is not.
    w = workspace(
        "uncollected",
        "uncollected",
        "conversation",
        conversation(deleted=True),
        status="retired",
        retired_at=old_retired,
    )
    binding("uncollected", "uncollected", w, status="retired", retired_at=old_retired)
    w = workspace(
        "recently_retired", None, "conversation", conversation(), status="retired", retired_at=recent_retired
    )
    binding("recently_retired", None, w, status="retired", retired_at=recent_retired)
    # A plain live chat.
    w = workspace("live", None, "conversation", conversation())
    binding("live", None, w)
    # Home snapshots.
    for name, rule, status, retired, referenced in (
        ("home_old", "uncollected", "retired", old_retired, False),
        ("home_referenced", None, "retired", old_retired, True),
        ("home_recent", None, "retired", recent_retired, False),
        ("home_active", None, "active", None, False),
    ):
        hid = insert(
            conn,
            H,
            id=v7(tick()),
            tenant_id=tenant,
            agent_id=agent,
            snapshot_ref=f"ref-{name}",
            status=status,
            retired_at=retired,
            created_at=now - timedelta(days=10),
        )
        if referenced:
            insert(
                conn,
                AgentConfigSnapshot,
                id=v7(tick()),
                tenant_id=tenant,
                agent_id=agent,
                version=2,
                home_snapshot_id=hid,
            )
        p.homes[hid] = rule
        p.names[f"h:{name}"] = hid
    return p
