"""One binding list row: its columns (facts, workspace and display names) and decoration."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from data.masking import mask_text
from data.models import Agent, AgentConfigSnapshot, App, Conversation, WorkflowRun
from data.models.drafts import AgentConfigDraft
from data.models.workspaces import AgentHomeSnapshot, AgentWorkspace, AgentWorkspaceBinding
from data.rules.workspace_leaks import (
    OWNER_CONVERSATION,
    OWNER_DRAFT,
    OWNER_RUN,
    BindingFacts,
    WorkspaceFacts,
    WorkspaceRuleContext,
    binding_protected,
    classify_binding,
)
from data.snapshot_layers import (
    LIST_PARSE_CHARS,
    LayerSummary,
    parse_layers,
)
from data.stores.workspace_leaks import (
    binding_columns,
    binding_fact_columns,
    binding_facts,
    workspace_columns,
    workspace_fact_columns,
)

W, B, H = AgentWorkspace, AgentWorkspaceBinding, AgentHomeSnapshot
# --- rows -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BindingRow:
    id: str
    tenant_id: str
    workspace_name: str
    workspace_id: str
    workspace_status: str | None  # None: no workspace row
    owner_type: str | None
    owner_label: str
    app_id: str
    app_name: str | None
    agent_id: str
    agent_name: str | None
    version_kind: str
    version_id: str
    version_label: str
    status: str
    created_at: datetime
    updated_at: datetime
    retired_at: datetime | None
    pending: str | None  # "form <id>" / "tool call <id>"
    snapshot_chars: int
    layers: LayerSummary
    rule: str | None
    protected: bool  # pending form / tool call, or a running or paused run: no rule applies
    facts: BindingFacts


def _one(column: Any, *where: sa.ColumnElement[bool]) -> sa.ScalarSelect:
    return sa.select(column).where(*where).limit(1).scalar_subquery()


def _display_columns(ctx: WorkspaceRuleContext, b: Any, w: Any) -> tuple[sa.Label, ...]:
    from data.models import Tenant

    size = sa.func.length(b.session_snapshot)
    conversation_name = (
        _one(Conversation.name, Conversation.id == w.owner_id) if ctx.has("conversations") else sa.null()
    )
    run_status = (
        _one(WorkflowRun.status, WorkflowRun.id == w.owner_id, WorkflowRun.tenant_id == w.tenant_id)
        if ctx.has("workflow_runs")
        else sa.null()
    )
    draft_account = (
        _one(AgentConfigDraft.account_id, AgentConfigDraft.id == w.owner_id)
        if ctx.has("agent_config_drafts")
        else sa.null()
    )
    return (
        b.agent_config_version_kind.label("d_version_kind"),
        b.agent_config_version_id.label("d_version_id"),
        w.owner_scope_key.label("d_scope"),
        size.label("d_chars"),
        sa.case((size <= LIST_PARSE_CHARS, b.session_snapshot), else_=sa.null()).label("d_snapshot"),
        (_one(Tenant.name, Tenant.id == b.tenant_id) if ctx.has("tenants") else sa.null()).label(
            "d_workspace"
        ),
        (
            _one(App.name, App.id == b.app_id, App.tenant_id == b.tenant_id) if ctx.has("apps") else sa.null()
        ).label("d_app"),
        _one(Agent.name, Agent.id == b.agent_id, Agent.tenant_id == b.tenant_id).label("d_agent"),
        sa.case(
            (
                b.agent_config_version_kind == "snapshot",
                _one(
                    AgentConfigSnapshot.version,
                    AgentConfigSnapshot.id == b.agent_config_version_id,
                    AgentConfigSnapshot.tenant_id == b.tenant_id,
                ),
            ),
            else_=sa.null(),
        ).label("d_version"),
        sa.case((w.owner_type == OWNER_CONVERSATION, conversation_name), else_=sa.null()).label(
            "d_conversation"
        ),
        sa.case((w.owner_type == OWNER_RUN, run_status), else_=sa.null()).label("d_run_status"),
        sa.case((w.owner_type == OWNER_DRAFT, draft_account), else_=sa.null()).label("d_draft_account"),
    )


def row_columns(ctx: WorkspaceRuleContext, b: Any, w: Any) -> tuple:
    return (
        *binding_columns(b),
        *binding_fact_columns(ctx, b),
        *workspace_columns(w),
        *workspace_fact_columns(ctx, w),
        *_display_columns(ctx, b, w),
    )


def owner_label(facts: WorkspaceFacts | None, row: Any) -> str:
    if facts is None:
        return "(no workspace row)"
    get = row._mapping
    if facts.owner_type == OWNER_RUN:
        node = (get["d_scope"] or "").split(":", 1)[0] or "—"
        status = get["d_run_status"] or ("no run row" if facts.run_status is None else facts.run_status)
        return f"run {facts.owner_id} · node {node} · {status}"
    if facts.owner_type == OWNER_CONVERSATION:
        if not facts.owner_exists:
            return f"conversation {facts.owner_id} (no row)"
        name = mask_text(str(get["d_conversation"] or ""))[:80]
        return f"conversation {name!r} · {facts.owner_id}" + (" · deleted" if facts.owner_deleted else "")
    if facts.owner_type == OWNER_DRAFT:
        account = get["d_draft_account"]
        return f"build draft {facts.owner_id} · " + (f"account {account}" if account else "no draft row")
    return f"{facts.owner_type} {facts.owner_id}"


def _pending_label(row: Any) -> str | None:
    get = row._mapping
    parts = []
    if get["b_pending_form_id"]:
        parts.append(f"form {get['b_pending_form_id']}")
    if get["b_pending_tool_call_id"]:
        parts.append(f"tool call {mask_text(str(get['b_pending_tool_call_id']))}")
    return ", ".join(parts) or None


def decorate(rows: Sequence[Any], ctx: WorkspaceRuleContext) -> list[BindingRow]:
    result = []
    for r in rows:
        f = binding_facts(r)
        get = r._mapping
        chars = int(get["d_chars"] or 0)
        layers = (
            parse_layers(get["d_snapshot"])
            if get["d_snapshot"] is not None
            else LayerSummary(
                (), f"{chars:,} characters: open the binding to see its layers" if chars else None
            )
        )
        kind = str(get["d_version_kind"])
        version = get["d_version"]
        result.append(
            BindingRow(
                id=f.id,
                tenant_id=f.tenant_id,
                workspace_name=get["d_workspace"] or f.tenant_id,
                workspace_id=f.workspace_id,
                workspace_status=f.workspace.status if f.workspace else None,
                owner_type=f.workspace.owner_type if f.workspace else None,
                owner_label=owner_label(f.workspace, r),
                app_id=f.app_id,
                app_name=get["d_app"],
                agent_id=f.agent_id,
                agent_name=get["d_agent"],
                version_kind=kind,
                version_id=get["d_version_id"],
                version_label=f"{kind} v{version}"
                if version is not None
                else f"{kind} {get['d_version_id']}",
                status=f.status,
                created_at=f.created_at,
                updated_at=f.updated_at,
                retired_at=f.retired_at,
                pending=_pending_label(r),
                snapshot_chars=chars,
                layers=layers,
                rule=classify_binding(f, ctx),
                protected=binding_protected(f, ctx),
                facts=f,
            )
        )
    return result
