"""One runtime session with its run, conversation and binding; every document masked here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from data.masking import mask_layer_specs, mask_session_snapshot, mask_text
from data.models import (
    AgentRuntimeSession,
    App,
    Conversation,
    WorkflowAgentNodeBinding,
    WorkflowRun,
)
from data.read_context import ReadContext
from data.rules.session_leaks import RuleContext, SessionFacts
from data.snapshot_layers import MAX_RAW_CHARS, has_history_state
from data.stores.owners import open_pause_since
from data.stores.scope import in_scope
from data.stores.session_leaks import facts_from_row
from data.stores.sessions.rows import SessionRow, decorate, row_columns
from data.tolerant import parse_json

S = AgentRuntimeSession


@dataclass(frozen=True)
class RunInfo:
    id: str
    exists: bool
    status: str | None = None
    triggered_from: str | None = None
    created_at: datetime | None = None
    finished_at: datetime | None = None
    open_pause_since: datetime | None = None  # a paused (human-in-the-loop) run waits since then


@dataclass(frozen=True)
class ConversationInfo:
    id: str
    exists: bool
    name: str | None = None  # user/LLM text: masked for tokens here, shown literally by the page
    from_source: str | None = None
    is_deleted: bool | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class BindingInfo:
    id: str
    exists: bool
    workflow_version: str | None = None
    node_id: str | None = None
    binding_type: str | None = None


@dataclass(frozen=True)
class LayerSpec:
    name: str
    type: str
    origin: str | None


@dataclass(frozen=True)
class SessionDetail:
    """One session, with every document already masked (the raw history never leaves `data` here)."""

    row: SessionRow
    facts: SessionFacts
    agent_status: str | None
    run: RunInfo | None
    conversation: ConversationInfo | None
    binding: BindingInfo | None
    node_execution_id: str | None
    snapshot_masked: Any  # parsed and masked (history runtime state collapsed), or None
    snapshot_error: str | None
    snapshot_text_masked: str | None  # token-scrubbed raw text when the JSON is unusable
    has_history: bool  # a `history` layer with runtime state exists (revealing it is audited)
    specs: tuple[LayerSpec, ...]
    specs_masked: Any
    specs_error: str | None


def get_session(
    conn: sa.Connection, session_id: str, ctx: RuleContext, *, read: ReadContext
) -> SessionDetail | None:
    """One session, if it exists in a workspace `read` covers."""
    row = conn.execute(
        sa.select(
            *row_columns(ctx), S.session_snapshot, S.composition_layer_specs, S.node_execution_id
        ).where(S.id == session_id, *in_scope(S.tenant_id, read))
    ).first()
    if row is None:
        return None
    decorated = decorate([row], ctx)[0]
    facts = facts_from_row(row)
    run = None
    if row.workflow_run_id:
        run = RunInfo(row.workflow_run_id, exists=False)
        if ctx.has("workflow_runs"):
            r = conn.execute(
                sa.select(WorkflowRun).where(
                    WorkflowRun.id == row.workflow_run_id, WorkflowRun.tenant_id == row.tenant_id
                )
            ).first()
            if r is not None:
                pause = open_pause_since(conn, r.id) if ctx.has("workflow_pauses") else None
                run = RunInfo(r.id, True, r.status, r.triggered_from, r.created_at, r.finished_at, pause)
    conversation = None
    if row.conversation_id:
        conversation = ConversationInfo(row.conversation_id, exists=False)
        if ctx.has("conversations"):
            columns = [Conversation.id, Conversation.name, Conversation.from_source, Conversation.updated_at]
            if ctx.has_is_deleted:
                columns.append(Conversation.is_deleted)
            query = sa.select(*columns).where(Conversation.id == row.conversation_id)
            if ctx.has("apps"):  # conversations have no tenant column: scope them through their app
                query = query.join(App, App.id == Conversation.app_id).where(App.tenant_id == row.tenant_id)
            c = conn.execute(query).first()
            if c is not None:
                conversation = ConversationInfo(
                    c.id,
                    True,
                    mask_text(c.name or ""),
                    c.from_source,
                    bool(c.is_deleted) if ctx.has_is_deleted else None,
                    c.updated_at,
                )
    binding = None
    if row.binding_id:
        b = conn.execute(
            sa.select(WorkflowAgentNodeBinding).where(
                WorkflowAgentNodeBinding.id == row.binding_id,
                WorkflowAgentNodeBinding.tenant_id == row.tenant_id,
            )
        ).first()
        binding = (
            BindingInfo(b.id, True, b.workflow_version, b.node_id, str(b.binding_type))
            if b is not None
            else BindingInfo(row.binding_id, False)
        )
    snapshot = parse_json(row.session_snapshot, expect_object=True)
    has_history = snapshot.ok and has_history_state(snapshot.value)
    specs_doc = parse_json(row.composition_layer_specs)
    specs: list[LayerSpec] = []
    specs_error = specs_doc.error
    if specs_doc.ok and isinstance(specs_doc.value, list):
        for spec in specs_doc.value:
            if isinstance(spec, dict):
                metadata = spec.get("metadata")
                origin = metadata.get("origin") if isinstance(metadata, dict) else None
                specs.append(
                    LayerSpec(
                        str(spec.get("name", "?")),
                        str(spec.get("type", "?")),
                        str(origin) if origin else None,
                    )
                )
    elif specs_doc.ok:
        specs_error = f"JSON is a {type(specs_doc.value).__name__}, not a list"
    return SessionDetail(
        row=decorated,
        facts=facts,
        agent_status=facts.agent_status,
        run=run,
        conversation=conversation,
        binding=binding,
        node_execution_id=row.node_execution_id,
        snapshot_masked=mask_session_snapshot(snapshot.value) if snapshot.ok else None,
        snapshot_error=snapshot.error,
        snapshot_text_masked=None if snapshot.ok else mask_text((snapshot.raw or "")[:MAX_RAW_CHARS]),
        has_history=has_history,
        specs=tuple(specs),
        specs_masked=mask_layer_specs(specs_doc.value) if specs_doc.ok else None,
        specs_error=specs_error,
    )
