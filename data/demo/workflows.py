"""Workflow apps: draft and published rows, graphs, node bindings."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any

from data.demo.agents import _AgentBuilder, _AgentRec, _evolve
from data.demo.builders import app_row
from data.demo.catalog import _Persona
from data.demo.context import _Ctx, _Person, _Tenant
from data.demo.documents import _persona_soul
from data.demo.primitives import _compact_json, _ms, _orm_json, _v7
from data.models import (
    App,
    Workflow,
    WorkflowAgentNodeBinding,
)


@dataclass
class _BindEvent:
    """From `at` on, the node is bound like this (until the next event)."""

    at: datetime
    binding_type: str  # roster_agent | inline_agent
    agent: _AgentRec | None
    agent_id: str | None = None  # overrides agent.id: a dangling reference
    snapshot_id: str | None = None  # overrides the computed snapshot: a dangling or foreign reference


@dataclass
class _Node:
    node_id: str
    title: str
    persona: _Persona
    added_at: datetime
    job: dict[str, Any]
    events: list[_BindEvent]
    draft_binding_id: str | None = None  # a well-known id for the draft binding

    def event_at(self, at: datetime) -> _BindEvent | None:
        current = None
        for event in self.events:
            if event.at <= at:
                current = event
        return current


@dataclass
class _BindingRec:
    id: str
    node: _Node
    event: _BindEvent
    snapshot_id: str | None

    @property
    def agent_id(self) -> str | None:
        if self.event.agent_id:
            return self.event.agent_id
        return self.event.agent.id if self.event.agent else None


@dataclass
class _WorkflowRow:
    id: str
    version: str  # "draft" or str(publish time)
    at: datetime
    bindings: dict[str, _BindingRec]  # node_id -> binding, in graph order


@dataclass
class _AppRec:
    id: str
    tenant: _Tenant
    name: str
    mode: str
    created_at: datetime
    draft: _WorkflowRow
    published: list[_WorkflowRow]

    def published_at(self, at: datetime) -> _WorkflowRow | None:
        """The published row live at `at` (apps.workflow_id then)."""
        live = None
        for row in self.published:
            if row.at <= at:
                live = row
        return live


def _write_app(
    ctx: _Ctx,
    tenant: _Tenant,
    *,
    app_id: str,
    name: str,
    mode: str,
    created_at: datetime,
    updated_at: datetime,
    icon: str,
    workflow_id: str | None = None,
) -> None:
    ctx.sink.add(
        App,
        **app_row(
            app_id=app_id,
            tenant_id=tenant.id,
            name=name,
            mode=mode,
            icon=icon,
            created_at=created_at,
            updated_at=updated_at,
            workflow_id=workflow_id,
        ),
    )


def _graph(mode: str, start_id: str, nodes: Sequence[_Node]) -> str:
    """Canvas JSON: start -> agent-v2 nodes -> end (workflow) or answer (chatflow)."""
    last_id, last_type, last_title = (
        ("answer", "answer", "Answer") if mode == "advanced-chat" else ("end", "end", "End")
    )
    chain = [
        (start_id, "start", "Start"),
        *((n.node_id, "agent-v2", n.title) for n in nodes),
        (last_id, last_type, last_title),
    ]
    graph_nodes = [
        {
            "id": node_id,
            "type": "custom",
            "position": {"x": 80 + 320 * i, "y": 240},
            "data": {"type": node_type, "title": title, "desc": "", "selected": False},
        }
        for i, (node_id, node_type, title) in enumerate(chain)
    ]
    edges = [
        {
            "id": f"{a[0]}-source-{b[0]}-target",
            "type": "custom",
            "source": a[0],
            "target": b[0],
            "sourceHandle": "source",
            "targetHandle": "target",
        }
        for a, b in pairwise(chain)
    ]
    return _compact_json({"nodes": graph_nodes, "edges": edges, "viewport": {"x": 0, "y": 0, "zoom": 1}})


def _binding_snapshot(event: _BindEvent, row_at: datetime) -> str | None:
    """What `current_snapshot_id` holds for a binding row written at `row_at`.

    Inline bindings follow every composer save of their agent; roster bindings keep the snapshot that
    was active when the node was (re)bound, which is how they come to lag (section 7)."""
    if event.snapshot_id:
        return event.snapshot_id
    if event.agent is None:
        return None
    version = event.agent.version_at(row_at if event.binding_type == "inline_agent" else event.at)
    return version.id if version else None


@dataclass(frozen=True)
class _AppDraft:
    """What every workflow row of one app shares."""

    tenant: _Tenant
    app_id: str
    mode: str
    created_at: datetime
    created_by: _Person
    nodes: Sequence[_Node]

    @property
    def start_id(self) -> str:
        return str(_ms(self.created_at))


def _write_workflow_app(
    ctx: _Ctx,
    rng: random.Random,
    tenant: _Tenant,
    *,
    app_id: str,
    draft_id: str,
    name: str,
    mode: str,
    icon: str,
    created_at: datetime,
    created_by: _Person,
    publishes: Sequence[tuple[str, datetime]],
    nodes: Sequence[_Node],
) -> _AppRec:
    """The app, its draft workflow row, every published copy, and one binding per agent node per row."""
    spec = _AppDraft(tenant, app_id, mode, created_at, created_by, nodes)
    published = [_write_workflow_row(ctx, rng, spec, row_id, str(at), at, at) for row_id, at in publishes]
    last_edit = max([created_at, *(n.added_at for n in nodes), *(e.at for n in nodes for e in n.events)])
    draft = _write_workflow_row(ctx, rng, spec, draft_id, "draft", ctx.now, last_edit)
    _write_app(
        ctx,
        tenant,
        app_id=app_id,
        name=name,
        mode=mode,
        icon=icon,
        created_at=created_at,
        updated_at=max([last_edit, *(at for _, at in publishes)]),
        workflow_id=published[-1].id if published else None,
    )
    return _AppRec(app_id, tenant, name, mode, created_at, draft, published)


def _write_workflow_row(
    ctx: _Ctx,
    rng: random.Random,
    spec: _AppDraft,
    row_id: str,
    version: str,
    at: datetime,
    updated_at: datetime,
) -> _WorkflowRow:
    """One workflows row (the draft, or a published copy at `at`) and the bindings of its nodes."""
    present = [n for n in spec.nodes if n.added_at <= at]
    ctx.sink.add(
        Workflow,
        id=row_id,
        tenant_id=spec.tenant.id,
        app_id=spec.app_id,
        type="workflow" if spec.mode == "workflow" else "chat",
        version=version,
        graph=_graph(spec.mode, spec.start_id, present),
        marked_name="",
        created_by=spec.created_by.id,
        created_at=spec.created_at if version == "draft" else at,
        updated_at=updated_at,
    )
    bindings: dict[str, _BindingRec] = {}
    for node in present:
        event = node.event_at(at)
        if event is not None:
            bindings[node.node_id] = _write_binding(ctx, rng, spec, row_id, version, at, node, event)
    return _WorkflowRow(row_id, version, at, bindings)


def _write_binding(
    ctx: _Ctx,
    rng: random.Random,
    spec: _AppDraft,
    row_id: str,
    version: str,
    at: datetime,
    node: _Node,
    event: _BindEvent,
) -> _BindingRec:
    snapshot_id = _binding_snapshot(event, at)
    if version == "draft":
        # The draft binding row was created with the node and updated by later composer saves.
        inline_saves = (
            [v.at for v in event.agent.versions]
            if event.agent and event.binding_type == "inline_agent"
            else []
        )
        created, updated = node.added_at, max([event.at, *[t for t in inline_saves if t <= at]])
        binding_id = node.draft_binding_id or _v7(created, rng)
    else:
        created = updated = at  # publish copies every draft binding into a new row
        binding_id = _v7(at, rng)
    binding = _BindingRec(binding_id, node, event, snapshot_id)
    ctx.sink.add(
        WorkflowAgentNodeBinding,
        id=binding_id,
        tenant_id=spec.tenant.id,
        app_id=spec.app_id,
        workflow_id=row_id,
        workflow_version=version,
        node_id=node.node_id,
        binding_type=event.binding_type,
        agent_id=binding.agent_id,
        current_snapshot_id=snapshot_id,
        node_job_config=_orm_json(node.job),
        created_by=spec.created_by.id,
        updated_by=spec.created_by.id,
        created_at=created,
        updated_at=updated,
    )
    return binding


def _node_id(at: datetime, offset: int = 0) -> str:
    """Dify's canvas names nodes after the browser's Date.now() when they are added."""
    return str(_ms(at) + offset)


def _inline_agent(
    ctx: _Ctx,
    rng: random.Random,
    tenant: _Tenant,
    persona: _Persona,
    *,
    app_id: str,
    draft_id: str,
    node_id: str,
    created: datetime,
    edits: Sequence[datetime],
    name: str | None = None,
    agent_id: str | None = None,
    doc: dict[str, Any] | None = None,
) -> _AgentRec:
    """A workflow-only agent created by the node composer's first save (v1 create_version)."""
    b = _AgentBuilder(ctx, rng, tenant, created_at=created, agent_id=agent_id)
    doc = doc or _persona_soul(persona, tenant, rng, agent_app=False)
    _evolve(b, rng, doc, [created, *edits], first_op="create_version", first_note=None, newer_ops=False)
    return b.finish(
        name=name or f"Workflow Agent {node_id}",
        scope="workflow_only",
        source="workflow",
        persona=persona,
        created_by=tenant.member(rng).id,
        icon=("emoji", persona.emoji, persona.background),
        app_id=app_id,
        workflow_id=draft_id,
        workflow_node_id=node_id,
    )
