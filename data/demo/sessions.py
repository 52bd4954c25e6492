"""Workflow runs and conversations and the runtime sessions they leave behind."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from data.demo.agents import _AgentRec, _Version
from data.demo.builders import conversation_row, session_row
from data.demo.catalog import FOLLOW_UPS
from data.demo.context import _Ctx, _Person, _Tenant
from data.demo.documents import _customer
from data.demo.primitives import _between, _hex, _iso, _ms, _v4, _v7
from data.demo.workflows import _AppRec, _BindingRec, _Node, _WorkflowRow
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


def _execution_context(
    app: _AppRec,
    row: _WorkflowRow,
    binding: _BindingRec,
    rng: random.Random,
    *,
    run_id: str,
    node_execution_id: str,
    snapshot_id: str | None,
    invoke_from: str,
    user_id: str | None,
) -> dict[str, Any]:
    """The `dify.execution_context` layer config of a workflow node (draws a user id when none is
    given, then the trace id)."""
    return {
        "tenant_id": app.tenant.id,
        "user_id": user_id or _v4(rng),
        "user_from": "account" if invoke_from == "debugger" else "end-user",
        "app_id": app.id,
        "workflow_id": row.id,
        "workflow_run_id": run_id,
        "node_id": binding.node.node_id,
        "node_execution_id": node_execution_id,
        "agent_id": binding.agent_id,
        "agent_config_version_id": snapshot_id,
        "invoke_from": invoke_from,
        "trace_id": _hex(rng, 32),
    }


def _workflow_layers(
    node: _Node, context: dict[str, Any], doc: Any, *, user_text: str, reply: str, saved_at: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(layer specs, layers) of a workflow node's session: the non-plugin specs, the suspended layers."""
    prompt, model, tool = _soul_bits(doc)
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
    return specs, layers


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
    node_execution_id = _v4(rng)
    context = _execution_context(
        app,
        row,
        binding,
        rng,
        run_id=run_id,
        node_execution_id=node_execution_id,
        snapshot_id=snapshot_id,
        invoke_from=invoke_from,
        user_id=user_id,
    )
    specs, layers = _workflow_layers(node, context, doc, user_text=user_text, reply=reply, saved_at=saved_at)
    created = min(run_at + timedelta(seconds=rng.uniform(0.2, 3)), saved_at)
    ctx.sink.add(
        AgentRuntimeSession,
        **session_row(
            session_id=session_id or _v7(created, rng),
            tenant_id=app.tenant.id,
            app_id=app.id,
            agent_id=binding.agent_id,
            backend_run_id=backend_run_id,
            layers=layers,
            specs=specs,
            snapshot_id=snapshot_id,
            status=status,
            cleaned_at=cleaned_at,
            created_at=created,
            updated_at=cleaned_at or saved_at,
            workflow={
                "workflow_id": row.id,
                "workflow_run_id": run_id,
                "node_id": node.node_id,
                "node_execution_id": node_execution_id,
                "binding_id": binding.id,
            },
        ),
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


@dataclass(frozen=True)
class _Run:
    """A workflow run being written: what its pause and its sessions need to know."""

    id: str
    app: _AppRec
    row: _WorkflowRow
    at: datetime
    status: str
    debug: bool
    reached: Sequence[str]  # the agent nodes it got to, in graph order
    duration: timedelta
    finished_at: datetime | None  # None: running or paused
    user_id: str  # the account (debug run) or the end user who ran it


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
    finished_at = min(at + duration, ctx.now) if status in _ENDED else None
    actor = actor or app.tenant.member(rng)
    end_user = _v4(rng)
    user_id = actor.id if debug else end_user
    run = _Run(run_id, app, row, at, status, debug, reached, duration, finished_at, user_id)
    _write_run_row(ctx, rng, run)
    _write_pause(ctx, rng, run)
    for i, node_id in enumerate(reached):
        session_id = (session_ids or {}).get(node_id)
        _write_node_session(
            ctx, rng, run, i, leaked=node_id in leaked, leak_rate=leak_rate, session_id=session_id
        )
    return run_id


def _write_run_row(ctx: _Ctx, rng: random.Random, run: _Run) -> None:
    ctx.sink.add(
        WorkflowRun,
        id=run.id,
        tenant_id=run.app.tenant.id,
        app_id=run.app.id,
        workflow_id=run.row.id,
        type="workflow" if run.app.mode == "workflow" else "chat",
        triggered_from="debugging"
        if run.debug
        else rng.choice(("app-run", "app-run", "schedule", "webhook")),
        version=run.row.version,
        status=run.status,
        created_by_role="account" if run.debug else "end_user",
        created_by=run.user_id,
        created_at=run.at,
        finished_at=run.finished_at,
    )


def _write_pause(ctx: _Ctx, rng: random.Random, run: _Run) -> None:
    """A paused run waits for a human (resumed_at NULL); a few finished runs paused and were resumed."""
    paused = run.status == "paused"
    if not (paused or (run.status in _ENDED and rng.random() < 0.04)):
        return
    paused_at = min(run.at + run.duration, ctx.now) if paused else run.at + run.duration / 2
    # Only a paused run has no finished_at here (every other one reached this branch by ending).
    resumed_at = None if run.finished_at is None else _between(rng, paused_at, run.finished_at)
    ctx.sink.add(
        WorkflowPause,
        id=_v7(paused_at, rng),
        workflow_id=run.row.id,
        workflow_run_id=run.id,
        resumed_at=resumed_at,
        state_object_key=f"workflow_pauses/{run.app.tenant.id}/{run.id}.json",
        created_at=paused_at,
        updated_at=resumed_at or paused_at,
    )


def _write_node_session(
    ctx: _Ctx,
    rng: random.Random,
    run: _Run,
    i: int,
    *,
    leaked: bool,
    leak_rate: float,
    session_id: str | None,
) -> None:
    """The session the run's i-th reached node saved: cleaned after the run ended, unless leaked."""
    binding = run.row.bindings[run.reached[i]]
    target = _session_target(binding, run.at)
    if target is None:
        return
    snapshot_id, doc = target
    saved_at = min(run.at + run.duration * (i + 1) / len(run.reached), run.finished_at or ctx.now)
    backend_run_id = _v4(rng)
    if run.finished_at is None or leaked or rng.random() < leak_rate:  # None: not ended
        # Still running / paused (legitimately ACTIVE), or the terminal cleanup never happened.
        status, cleaned_at = "active", None
    else:
        # The terminal cleanup layer marks the row cleaned a moment after the run ended.
        status = "cleaned"
        cleaned_at = min(run.finished_at + timedelta(seconds=rng.uniform(0.05, 2)), ctx.now)
    _write_workflow_session(
        ctx,
        rng,
        run.app,
        run.row,
        binding,
        run_id=run.id,
        run_at=run.at,
        saved_at=saved_at,
        status=status,
        cleaned_at=cleaned_at,
        backend_run_id=backend_run_id,
        session_id=session_id,
        snapshot_id=snapshot_id,
        doc=doc,
        invoke_from="debugger" if run.debug else "web-app",
        user_id=run.user_id,
    )


def _random_run_status(rng: random.Random, age: timedelta) -> str:
    """Mostly succeeded; running only when minutes old, paused (waiting for a human) within days."""
    if age < timedelta(minutes=15) and rng.random() < 0.6:
        return "running"
    if age < timedelta(days=6) and rng.random() < 0.08:
        return "paused"
    return rng.choices(("succeeded", "failed", "stopped", "partial-succeeded"), (80, 9, 4, 7))[0]


@dataclass(frozen=True)
class _Chat:
    """An Agent App conversation being written: what each of its sessions needs to know."""

    id: str
    tenant: _Tenant
    app_id: str
    agent: _AgentRec
    console: bool  # started from the console (debugger) rather than the web app
    first_message: str
    reply: str


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
            **conversation_row(
                conversation_id=conversation_id,
                app_id=app_id,
                name=name or first_message[:60],
                inputs={"customer_tier": rng.choice(("free", "pro", "enterprise"))},
                end_user_id=None if console else _v4(rng),
                account_id=tenant.member(rng).id if console else None,
                is_deleted=is_deleted,
                created_at=turns[0],
                updated_at=turns[-1],
            ),
        )
    reply = agent.persona.reply.format(**customer)
    chat = _Chat(conversation_id, tenant, app_id, agent, console, first_message, reply)
    groups = _snapshot_groups(agent, turns)
    for i, (version, times) in enumerate(groups):
        latest = i == len(groups) - 1
        cleaned = not latest and (
            superseded_cleaned if superseded_cleaned is not None else rng.random() < 0.5
        )
        cleaned_at = (
            min(groups[i + 1][1][0] + timedelta(seconds=rng.uniform(1, 5)), ctx.now) if cleaned else None
        )
        session_id = session_ids[i] if i < len(session_ids) else None
        _write_conversation_session(
            ctx, rng, chat, version, times, first=i == 0, session_id=session_id, cleaned_at=cleaned_at
        )


def _snapshot_groups(agent: _AgentRec, turns: Sequence[datetime]) -> list[tuple[_Version, list[datetime]]]:
    """The turns grouped by the snapshot that was active (and the agent runnable) when they happened."""
    groups: list[tuple[_Version, list[datetime]]] = []
    for at in turns:
        version = agent.version_at(at) if agent.runnable_at(at) else None
        if version is None:
            continue
        if groups and groups[-1][0].id == version.id:
            groups[-1][1].append(at)
        else:
            groups.append((version, [at]))
    return groups


def _write_conversation_session(
    ctx: _Ctx,
    rng: random.Random,
    chat: _Chat,
    version: _Version,
    times: Sequence[datetime],
    *,
    first: bool,
    session_id: str | None,
    cleaned_at: datetime | None,
) -> None:
    """One `conversation` session: the turns that ran on one snapshot (cleaned once superseded)."""
    prompt, model, tool = _soul_bits(version.doc)
    newer = times[0] > ctx.now - timedelta(days=60)  # newer Dify also stores the runtime layer specs
    specs = _conversation_specs(chat, version, prompt) if newer else []
    history = [
        (t, chat.first_message if j == 0 and first else rng.choice(FOLLOW_UPS), chat.reply)
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
        **session_row(
            session_id=session_id or _v7(times[0], rng),
            tenant_id=chat.tenant.id,
            app_id=chat.app_id,
            agent_id=chat.agent.id,
            backend_run_id=_v4(rng),
            layers=layers,
            specs=specs,
            snapshot_id=version.id,
            status="cleaned" if cleaned_at else "active",
            cleaned_at=cleaned_at,
            created_at=times[0],
            updated_at=cleaned_at or times[-1],
            conversation_id=chat.id,
        ),
    )


def _conversation_specs(chat: _Chat, version: _Version, prompt: str) -> list[dict[str, Any]]:
    return [
        _spec("agent_soul_prompt", "plain.prompt", {"prefix": prompt}, "agent_soul"),
        _spec(
            "execution_context",
            "dify.execution_context",
            {
                "tenant_id": chat.tenant.id,
                "app_id": chat.app_id,
                "conversation_id": chat.id,
                "agent_id": chat.agent.id,
                "agent_config_version_id": version.id,
                "invoke_from": "debugger" if chat.console else "web-app",
            },
        ),
        _spec("history", "pydantic_ai.history", None, "agent_session_history"),
    ]
