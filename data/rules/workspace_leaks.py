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
* The SQL twin of each predicate (`data.stores.workspace_leaks.first_match_*_condition(name)`) selects
  exactly the rows `classify_*` labels `name` (tested on the demo and planted rows, SQLite, PostgreSQL
  and MariaDB). This module imports no database code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from data.models.enums import ENDED_RUN_STATUSES, AgentStatus

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


@dataclass(frozen=True)
class Rule:
    """One named rule with its predicate per row kind (None: the kind never matches). The SQL twins are
    in `data.stores.workspace_leaks.CONDITIONS`, keyed by the rule's name."""

    name: str
    summary: str
    workspace: Callable[[WorkspaceFacts, WorkspaceRuleContext], bool] | None
    binding: Callable[[BindingFacts, WorkspaceRuleContext], bool] | None
    home: Callable[[HomeFacts, WorkspaceRuleContext], bool] | None = None


RULES: tuple[Rule, ...] = (
    Rule(
        "finished-run",
        "active workflow-run workspace (and its bindings) whose run ended (succeeded, partial-succeeded, "
        "failed, stopped)",
        _w_finished,
        _b_finished,
    ),
    Rule(
        "orphaned",
        "active rows whose owner is gone (conversation missing or deleted, build draft missing, run row "
        "missing), app missing, workspace missing, or agent missing or archived",
        _w_orphaned,
        _b_orphaned,
    ),
    Rule(
        "inconsistent",
        "active workspace without an active binding; active_guard not matching status; active binding in "
        "a retired workspace; an older of two active bindings for one (workspace, agent)",
        _w_inconsistent,
        _b_inconsistent,
    ),
    Rule(
        "idle",
        "active binding not updated for AGENT_DESK_IDLE_DAYS days (its chat or run loses its state)",
        None,
        _b_idle,
    ),
    Rule(
        "uncollected",
        "retired workspace, binding or home snapshot older than AGENT_DESK_UNCOLLECTED_HOURS: Dify's "
        "collector never finished it",
        _w_uncollected,
        _b_uncollected,
        _h_uncollected,
    ),
)
RULE_NAMES: tuple[str, ...] = tuple(r.name for r in RULES)
BY_NAME = {r.name: r for r in RULES}
#: Rules whose rows a manual retire changes; `uncollected` rows are already retired (collect them).
RETIRE_RULES = ("finished-run", "orphaned", "inconsistent", "idle")


def check_rule(name: str) -> Rule:
    if name not in BY_NAME:
        raise ValueError(f"unknown rule {name!r}; rules: {', '.join(RULE_NAMES)}")
    return BY_NAME[name]


def classify_workspace(w: WorkspaceFacts, ctx: WorkspaceRuleContext) -> str | None:
    if workspace_protected(w, ctx):
        return None
    return next((r.name for r in RULES if r.workspace and r.workspace(w, ctx)), None)


def classify_binding(b: BindingFacts, ctx: WorkspaceRuleContext) -> str | None:
    if binding_protected(b, ctx):
        return None
    return next((r.name for r in RULES if r.binding and r.binding(b, ctx)), None)


def classify_home(h: HomeFacts, ctx: WorkspaceRuleContext) -> str | None:
    if h.referenced:
        return None
    return next((r.name for r in RULES if r.home and r.home(h, ctx)), None)
