"""Northwind Health: patient intake, the Gen E agent, imported and system agents."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from data.demo.agents import _AgentBuilder, _AgentRec, _evolve
from data.demo.catalog import MODELS, PERSONA
from data.demo.context import _Ctx, _Person, _Tenant
from data.demo.documents import (
    DOCX_MIME,
    _contact,
    _job_doc,
    _model_entry,
    _persona_soul,
    _secret_value,
    _stored_file,
)
from data.demo.ids import GEN_E_CLI_TOOL_ID, DemoIds
from data.demo.primitives import _spread, _v4
from data.demo.sessions import _random_run_status, _write_conversation, _write_run
from data.demo.workflows import _BindEvent, _inline_agent, _Node, _node_id, _write_app, _write_workflow_app


def _gen_e_soul(t: _Tenant, rng: random.Random, *, note: str, top_k: int) -> dict[str, Any]:
    """A soul written by a newer Dify (Gen E, section 5.5): config_skills/config_files instead of
    skills_files, knowledge `sets`, typed sandbox and app features, CLI tools with their own env."""
    skill = _stored_file(
        rng, "discharge-letter", "tool_file", 18234, "text/markdown", description="Letter layout and tone"
    )
    template = _stored_file(rng, "discharge_template_2026.docx", "upload_file", 48120, DOCX_MIME)
    return {
        "schema_version": 1,
        "prompt": {
            "system_prompt": "You write discharge summaries for Northwind Health.\n"
            "Use the 2026 discharge template.\nList medication changes first.\nNever invent lab values."
        },
        "config_skills": [skill],
        "config_files": [template],
        "config_note": note,
        "tools": {"dify_tools": [], "cli_tools": [_pdf_render_tool(rng)]},
        "knowledge": {"sets": [_clinical_references(t, rng, top_k)]},
        **_gen_e_settings(t),
    }


def _pdf_render_tool(rng: random.Random) -> dict[str, Any]:
    return {
        "id": GEN_E_CLI_TOOL_ID,  # Gen E: the stable id a rename keeps
        "name": "pdf-render",
        "command": "pdf-render --from markdown --to pdf",
        "install_commands": ["pip install pdf-render==1.4.2"],
        "env": {
            "variables": [{"name": "RENDER_DPI", "value": "300"}],
            "secret_refs": [{"name": "PDF_SERVICE_TOKEN", "value": _secret_value(rng)}],
        },
        "authorization_status": "authorized",
        "risk_level": "low",
    }


def _clinical_references(t: _Tenant, rng: random.Random, top_k: int) -> dict[str, Any]:
    """A Gen E knowledge set over the workspace's fifth dataset."""
    dataset_id, dataset_name = t.datasets[4]
    return {
        "id": _v4(rng),
        "name": "Clinical references",
        "description": "Templates and coding guides",
        "datasets": [{"id": dataset_id, "name": dataset_name, "description": None}],
        "query": {"mode": "generated_query", "value": None},
        "retrieval": {
            "mode": "multiple",
            "top_k": top_k,
            "score_threshold": 0.5,
            "reranking_enable": True,
            "reranking_model": {"provider": "cohere", "model": "rerank-v3.5"},
            "weights": None,
            "model": None,
        },
        "metadata_filtering": {"mode": "disabled", "model_config": None, "conditions": None},
    }


def _gen_e_settings(t: _Tenant) -> dict[str, Any]:
    """The rest of the Gen E soul: contacts, env, a typed sandbox, memory, model, app features."""
    return {
        "human": {"contacts": [_contact(t.members[0])], "tools": []},
        "env": {"variables": [{"name": "WARD", "value": "cardiology"}], "secret_refs": []},
        "sandbox": {
            "provider": "docker",
            "config": {
                "image": "python:3.12-slim",
                "working_dir": "/workspace",
                "env": [{"name": "TZ", "value": "UTC"}],
                "cpu": 1,
            },
        },
        "memory": {"scope": None, "budget": None, "artifacts": []},
        "model": _model_entry(MODELS[3], t, 0.2, 4096),
        "app_features": {
            "opening_statement": None,
            "suggested_questions": [],
            "speech_to_text": {"enabled": False},
            "text_to_speech": {"enabled": False},
            "file_upload": {"enabled": True},
        },
        "app_variables": [],
        "misc_legacy": {},
    }


def _story_northwind(ctx: _Ctx, rng: random.Random, t: _Tenant) -> None:
    priya, diego, fatima = t.members[:3]
    _northwind_intake_app(ctx, rng, t, priya)
    gen_e = _northwind_gen_e(ctx, rng, t, fatima)
    _northwind_imported_and_system(ctx, rng, t, diego)
    _northwind_reused_name(ctx, rng, t, diego, priya)
    _northwind_chatflow(ctx, rng, t, gen_e, priya, diego)


def _northwind_intake_app(ctx: _Ctx, rng: random.Random, t: _Tenant, priya: _Person) -> None:
    """Agent App: the composer's first save records save_new_version (section 6)."""
    intake = PERSONA["intake"]
    t.reserved.add("Patient Intake Assistant")
    app_id = _v4(rng)
    b = _AgentBuilder(ctx, rng, t, created_at=ctx.ago(120))
    _evolve(
        b,
        rng,
        _persona_soul(intake, t, rng, agent_app=True),
        [ctx.ago(120), *_spread(rng, ctx.ago(118), ctx.ago(3), 6)],
        first_op="save_new_version",
        first_note=None,
        newer_ops=True,
    )
    _write_app(
        ctx,
        t,
        app_id=app_id,
        name="Patient Intake Assistant",
        mode="agent",
        icon="🩺",
        created_at=ctx.ago(120),
        updated_at=b.versions[-1].at,
    )
    intake_agent = b.finish(
        name="Patient Intake Assistant",
        scope="roster",
        source="agent_app",
        persona=intake,
        created_by=priya.id,
        app_id=app_id,
        icon=("emoji", "🩺", "#DBEAFE"),
    )
    for _ in range(10):
        start = ctx.ago(rng.uniform(0.05, 119))
        end = min(start + timedelta(days=rng.uniform(0, 9)), ctx.now)
        _write_conversation(
            ctx, rng, t, app_id, intake_agent, turns=_spread(rng, start, end, rng.randint(1, 5))
        )


def _northwind_gen_e(ctx: _Ctx, rng: random.Random, t: _Tenant, fatima: _Person) -> _AgentRec:
    """Written by a newer Dify: Gen E soul, source `roster`, versions published from the shared draft."""
    t.reserved.add("Discharge Summary Writer")
    b = _AgentBuilder(ctx, rng, t, created_at=ctx.ago(40), agent_id=DemoIds.GEN_E_AGENT)
    b.save("create_version", ctx.ago(40), _gen_e_soul(t, rng, note="First cut", top_k=4), by=fatima.id)
    b.save(
        "publish_draft",
        ctx.ago(21),
        _gen_e_soul(t, rng, note="Reviewed by the ward lead", top_k=6),
        by=fatima.id,
        note="Reviewed by the ward lead",
    )
    return b.finish(
        name="Discharge Summary Writer",
        scope="roster",
        source="roster",
        persona=PERSONA["writer"],
        created_by=fatima.id,
        icon=("emoji", "🏥", "#DBEAFE"),
        description="Drafts discharge summaries from the ward notes (newer Dify agent).",
    )


def _northwind_imported_and_system(ctx: _Ctx, rng: random.Random, t: _Tenant, diego: _Person) -> None:
    """Imported (icon is an external link), system-created (no creator, uploaded image icon)."""
    # fmt: off
    agents = (  # built before the loop: the image icon's file id is drawn first
        ("Insurance Pre-auth Checker", "imported", ("link", f"https://cdn.{t.domain}/agents/preauth.png", None),
         diego.id, "Imported from preauth-checker.agent.yml", PERSONA["contracts"]),
        ("Dify Starter: Appointment Reminder", "system", ("image", _v4(rng), None),
         None, "Created from the starter template", PERSONA["onboarding"]),
    )
    # fmt: on
    for name, source, icon, by, note, persona in agents:
        t.reserved.add(name)
        b = _AgentBuilder(ctx, rng, t, created_at=ctx.ago(rng.uniform(60, 200)))
        b.save(
            "create_version", b.created_at, _persona_soul(persona, t, rng, agent_app=False), by=by, note=note
        )
        b.finish(name=name, scope="roster", source=source, persona=persona, created_by=by, icon=icon)


def _northwind_reused_name(ctx: _Ctx, rng: random.Random, t: _Tenant, diego: _Person, priya: _Person) -> None:
    """A name freed by archiving and taken again (roster_unique_name is NULL for archived agents)."""
    t.reserved.add("Billing Helper")
    for created, status in ((ctx.ago(90), "archived"), (ctx.ago(45), "active")):
        b = _AgentBuilder(ctx, rng, t, created_at=created)
        b.save(
            "create_version", created, _persona_soul(PERSONA["support"], t, rng, agent_app=False), by=diego.id
        )
        b.finish(
            name="Billing Helper",
            scope="roster",
            source="agent_app",
            persona=PERSONA["support"],
            created_by=diego.id,
            status=status,
            archived_at=ctx.ago(50) if status == "archived" else None,
            archived_by=priya.id if status == "archived" else None,
        )


def _northwind_chatflow(
    ctx: _Ctx, rng: random.Random, t: _Tenant, gen_e: _AgentRec, priya: _Person, diego: _Person
) -> None:
    """Chatflow: an inline intake agent and the Gen E writer bound from the roster."""
    intake = PERSONA["intake"]
    app_id, draft_id, created = _v4(rng), _v4(rng), ctx.ago(70)
    intake_node, writer_node = _node_id(created, 1000), _node_id(ctx.ago(38))
    inline = _inline_agent(
        ctx,
        rng,
        t,
        intake,
        app_id=app_id,
        draft_id=draft_id,
        node_id=intake_node,
        created=created,
        edits=_spread(rng, ctx.ago(69), ctx.ago(5), 3),
        name="Intake Questions",
    )
    nodes = [
        _Node(
            intake_node,
            "Collect symptoms",
            intake,
            created,
            _job_doc(intake, previous=(_node_id(created), "sys.query")),
            [_BindEvent(created, "inline_agent", inline)],
        ),
        _Node(
            writer_node,
            "Draft discharge summary",
            PERSONA["writer"],
            ctx.ago(38),
            _job_doc(PERSONA["writer"], previous=(intake_node, "soap_summary"), contacts=[priya]),
            [_BindEvent(ctx.ago(38), "roster_agent", gen_e)],
        ),
    ]
    app = _write_workflow_app(
        ctx,
        rng,
        t,
        app_id=app_id,
        draft_id=draft_id,
        name="Clinical Intake Triage",
        mode="advanced-chat",
        icon="🏥",
        created_at=created,
        created_by=diego,
        publishes=[(_v4(rng), ctx.ago(60)), (_v4(rng), ctx.ago(20))],
        nodes=nodes,
    )
    for at in _spread(rng, ctx.ago(59), ctx.ago(minutes=30), 12):
        _write_run(ctx, rng, app, at=at, status=_random_run_status(rng, ctx.now - at), leak_rate=0.15)
