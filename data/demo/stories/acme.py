"""Acme Robotics: the showcase agent, the triage chatflow, the research digest, onboarding, hostile rows."""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from data.demo.agents import _AgentBuilder, _AgentRec, _evolve
from data.demo.catalog import EXTRA_PROMPT_LINES, MODELS, PERSONA, TOOLS
from data.demo.context import _Ctx, _Person, _Tenant
from data.demo.documents import (
    _blank_soul,
    _contact,
    _job_doc,
    _model_entry,
    _mutate,
    _persona_soul,
    _secret_value,
    _tool_entry,
)
from data.demo.ids import DemoIds
from data.demo.primitives import _hex, _spread, _v4
from data.demo.sessions import _random_run_status, _write_conversation, _write_run, _write_workflow_session
from data.demo.workflows import (
    _AppRec,
    _BindEvent,
    _inline_agent,
    _Node,
    _node_id,
    _write_app,
    _write_workflow_app,
)


def _story_acme(ctx: _Ctx, rng: random.Random, t: _Tenant) -> None:
    maya, omar, lena, kenji = t.members[:4]
    showcase = _acme_showcase(ctx, rng, t, maya, omar, lena)
    _acme_triage(ctx, rng, t, showcase, omar, lena)
    _acme_research_digest(ctx, rng, t, kenji, maya)
    _acme_onboarding(ctx, rng, t, lena)
    _acme_hostile_agents(ctx, rng, t, maya, kenji)
    # Legacy (pre-agent-v2) apps: no agents, just neighbours in the app list.
    _write_app(
        ctx,
        t,
        app_id=_v4(rng),
        name="FAQ Chatbot (legacy)",
        mode="chat",
        icon="💬",
        created_at=ctx.ago(500),
        updated_at=ctx.ago(300),
    )
    _write_app(
        ctx,
        t,
        app_id=_v4(rng),
        name="Sales Copilot (ReAct)",
        mode="agent-chat",
        icon="🤝",
        created_at=ctx.ago(410),
        updated_at=ctx.ago(220),
    )


def _acme_showcase(
    ctx: _Ctx, rng: random.Random, t: _Tenant, maya: _Person, omar: _Person, lena: _Person
) -> _AgentRec:
    """The showcase agent: one of every edit kind, with realistic changes between versions."""
    t.reserved.add("Acme Support Assistant")
    b = _AgentBuilder(ctx, rng, t, created_at=ctx.ago(95), agent_id=DemoIds.SHOWCASE_AGENT)
    _showcase_first_versions(ctx, t, b, maya, omar, lena)
    _showcase_escalation_versions(ctx, rng, t, b, omar, lena)
    _showcase_restore_and_publish(ctx, t, b, maya)
    _write_app(
        ctx,
        t,
        app_id=DemoIds.APP_SUPPORT_ASSISTANT,
        name="Acme Support Assistant",
        mode="agent",
        icon="🛟",
        created_at=ctx.ago(96),
        updated_at=ctx.ago(19),
    )
    agent = b.finish(
        name="Acme Support Assistant",
        scope="roster",
        source="agent_app",
        persona=PERSONA["support"],
        created_by=maya.id,
        updated_by=maya.id,
        app_id=DemoIds.APP_SUPPORT_ASSISTANT,
        icon=("emoji", "🛟", "#E0F2FE"),
        description="Answers customer questions about orders, returns and warranty for Acme's robot "
        "arms. Hands refunds over 200 EUR to a human.",
    )
    _showcase_conversations(ctx, rng, t, agent)
    return agent


def _showcase_first_versions(
    ctx: _Ctx, t: _Tenant, b: _AgentBuilder, maya: _Person, omar: _Person, lena: _Person
) -> None:
    """v1 (first draft), v2 (refund threshold fix), v3 (tools and knowledge)."""
    ids = DemoIds.SHOWCASE_SNAPSHOTS
    v1 = _persona_soul(PERSONA["support"], t, random.Random(1), agent_app=True)
    v1["tools"]["dify_tools"] = []
    v1["knowledge"] = _blank_soul()["knowledge"]
    v1["model"] = _model_entry(MODELS[0], t, 0.7, 2048)
    b.save(
        "create_version",
        ctx.ago(95),
        v1,
        by=maya.id,
        note="First draft of the support assistant",
        snapshot_id=ids[0],
    )
    v2 = copy.deepcopy(v1)
    v2["prompt"]["system_prompt"] = v2["prompt"]["system_prompt"].replace(
        "If a refund exceeds 500 EUR", "If a refund exceeds 200 EUR (finance rule FIN-7)"
    )
    b.save(
        "save_current_version",
        ctx.ago(88),
        v2,
        by=lena.id,
        note="Fix refund threshold: 200 EUR, per finance",
        snapshot_id=ids[1],
    )
    v3 = copy.deepcopy(v2)
    v3["tools"]["dify_tools"] = [_tool_entry(TOOLS["zendesk"], t), _tool_entry(TOOLS["tavily"], t)]
    v3["knowledge"] = {
        "datasets": [{"id": t.datasets[1][0], "name": t.datasets[1][1]}],
        "query_mode": "generated_query",
        "query_config": {"top_k": 4},
    }
    b.save(
        "save_new_version",
        ctx.ago(74),
        v3,
        by=omar.id,
        note="Add ticket lookup, web search and the 2026 return policy",
        snapshot_id=ids[2],
    )


def _showcase_escalation_versions(
    ctx: _Ctx, rng: random.Random, t: _Tenant, b: _AgentBuilder, omar: _Person, lena: _Person
) -> None:
    """v4 (cheaper model, env and a secret reference), v5 (Slack escalation, a pasted bot token)."""
    v4 = copy.deepcopy(b.versions[-1].doc)
    v4["model"] = _model_entry(MODELS[1], t, 0.3, 2048)
    v4["env"] = {
        "variables": [
            {"name": "REGION", "value": "eu-west-1"},
            {"name": "SUPPORT_PORTAL_URL", "value": f"https://support.{t.domain}"},
        ],
        "secret_refs": [
            {"name": "ZENDESK_API_TOKEN", "ref": "secret-ref-zendesk-prod", "value": _secret_value(rng)}
        ],
    }
    b.save(
        "save_current_version",
        ctx.ago(60),
        v4,
        by=omar.id,
        note="Cheaper model, temperature 0.7 -> 0.3; Zendesk token from env",
        snapshot_id=DemoIds.SHOWCASE_SNAPSHOTS[3],
    )
    v5 = copy.deepcopy(v4)
    slack = _tool_entry(TOOLS["slack"], t)
    slack["runtime_parameters"]["bot_token"] = (
        f"xoxb-demo-{_hex(rng, 24)}"  # a secret pasted where it shouldn't be
    )
    v5["tools"]["dify_tools"] = [v5["tools"]["dify_tools"][0], slack]
    v5["human"]["contacts"] = [_contact(omar)]
    v5["knowledge"]["datasets"].append({"id": t.datasets[2][0], "name": t.datasets[2][1]})
    lines = v5["prompt"]["system_prompt"].split("\n")
    lines[2] = "Always look up the ticket in Zendesk before promising anything; quote the ticket id."
    lines[5] = "Cite the service manual section or knowledge base article you used, like [KB-123]."
    lines.insert(6, "Stop and escalate in #support-escalations if the user mentions a safety incident.")
    v5["prompt"]["system_prompt"] = "\n".join(lines)
    b.save(
        "save_new_version",
        ctx.ago(41),
        v5,
        by=lena.id,
        note="Escalate to #support-escalations; drop web search (it invented part numbers)",
        snapshot_id=DemoIds.SHOWCASE_SNAPSHOTS[4],
    )


def _showcase_restore_and_publish(ctx: _Ctx, t: _Tenant, b: _AgentBuilder, maya: _Person) -> None:
    """Newer Dify: restore v3 into the draft (a revision, no snapshot), then publish the draft (v6)."""
    v3, v4 = b.versions[2], b.versions[3]
    b.restore(
        v3,
        ctx.ago(20),
        by=maya.id,
        note="Restore v3 to compare after the CSAT dip",
        revision_id=DemoIds.SHOWCASE_RESTORE_REVISION,
    )
    v6 = copy.deepcopy(v3.doc)
    v6["model"] = _model_entry(MODELS[3], t, 0.3, 4096)
    v6["env"] = copy.deepcopy(v4.doc["env"])
    b.save(
        "publish_draft",
        ctx.ago(19),
        v6,
        by=maya.id,
        note="Publish restored v3 on Claude Sonnet 4",
        snapshot_id=DemoIds.SHOWCASE_SNAPSHOTS[5],
    )


def _showcase_conversations(ctx: _Ctx, rng: random.Random, t: _Tenant, agent: _AgentRec) -> None:
    """The well-known conversations of the showcase app, then a few random ones."""
    # fmt: off
    placed: tuple[dict[str, Any], ...] = (
        # Two ACTIVE sessions in one conversation: v5 (superseded when v6 was published) and v6.
        {"conversation_id": DemoIds.CONVERSATION_SUPERSEDED, "name": "Refund for order #48213",
         "turns": [ctx.ago(22), ctx.ago(22, minutes=-6), ctx.ago(hours=2)],
         "session_ids": [DemoIds.SUPERSEDED_SESSION, DemoIds.SUPERSEDING_SESSION], "superseded_cleaned": False},
        {"conversation_id": DemoIds.CONVERSATION_DELETED, "is_deleted": True,
         "turns": [ctx.ago(6), ctx.ago(5, hours=23)], "session_ids": [DemoIds.DELETED_CONVERSATION_SESSION]},
        {"conversation_id": DemoIds.MISSING_CONVERSATION, "write_row": False,
         "turns": [ctx.ago(12, hours=5), ctx.ago(12)], "session_ids": [DemoIds.MISSING_CONVERSATION_SESSION]},
        {"turns": [ctx.ago(36), ctx.ago(35)], "session_ids": [DemoIds.IDLE_SESSION]},
        # Spans v4 -> v5; a newer Dify retired the superseded session (cleaned), unlike the first one.
        {"turns": [ctx.ago(45), ctx.ago(44, hours=20), ctx.ago(30)], "superseded_cleaned": True},
    )
    # fmt: on
    app = DemoIds.APP_SUPPORT_ASSISTANT
    for conversation in placed:
        _write_conversation(ctx, rng, t, app, agent, **conversation)
    for _ in range(8):
        start = ctx.ago(rng.uniform(0.1, 94))
        end = min(start + timedelta(hours=rng.uniform(0, 30)), ctx.now)
        _write_conversation(ctx, rng, t, app, agent, turns=_spread(rng, start, end, rng.randint(1, 4)))


def _acme_triage(
    ctx: _Ctx, rng: random.Random, t: _Tenant, showcase: _AgentRec, omar: _Person, lena: _Person
) -> None:
    """Chatflow: inline classifier, roster answer node (drifting), escalation promoted to the roster."""
    app_id, draft_id = DemoIds.APP_TICKET_TRIAGE, _v4(rng)
    created = ctx.ago(80)
    node_ids = (_node_id(created, 1000), _node_id(created, 2000), _node_id(ctx.ago(35)))
    classifier = _inline_agent(
        ctx,
        rng,
        t,
        PERSONA["classifier"],
        app_id=app_id,
        draft_id=draft_id,
        node_id=node_ids[0],
        created=created,
        edits=[ctx.ago(64), ctx.ago(30)],
        name="Ticket Classifier",
        agent_id=DemoIds.TICKET_CLASSIFIER_AGENT,
    )
    left_behind, promoted = _triage_escalation_agents(ctx, rng, t, draft_id, node_ids[2], omar, lena)
    nodes = _triage_nodes(ctx, created, node_ids, (classifier, showcase, left_behind, promoted), omar, lena)
    publishes = [(_v4(rng), ctx.ago(76)), (_v4(rng), ctx.ago(50)), (_v4(rng), ctx.ago(25))]
    app = _write_workflow_app(
        ctx,
        rng,
        t,
        app_id=app_id,
        draft_id=draft_id,
        name="Support Ticket Triage",
        mode="advanced-chat",
        icon="🎫",
        created_at=created,
        created_by=omar,
        publishes=publishes,
        nodes=nodes,
    )
    _triage_runs(ctx, rng, app, node_ids)
    _triage_missing_run_session(ctx, rng, app, classifier, node_ids[0])


def _triage_escalation_agents(
    ctx: _Ctx,
    rng: random.Random,
    t: _Tenant,
    draft_id: str,
    escalate_id: str,
    omar: _Person,
    lena: _Person,
) -> tuple[_AgentRec, _AgentRec]:
    """The escalation node started inline, then save-to-roster created a roster agent from it. The
    inline agent stays behind: active, workflow_only, and no longer referenced by any binding."""
    left_behind = _inline_agent(
        ctx,
        rng,
        t,
        PERSONA["escalation"],
        app_id=DemoIds.APP_TICKET_TRIAGE,
        draft_id=draft_id,
        node_id=escalate_id,
        created=ctx.ago(35),
        edits=[ctx.ago(33)],
        agent_id=DemoIds.LEFT_BEHIND_INLINE_AGENT,
    )
    t.reserved.add("Escalation Concierge")
    b = _AgentBuilder(ctx, rng, t, created_at=ctx.ago(30), agent_id=DemoIds.SAVED_TO_ROSTER_AGENT)
    b.save(
        "save_to_roster",
        ctx.ago(30),
        left_behind.versions[-1].doc,
        by=omar.id,
        note="Saved to roster from Support Ticket Triage",
    )
    promoted_doc = copy.deepcopy(left_behind.versions[-1].doc)
    promoted_doc["human"]["contacts"] = [_contact(omar), _contact(lena)]
    b.save("save_new_version", ctx.ago(10), promoted_doc, by=lena.id, note="On-call rotation: Omar and Lena")
    promoted = b.finish(
        name="Escalation Concierge",
        scope="roster",
        source="workflow",
        persona=PERSONA["escalation"],
        created_by=omar.id,
        icon=("emoji", "🧭", "#FCE7F3"),
    )
    return left_behind, promoted


def _triage_nodes(
    ctx: _Ctx,
    created: datetime,
    node_ids: tuple[str, str, str],
    agents: tuple[_AgentRec, _AgentRec, _AgentRec, _AgentRec],
    omar: _Person,
    lena: _Person,
) -> list[_Node]:
    """Classify (inline), answer (the showcase, rebound: drift), escalate (inline, then the roster)."""
    classify_id, answer_id, escalate_id = node_ids
    classifier, showcase, left_behind, promoted = agents
    return [
        _Node(
            classify_id,
            "Classify ticket",
            PERSONA["classifier"],
            created,
            _job_doc(PERSONA["classifier"], previous=(_node_id(created), "sys.query")),
            [_BindEvent(created, "inline_agent", classifier)],
        ),
        # Rebound 45 days ago (showcase v4 active then); v5 and v6 came later: the binding lags.
        _Node(
            answer_id,
            "Answer customer",
            PERSONA["support"],
            ctx.ago(78),
            _job_doc(PERSONA["support"], previous=(classify_id, "product_area")),
            [
                _BindEvent(ctx.ago(78), "roster_agent", showcase),
                _BindEvent(ctx.ago(45), "roster_agent", showcase),
            ],
            draft_binding_id=DemoIds.DRIFT_BINDING,
        ),
        _Node(
            escalate_id,
            "Escalate to a human",
            PERSONA["escalation"],
            ctx.ago(35),
            _job_doc(PERSONA["escalation"], previous=(answer_id, "needs_human"), contacts=[omar, lena]),
            [
                _BindEvent(ctx.ago(35), "inline_agent", left_behind),
                _BindEvent(ctx.ago(30), "roster_agent", promoted),
            ],
        ),
    ]


def _triage_runs(ctx: _Ctx, rng: random.Random, app: _AppRec, node_ids: tuple[str, str, str]) -> None:
    """Random runs, one of each other ended status, then the well-known leaked, paused and running runs."""
    classify_id, answer_id, escalate_id = node_ids
    for at in _spread(rng, ctx.ago(75), ctx.ago(1), 14):
        _write_run(
            ctx,
            rng,
            app,
            at=at,
            status=_random_run_status(rng, ctx.now - at),
            leak_rate=0.1,
            debug=rng.random() < 0.15,
        )
    # One run of each other ended status, so even the smallest dataset shows them all.
    for days, status in ((60, "failed"), (48, "stopped"), (33, "partial-succeeded")):
        _write_run(ctx, rng, app, at=ctx.ago(days, hours=3), status=status)
    # fmt: off
    well_known: tuple[dict[str, Any], ...] = (
        {"at": ctx.ago(3), "status": "succeeded", "run_id": DemoIds.RUN_SUCCEEDED_LEAKED,
         "reached": [classify_id, answer_id], "leaked": [answer_id],
         "session_ids": {answer_id: DemoIds.FINISHED_RUN_SESSION}},
        {"at": ctx.ago(2), "status": "paused", "run_id": DemoIds.RUN_PAUSED,
         "reached": [classify_id, answer_id, escalate_id], "session_ids": {escalate_id: DemoIds.PAUSED_RUN_SESSION}},
        {"at": ctx.ago(minutes=4), "status": "running", "run_id": DemoIds.RUN_RUNNING,
         "reached": [classify_id], "session_ids": {classify_id: DemoIds.RUNNING_RUN_SESSION}},
    )
    # fmt: on
    for run in well_known:
        _write_run(ctx, rng, app, **run)


def _triage_missing_run_session(
    ctx: _Ctx, rng: random.Random, app: _AppRec, classifier: _AgentRec, classify_id: str
) -> None:
    """A session whose workflow run row is gone (runs archived / removed by retention tooling)."""
    row = app.published[-1]
    binding = row.bindings[classify_id]
    version = classifier.version_by_id(binding.snapshot_id)
    _write_workflow_session(
        ctx,
        rng,
        app,
        row,
        binding,
        run_id=DemoIds.MISSING_RUN,
        run_at=ctx.ago(9),
        saved_at=ctx.ago(9, minutes=-1),
        status="active",
        cleaned_at=None,
        backend_run_id=_v4(rng),
        session_id=DemoIds.MISSING_RUN_SESSION,
        snapshot_id=binding.snapshot_id,
        doc=version.doc if version else None,
    )


def _acme_research_digest(ctx: _Ctx, rng: random.Random, t: _Tenant, kenji: _Person, maya: _Person) -> None:
    """Workflow: a node saved as a new roster agent, and a node bound to an agent archived since."""
    app_id, draft_id = DemoIds.APP_RESEARCH_DIGEST, _v4(rng)
    created = ctx.ago(150)
    node_ids = (_node_id(created, 1000), _node_id(created, 2000), _node_id(ctx.ago(140)))
    researcher = _inline_agent(
        ctx,
        rng,
        t,
        PERSONA["research"],
        app_id=app_id,
        draft_id=draft_id,
        node_id=node_ids[0],
        created=created,
        edits=_spread(rng, ctx.ago(149), ctx.ago(20), 3),
        name="Market Researcher",
    )
    writer_inline = _inline_agent(
        ctx,
        rng,
        t,
        PERSONA["writer"],
        app_id=app_id,
        draft_id=draft_id,
        node_id=node_ids[1],
        created=created,
        edits=[ctx.ago(140)],
    )
    writer = _digest_writer(ctx, rng, t, writer_inline, kenji)
    reviewer = _digest_archived_reviewer(ctx, rng, t, maya)
    agents = (researcher, writer_inline, writer, reviewer)
    app = _write_workflow_app(
        ctx,
        rng,
        t,
        app_id=app_id,
        draft_id=draft_id,
        name="Weekly Market Research Digest",
        mode="workflow",
        icon="📈",
        created_at=created,
        created_by=kenji,
        publishes=[(_v4(rng), ctx.ago(145)), (_v4(rng), ctx.ago(100))],
        nodes=_digest_nodes(ctx, created, node_ids, agents),
    )
    # Scheduled every Monday; since the reviewer was archived the review node refuses to run.
    for week in range(20):
        at = ctx.ago(139 - 7 * week, hours=rng.uniform(0, 0.2))
        status = "failed" if at > ctx.ago(15) else _random_run_status(rng, ctx.now - at)
        _write_run(ctx, rng, app, at=at, status=status, leak_rate=0.05)


def _digest_writer(
    ctx: _Ctx, rng: random.Random, t: _Tenant, writer_inline: _AgentRec, kenji: _Person
) -> _AgentRec:
    """ "Save as new agent": the node now uses a new roster agent; the inline one stays behind too."""
    t.reserved.add("Market Report Writer")
    b = _AgentBuilder(ctx, rng, t, created_at=ctx.ago(120), agent_id=DemoIds.SAVED_AS_NEW_AGENT)
    _evolve(
        b,
        rng,
        writer_inline.versions[-1].doc,
        [ctx.ago(120), *_spread(rng, ctx.ago(110), ctx.ago(15), 3)],
        first_op="save_new_agent",
        first_note="Saved as a new agent from Weekly Market Research Digest",
        newer_ops=False,
    )
    return b.finish(
        name="Market Report Writer",
        scope="roster",
        source="workflow",
        persona=PERSONA["writer"],
        created_by=kenji.id,
        icon=("emoji", "📝", "#EDE9FE"),
    )


def _digest_archived_reviewer(ctx: _Ctx, rng: random.Random, t: _Tenant, maya: _Person) -> _AgentRec:
    """Jonas Berg built the reviewer before he left; Maya archived it 15 days ago. The draft still binds it."""
    t.reserved.add("Legacy Compliance Reviewer")
    b = _AgentBuilder(ctx, rng, t, created_at=ctx.ago(200), agent_id=DemoIds.ARCHIVED_BOUND_AGENT)
    b.save(
        "create_version",
        ctx.ago(200),
        _persona_soul(PERSONA["compliance"], t, rng, agent_app=False),
        by=DemoIds.ACCOUNT_DEPARTED,
        note="Reviewer for outgoing reports",
    )
    return b.finish(
        name="Legacy Compliance Reviewer",
        scope="roster",
        source="agent_app",
        persona=PERSONA["compliance"],
        created_by=DemoIds.ACCOUNT_DEPARTED,
        status="archived",
        archived_at=ctx.ago(15),
        archived_by=maya.id,
        updated_by=maya.id,
        icon=("emoji", "⚖️", "#F1F5F9"),
    )


def _digest_nodes(
    ctx: _Ctx,
    created: datetime,
    node_ids: tuple[str, str, str],
    agents: tuple[_AgentRec, _AgentRec, _AgentRec, _AgentRec],
) -> list[_Node]:
    research_id, writer_id, review_id = node_ids
    researcher, writer_inline, writer, reviewer = agents
    return [
        _Node(
            research_id,
            "Research the week",
            PERSONA["research"],
            created,
            _job_doc(PERSONA["research"], previous=None, mode="let_agent_figure_it_out"),
            [_BindEvent(created, "inline_agent", researcher)],
        ),
        _Node(
            writer_id,
            "Write the digest",
            PERSONA["writer"],
            created,
            _job_doc(PERSONA["writer"], previous=(research_id, "findings")),
            [
                _BindEvent(created, "inline_agent", writer_inline),
                _BindEvent(ctx.ago(120), "roster_agent", writer),
            ],
        ),
        _Node(
            review_id,
            "Compliance review",
            PERSONA["compliance"],
            ctx.ago(140),
            _job_doc(PERSONA["compliance"], previous=(writer_id, "report")),
            [_BindEvent(ctx.ago(140), "roster_agent", reviewer)],
            draft_binding_id=DemoIds.ARCHIVED_AGENT_BINDING,
        ),
    ]


def _acme_onboarding(ctx: _Ctx, rng: random.Random, t: _Tenant, lena: _Person) -> None:
    """Never-published workflow whose draft bindings point at things that are not there."""
    app_id, draft_id = DemoIds.APP_ONBOARDING, _v4(rng)
    created = ctx.ago(45)
    node_ids = (_node_id(created, 1000), _node_id(created, 2000), _node_id(created, 3000))
    it_helper = _inline_agent(
        ctx,
        rng,
        t,
        PERSONA["onboarding"],
        app_id=app_id,
        draft_id=draft_id,
        node_id=node_ids[1],
        created=ctx.ago(44),
        edits=[ctx.ago(43)],
        name="IT Setup Helper",
    )
    buddy = _onboarding_buddy(ctx, rng, t, lena)
    app = _write_workflow_app(
        ctx,
        rng,
        t,
        app_id=app_id,
        draft_id=draft_id,
        name="Employee Onboarding Flow",
        mode="workflow",
        icon="🧳",
        created_at=created,
        created_by=lena,
        publishes=[],
        nodes=_onboarding_nodes(ctx, created, node_ids, it_helper, buddy),
    )
    welcome_id = node_ids[0]
    _write_run(
        ctx,
        rng,
        app,
        at=ctx.ago(40),
        status="succeeded",
        debug=True,
        actor=lena,
        reached=[welcome_id],
        leaked=[welcome_id],
        session_ids={welcome_id: DemoIds.ORPHANED_SESSION},
    )


def _onboarding_buddy(ctx: _Ctx, rng: random.Random, t: _Tenant, lena: _Person) -> _AgentRec:
    t.reserved.add("New Hire Buddy")
    b = _AgentBuilder(ctx, rng, t, created_at=ctx.ago(60))
    _evolve(
        b,
        rng,
        _persona_soul(PERSONA["onboarding"], t, rng, agent_app=False),
        [ctx.ago(60), ctx.ago(50)],
        first_op="create_version",
        first_note="Buddy for new hires",
        newer_ops=False,
    )
    return b.finish(
        name="New Hire Buddy",
        scope="roster",
        source="agent_app",
        persona=PERSONA["onboarding"],
        created_by=lena.id,
        icon=("emoji", "👋", "#FFEDD5"),
    )


def _onboarding_nodes(
    ctx: _Ctx, created: datetime, node_ids: tuple[str, str, str], it_helper: _AgentRec, buddy: _AgentRec
) -> list[_Node]:
    """A deleted agent, a missing snapshot, another agent's snapshot: every dangling binding kind."""
    welcome_id, it_id, buddy_id = node_ids
    persona = PERSONA["onboarding"]
    deleted = _BindEvent(
        created,
        "roster_agent",
        None,
        agent_id=DemoIds.MISSING_AGENT,
        snapshot_id=DemoIds.MISSING_AGENT_SNAPSHOT,
    )
    return [
        # The agent was deleted by hand (Dify never hard-deletes agents): binding and session remain.
        _Node(
            welcome_id,
            "Welcome message",
            persona,
            created,
            _job_doc(persona, previous=None),
            [deleted],
            draft_binding_id=DemoIds.DANGLING_AGENT_BINDING,
        ),
        _Node(
            it_id,
            "IT setup",
            persona,
            ctx.ago(44),
            _job_doc(persona, previous=(welcome_id, "welcome_message")),
            [_BindEvent(ctx.ago(44), "inline_agent", it_helper, snapshot_id=DemoIds.MISSING_SNAPSHOT)],
            draft_binding_id=DemoIds.MISSING_SNAPSHOT_BINDING,
        ),
        # Points at a snapshot of the showcase agent: the snapshot exists but belongs to another agent.
        _Node(
            buddy_id,
            "Assign a buddy",
            persona,
            created,
            _job_doc(persona, previous=(it_id, "events")),
            [_BindEvent(created, "roster_agent", buddy, snapshot_id=DemoIds.SHOWCASE_SNAPSHOTS[1])],
            draft_binding_id=DemoIds.FOREIGN_SNAPSHOT_BINDING,
        ),
    ]


def _huge_prompt(rng: random.Random) -> str:
    """A ~200 KB policy handbook pasted into a system prompt (it happens)."""
    topics = (
        "Export control",
        "Data retention",
        "Customer refunds",
        "Safety incidents",
        "Supplier audits",
        "Travel expenses",
        "Access reviews",
        "Incident disclosure",
    )
    parts = ["You are the compliance handbook expert of Acme Robotics. Answer only from the handbook below."]
    section = 0
    while sum(len(p) + 1 for p in parts) < 205_000:
        section += 1
        topic = topics[section % len(topics)]
        parts.append(f"\n## §{section}. {topic}")
        for clause in range(1, 9):
            parts.append(
                f"{section}.{clause} {rng.choice(EXTRA_PROMPT_LINES)} Applies to {topic.lower()} cases "
                f"above {rng.randrange(1, 50) * 100} EUR; record the decision in the register within "
                f"{rng.choice((2, 5, 10))} business days."
            )
    return "\n".join(parts)


@dataclass(frozen=True)
class _Hostile:
    """A hostile roster agent: v1 from the support persona, v2 an edit (or `last`'s raw text)."""

    agent_id: str
    name: str
    age: float  # days before now
    description: str | None = None
    source: str = "agent_app"
    status: str = "active"
    icon: tuple[str | None, str | None, str | None] = ("emoji", "🤖", "#E5E7EB")
    last: tuple[str, str | None, str | None, str | None] | None = None  # (operation, note, snapshot id, text)


_BROKEN_JSON = (
    '{"app_features":{},"app_variables":[],"env":{"secret_refs":[],"variables":[]},"human":{"contacts":[],'
    '"tools":[]},"knowledge":{"datasets":[],"query_config":{},"query_mode":null},"prompt":{"system_prompt":'
    '"You optimize warehouse slotting for spare parts.\\nUse the '
)  # truncated mid-string by a bad import

# fmt: off
HOSTILE_AGENTS = (
    _Hostile(DemoIds.HOSTILE_NAME_AGENT, DemoIds.HOSTILE_NAME, 12,
             description="Harmless <b>looking</b> description <script>alert('desc')</script> with a "
             "[link](javascript:alert(2)) and `code`.",
             last=("save_new_version", "**Bold** note <script>alert('note')</script>", None, None)),
    _Hostile(DemoIds.RTL_NAME_AGENT, DemoIds.RTL_NAME, 11, icon=("emoji", "🧑\u200d💻", "#FEF3C7"),
             description="وكيل دعم ثنائي اللغة — סוכן תמיכה דו-לשוני (bilingual support agent)."),
    _Hostile(DemoIds.INVALID_JSON_AGENT, "Warehouse Slotting Optimizer", 30, source="imported",
             last=("save_new_version", "Re-imported from slotting-optimizer.yml", DemoIds.INVALID_JSON_SNAPSHOT,
                   _BROKEN_JSON)),
    _Hostile(DemoIds.NON_OBJECT_JSON_AGENT, "Quote Generator", 28, source="imported",
             last=("save_new_version", "Bulk fix script (oops)", DemoIds.NON_OBJECT_JSON_SNAPSHOT, "[]")),
    _Hostile(DemoIds.UNKNOWN_ENUM_AGENT, "Marketplace Sales Agent", 16, source=DemoIds.UNKNOWN_SOURCE,
             status=DemoIds.UNKNOWN_STATUS, icon=("emoji", "🛒", "#DCFCE7"),
             last=(DemoIds.UNKNOWN_OPERATION, "Merged v1 with the marketplace template", None, None)),
)
# fmt: on


def _acme_hostile_agents(ctx: _Ctx, rng: random.Random, t: _Tenant, maya: _Person, kenji: _Person) -> None:
    """Rows that break naive renderers and parsers."""
    for spec in HOSTILE_AGENTS:
        _hostile_agent(ctx, rng, t, spec, maya=maya, kenji=kenji)
    _huge_prompt_agent(ctx, rng, t, maya)


def _hostile_agent(
    ctx: _Ctx, rng: random.Random, t: _Tenant, spec: _Hostile, *, maya: _Person, kenji: _Person
) -> None:
    support = PERSONA["support"]
    created = ctx.ago(spec.age)
    t.reserved.add(spec.name)
    b = _AgentBuilder(ctx, rng, t, created_at=created, agent_id=spec.agent_id)
    doc = _persona_soul(support, t, rng, agent_app=False)
    b.save("create_version", created, doc, by=kenji.id, note="First version")
    op, note, snapshot_id, text = spec.last or ("save_new_version", "Second version", None, None)
    doc2, _ = _mutate(doc, rng, t)
    revision_id = DemoIds.UNKNOWN_OPERATION_REVISION if op == DemoIds.UNKNOWN_OPERATION else None
    b.save(
        op,
        created + timedelta(days=3),
        doc2,
        by=maya.id,
        note=note,
        snapshot_id=snapshot_id,
        text=text,
        revision_id=revision_id,
    )
    b.finish(
        name=spec.name,
        scope="roster",
        source=spec.source,
        persona=support,
        created_by=kenji.id,
        description=spec.description,
        status=spec.status,
        icon=spec.icon,
    )


def _huge_prompt_agent(ctx: _Ctx, rng: random.Random, t: _Tenant, maya: _Person) -> None:
    """The 200 KB prompt: two versions differing by one line (a diff must stay fast)."""
    t.reserved.add("Compliance Handbook Expert")
    b = _AgentBuilder(ctx, rng, t, created_at=ctx.ago(26), agent_id=DemoIds.HUGE_PROMPT_AGENT)
    doc = _blank_soul()
    doc["prompt"]["system_prompt"] = _huge_prompt(rng)
    doc["model"] = _model_entry(MODELS[2], t, 0.0, 4096)
    b.save("create_version", ctx.ago(26), doc, by=maya.id, note="Paste the full handbook")
    doc2 = copy.deepcopy(doc)
    doc2["prompt"]["system_prompt"] = doc2["prompt"]["system_prompt"].replace(
        "Answer only from the handbook below.",
        "Answer only from the handbook below; quote the section number.",
    )
    b.save(
        "save_current_version",
        ctx.ago(25),
        doc2,
        by=maya.id,
        note="Quote section numbers",
        snapshot_id=DemoIds.HUGE_PROMPT_SNAPSHOT,
    )
    paragraph = (
        "This agent answers questions about the Acme compliance handbook (2026 edition). It covers export "
        "control, data retention, refunds, safety incidents, supplier audits, travel and access reviews. "
    )
    b.finish(
        name="Compliance Handbook Expert",
        scope="roster",
        source="agent_app",
        persona=PERSONA["compliance"],
        created_by=maya.id,
        description=paragraph * (64_000 // len(paragraph) + 1),
        icon=("image", _v4(rng), None),
    )
