"""Leak rules for runtime sessions (Dify 1.15-1.16), as pure predicates over `SessionFacts`.

A leak is an ACTIVE `agent_runtime_sessions` row that Dify's own lifecycle should have retired
(schema reference, sections 8 and 11.6). The rules, in first-match order:

1. `finished-run`: a `workflow_run` session whose workflow run row exists with an ended status
   (succeeded, failed, stopped, partial-succeeded): the terminal cleanup should have retired it.
2. `orphaned`: its agent is missing or archived, its app is missing, its conversation is missing or
   deleted (`is_deleted`, where that column exists), or its workflow run row is missing.
3. `superseded`: a `conversation` session when the same workspace, conversation and agent have
   another ACTIVE session created later (for another snapshot; Dify's seed code leaves it active).
4. `idle`: not updated for `AGENT_DESK_IDLE_DAYS` days.

Invariants:
* Only ACTIVE rows ever match.
* A session whose workflow run is in flight never matches any rule: its run row exists with a status
  outside the ended set (running, paused, scheduled, or a value this code does not know), or it has
  an open `workflow_pauses` row (a paused human-in-the-loop run resumes from the session). Without a
  `workflow_runs` table the run state is unknown, so no session with a run id matches at all.
* A row matching several rules carries the first one (`classify`); the SQL of a rule
  (`first_match_condition`) selects exactly the rows `classify` labels with it (tested on the demo).
* Conditions only test core tables the schema check found; a missing optional table never makes a
  row match (e.g. without `apps`, "app missing" is not claimed).

The SQL twin of each predicate (`data.stores.session_leaks`) selects exactly the rows the predicate
labels; `data.services.leaks` pairs them. This module imports no database code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from data.models.enums import ENDED_RUN_STATUSES, AgentStatus, SessionOwnerType, SessionStatus

ENDED = tuple(sorted(s.value for s in ENDED_RUN_STATUSES))
ACTIVE = SessionStatus.ACTIVE.value
WORKFLOW_RUN = SessionOwnerType.WORKFLOW_RUN.value
CONVERSATION = SessionOwnerType.CONVERSATION.value


@dataclass(frozen=True)
class RuleContext:
    """What the rules depend on besides the row: the clock, the idle threshold, the schema."""

    now: datetime  # naive UTC
    idle_days: int
    core_tables: frozenset[str] = frozenset()
    has_is_deleted: bool = False  # `conversations.is_deleted` exists (it is optional in Dify)

    @classmethod
    def from_report(cls, report, *, now: datetime, idle_days: int) -> RuleContext:
        """From a `data.schema_check.SchemaReport`."""
        return cls(
            now=now,
            idle_days=idle_days,
            core_tables=frozenset(report.core_tables),
            has_is_deleted=report.has_column("conversations", "is_deleted"),
        )

    def has(self, table: str) -> bool:
        return table in self.core_tables

    @property
    def idle_before(self) -> datetime:
        return self.now - timedelta(days=self.idle_days)


@dataclass(frozen=True)
class SessionFacts:
    """Everything the rules look at for one session row (loaded by `load_facts`)."""

    id: str
    tenant_id: str
    status: str
    owner_type: str
    created_at: datetime
    updated_at: datetime
    workflow_run_id: str | None
    conversation_id: str | None
    run_status: str | None = None  # None: no workflow_runs row (or no run id)
    run_open_pause: bool = False  # a workflow_pauses row with resumed_at NULL
    agent_status: str | None = None  # None: no agents row
    app_exists: bool = True
    conversation_exists: bool = True
    conversation_deleted: bool = False
    newer_active_sibling: bool = False  # another ACTIVE row of the same tenant/conversation/agent, later


# --- Python predicates ------------------------------------------------------------------------


def in_flight(f: SessionFacts, ctx: RuleContext) -> bool:
    """The session's workflow run may still resume from it (or its state cannot be known)."""
    if f.workflow_run_id is None:
        return False
    if not ctx.has("workflow_runs"):
        return True
    if f.run_status is not None and f.run_status not in ENDED:
        return True
    return ctx.has("workflow_pauses") and f.run_open_pause


def _finished_run(f: SessionFacts, ctx: RuleContext) -> bool:
    return f.owner_type == WORKFLOW_RUN and ctx.has("workflow_runs") and f.run_status in ENDED


def _orphaned(f: SessionFacts, ctx: RuleContext) -> bool:
    if f.agent_status is None or f.agent_status == AgentStatus.ARCHIVED.value:
        return True
    if ctx.has("apps") and not f.app_exists:
        return True
    if (
        ctx.has("conversations")
        and f.conversation_id is not None
        and (not f.conversation_exists or (ctx.has_is_deleted and f.conversation_deleted))
    ):
        return True
    return ctx.has("workflow_runs") and f.workflow_run_id is not None and f.run_status is None


def _superseded(f: SessionFacts, ctx: RuleContext) -> bool:
    return f.owner_type == CONVERSATION and f.conversation_id is not None and f.newer_active_sibling


def _idle(f: SessionFacts, ctx: RuleContext) -> bool:
    return f.updated_at < ctx.idle_before


# --- the rules --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleSpec:
    """A rule's name, what it means, and its predicate (first match wins, in `RULES` order)."""

    name: str
    summary: str
    predicate: Callable[[SessionFacts, RuleContext], bool]


RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        "finished-run",
        "workflow session whose run ended (succeeded, failed, stopped, partial-succeeded)",
        _finished_run,
    ),
    RuleSpec(
        "orphaned",
        "agent missing or archived, app missing, conversation missing or deleted, or run row missing",
        _orphaned,
    ),
    RuleSpec(
        "superseded",
        "conversation session with a later active session of the same conversation and agent",
        _superseded,
    ),
    RuleSpec("idle", "not updated for AGENT_DESK_IDLE_DAYS days", _idle),
)
RULE_NAMES: tuple[str, ...] = tuple(r.name for r in RULES)
BY_NAME = {r.name: r for r in RULES}


def classify(f: SessionFacts, ctx: RuleContext) -> str | None:
    """The first rule the session matches, or None (never for inactive or in-flight sessions)."""
    if f.status != ACTIVE or in_flight(f, ctx):
        return None
    for rule in RULES:
        if rule.predicate(f, ctx):
            return rule.name
    return None
