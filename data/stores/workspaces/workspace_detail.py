"""One binding's and one workspace's detail, and the workspaces a rule selects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from data.masking import mask_session_snapshot, mask_text
from data.models import Conversation, WorkflowRun
from data.models.drafts import AgentConfigDraft
from data.models.workspaces import AgentHomeSnapshot, AgentWorkspace, AgentWorkspaceBinding
from data.read_context import ReadContext
from data.rules.workspace_leaks import (
    OWNER_CONVERSATION,
    OWNER_DRAFT,
    OWNER_RUN,
    WorkspaceFacts,
    WorkspaceRuleContext,
    classify_workspace,
    workspace_protected,
)
from data.snapshot_layers import (
    MAX_RAW_CHARS,
    has_history_state,
)
from data.stores.owners import open_pause_since
from data.stores.scope import in_scope
from data.stores.workspace_leaks import (
    first_match_workspace_condition,
    workspace_columns,
    workspace_fact_columns,
    workspace_facts,
    workspace_join,
)
from data.stores.workspaces.binding_list import SCAN_LIMIT
from data.stores.workspaces.binding_rows import BindingRow, decorate, row_columns
from data.tolerant import parse_json

W, B, H = AgentWorkspace, AgentWorkspaceBinding, AgentHomeSnapshot
# --- one binding, one workspace ------------------------------------------------------------------------


@dataclass(frozen=True)
class CallerPointer:
    kind: str  # "conversation" | "node execution" | "build draft"
    id: str
    label: str


@dataclass(frozen=True)
class OwnerInfo:
    owner_type: str
    owner_id: str
    exists: bool
    label: str
    run_status: str | None = None
    run_open_pause_since: datetime | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True)
class WorkspaceRow:
    facts: WorkspaceFacts
    owner_scope_key: str
    backend_workspace_ref: str  # shown, never editable
    rule: str | None
    protected: bool


@dataclass(frozen=True)
class BindingDetail:
    row: BindingRow
    workspace: WorkspaceRow | None
    owner: OwnerInfo | None
    backend_binding_ref: str
    base_home_snapshot_id: str | None
    callers: tuple[CallerPointer, ...]
    snapshot_masked: Any
    snapshot_error: str | None
    snapshot_text_masked: str | None
    has_history: bool


@dataclass(frozen=True)
class WorkspaceDetail:
    workspace: WorkspaceRow
    owner: OwnerInfo
    bindings: tuple[BindingRow, ...]


def _workspace_row(
    conn: sa.Connection, workspace_id: str, ctx: WorkspaceRuleContext, read: ReadContext
) -> WorkspaceRow | None:
    row = conn.execute(
        sa.select(
            *workspace_columns(W), *workspace_fact_columns(ctx, W), W.owner_scope_key, W.backend_workspace_ref
        ).where(W.id == workspace_id, *in_scope(W.tenant_id, read))
    ).first()
    if row is None:
        return None
    f = workspace_facts(row)
    assert f is not None
    return WorkspaceRow(
        f,
        str(row.owner_scope_key),
        str(row.backend_workspace_ref),
        classify_workspace(f, ctx),
        workspace_protected(f, ctx),
    )


def _owner(conn: sa.Connection, w: WorkspaceRow, ctx: WorkspaceRuleContext) -> OwnerInfo:
    f = w.facts
    if f.owner_type == OWNER_RUN and ctx.has("workflow_runs"):
        run = conn.execute(
            sa.select(WorkflowRun).where(WorkflowRun.id == f.owner_id, WorkflowRun.tenant_id == f.tenant_id)
        ).first()
        if run is None:
            return OwnerInfo(f.owner_type, f.owner_id, False, f"workflow run {f.owner_id} (no row)")
        pause = open_pause_since(conn, run.id) if ctx.has("workflow_pauses") else None
        node = w.owner_scope_key.split(":", 1)[0]
        return OwnerInfo(
            f.owner_type,
            f.owner_id,
            True,
            f"workflow run {run.id} · node {node} · {run.status}",
            str(run.status),
            pause,
            run.finished_at,
        )
    if f.owner_type == OWNER_CONVERSATION and ctx.has("conversations"):
        columns: list[Any] = [Conversation.id, Conversation.name, Conversation.from_source]
        if ctx.has_is_deleted:
            columns.append(Conversation.is_deleted)
        c = conn.execute(sa.select(*columns).where(Conversation.id == f.owner_id)).first()
        if c is None:
            return OwnerInfo(f.owner_type, f.owner_id, False, f"conversation {f.owner_id} (no row)")
        deleted = bool(c.is_deleted) if ctx.has_is_deleted else False
        return OwnerInfo(
            f.owner_type,
            f.owner_id,
            True,
            f"conversation {mask_text(c.name or '')!r} · {c.id} · from {c.from_source}"
            + (" · deleted (is_deleted)" if deleted else ""),
        )
    if f.owner_type == OWNER_DRAFT and ctx.has("agent_config_drafts"):
        d = conn.execute(
            sa.select(AgentConfigDraft.id, AgentConfigDraft.account_id, AgentConfigDraft.draft_type).where(
                AgentConfigDraft.id == f.owner_id, AgentConfigDraft.tenant_id == f.tenant_id
            )
        ).first()
        if d is None:
            return OwnerInfo(
                f.owner_type, f.owner_id, False, f"build draft {f.owner_id} (no row: applied or discarded)"
            )
        return OwnerInfo(
            f.owner_type, f.owner_id, True, f"build draft {d.id} · {d.draft_type} · account {d.account_id}"
        )
    return OwnerInfo(
        f.owner_type, f.owner_id, True, f"{f.owner_type} {f.owner_id} (not checked: table missing)"
    )


def _callers(
    conn: sa.Connection, binding_id: str, w: WorkspaceRow | None, agent_id: str, ctx: WorkspaceRuleContext
) -> tuple[CallerPointer, ...]:
    """Who points at the binding, found through the workspace's owner (the pointer columns have no index)."""
    result: list[CallerPointer] = []
    if w is None:
        return ()
    f = w.facts
    if f.owner_type == OWNER_CONVERSATION and ctx.has("conversations"):
        hit = conn.execute(
            sa.select(Conversation.id).where(
                Conversation.id == f.owner_id, Conversation.agent_workspace_binding_id == binding_id
            )
        ).scalar()
        if hit:
            result.append(CallerPointer("conversation", hit, f"conversation {hit}"))
    if f.owner_type == OWNER_RUN and ctx.has("workflow_node_executions"):
        from data.models.core import WorkflowNodeExecution

        for e in conn.execute(
            sa.select(WorkflowNodeExecution.id, WorkflowNodeExecution.node_id, WorkflowNodeExecution.status)
            .where(
                WorkflowNodeExecution.tenant_id == f.tenant_id,
                WorkflowNodeExecution.workflow_run_id == f.owner_id,
                WorkflowNodeExecution.agent_workspace_binding_id == binding_id,
            )
            .limit(20)
        ):
            result.append(
                CallerPointer(
                    "node execution", e.id, f"node execution {e.id} · node {e.node_id} · {e.status}"
                )
            )
    if ctx.has("agent_config_drafts"):
        for d in conn.execute(
            sa.select(AgentConfigDraft.id, AgentConfigDraft.draft_type)
            .where(
                AgentConfigDraft.tenant_id == f.tenant_id,
                AgentConfigDraft.agent_id == agent_id,
                AgentConfigDraft.agent_workspace_binding_id == binding_id,
            )
            .limit(20)
        ):
            result.append(CallerPointer("build draft", d.id, f"draft {d.id} · {d.draft_type}"))
    return tuple(result)


def get_binding(
    conn: sa.Connection, binding_id: str, ctx: WorkspaceRuleContext, *, read: ReadContext
) -> BindingDetail | None:
    """One binding, if it exists in a workspace `read` covers."""
    w = aliased(W, name="ws")
    row = conn.execute(
        sa.select(*row_columns(ctx, B, w), B.session_snapshot, B.backend_binding_ref, B.base_home_snapshot_id)
        .select_from(B)
        .outerjoin(w, workspace_join(B, w))
        .where(B.id == binding_id, *in_scope(B.tenant_id, read))
    ).first()
    if row is None:
        return None
    decorated = decorate([row], ctx)[0]
    workspace = _workspace_row(conn, decorated.workspace_id, ctx, read) if decorated.facts.workspace else None
    owner = _owner(conn, workspace, ctx) if workspace else None
    snapshot = parse_json(row.session_snapshot, expect_object=True)
    has_history = snapshot.ok and has_history_state(snapshot.value)
    return BindingDetail(
        row=decorated,
        workspace=workspace,
        owner=owner,
        backend_binding_ref=str(row.backend_binding_ref),
        base_home_snapshot_id=row.base_home_snapshot_id,
        callers=_callers(conn, binding_id, workspace, decorated.agent_id, ctx),
        snapshot_masked=mask_session_snapshot(snapshot.value) if snapshot.ok else None,
        snapshot_error=snapshot.error if row.session_snapshot is not None else None,
        snapshot_text_masked=None if snapshot.ok else mask_text((snapshot.raw or "")[:MAX_RAW_CHARS]),
        has_history=has_history,
    )


def get_workspace(
    conn: sa.Connection, workspace_id: str, ctx: WorkspaceRuleContext, *, read: ReadContext, limit: int = 200
) -> WorkspaceDetail | None:
    """One workspace with its newest bindings, if it exists in a workspace `read` covers."""
    workspace = _workspace_row(conn, workspace_id, ctx, read)
    if workspace is None:
        return None
    w = aliased(W, name="ws")
    rows = conn.execute(
        sa.select(*row_columns(ctx, B, w))
        .select_from(B)
        .outerjoin(w, workspace_join(B, w))
        .where(B.tenant_id == workspace.facts.tenant_id, B.workspace_id == workspace_id)
        .order_by(B.id.desc())
        .limit(limit)
    ).all()
    return WorkspaceDetail(workspace, _owner(conn, workspace, ctx), tuple(decorate(rows, ctx)))


def binding_snapshot_for_reveal(conn: sa.Connection, binding_id: str) -> Any:
    """(tenant_id, status, session_snapshot) of one binding, for the audited reveal."""
    return conn.execute(
        sa.select(B.tenant_id, B.status, B.session_snapshot).where(B.id == binding_id)
    ).first()


def workspaces_matching(
    conn: sa.Connection,
    rule: str,
    ctx: WorkspaceRuleContext,
    *,
    tenant_id: str | None = None,
    limit: int = 50,
    scan: int = SCAN_LIMIT,
) -> tuple[WorkspaceRow, ...]:
    """Workspaces whose first rule is `rule`, among the newest `scan` (shown next to the binding list:
    a workspace without any binding row has no row in it)."""
    base = sa.select(W).where(*([W.tenant_id == tenant_id] if tenant_id else []))
    inner = base.order_by(W.id.desc()).limit(scan).subquery("wwin")
    w = aliased(W, inner, name="wwin")
    rows = conn.execute(
        sa.select(
            *workspace_columns(w), *workspace_fact_columns(ctx, w), w.owner_scope_key, w.backend_workspace_ref
        )
        .where(first_match_workspace_condition(rule, ctx, w))
        .order_by(w.id.desc())
        .limit(limit)
    ).all()
    result = []
    for r in rows:
        f = workspace_facts(r)
        assert f is not None
        result.append(
            WorkspaceRow(
                f,
                str(r.owner_scope_key),
                str(r.backend_workspace_ref),
                classify_workspace(f, ctx),
                workspace_protected(f, ctx),
            )
        )
    return tuple(result)
