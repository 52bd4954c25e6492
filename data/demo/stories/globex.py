"""Globex Research Lab: the literature review pipeline and the migrated (unsorted) snapshots."""

from __future__ import annotations

import random
from datetime import datetime

from data.demo.agents import _AgentBuilder, _AgentRec, _evolve
from data.demo.catalog import MODELS, PERSONA
from data.demo.context import _Ctx, _Person, _Tenant
from data.demo.documents import _blank_soul, _job_doc, _model_entry, _mutate, _persona_soul
from data.demo.ids import DemoIds
from data.demo.primitives import _spread, _v4
from data.demo.sessions import _random_run_status, _write_run
from data.demo.tenants import MIGRATION_AGE
from data.demo.workflows import _BindEvent, _inline_agent, _Node, _node_id, _write_workflow_app


def _story_globex(ctx: _Ctx, rng: random.Random, t: _Tenant) -> None:
    sofia, maya, amara = t.members[:3]
    _globex_migrated_agent(ctx, rng, t, sofia)
    summarizer = _globex_summarizer(ctx, rng, t, sofia, amara)
    _globex_pipeline(ctx, rng, t, summarizer, sofia, maya)


def _globex_migrated_agent(ctx: _Ctx, rng: random.Random, t: _Tenant, sofia: _Person) -> None:
    """Snapshots older than the migration were rewritten by 89919253ca7a: unsorted keys, \\u escapes."""
    t.reserved.add("Lab Notebook Assistant")
    b = _AgentBuilder(
        ctx,
        rng,
        t,
        created_at=ctx.ago(200),
        agent_id=DemoIds.UNSORTED_JSON_AGENT,
        migrated_before=ctx.now - MIGRATION_AGE,
    )
    doc = _blank_soul()
    doc["prompt"]["system_prompt"] = (
        "You keep the lab notebook for Dr. Müller's group.\n"
        "Record temperatures in °C and concentrations in µg/mL.\n"
        "Flag deviations from the protocol with ⚠️."
    )
    doc["model"] = _model_entry(MODELS[4], t, 0.2, 2048)
    _evolve(
        b,
        rng,
        doc,
        [ctx.ago(200), ctx.ago(150), ctx.ago(120), ctx.ago(60)],
        first_op="create_version",
        first_note="Notebook helper for the wet lab",
        newer_ops=False,
    )
    b.finish(
        name="Lab Notebook Assistant",
        scope="roster",
        source="agent_app",
        persona=PERSONA["papers"],
        created_by=sofia.id,
        icon=("emoji", "🧪", "#ECFCCB"),
    )


def _globex_summarizer(
    ctx: _Ctx, rng: random.Random, t: _Tenant, sofia: _Person, amara: _Person
) -> _AgentRec:
    """Another agent with a restore + publish (newer Dify operations)."""
    papers = PERSONA["papers"]
    t.reserved.add("Paper Summarizer")
    b = _AgentBuilder(ctx, rng, t, created_at=ctx.ago(90))
    doc = _persona_soul(papers, t, rng, agent_app=False)
    b.save("create_version", ctx.ago(90), doc, by=sofia.id, note="Reading group summaries")
    doc2, note = _mutate(doc, rng, t)
    b.save("save_new_version", ctx.ago(70), doc2, by=amara.id, note=note)
    doc3, note = _mutate(doc2, rng, t)
    b.save("save_current_version", ctx.ago(50), doc3, by=amara.id, note=note)
    b.restore(b.versions[0], ctx.ago(30), by=sofia.id, note="Back to v1: summaries got too long")
    b.save("publish_draft", ctx.ago(29), doc, by=sofia.id, note="Publish restored v1")
    return b.finish(
        name="Paper Summarizer",
        scope="roster",
        source="agent_app",
        persona=papers,
        created_by=sofia.id,
        icon=("emoji", "📚", "#ECFCCB"),
    )


def _globex_pipeline(
    ctx: _Ctx, rng: random.Random, t: _Tenant, summarizer: _AgentRec, sofia: _Person, maya: _Person
) -> None:
    """Workflow: an inline scout, the roster summarizer, an inline critic; one run paused for weeks."""
    app_id, draft_id, created = _v4(rng), _v4(rng), ctx.ago(110)
    node_ids = (_node_id(created, 1000), _node_id(created, 2000), _node_id(ctx.ago(80)))
    scout = _inline_agent(
        ctx,
        rng,
        t,
        PERSONA["research"],
        app_id=app_id,
        draft_id=draft_id,
        node_id=node_ids[0],
        created=created,
        edits=_spread(rng, ctx.ago(100), ctx.ago(8), 4),
        name="arXiv Scout",
    )
    critic = _inline_agent(
        ctx,
        rng,
        t,
        PERSONA["compliance"],
        app_id=app_id,
        draft_id=draft_id,
        node_id=node_ids[2],
        created=ctx.ago(80),
        edits=[ctx.ago(70)],
    )
    app = _write_workflow_app(
        ctx,
        rng,
        t,
        app_id=app_id,
        draft_id=draft_id,
        name="Literature Review Pipeline",
        mode="workflow",
        icon="🔬",
        created_at=created,
        created_by=sofia,
        publishes=[(_v4(rng), ctx.ago(105)), (_v4(rng), ctx.ago(75)), (_v4(rng), ctx.ago(28))],
        nodes=_pipeline_nodes(ctx, created, node_ids, (scout, summarizer, critic), maya),
    )
    for at in _spread(rng, ctx.ago(104), ctx.ago(1), 10):
        _write_run(ctx, rng, app, at=at, status=_random_run_status(rng, ctx.now - at), leak_rate=0.1)
    # Waiting for a human for almost four weeks: paused, so its ACTIVE sessions are legitimate but idle.
    _write_run(ctx, rng, app, at=ctx.ago(26), status="paused", actor=maya)


def _pipeline_nodes(
    ctx: _Ctx,
    created: datetime,
    node_ids: tuple[str, str, str],
    agents: tuple[_AgentRec, _AgentRec, _AgentRec],
    maya: _Person,
) -> list[_Node]:
    search_id, summary_id, critique_id = node_ids
    scout, summarizer, critic = agents
    papers = PERSONA["papers"]
    return [
        _Node(
            search_id,
            "Find new papers",
            PERSONA["research"],
            created,
            _job_doc(PERSONA["research"], previous=None),
            [_BindEvent(created, "inline_agent", scout)],
        ),
        _Node(
            summary_id,
            "Summarize papers",
            papers,
            ctx.ago(85),
            _job_doc(papers, previous=(search_id, "findings")),
            [_BindEvent(ctx.ago(85), "roster_agent", summarizer)],
        ),
        _Node(
            critique_id,
            "Critique methods",
            PERSONA["compliance"],
            ctx.ago(80),
            _job_doc(PERSONA["compliance"], previous=(summary_id, "summaries"), contacts=[maya]),
            [_BindEvent(ctx.ago(80), "inline_agent", critic)],
        ),
    ]
