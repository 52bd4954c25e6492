"""Workflow runs and conversations and the runtime sessions they leave behind."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from data.demo.agents import _AgentRec, _Version
from data.demo.catalog import FOLLOW_UPS
from data.demo.context import _Ctx, _Person, _Tenant
from data.demo.documents import _customer
from data.demo.primitives import _between, _compact_json, _hex, _iso, _ms, _v4, _v7
from data.demo.workflows import _AppRec, _BindingRec, _WorkflowRow
from data.models import (
    AgentRuntimeSession,
    Conversation,
    WorkflowPause,
    WorkflowRun,
)

_ENDED = ("succeeded", "failed", "stopped", "partial-succeeded")


def _layer(
    name: str, runtime_state: dict[str, Any] | None = None, state: str = "suspended"
) -> dict[str, Any]:
    return {"name": name, "lifecycle_state": state, "runtime_state": runtime_state or {}}


def _spec(name: str, type_: str, config: Any, origin: str | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "type": type_,
        "deps": {},
        "metadata": {"origin": origin} if origin else {},
        "config": config,
    }


def _history(turns: Sequence[tuple[datetime, str, str]], model: str, tool: str | None) -> dict[str, Any]:
    """pydantic-ai style message history: the user's words (PII) and the model's replies."""
    messages: list[dict[str, Any]] = []
    for at, user_text, reply in turns:
        messages.append(
            {
                "parts": [{"content": user_text, "timestamp": _iso(at), "part_kind": "user-prompt"}],
                "kind": "request",
            }
        )
        if tool:
            messages.append(
                {
                    "parts": [
                        {
                            "tool_name": tool,
                            "args": {"query": user_text[:60]},
                            "tool_call_id": f"call_{_ms(at):x}",
                            "part_kind": "tool-call",
                        }
                    ],
                    "model_name": model,
                    "timestamp": _iso(at),
                    "kind": "response",
                }
            )
        messages.append(
            {
                "parts": [{"content": reply, "part_kind": "text"}],
                "model_name": model,
                "timestamp": _iso(at),
                "kind": "response",
            }
        )
    return {"messages": messages}


def _soul_bits(doc: Any) -> tuple[str, str, str | None]:
    """(system prompt, model name, first tool name) of a soul document, tolerating odd documents."""
    if not isinstance(doc, dict):
        return "", "gpt-4o-mini", None
    prompt = (doc.get("prompt") or {}).get("system_prompt", "")
    model = (doc.get("model") or {}).get("model", "gpt-4o-mini")
    tools = (doc.get("tools") or {}).get("dify_tools") or []
    return prompt, model, tools[0]["tool_name"] if tools else None


def _write_workflow_session(
    ctx: _Ctx,
    rng: random.Random,
    app: _AppRec,
    row: _WorkflowRow,
    binding: _BindingRec,
    *,
    run_id: str,
    run_at: datetime,
    saved_at: datetime,
    status: str,
    cleaned_at: datetime | None,
    backend_run_id: str,
    session_id: str | None = None,
    snapshot_id: str | None = None,
    doc: Any = None,
    invoke_from: str = "web-app",
    user_id: str | None = None,
) -> None:
    """One `workflow_run` session: the node's layers (suspended) and the non-plugin layer specs."""
    node = binding.node
    customer = _customer(rng)
    user_text = node.persona.request.format(company=app.tenant.company, **customer)
    reply = node.persona.reply.format(**customer)
    prompt, model, tool = _soul_bits(doc)
    node_execution_id = _v4(rng)
    context = {
        "tenant_id": app.tenant.id,
        "user_id": user_id or _v4(rng),
        "user_from": "account" if invoke_from == "debugger" else "end-user",
        "app_id": app.id,
        "workflow_id": row.id,
        "workflow_run_id": run_id,
        "node_id": node.node_id,
        "node_execution_id": node_execution_id,
        "agent_id": binding.agent_id,
        "agent_config_version_id": snapshot_id,
        "invoke_from": invoke_from,
        "trace_id": _hex(rng, 32),
    }
    outputs = node.job["declared_outputs"]
    specs = [
        *([_spec("agent_soul_prompt", "plain.prompt", {"prefix": prompt}, "agent_soul")] if prompt else []),
        _spec(
            "workflow_node_job_prompt",
            "plain.prompt",
            {"prefix": node.job["workflow_prompt"]},
            "workflow_node_job",
        ),
        _spec("workflow_user_prompt", "plain.prompt", {"user": user_text}, "workflow_user_prompt"),
        _spec("execution_context", "dify.execution_context", context),
        _spec("history", "pydantic_ai.history", None, "agent_session_history"),
    ]
    layers = [_layer(s["name"]) for s in specs[:-1]]
    layers.append(_layer("history", _history([(saved_at, user_text, reply)], model, tool)))
    layers.append(_layer("llm"))  # plugin layers are in the snapshot, never in the specs (credentials)
    if tool:
        layers.append(_layer("tools"))
    if outputs:
        schema = {
            "type": "object",
            "properties": {o["name"]: {"type": o["type"]} for o in outputs},
            "required": [o["name"] for o in outputs if o["required"]],
        }
        specs.append(_spec("output", "dify.output", {"json_schema": schema}))
        layers.append(_layer("output"))
    created = min(run_at + timedelta(seconds=rng.uniform(0.2, 3)), saved_at)
    ctx.sink.add(
        AgentRuntimeSession,
        id=session_id or _v7(created, rng),
        tenant_id=app.tenant.id,
        app_id=app.id,
        owner_type="workflow_run",
        agent_id=binding.agent_id,
        backend_run_id=backend_run_id,
        session_snapshot=_compact_json({"schema_version": 1, "layers": layers}),
        workflow_id=row.id,
        workflow_run_id=run_id,
        node_id=node.node_id,
        node_execution_id=node_execution_id,
        binding_id=binding.id,
        agent_config_snapshot_id=snapshot_id,
        composition_layer_specs=_compact_json(specs),
        conversation_id=None,
        status=status,
        cleaned_at=cleaned_at,
        created_at=created,
        updated_at=cleaned_at or saved_at,
    )


def _session_target(binding: _BindingRec, at: datetime) -> tuple[str | None, Any] | None:
    """(snapshot id, soul doc) the node runs at `at`, or None when Dify's resolver refuses to run it."""
    event = binding.event
    agent = event.agent
    if agent is None:  # dangling: the agent existed when the run happened and was deleted since
        return (binding.snapshot_id, None) if binding.agent_id else None
    if not agent.runnable_at(at):
        return None
    if event.binding_type == "roster_agent":  # roster bindings run the agent's live active snapshot
        version = agent.version_at(at)
        return (version.id, version.doc) if version else None
    version = agent.version_by_id(binding.snapshot_id)  # inline bindings run the pinned snapshot
    return binding.snapshot_id, version.doc if version else None


def _write_run(
    ctx: _Ctx,
    rng: random.Random,
    app: _AppRec,
    *,
    at: datetime,
    status: str,
    debug: bool = False,
    run_id: str | None = None,
    reached: Sequence[str] | None = None,
    leaked: Sequence[str] = (),
    session_ids: dict[str, str] | None = None,
    actor: _Person | None = None,
    leak_rate: float = 0.0,
) -> str | None:
    """A workflow run and the sessions its agent nodes saved, cleaned or left behind (section 8.1)."""
    row = app.draft if debug else (app.published_at(at) or app.draft)
    debug = row is app.draft
    if not row.bindings:
        return None
    run_id = run_id or _v4(rng)
    # A debug run used the draft as it was then: only nodes that existed at `at`.
    nodes = [node_id for node_id, b in row.bindings.items() if b.node.added_at <= at]
    if not nodes:
        return None
    if reached is None:
        # Where the run got to: all agent nodes when it finished, a prefix when it stopped early.
        reached = (
            nodes if status in ("succeeded", "partial-succeeded") else nodes[: rng.randint(1, len(nodes))]
        )
    duration = timedelta(seconds=rng.uniform(4, 40) * len(reached))
    ended = status in _ENDED
    finished_at = min(at + duration, ctx.now) if ended else None
    actor = actor or app.tenant.member(rng)
    end_user = _v4(rng)
    ctx.sink.add(
        WorkflowRun,
        id=run_id,
        tenant_id=app.tenant.id,
        app_id=app.id,
        workflow_id=row.id,
        type="workflow" if app.mode == "workflow" else "chat",
        triggered_from="debugging" if debug else rng.choice(("app-run", "app-run", "schedule", "webhook")),
        version=row.version,
        status=status,
        created_by_role="account" if debug else "end_user",
        created_by=actor.id if debug else end_user,
        created_at=at,
        finished_at=finished_at,
    )
    if status == "paused" or (ended and rng.random() < 0.04):
        # A paused run waits for a human (resumed_at NULL); a few finished runs paused and were resumed.
        paused_at = min(at + duration, ctx.now) if status == "paused" else at + duration / 2
        # Only a paused run has no finished_at here (every other one reached this branch by ending).
        resumed_at = None if finished_at is None else _between(rng, paused_at, finished_at)
        ctx.sink.add(
            WorkflowPause,
            id=_v7(paused_at, rng),
            workflow_id=row.id,
            workflow_run_id=run_id,
            resumed_at=resumed_at,
            state_object_key=f"workflow_pauses/{app.tenant.id}/{run_id}.json",
            created_at=paused_at,
            updated_at=resumed_at or paused_at,
        )
    step_end = finished_at or ctx.now
    for i, node_id in enumerate(reached):
        binding = row.bindings[node_id]
        target = _session_target(binding, at)
        if target is None:
            continue
        snapshot_id, doc = target
        saved_at = min(at + duration * (i + 1) / len(reached), step_end)
        backend_run_id = _v4(rng)
        if finished_at is None or node_id in leaked or rng.random() < leak_rate:  # None: not ended
            # Still running / paused (legitimately ACTIVE), or the terminal cleanup never happened.
            session_status, cleaned_at = "active", None
        else:
            # The terminal cleanup layer marks the row cleaned a moment after the run ended.
            session_status, cleaned_at = (
                "cleaned",
                min(finished_at + timedelta(seconds=rng.uniform(0.05, 2)), ctx.now),
            )
        _write_workflow_session(
            ctx,
            rng,
            app,
            row,
            binding,
            run_id=run_id,
            run_at=at,
            saved_at=saved_at,
            status=session_status,
            cleaned_at=cleaned_at,
            backend_run_id=backend_run_id,
            session_id=(session_ids or {}).get(node_id),
            snapshot_id=snapshot_id,
            doc=doc,
            invoke_from="debugger" if debug else "web-app",
            user_id=actor.id if debug else end_user,
        )
    return run_id


def _random_run_status(rng: random.Random, age: timedelta) -> str:
    """Mostly succeeded; running only when minutes old, paused (waiting for a human) within days."""
    if age < timedelta(minutes=15) and rng.random() < 0.6:
        return "running"
    if age < timedelta(days=6) and rng.random() < 0.08:
        return "paused"
    return rng.choices(("succeeded", "failed", "stopped", "partial-succeeded"), (80, 9, 4, 7))[0]


def _write_conversation(
    ctx: _Ctx,
    rng: random.Random,
    tenant: _Tenant,
    app_id: str,
    agent: _AgentRec,
    *,
    turns: Sequence[datetime],
    conversation_id: str | None = None,
    is_deleted: bool = False,
    session_ids: Sequence[str] = (),
    superseded_cleaned: bool | None = None,
    write_row: bool = True,
    name: str | None = None,
) -> None:
    """An Agent App conversation and its `conversation` sessions: one per snapshot it ran on.

    When the agent got a new version mid-conversation, the old session is either left ACTIVE (seed
    code with the 4-column index) or cleaned (newer code retires superseded sessions)."""
    conversation_id = conversation_id or _v4(rng)
    customer = _customer(rng)
    console = rng.random() < 0.2
    first_message = agent.persona.request.format(company=tenant.company, **customer)
    if write_row:
        ctx.sink.add(
            Conversation,
            id=conversation_id,
            app_id=app_id,
            mode="agent",
            name=name or first_message[:60],
            inputs={"customer_tier": rng.choice(("free", "pro", "enterprise"))},
            status="normal",
            from_source="console" if console else "api",
            from_end_user_id=None if console else _v4(rng),
            from_account_id=tenant.member(rng).id if console else None,
            is_deleted=is_deleted,
            created_at=turns[0],
            updated_at=turns[-1],
        )
    # Group the turns by the snapshot that was active (and the agent runnable) when they happened.
    groups: list[tuple[_Version, list[datetime]]] = []
    for at in turns:
        version = agent.version_at(at) if agent.runnable_at(at) else None
        if version is None:
            continue
        if groups and groups[-1][0].id == version.id:
            groups[-1][1].append(at)
        else:
            groups.append((version, [at]))
    reply = agent.persona.reply.format(**customer)
    for i, (version, times) in enumerate(groups):
        prompt, model, tool = _soul_bits(version.doc)
        latest = i == len(groups) - 1
        cleaned = not latest and (
            superseded_cleaned if superseded_cleaned is not None else rng.random() < 0.5
        )
        cleaned_at = (
            min(groups[i + 1][1][0] + timedelta(seconds=rng.uniform(1, 5)), ctx.now) if cleaned else None
        )
        newer = times[0] > ctx.now - timedelta(days=60)  # newer Dify also stores the runtime layer specs
        specs = (
            []
            if not newer
            else [
                _spec("agent_soul_prompt", "plain.prompt", {"prefix": prompt}, "agent_soul"),
                _spec(
                    "execution_context",
                    "dify.execution_context",
                    {
                        "tenant_id": tenant.id,
                        "app_id": app_id,
                        "conversation_id": conversation_id,
                        "agent_id": agent.id,
                        "agent_config_version_id": version.id,
                        "invoke_from": "debugger" if console else "web-app",
                    },
                ),
                _spec("history", "pydantic_ai.history", None, "agent_session_history"),
            ]
        )
        history = [
            (t, first_message if j == 0 and i == 0 else rng.choice(FOLLOW_UPS), reply)
            for j, t in enumerate(times)
        ]
        layers = [
            _layer("agent_soul_prompt"),
            _layer("execution_context"),
            _layer("history", _history(history, model, tool)),
            _layer("llm"),
            *([_layer("tools")] if tool else []),
        ]
        ctx.sink.add(
            AgentRuntimeSession,
            id=session_ids[i] if i < len(session_ids) else _v7(times[0], rng),
            tenant_id=tenant.id,
            app_id=app_id,
            owner_type="conversation",
            agent_id=agent.id,
            backend_run_id=_v4(rng),
            session_snapshot=_compact_json({"schema_version": 1, "layers": layers}),
            workflow_id=None,
            workflow_run_id=None,
            node_id=None,
            node_execution_id=None,
            binding_id=None,
            agent_config_snapshot_id=version.id,
            composition_layer_specs=_compact_json(specs),
            conversation_id=conversation_id,
            status="cleaned" if cleaned else "active",
            cleaned_at=cleaned_at,
            created_at=times[0],
            updated_at=cleaned_at or times[-1],
        )
