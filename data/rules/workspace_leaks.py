"""Leak rules for Dify 1.17+ working environments: each an explicit Python predicate AND an SQL condition.

Three kinds of rows carry rules (reference `dify-agent-working-environment.md`, sections 3-5):
`agent_workspaces` (W), `agent_workspace_bindings` (B) and `agent_home_snapshots` (H). Rules, in
first-match order (a row matching several carries the first):

1. `finished-run`: an ACTIVE `workflow_run` workspace whose run ended (succeeded, partial-succeeded,
   failed, stopped), and the ACTIVE bindings of such an active workspace.
2. `orphaned`: an ACTIVE workspace whose owner is gone (conversation missing or `is_deleted`, build
   draft missing, workflow run row missing) or whose app is missing; an ACTIVE binding whose workspace
   row is missing, whose active workspace's owner is gone, whose app is missing, or whose agent is
   missing or archived.
3. `inconsistent`: an ACTIVE workspace with no active binding; a workspace whose `active_guard` does
   not match its status (active needs 1, retired needs NULL); an ACTIVE binding in a workspace that is
   not active; an ACTIVE binding with a later ACTIVE sibling for the same (workspace, agent) (the
   older ones match: the newest is the one Dify keeps using).
4. `idle`: an ACTIVE binding not updated for `AGENT_DESK_IDLE_DAYS` days (its chat or run loses its
   state when retired). Workspaces have no idle rule: a workspace is as idle as its bindings.
5. `uncollected`: a RETIRED workspace, binding or home snapshot whose `retired_at` is older than
   `AGENT_DESK_UNCOLLECTED_HOURS`: Dify's collector never finished it.

Invariants:
* Protected rows never match any rule: a binding with `pending_form_id` or `pending_tool_call_id`
  set; a workspace with such a binding (any status); the rows of a `workflow_run` workspace whose run
  is running, paused, scheduled, of a status this code does not know, or has an open
  `workflow_pauses` row (without a `workflow_runs` table the run state is unknown: protected); a home
  snapshot still referenced by a draft or a config snapshot.
* A missing optional table never makes a row match (no `apps` table: "app missing" is not claimed).
* `first_match_*_condition(name)` selects exactly the rows `classify_*` labels `name` (tested on the
  demo and planted rows, SQLite, PostgreSQL and MariaDB). Every SQL piece is two-valued (never NULL):
  a NOT over NULL would silently drop rows. Lookups are scalar subqueries on primary keys or Dify's
  indexes (one probe per candidate row), never EXISTS under OR / NOT.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from data.models import Agent, AgentConfigSnapshot, App, Conversation, WorkflowPause, WorkflowRun
from data.models.drafts import AgentConfigDraft
from data.models.enums import ENDED_RUN_STATUSES, AgentStatus
from data.models.workspaces import AgentHomeSnapshot, AgentWorkspace, AgentWorkspaceBinding

W, B, H = AgentWorkspace, AgentWorkspaceBinding, AgentHomeSnapshot
ENDED = tuple(sorted(s.value for s in ENDED_RUN_STATUSES))
ACTIVE, RETIRED = "active", "retired"
OWNER_CONVERSATION, OWNER_RUN, OWNER_DRAFT = "conversation", "workflow_run", "build_draft"
OWNER_TYPES = (OWNER_CONVERSATION, OWNER_RUN, OWNER_DRAFT)
STATUSES = (ACTIVE, RETIRED)
DEFAULT_UNCOLLECTED_HOURS = 24


@dataclass(frozen=True)
class WorkspaceRuleContext:
    """What the rules depend on besides the rows: the clock, the thresholds, the tables present."""

    now: datetime  # naive UTC
    idle_days: int = 7
    uncollected_hours: int = DEFAULT_UNCOLLECTED_HOURS
    tables: frozenset[str] = frozenset()  # optional tables present (workflow_runs, apps, ...)
    has_is_deleted: bool = False  # conversations.is_deleted exists
    snapshot_home_ref: bool = True  # agent_config_snapshots.home_snapshot_id exists
    draft_home_ref: bool = True  # agent_config_drafts.home_snapshot_id exists

    @classmethod
    def from_report(
        cls, report: Any, *, now: datetime, idle_days: int, uncollected_hours: int
    ) -> WorkspaceRuleContext:
        """From a `data.schema_check.SchemaReport` (the core and optional agent tables it found)."""
        names = (
            "tenants",
            "apps",
            "conversations",
            "workflow_runs",
            "workflow_pauses",
            "workflow_node_executions",
            "agent_config_drafts",
        )
        return cls(
            now=now,
            idle_days=idle_days,
            uncollected_hours=uncollected_hours,
            tables=frozenset(t for t in names if report.has_table(t)),
            has_is_deleted=report.has_column("conversations", "is_deleted"),
            snapshot_home_ref=report.has_column("agent_config_snapshots", "home_snapshot_id"),
            draft_home_ref=report.has_column("agent_config_drafts", "home_snapshot_id"),
        )

    def has(self, table: str) -> bool:
        return table in self.tables

    @property
    def idle_before(self) -> datetime:
        return self.now - timedelta(days=self.idle_days)

    @property
    def uncollected_before(self) -> datetime:
        return self.now - timedelta(hours=self.uncollected_hours)


# --- facts -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkspaceFacts:
    """Everything the rules look at for one workspace row."""

    id: str
    tenant_id: str
    app_id: str
    owner_type: str
    owner_id: str
    status: str
    active_guard: int | None
    created_at: datetime
    updated_at: datetime
    retired_at: datetime | None
    run_status: str | None = None  # workflow_run owners: None = no run row
    run_open_pause: bool = False
    owner_exists: bool = True  # the conversation / draft / run row exists
    owner_deleted: bool = False  # conversation.is_deleted
    app_exists: bool = True
    has_active_binding: bool = True
    has_pending_binding: bool = False  # some binding of it (any status) waits for a form / tool call


@dataclass(frozen=True)
class BindingFacts:
    """Everything the rules look at for one binding row (with its workspace's facts)."""

    id: str
    tenant_id: str
    app_id: str
    workspace_id: str
    agent_id: str
    status: str
    created_at: datetime
    updated_at: datetime
    retired_at: datetime | None
    pending: bool  # pending_form_id or pending_tool_call_id set
    agent_status: str | None  # None: no agents row
    app_exists: bool
    newer_duplicate: bool  # a later ACTIVE binding of the same tenant, workspace and agent
    workspace: WorkspaceFacts | None  # None: no workspace row


@dataclass(frozen=True)
class HomeFacts:
    id: str
    tenant_id: str
    agent_id: str
    status: str
    created_at: datetime
    retired_at: datetime | None
    referenced: bool  # a draft or a config snapshot still points at it


# --- Python predicates --------------------------------------------------------------------------------


def run_in_flight(w: WorkspaceFacts, ctx: WorkspaceRuleContext) -> bool:
    """The workspace's workflow run may still use it (or its state cannot be known)."""
    if w.owner_type != OWNER_RUN:
        return False
    if not ctx.has("workflow_runs"):
        return True
    if w.run_status is not None and w.run_status not in ENDED:
        return True
    return ctx.has("workflow_pauses") and w.run_open_pause


def workspace_protected(w: WorkspaceFacts, ctx: WorkspaceRuleContext) -> bool:
    return run_in_flight(w, ctx) or w.has_pending_binding


def binding_protected(b: BindingFacts, ctx: WorkspaceRuleContext) -> bool:
    return b.pending or (b.workspace is not None and run_in_flight(b.workspace, ctx))


def owner_gone(w: WorkspaceFacts, ctx: WorkspaceRuleContext) -> bool:
    if w.owner_type == OWNER_CONVERSATION and ctx.has("conversations"):
        return not w.owner_exists or (ctx.has_is_deleted and w.owner_deleted)
    if w.owner_type == OWNER_DRAFT and ctx.has("agent_config_drafts"):
        return not w.owner_exists
    if w.owner_type == OWNER_RUN and ctx.has("workflow_runs"):
        return w.run_status is None
    return False


def guard_mismatch(w: WorkspaceFacts) -> bool:
    if w.status == ACTIVE:
        return w.active_guard != 1
    return w.active_guard is not None


def _old(moment: datetime | None, before: datetime) -> bool:
    return moment is not None and moment < before


def _w_finished(w: WorkspaceFacts, ctx: WorkspaceRuleContext) -> bool:
    return (
        w.status == ACTIVE
        and w.owner_type == OWNER_RUN
        and ctx.has("workflow_runs")
        and w.run_status in ENDED
    )


def _w_orphaned(w: WorkspaceFacts, ctx: WorkspaceRuleContext) -> bool:
    return w.status == ACTIVE and (owner_gone(w, ctx) or (ctx.has("apps") and not w.app_exists))


def _w_inconsistent(w: WorkspaceFacts, ctx: WorkspaceRuleContext) -> bool:
    return (w.status == ACTIVE and not w.has_active_binding) or guard_mismatch(w)


def _w_uncollected(w: WorkspaceFacts, ctx: WorkspaceRuleContext) -> bool:
    return w.status == RETIRED and _old(w.retired_at, ctx.uncollected_before)


def _b_finished(b: BindingFacts, ctx: WorkspaceRuleContext) -> bool:
    return b.status == ACTIVE and b.workspace is not None and _w_finished(b.workspace, ctx)


def _b_orphaned(b: BindingFacts, ctx: WorkspaceRuleContext) -> bool:
    if b.status != ACTIVE:
        return False
    w = b.workspace
    return (
        w is None
        or (w.status == ACTIVE and owner_gone(w, ctx))
        or (ctx.has("apps") and not b.app_exists)
        or b.agent_status is None
        or b.agent_status == AgentStatus.ARCHIVED.value
    )


def _b_inconsistent(b: BindingFacts, ctx: WorkspaceRuleContext) -> bool:
    return b.status == ACTIVE and (
        (b.workspace is not None and b.workspace.status != ACTIVE) or b.newer_duplicate
    )


def _b_idle(b: BindingFacts, ctx: WorkspaceRuleContext) -> bool:
    return b.status == ACTIVE and b.updated_at < ctx.idle_before


def _b_uncollected(b: BindingFacts, ctx: WorkspaceRuleContext) -> bool:
    return b.status == RETIRED and _old(b.retired_at, ctx.uncollected_before)


def _h_uncollected(h: HomeFacts, ctx: WorkspaceRuleContext) -> bool:
    return h.status == RETIRED and _old(h.retired_at, ctx.uncollected_before)


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


@dataclass(frozen=True)
class Rule:
    """One named rule with its predicate and condition per row kind (None: the kind never matches)."""

    name: str
    summary: str
    workspace: tuple[Callable[..., bool], Callable[..., sa.ColumnElement[bool]]] | None
    binding: tuple[Callable[..., bool], Callable[..., sa.ColumnElement[bool]]] | None
    home: tuple[Callable[..., bool], Callable[..., sa.ColumnElement[bool]]] | None = None


RULES: tuple[Rule, ...] = (
    Rule(
        "finished-run",
        "active workflow-run workspace (and its bindings) whose run ended (succeeded, partial-succeeded, "
        "failed, stopped)",
        (_w_finished, _w_finished_sql),
        (_b_finished, _b_finished_sql),
    ),
    Rule(
        "orphaned",
        "active rows whose owner is gone (conversation missing or deleted, build draft missing, run row "
        "missing), app missing, workspace missing, or agent missing or archived",
        (_w_orphaned, _w_orphaned_sql),
        (_b_orphaned, _b_orphaned_sql),
    ),
    Rule(
        "inconsistent",
        "active workspace without an active binding; active_guard not matching status; active binding in "
        "a retired workspace; an older of two active bindings for one (workspace, agent)",
        (_w_inconsistent, _w_inconsistent_sql),
        (_b_inconsistent, _b_inconsistent_sql),
    ),
    Rule(
        "idle",
        "active binding not updated for AGENT_DESK_IDLE_DAYS days (its chat or run loses its state)",
        None,
        (_b_idle, _b_idle_sql),
    ),
    Rule(
        "uncollected",
        "retired workspace, binding or home snapshot older than AGENT_DESK_UNCOLLECTED_HOURS: Dify's "
        "collector never finished it",
        (_w_uncollected, _w_uncollected_sql),
        (_b_uncollected, _b_uncollected_sql),
        (_h_uncollected, _h_uncollected_sql),
    ),
)
RULE_NAMES: tuple[str, ...] = tuple(r.name for r in RULES)
BY_NAME = {r.name: r for r in RULES}
#: Rules whose rows a manual retire changes; `uncollected` rows are already retired (collect them).
RETIRE_RULES = ("finished-run", "orphaned", "inconsistent", "idle")


def _check(name: str) -> Rule:
    if name not in BY_NAME:
        raise ValueError(f"unknown rule {name!r}; rules: {', '.join(RULE_NAMES)}")
    return BY_NAME[name]


def classify_workspace(w: WorkspaceFacts, ctx: WorkspaceRuleContext) -> str | None:
    if workspace_protected(w, ctx):
        return None
    return next((r.name for r in RULES if r.workspace and r.workspace[0](w, ctx)), None)


def classify_binding(b: BindingFacts, ctx: WorkspaceRuleContext) -> str | None:
    if binding_protected(b, ctx):
        return None
    return next((r.name for r in RULES if r.binding and r.binding[0](b, ctx)), None)


def classify_home(h: HomeFacts, ctx: WorkspaceRuleContext) -> str | None:
    if h.referenced:
        return None
    return next((r.name for r in RULES if r.home and r.home[0](h, ctx)), None)


def first_match_workspace_condition(
    name: str, ctx: WorkspaceRuleContext, w: Any = W
) -> sa.ColumnElement[bool]:
    """SQL selecting exactly the workspaces `classify_workspace` labels `name`."""
    rule = _check(name)
    if rule.workspace is None:
        return sa.false()
    earlier = [r.workspace[1](ctx, w) for r in RULES[: RULE_NAMES.index(name)] if r.workspace]
    return sa.and_(
        rule.workspace[1](ctx, w),
        *[sa.not_(c) for c in earlier],
        sa.not_(workspace_protected_condition(ctx, w)),
    )


def first_match_binding_condition(
    name: str, ctx: WorkspaceRuleContext, b: Any, w: Any
) -> sa.ColumnElement[bool]:
    """SQL selecting exactly the bindings `classify_binding` labels `name`; `w` is the binding's
    workspace outer-joined on (id, tenant_id)."""
    rule = _check(name)
    if rule.binding is None:
        return sa.false()
    earlier = [r.binding[1](ctx, b, w) for r in RULES[: RULE_NAMES.index(name)] if r.binding]
    return sa.and_(
        rule.binding[1](ctx, b, w),
        *[sa.not_(c) for c in earlier],
        sa.not_(binding_protected_condition(ctx, b, w)),
    )


def first_match_home_condition(name: str, ctx: WorkspaceRuleContext, h: Any = H) -> sa.ColumnElement[bool]:
    rule = _check(name)
    if rule.home is None:
        return sa.false()
    earlier = [r.home[1](ctx, h) for r in RULES[: RULE_NAMES.index(name)] if r.home]
    return sa.and_(
        rule.home[1](ctx, h), *[sa.not_(c) for c in earlier], sa.not_(home_referenced_condition(ctx, h))
    )


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
