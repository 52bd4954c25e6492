"""Generated blocks per workspace (roster agents, Agent Apps, workflow apps), one RNG stream each."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from data.demo.agents import _AgentBuilder, _AgentRec, _evolve, _icon, _roster_name
from data.demo.catalog import PERSONAS, TEAMS, WORKFLOW_APP_NAMES, _Persona
from data.demo.context import _Ctx, _Person, _Tenant
from data.demo.documents import _job_doc, _persona_soul
from data.demo.primitives import _between, _spread, _v4
from data.demo.scales import Scale
from data.demo.sessions import _random_run_status, _write_conversation, _write_run
from data.demo.tenants import MIGRATION_AGE
from data.demo.workflows import _BindEvent, _inline_agent, _Node, _node_id, _write_app, _write_workflow_app


def _versions_count(rng: random.Random, maximum: int) -> int:
    """1..maximum, skewed towards few versions (most agents are edited a handful of times)."""
    return 1 + int(rng.random() ** 1.4 * maximum)


#: (source, first operation, has an Agent App) of generated roster agents, and their weights; seed
#: roster creation records source agent_app.
SOURCES = (
    ("agent_app", "save_new_version", True),
    ("agent_app", "create_version", False),
    ("workflow", "save_new_agent", False),
    ("imported", "create_version", False),
    ("system", "create_version", False),
    ("roster", "create_version", False),
)
SOURCE_WEIGHTS = (35, 20, 20, 10, 5, 10)


def _bulk_roster_agent(ctx: _Ctx, rng: random.Random, scale: Scale, t: _Tenant) -> _AgentRec:
    persona = rng.choice(PERSONAS)
    created = _between(rng, max(t.created_at, ctx.ago(400)), ctx.ago(hours=2))
    archived_at = _between(rng, created, ctx.now) if rng.random() < 0.08 else None
    times = [
        created,
        *_spread(rng, created, archived_at or ctx.now, _versions_count(rng, scale.max_versions) - 1),
    ]
    source, first_op, with_app = rng.choices(SOURCES, SOURCE_WEIGHTS)[0]
    by = None if source == "system" else t.member(rng).id
    migrated = ctx.now - MIGRATION_AGE if rng.random() < 0.1 else None
    b = _AgentBuilder(ctx, rng, t, created_at=created, migrated_before=migrated)
    note = {
        "imported": f"Imported from {persona.key}-agent.yml",
        "system": "Created from the starter template",
        "workflow": "Saved as a new agent from the workflow composer",
    }.get(source)
    _evolve(
        b,
        rng,
        _persona_soul(persona, t, rng, agent_app=with_app),
        times,
        first_op=first_op,
        first_note=note,
        newer_ops=source in ("agent_app", "roster") and created > ctx.ago(150),
        system=source == "system",
    )
    name = _roster_name(t, persona)
    app_id = _v4(rng) if with_app else None
    if app_id:
        _write_app(
            ctx,
            t,
            app_id=app_id,
            name=name,
            mode="agent",
            icon=persona.emoji,
            created_at=created,
            updated_at=b.versions[-1].at,
        )
    agent = b.finish(
        name=name,
        scope="roster",
        source=source,
        persona=persona,
        created_by=by,
        app_id=app_id,
        icon=_icon(rng, persona, t),
        status="archived" if archived_at else "active",
        archived_at=archived_at,
        archived_by=t.member(rng).id if archived_at else None,
    )
    if app_id:
        _bulk_conversations(ctx, rng, scale, agent, app_id)
    return agent


def _bulk_conversations(ctx: _Ctx, rng: random.Random, scale: Scale, agent: _AgentRec, app_id: str) -> None:
    """The Agent App's conversations, while the agent was not archived."""
    for _ in range(rng.randint(0, 2 * scale.conversations_per_agent_app)):
        start = _between(rng, agent.created_at, agent.archived_at or ctx.now)
        end = min(start + timedelta(hours=rng.expovariate(1 / 20)), ctx.now)
        _write_conversation(
            ctx,
            rng,
            agent.tenant,
            app_id,
            agent,
            turns=_spread(rng, start, end, rng.randint(1, 6)),
            is_deleted=rng.random() < 0.03,
        )


@dataclass(frozen=True)
class _BulkApp:
    """A generated workflow app while its nodes are drawn."""

    tenant: _Tenant
    app_id: str
    draft_id: str
    base: str  # the app's name without the team
    created: datetime
    author: _Person


def _bulk_workflow_app(
    ctx: _Ctx, rng: random.Random, scale: Scale, t: _Tenant, pool: Sequence[_AgentRec]
) -> None:
    base, mode = rng.choice(WORKFLOW_APP_NAMES)
    name = f"{base} ({rng.choice(TEAMS)})"
    app_id, draft_id = _v4(rng), _v4(rng)
    created = _between(rng, max(t.created_at, ctx.ago(300)), ctx.ago(2))
    author = t.member(rng)
    publish_count = rng.choices((0, 1, 2, 3), (10, 30, 35, 25))[0]
    publishes = [
        (_v4(rng), at) for at in _spread(rng, created + timedelta(hours=1), ctx.ago(hours=1), publish_count)
    ]
    spec = _BulkApp(t, app_id, draft_id, base, created, author)
    nodes: list[_Node] = []
    previous = (_node_id(created), "sys.query")
    for i in range(rng.randint(1, 4)):
        node = _bulk_node(ctx, rng, scale, spec, pool, i, previous)
        nodes.append(node)
        previous = (node.node_id, node.persona.outputs[0].name)
    app = _write_workflow_app(
        ctx,
        rng,
        t,
        app_id=app_id,
        draft_id=draft_id,
        name=name,
        mode=mode,
        icon="🧩",
        created_at=created,
        created_by=author,
        publishes=publishes,
        nodes=nodes,
    )
    for at in _spread(
        rng, created, ctx.now, rng.randint(scale.runs_per_app // 2, scale.runs_per_app * 3 // 2)
    ):
        _write_run(
            ctx,
            rng,
            app,
            at=at,
            status=_random_run_status(rng, ctx.now - at),
            debug=rng.random() < 0.15,
            leak_rate=0.08,
        )


def _bulk_node(
    ctx: _Ctx,
    rng: random.Random,
    scale: Scale,
    spec: _BulkApp,
    pool: Sequence[_AgentRec],
    i: int,
    previous: tuple[str, str],
) -> _Node:
    """The i-th agent node: bound to a pool agent, or an inline agent (sometimes promoted later)."""
    # Most nodes exist from the start; some were added later (absent from older published rows).
    added = (
        spec.created + timedelta(minutes=i + 1)
        if rng.random() < 0.7
        else _between(rng, spec.created, ctx.ago(hours=1))
    )
    node_id = _node_id(added, i)
    candidates = [a for a in pool if a.created_at <= added and a.runnable_at(added)]
    if candidates and rng.random() < 0.45:
        agent = rng.choice(candidates)
        persona = agent.persona
        events = [_BindEvent(added, "roster_agent", agent)]
        if rng.random() < 0.2:  # re-saved in the composer later: refreshes the pinned snapshot
            events.append(_BindEvent(_between(rng, added, ctx.now), "roster_agent", agent))
    else:
        persona = rng.choice(PERSONAS)
        events = _bulk_inline_events(ctx, rng, scale, spec, persona, node_id, added)
    return _Node(node_id, persona.name, persona, added, _job_doc(persona, previous=previous), events)


def _bulk_inline_events(
    ctx: _Ctx,
    rng: random.Random,
    scale: Scale,
    spec: _BulkApp,
    persona: _Persona,
    node_id: str,
    added: datetime,
) -> list[_BindEvent]:
    """An inline agent node. Some inline agents get promoted (save_to_roster / save_new_agent); the node
    then binds the new roster agent and the inline agent stays behind, no longer edited."""
    t = spec.tenant
    roll = rng.random()
    promoted_at = _between(rng, added, ctx.ago(hours=1)) if roll < 0.12 else None
    max_edits = max(1, scale.max_versions // 2)
    edits = _spread(rng, added, promoted_at or ctx.now, _versions_count(rng, max_edits) - 1)
    inline = _inline_agent(
        ctx,
        rng,
        t,
        persona,
        app_id=spec.app_id,
        draft_id=spec.draft_id,
        node_id=node_id,
        created=added,
        edits=edits,
        name=None if rng.random() < 0.6 else f"{persona.name} ({spec.base})",
    )
    events = [_BindEvent(added, "inline_agent", inline)]
    if promoted_at is None:
        return events
    b = _AgentBuilder(ctx, rng, t, created_at=promoted_at)
    more = _spread(rng, promoted_at, ctx.now, _versions_count(rng, max_edits) - 1)
    _evolve(
        b,
        rng,
        inline.versions[-1].doc,
        [promoted_at, *more],
        first_op="save_to_roster" if roll < 0.08 else "save_new_agent",
        first_note=f"Saved from {spec.base}",
        newer_ops=False,
    )
    promoted = b.finish(
        name=_roster_name(t, persona),
        scope="roster",
        source="workflow",
        persona=persona,
        created_by=spec.author.id,
        icon=_icon(rng, persona, t),
    )
    events.append(_BindEvent(promoted_at, "roster_agent", promoted))
    return events


def _bulk(ctx: _Ctx, scale: Scale, tenants: Sequence[_Tenant]) -> None:
    """Blocks of generated data; each block has its own RNG stream and is forgotten once written."""
    for t in tenants:
        for block in range(scale.blocks_per_tenant):
            rng = random.Random(f"{ctx.seed}/bulk/{t.index}/{block}")
            pool = [_bulk_roster_agent(ctx, rng, scale, t) for _ in range(scale.roster_agents_per_block)]
            for _ in range(scale.workflow_apps_per_block):
                _bulk_workflow_app(ctx, rng, scale, t, pool)
