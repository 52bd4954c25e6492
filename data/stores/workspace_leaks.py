"""The SQL of the Dify 1.17+ working-environment leak rules (`data.rules.workspace_leaks`): one condition
per rule and row kind, selecting exactly the rows the rule's predicate labels (tested on the demo and
planted rows, SQLite, PostgreSQL and MariaDB), and the facts the predicates read, loaded as labeled
columns next to the rows.

Every SQL piece is two-valued (never NULL): a NOT over NULL would silently drop rows. Lookups are
scalar subqueries on primary keys or Dify's indexes (one probe per candidate row), never EXISTS under
OR / NOT.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from data.models import Agent, AgentConfigSnapshot, App, Conversation, WorkflowPause, WorkflowRun
from data.models.drafts import AgentConfigDraft
from data.models.enums import AgentStatus
from data.models.workspaces import AgentHomeSnapshot, AgentWorkspace, AgentWorkspaceBinding
from data.rules.workspace_leaks import (
    ACTIVE,
    ENDED,
    OWNER_CONVERSATION,
    OWNER_DRAFT,
    OWNER_RUN,
    RETIRED,
    RULE_NAMES,
    RULES,
    BindingFacts,
    HomeFacts,
    WorkspaceFacts,
    WorkspaceRuleContext,
    check_rule,
)

W, B, H = AgentWorkspace, AgentWorkspaceBinding, AgentHomeSnapshot


# --- SQL conditions -----------------------------------------------------------------------------------
#
# Workspace conditions take the workspace entity `w` (the table, a window of it, or an alias outer-
# joined to a binding: then every column is NULL when the row is missing, and each condition that
# depends on the workspace is ANDed with `w.id IS NOT NULL` so it stays two-valued).


def _one(column: Any, *where: sa.ColumnElement[bool]) -> sa.ScalarSelect:
    return sa.select(column).where(*where).limit(1).scalar_subquery()


def _present(subquery: sa.ScalarSelect) -> sa.ColumnElement[bool]:
    return subquery.is_not(None)


def _run_status(w: Any) -> sa.ScalarSelect:
    return _one(WorkflowRun.status, WorkflowRun.id == w.owner_id, WorkflowRun.tenant_id == w.tenant_id)


def _open_pause(w: Any) -> sa.ColumnElement[bool]:
    return _present(
        _one(sa.literal(1), WorkflowPause.workflow_run_id == w.owner_id, WorkflowPause.resumed_at.is_(None))
    )


def _active_binding(w: Any) -> sa.ColumnElement[bool]:
    other = aliased(B, name="w_binding")  # never correlate to an outer binding entity
    return _present(
        _one(
            sa.literal(1), other.tenant_id == w.tenant_id, other.workspace_id == w.id, other.status == ACTIVE
        )
    )


def _pending_binding(w: Any) -> sa.ColumnElement[bool]:
    other = aliased(B, name="w_pending")
    return _present(
        _one(
            sa.literal(1),
            other.tenant_id == w.tenant_id,
            other.workspace_id == w.id,
            sa.or_(other.pending_form_id.is_not(None), other.pending_tool_call_id.is_not(None)),
        )
    )


def _conversation_live(w: Any, ctx: WorkspaceRuleContext) -> sa.ColumnElement[bool]:
    where = [Conversation.id == w.owner_id]
    if ctx.has_is_deleted:
        where.append(Conversation.is_deleted.is_not(True))
    return _present(_one(sa.literal(1), *where))


def _draft_exists(w: Any) -> sa.ColumnElement[bool]:
    return _present(
        _one(sa.literal(1), AgentConfigDraft.id == w.owner_id, AgentConfigDraft.tenant_id == w.tenant_id)
    )


def run_in_flight_condition(ctx: WorkspaceRuleContext, w: Any = W) -> sa.ColumnElement[bool]:
    if not ctx.has("workflow_runs"):
        return sa.and_(w.id.is_not(None), w.owner_type == OWNER_RUN)
    # A NULL status (no run row) is neither ended nor running: coalesce it to ended.
    running: sa.ColumnElement[bool] = sa.func.coalesce(_run_status(w), ENDED[0]).not_in(ENDED)
    if ctx.has("workflow_pauses"):
        running = sa.or_(running, _open_pause(w))
    return sa.and_(w.id.is_not(None), w.owner_type == OWNER_RUN, running)


def workspace_protected_condition(ctx: WorkspaceRuleContext, w: Any = W) -> sa.ColumnElement[bool]:
    return sa.or_(run_in_flight_condition(ctx, w), sa.and_(w.id.is_not(None), _pending_binding(w)))


def _binding_pending(b: Any) -> sa.ColumnElement[bool]:
    return sa.or_(b.pending_form_id.is_not(None), b.pending_tool_call_id.is_not(None))


def binding_protected_condition(ctx: WorkspaceRuleContext, b: Any, w: Any) -> sa.ColumnElement[bool]:
    return sa.or_(_binding_pending(b), run_in_flight_condition(ctx, w))


def owner_gone_condition(ctx: WorkspaceRuleContext, w: Any = W) -> sa.ColumnElement[bool]:
    parts: list[sa.ColumnElement[bool]] = []
    if ctx.has("conversations"):
        parts.append(sa.and_(w.owner_type == OWNER_CONVERSATION, sa.not_(_conversation_live(w, ctx))))
    if ctx.has("agent_config_drafts"):
        parts.append(sa.and_(w.owner_type == OWNER_DRAFT, sa.not_(_draft_exists(w))))
    if ctx.has("workflow_runs"):
        parts.append(sa.and_(w.owner_type == OWNER_RUN, _run_status(w).is_(None)))
    if not parts:
        return sa.false()
    return sa.and_(w.id.is_not(None), sa.or_(*parts))


def _guard_mismatch_sql(w: Any) -> sa.ColumnElement[bool]:
    return sa.and_(
        w.id.is_not(None),
        sa.or_(
            sa.and_(w.status == ACTIVE, sa.func.coalesce(w.active_guard, 0) != 1),
            sa.and_(w.status != ACTIVE, w.active_guard.is_not(None)),
        ),
    )


def _old_sql(column: Any, before: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(column.is_not(None), column < before)


def _w_finished_sql(ctx: WorkspaceRuleContext, w: Any) -> sa.ColumnElement[bool]:
    if not ctx.has("workflow_runs"):
        return sa.false()
    return sa.and_(
        w.id.is_not(None),
        w.status == ACTIVE,
        w.owner_type == OWNER_RUN,
        sa.func.coalesce(_run_status(w), "").in_(ENDED),
    )


def _w_orphaned_sql(ctx: WorkspaceRuleContext, w: Any) -> sa.ColumnElement[bool]:
    gone = [owner_gone_condition(ctx, w)]
    if ctx.has("apps"):
        gone.append(sa.not_(_present(_one(sa.literal(1), App.id == w.app_id))))
    return sa.and_(w.id.is_not(None), w.status == ACTIVE, sa.or_(*gone))


def _w_inconsistent_sql(ctx: WorkspaceRuleContext, w: Any) -> sa.ColumnElement[bool]:
    return sa.or_(
        sa.and_(w.id.is_not(None), w.status == ACTIVE, sa.not_(_active_binding(w))), _guard_mismatch_sql(w)
    )


def _w_uncollected_sql(ctx: WorkspaceRuleContext, w: Any) -> sa.ColumnElement[bool]:
    return sa.and_(w.id.is_not(None), w.status == RETIRED, _old_sql(w.retired_at, ctx.uncollected_before))


def _newer_duplicate(b: Any) -> sa.ColumnElement[bool]:
    newer = aliased(B, name="newer")
    later = sa.or_(
        newer.created_at > b.created_at, sa.and_(newer.created_at == b.created_at, newer.id > b.id)
    )
    return _present(
        _one(
            sa.literal(1),
            newer.tenant_id == b.tenant_id,
            newer.workspace_id == b.workspace_id,
            newer.status == ACTIVE,
            newer.agent_id == b.agent_id,
            newer.id != b.id,
            later,
        )
    )


def _agent_status(b: Any) -> sa.ScalarSelect:
    return _one(Agent.status, Agent.id == b.agent_id, Agent.tenant_id == b.tenant_id)


def _b_finished_sql(ctx: WorkspaceRuleContext, b: Any, w: Any) -> sa.ColumnElement[bool]:
    return sa.and_(b.status == ACTIVE, _w_finished_sql(ctx, w))


def _b_orphaned_sql(ctx: WorkspaceRuleContext, b: Any, w: Any) -> sa.ColumnElement[bool]:
    archived = AgentStatus.ARCHIVED.value
    parts = [
        w.id.is_(None),
        sa.and_(w.status == ACTIVE, owner_gone_condition(ctx, w)),
        sa.func.coalesce(_agent_status(b), archived) == archived,
    ]
    if ctx.has("apps"):
        parts.append(sa.not_(_present(_one(sa.literal(1), App.id == b.app_id))))
    return sa.and_(b.status == ACTIVE, sa.or_(*parts))


def _b_inconsistent_sql(ctx: WorkspaceRuleContext, b: Any, w: Any) -> sa.ColumnElement[bool]:
    return sa.and_(
        b.status == ACTIVE,
        sa.or_(sa.and_(w.id.is_not(None), w.status != ACTIVE), _newer_duplicate(b)),
    )


def _b_idle_sql(ctx: WorkspaceRuleContext, b: Any, w: Any) -> sa.ColumnElement[bool]:
    return sa.and_(b.status == ACTIVE, b.updated_at < ctx.idle_before)


def _b_uncollected_sql(ctx: WorkspaceRuleContext, b: Any, w: Any) -> sa.ColumnElement[bool]:
    return sa.and_(b.status == RETIRED, _old_sql(b.retired_at, ctx.uncollected_before))


def home_referenced_condition(ctx: WorkspaceRuleContext, h: Any = H) -> sa.ColumnElement[bool]:
    """Served by (tenant_id, agent_id) indexes of drafts and snapshots, filtered on home_snapshot_id."""
    parts: list[sa.ColumnElement[bool]] = []
    if ctx.snapshot_home_ref:
        parts.append(
            _present(
                _one(
                    sa.literal(1),
                    AgentConfigSnapshot.tenant_id == h.tenant_id,
                    AgentConfigSnapshot.agent_id == h.agent_id,
                    AgentConfigSnapshot.home_snapshot_id == h.id,
                )
            )
        )
    if ctx.has("agent_config_drafts") and ctx.draft_home_ref:
        parts.append(
            _present(
                _one(
                    sa.literal(1),
                    AgentConfigDraft.tenant_id == h.tenant_id,
                    AgentConfigDraft.agent_id == h.agent_id,
                    AgentConfigDraft.home_snapshot_id == h.id,
                )
            )
        )
    return sa.or_(*parts) if parts else sa.false()


def _h_uncollected_sql(ctx: WorkspaceRuleContext, h: Any) -> sa.ColumnElement[bool]:
    return sa.and_(h.status == RETIRED, _old_sql(h.retired_at, ctx.uncollected_before))


# --- the rules ------------------------------------------------------------------------------------------


#: The SQL twin of each rule's predicates, per row kind (None where the rule has no predicate).
CONDITIONS: dict[str, tuple[Callable[..., sa.ColumnElement[bool]] | None, ...]] = {
    "finished-run": (_w_finished_sql, _b_finished_sql, None),
    "orphaned": (_w_orphaned_sql, _b_orphaned_sql, None),
    "inconsistent": (_w_inconsistent_sql, _b_inconsistent_sql, None),
    "idle": (None, _b_idle_sql, None),
    "uncollected": (_w_uncollected_sql, _b_uncollected_sql, _h_uncollected_sql),
}
assert set(CONDITIONS) == set(RULE_NAMES) and all(
    (CONDITIONS[r.name][0] is None) == (r.workspace is None)
    and (CONDITIONS[r.name][1] is None) == (r.binding is None)
    and (CONDITIONS[r.name][2] is None) == (r.home is None)
    for r in RULES
), "every predicate has its SQL twin"


def _earlier(name: str, kind: int) -> list[Callable[..., sa.ColumnElement[bool]]]:
    found = [CONDITIONS[n][kind] for n in RULE_NAMES[: RULE_NAMES.index(name)]]
    return [c for c in found if c is not None]


def first_match_workspace_condition(
    name: str, ctx: WorkspaceRuleContext, w: Any = W
) -> sa.ColumnElement[bool]:
    """SQL selecting exactly the workspaces `classify_workspace` labels `name`."""
    check_rule(name)
    own = CONDITIONS[name][0]
    if own is None:
        return sa.false()
    earlier = [c(ctx, w) for c in _earlier(name, 0)]
    return sa.and_(
        own(ctx, w),
        *[sa.not_(c) for c in earlier],
        sa.not_(workspace_protected_condition(ctx, w)),
    )


def first_match_binding_condition(
    name: str, ctx: WorkspaceRuleContext, b: Any, w: Any
) -> sa.ColumnElement[bool]:
    """SQL selecting exactly the bindings `classify_binding` labels `name`; `w` is the binding's
    workspace outer-joined on (id, tenant_id)."""
    check_rule(name)
    own = CONDITIONS[name][1]
    if own is None:
        return sa.false()
    earlier = [c(ctx, b, w) for c in _earlier(name, 1)]
    return sa.and_(
        own(ctx, b, w),
        *[sa.not_(c) for c in earlier],
        sa.not_(binding_protected_condition(ctx, b, w)),
    )


def first_match_home_condition(name: str, ctx: WorkspaceRuleContext, h: Any = H) -> sa.ColumnElement[bool]:
    check_rule(name)
    own = CONDITIONS[name][2]
    if own is None:
        return sa.false()
    earlier = [c(ctx, h) for c in _earlier(name, 2)]
    return sa.and_(own(ctx, h), *[sa.not_(c) for c in earlier], sa.not_(home_referenced_condition(ctx, h)))


# --- fact columns: the same subqueries as labeled columns (selected by the stores) ----------------------


def workspace_fact_columns(ctx: WorkspaceRuleContext, w: Any = W, prefix: str = "w_") -> tuple[sa.Label, ...]:
    runs, pauses = ctx.has("workflow_runs"), ctx.has("workflow_pauses")
    owner_exists: sa.ColumnElement[Any] = sa.case(
        *(
            [
                (
                    w.owner_type == OWNER_CONVERSATION,
                    _present(_one(sa.literal(1), Conversation.id == w.owner_id)),
                )
            ]
            if ctx.has("conversations")
            else []
        ),
        *([(w.owner_type == OWNER_DRAFT, _draft_exists(w))] if ctx.has("agent_config_drafts") else []),
        else_=sa.true(),
    )
    deleted = (
        sa.case(
            (
                w.owner_type == OWNER_CONVERSATION,
                sa.func.coalesce(_one(Conversation.is_deleted, Conversation.id == w.owner_id), sa.false()),
            ),
            else_=sa.false(),
        )
        if ctx.has("conversations") and ctx.has_is_deleted
        else sa.false()
    )
    is_run = w.owner_type == OWNER_RUN
    return (
        (sa.case((is_run, _run_status(w)), else_=sa.null()) if runs else sa.null()).label(
            f"{prefix}run_status"
        ),
        (sa.case((is_run, _open_pause(w)), else_=sa.false()) if pauses else sa.false()).label(
            f"{prefix}open_pause"
        ),
        owner_exists.label(f"{prefix}owner_exists"),
        deleted.label(f"{prefix}owner_deleted"),
        (_present(_one(sa.literal(1), App.id == w.app_id)) if ctx.has("apps") else sa.true()).label(
            f"{prefix}app_exists"
        ),
        _active_binding(w).label(f"{prefix}has_active_binding"),
        _pending_binding(w).label(f"{prefix}has_pending_binding"),
    )


#: Workspace columns the facts need, in the order `workspace_facts` reads them.
WORKSPACE_COLUMNS = (
    "id",
    "tenant_id",
    "app_id",
    "owner_type",
    "owner_id",
    "status",
    "active_guard",
    "created_at",
    "updated_at",
    "retired_at",
)
BINDING_COLUMNS = (
    "id",
    "tenant_id",
    "app_id",
    "workspace_id",
    "agent_id",
    "status",
    "created_at",
    "updated_at",
    "retired_at",
    "pending_form_id",
    "pending_tool_call_id",
)


def workspace_columns(w: Any = W, prefix: str = "w_") -> tuple[sa.Label, ...]:
    return tuple(getattr(w, c).label(f"{prefix}{c}") for c in WORKSPACE_COLUMNS)


def binding_fact_columns(ctx: WorkspaceRuleContext, b: Any = B) -> tuple[sa.Label, ...]:
    return (
        _agent_status(b).label("b_agent_status"),
        (_present(_one(sa.literal(1), App.id == b.app_id)) if ctx.has("apps") else sa.true()).label(
            "b_app_exists"
        ),
        sa.case((b.status == ACTIVE, _newer_duplicate(b)), else_=sa.false()).label("b_newer_duplicate"),
    )


def _text(value: object) -> str:
    return "" if value is None else str(value)


def workspace_facts(row: Any, prefix: str = "w_") -> WorkspaceFacts | None:
    """Facts from a row selected with `workspace_columns` + `workspace_fact_columns` (None: no row)."""
    get = row._mapping
    if get[f"{prefix}id"] is None:
        return None
    guard = get[f"{prefix}active_guard"]
    run_status = get[f"{prefix}run_status"]
    return WorkspaceFacts(
        id=get[f"{prefix}id"],
        tenant_id=get[f"{prefix}tenant_id"],
        app_id=get[f"{prefix}app_id"],
        owner_type=_text(get[f"{prefix}owner_type"]),
        owner_id=get[f"{prefix}owner_id"],
        status=_text(get[f"{prefix}status"]),
        active_guard=None if guard is None else int(guard),
        created_at=get[f"{prefix}created_at"],
        updated_at=get[f"{prefix}updated_at"],
        retired_at=get[f"{prefix}retired_at"],
        run_status=None if run_status is None else str(run_status),
        run_open_pause=bool(get[f"{prefix}open_pause"]),
        owner_exists=bool(get[f"{prefix}owner_exists"]),
        owner_deleted=bool(get[f"{prefix}owner_deleted"]),
        app_exists=bool(get[f"{prefix}app_exists"]),
        has_active_binding=bool(get[f"{prefix}has_active_binding"]),
        has_pending_binding=bool(get[f"{prefix}has_pending_binding"]),
    )


def binding_facts(row: Any) -> BindingFacts:
    """Facts from a row selected with the binding's BINDING_COLUMNS (labeled `b_`), `binding_fact_columns`
    and its workspace's columns (labeled `w_`)."""
    get = row._mapping
    agent_status = get["b_agent_status"]
    return BindingFacts(
        id=get["b_id"],
        tenant_id=get["b_tenant_id"],
        app_id=get["b_app_id"],
        workspace_id=get["b_workspace_id"],
        agent_id=get["b_agent_id"],
        status=_text(get["b_status"]),
        created_at=get["b_created_at"],
        updated_at=get["b_updated_at"],
        retired_at=get["b_retired_at"],
        pending=get["b_pending_form_id"] is not None or get["b_pending_tool_call_id"] is not None,
        agent_status=None if agent_status is None else str(agent_status),
        app_exists=bool(get["b_app_exists"]),
        newer_duplicate=bool(get["b_newer_duplicate"]),
        workspace=workspace_facts(row),
    )


def binding_columns(b: Any = B) -> tuple[sa.Label, ...]:
    return tuple(getattr(b, c).label(f"b_{c}") for c in BINDING_COLUMNS)


def home_fact_columns(ctx: WorkspaceRuleContext, h: Any = H) -> tuple[sa.Label, ...]:
    return (
        *(
            getattr(h, c).label(f"h_{c}")
            for c in ("id", "tenant_id", "agent_id", "status", "created_at", "retired_at")
        ),
        home_referenced_condition(ctx, h).label("h_referenced"),
    )


def home_facts(row: Any) -> HomeFacts:
    get = row._mapping
    return HomeFacts(
        id=get["h_id"],
        tenant_id=get["h_tenant_id"],
        agent_id=get["h_agent_id"],
        status=_text(get["h_status"]),
        created_at=get["h_created_at"],
        retired_at=get["h_retired_at"],
        referenced=bool(get["h_referenced"]),
    )


def workspace_join(b: Any, w: Any) -> sa.ColumnElement[bool]:
    """The ON clause joining a binding to its workspace (tenant id in every statement)."""
    return sa.and_(w.id == b.workspace_id, w.tenant_id == b.tenant_id)
