"""Named leak rules for runtime sessions: each an explicit Python predicate AND an SQL condition.

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
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from data.models import Agent, AgentRuntimeSession, App, Conversation, WorkflowPause, WorkflowRun
from data.models.enums import ENDED_RUN_STATUSES, AgentStatus, SessionOwnerType, SessionStatus

S = AgentRuntimeSession
ENDED = tuple(sorted(s.value for s in ENDED_RUN_STATUSES))
ACTIVE = SessionStatus.ACTIVE.value
WORKFLOW_RUN = SessionOwnerType.WORKFLOW_RUN.value
CONVERSATION = SessionOwnerType.CONVERSATION.value
CHUNK = 500  # ids per IN list (SQLite's bound-parameter limit is far above this)


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


# --- SQL conditions (correlated on agent_runtime_sessions) ---------------------------------------
#
# Every lookup is a scalar subquery on a primary key or unique index (at most one row), never EXISTS:
# PostgreSQL may turn an EXISTS under OR / NOT into a *hashed* sub-plan that reads the whole inner
# table (all conversations, all runs) before the first row, while a scalar subquery is always one
# index probe per candidate row. Bounded scans stay bounded that way.


def _one(column: sa.ColumnElement, *where: sa.ColumnElement[bool]) -> sa.ScalarSelect:
    return sa.select(column).where(*where).limit(1).scalar_subquery()


def _run_status(s: Any) -> sa.ScalarSelect:
    return _one(WorkflowRun.status, WorkflowRun.id == s.workflow_run_id)


def in_flight_condition(ctx: RuleContext, s: Any = S) -> sa.ColumnElement[bool]:
    if not ctx.has("workflow_runs"):
        return s.workflow_run_id.is_not(None)
    # A NULL status (no run row) is neither "in the ended set" nor "outside it": coalesce to ended.
    running = sa.func.coalesce(_run_status(s), ENDED[0]).not_in(ENDED)
    if ctx.has("workflow_pauses"):
        paused = _one(
            sa.literal(1),
            WorkflowPause.workflow_run_id == s.workflow_run_id,
            WorkflowPause.resumed_at.is_(None),
        ).is_not(None)
        running = sa.or_(running, paused)
    return sa.and_(s.workflow_run_id.is_not(None), running)


def _finished_run_sql(ctx: RuleContext, s: Any) -> sa.ColumnElement[bool]:
    if not ctx.has("workflow_runs"):
        return sa.false()
    # Every condition here is two-valued (never NULL): NOT of a NULL would silently drop rows.
    return sa.and_(s.owner_type == WORKFLOW_RUN, sa.func.coalesce(_run_status(s), "").in_(ENDED))


def _orphaned_sql(ctx: RuleContext, s: Any) -> sa.ColumnElement[bool]:
    agent_status = _one(Agent.status, Agent.id == s.agent_id)
    archived = AgentStatus.ARCHIVED.value
    parts: list[sa.ColumnElement[bool]] = [sa.func.coalesce(agent_status, archived) == archived]
    if ctx.has("apps"):
        parts.append(_one(sa.literal(1), App.id == s.app_id).is_(None))
    if ctx.has("conversations"):
        live = [Conversation.id == s.conversation_id]
        if ctx.has_is_deleted:
            live.append(Conversation.is_deleted.is_not(True))
        parts.append(sa.and_(s.conversation_id.is_not(None), _one(sa.literal(1), *live).is_(None)))
    if ctx.has("workflow_runs"):
        parts.append(sa.and_(s.workflow_run_id.is_not(None), _run_status(s).is_(None)))
    return sa.or_(*parts)


def _superseded_sql(ctx: RuleContext, s: Any) -> sa.ColumnElement[bool]:
    # Served by agent_runtime_session_conversation_lookup_idx (tenant_id, conversation_id, status).
    return sa.and_(
        s.owner_type == CONVERSATION, s.conversation_id.is_not(None), _newer_sibling(s).is_not(None)
    )


def _idle_sql(ctx: RuleContext, s: Any) -> sa.ColumnElement[bool]:
    return s.updated_at < ctx.idle_before


# --- the rules --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeakRule:
    name: str
    summary: str
    predicate: Callable[[SessionFacts, RuleContext], bool]
    condition: Callable[[RuleContext, Any], sa.ColumnElement[bool]]  # (ctx, session entity)


RULES: tuple[LeakRule, ...] = (
    LeakRule(
        "finished-run",
        "workflow session whose run ended (succeeded, failed, stopped, partial-succeeded)",
        _finished_run,
        _finished_run_sql,
    ),
    LeakRule(
        "orphaned",
        "agent missing or archived, app missing, conversation missing or deleted, or run row missing",
        _orphaned,
        _orphaned_sql,
    ),
    LeakRule(
        "superseded",
        "conversation session with a later active session of the same conversation and agent",
        _superseded,
        _superseded_sql,
    ),
    LeakRule("idle", "not updated for AGENT_DESK_IDLE_DAYS days", _idle, _idle_sql),
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


def first_match_condition(name: str, ctx: RuleContext, s: Any = S) -> sa.ColumnElement[bool]:
    """SQL selecting exactly the rows `classify` labels `name`.

    A flat AND list (cheap column tests first) so the planner may order the sub-plans itself.
    """
    if name not in BY_NAME:
        raise ValueError(f"unknown leak rule {name!r}; rules: {', '.join(RULE_NAMES)}")
    earlier = RULES[: RULE_NAMES.index(name)]
    return sa.and_(
        s.status == ACTIVE,
        BY_NAME[name].condition(ctx, s),
        *[sa.not_(r.condition(ctx, s)) for r in earlier],
        sa.not_(in_flight_condition(ctx, s)),
    )


def any_rule_condition(ctx: RuleContext, s: Any = S) -> sa.ColumnElement[bool]:
    """SQL selecting the rows `classify` labels with some rule."""
    return sa.and_(
        s.status == ACTIVE,
        sa.or_(*[r.condition(ctx, s) for r in RULES]),
        sa.not_(in_flight_condition(ctx, s)),
    )


# --- loading the facts: the same scalar subqueries, as columns --------------------------------------

#: Columns of agent_runtime_sessions the facts need.
FACT_COLUMNS = (
    S.id,
    S.tenant_id,
    S.app_id,
    S.agent_id,
    S.owner_type,
    S.status,
    S.workflow_run_id,
    S.conversation_id,
    S.created_at,
    S.updated_at,
)


def _newer_sibling(s: Any) -> sa.ScalarSelect:
    newer = aliased(AgentRuntimeSession, name="newer")
    later = sa.or_(
        newer.created_at > s.created_at, sa.and_(newer.created_at == s.created_at, newer.id > s.id)
    )
    return _one(
        sa.literal(1),
        newer.tenant_id == s.tenant_id,
        newer.conversation_id == s.conversation_id,
        newer.status == ACTIVE,
        newer.agent_id == s.agent_id,
        newer.id != s.id,
        later,
    )


def fact_columns(ctx: RuleContext, s: Any = S) -> tuple[sa.Label, ...]:
    """The looked-up facts as labeled scalar subqueries: one index probe each per returned row.

    Selected next to FACT_COLUMNS (by `load_facts`, and by the sessions page's own query), so a page
    of 50 sessions gets its facts in the same statement that reads the rows.
    """
    runs, pauses, apps = ctx.has("workflow_runs"), ctx.has("workflow_pauses"), ctx.has("apps")
    conversations = ctx.has("conversations")
    return (
        (_run_status(s) if runs else sa.null()).label("f_run_status"),
        (
            _one(
                sa.literal(1),
                WorkflowPause.workflow_run_id == s.workflow_run_id,
                WorkflowPause.resumed_at.is_(None),
            ).is_not(None)
            if pauses
            else sa.false()
        ).label("f_run_open_pause"),
        _one(Agent.status, Agent.id == s.agent_id).label("f_agent_status"),
        (_one(sa.literal(1), App.id == s.app_id).is_not(None) if apps else sa.true()).label("f_app_exists"),
        (
            _one(sa.literal(1), Conversation.id == s.conversation_id).is_not(None)
            if conversations
            else sa.true()
        ).label("f_conversation_exists"),
        (
            _one(Conversation.is_deleted, Conversation.id == s.conversation_id)
            if conversations and ctx.has_is_deleted
            else sa.false()
        ).label("f_conversation_deleted"),
        sa.case((s.conversation_id.is_not(None), _newer_sibling(s).is_not(None)), else_=sa.false()).label(
            "f_newer_sibling"
        ),
    )


def facts_from_row(row: sa.Row) -> SessionFacts:
    """Facts from a row selected with FACT_COLUMNS + fact_columns(ctx)."""
    return SessionFacts(
        id=row.id,
        tenant_id=row.tenant_id,
        status=str(row.status),
        owner_type=str(row.owner_type),
        created_at=row.created_at,
        updated_at=row.updated_at,
        workflow_run_id=row.workflow_run_id,
        conversation_id=row.conversation_id,
        run_status=None if row.f_run_status is None else str(row.f_run_status),
        run_open_pause=bool(row.f_run_open_pause),
        agent_status=None if row.f_agent_status is None else str(row.f_agent_status),
        app_exists=bool(row.f_app_exists),
        conversation_exists=row.conversation_id is None or bool(row.f_conversation_exists),
        conversation_deleted=bool(row.f_conversation_deleted) if row.conversation_id else False,
        newer_active_sibling=bool(row.f_newer_sibling),
    )


def load_facts(conn: sa.Connection, ids: Sequence[str], ctx: RuleContext) -> dict[str, SessionFacts]:
    """Facts of these sessions (primary-key reads, CHUNK ids per statement); missing ids are absent."""
    facts: dict[str, SessionFacts] = {}
    wanted = list(dict.fromkeys(ids))
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        query = sa.select(*FACT_COLUMNS, *fact_columns(ctx)).where(S.id.in_(chunk))
        for row in conn.execute(query):
            facts[row.id] = facts_from_row(row)
    return facts
