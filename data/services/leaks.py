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

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

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


def _run_exists(*conditions: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    return sa.exists().where(WorkflowRun.id == S.workflow_run_id, *conditions)


def in_flight_condition(ctx: RuleContext) -> sa.ColumnElement[bool]:
    if not ctx.has("workflow_runs"):
        return S.workflow_run_id.is_not(None)
    running = _run_exists(WorkflowRun.status.not_in(ENDED))
    if ctx.has("workflow_pauses"):
        paused = sa.exists().where(
            WorkflowPause.workflow_run_id == S.workflow_run_id, WorkflowPause.resumed_at.is_(None)
        )
        running = sa.or_(running, paused)
    return sa.and_(S.workflow_run_id.is_not(None), running)


def _finished_run_sql(ctx: RuleContext) -> sa.ColumnElement[bool]:
    if not ctx.has("workflow_runs"):
        return sa.false()
    return sa.and_(S.owner_type == WORKFLOW_RUN, _run_exists(WorkflowRun.status.in_(ENDED)))


def _orphaned_sql(ctx: RuleContext) -> sa.ColumnElement[bool]:
    usable_agent = sa.exists().where(Agent.id == S.agent_id, Agent.status != AgentStatus.ARCHIVED.value)
    parts: list[sa.ColumnElement[bool]] = [~usable_agent]
    if ctx.has("apps"):
        parts.append(~sa.exists().where(App.id == S.app_id))
    if ctx.has("conversations"):
        live = [Conversation.id == S.conversation_id]
        if ctx.has_is_deleted:
            live.append(Conversation.is_deleted.is_not(True))
        parts.append(sa.and_(S.conversation_id.is_not(None), ~sa.exists().where(*live)))
    if ctx.has("workflow_runs"):
        parts.append(sa.and_(S.workflow_run_id.is_not(None), ~_run_exists()))
    return sa.or_(*parts)


def _superseded_sql(ctx: RuleContext) -> sa.ColumnElement[bool]:
    # Served by agent_runtime_session_conversation_lookup_idx (tenant_id, conversation_id, status).
    newer = aliased(AgentRuntimeSession, name="newer")
    later = sa.or_(
        newer.created_at > S.created_at, sa.and_(newer.created_at == S.created_at, newer.id > S.id)
    )
    sibling = sa.exists().where(
        newer.tenant_id == S.tenant_id,
        newer.conversation_id == S.conversation_id,
        newer.status == ACTIVE,
        newer.agent_id == S.agent_id,
        newer.id != S.id,
        later,
    )
    return sa.and_(S.owner_type == CONVERSATION, S.conversation_id.is_not(None), sibling)


def _idle_sql(ctx: RuleContext) -> sa.ColumnElement[bool]:
    return S.updated_at < ctx.idle_before


# --- the rules --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeakRule:
    name: str
    summary: str
    predicate: Callable[[SessionFacts, RuleContext], bool]
    condition: Callable[[RuleContext], sa.ColumnElement[bool]]


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


def first_match_condition(name: str, ctx: RuleContext) -> sa.ColumnElement[bool]:
    """SQL selecting exactly the rows `classify` labels `name`.

    A flat AND list (cheap column tests first) so the planner may order the sub-plans itself.
    """
    if name not in BY_NAME:
        raise ValueError(f"unknown leak rule {name!r}; rules: {', '.join(RULE_NAMES)}")
    earlier = RULES[: RULE_NAMES.index(name)]
    return sa.and_(
        S.status == ACTIVE,
        BY_NAME[name].condition(ctx),
        *[sa.not_(r.condition(ctx)) for r in earlier],
        sa.not_(in_flight_condition(ctx)),
    )


def any_rule_condition(ctx: RuleContext) -> sa.ColumnElement[bool]:
    """SQL selecting the rows `classify` labels with some rule."""
    return sa.and_(
        S.status == ACTIVE,
        sa.or_(*[r.condition(ctx) for r in RULES]),
        sa.not_(in_flight_condition(ctx)),
    )


# --- loading the facts for a set of rows (per page or per cleanup batch) ------------------------

#: Columns of agent_runtime_sessions the facts need (callers select at least these).
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


def _chunks(values: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), CHUNK):
        yield list(values[start : start + CHUNK])


def _lookup(conn: sa.Connection, query: Callable[[list[str]], sa.Select], ids: set[str]) -> list[sa.Row]:
    rows: list[sa.Row] = []
    for chunk in _chunks(sorted(ids)):
        rows.extend(conn.execute(query(chunk)))
    return rows


def load_facts(conn: sa.Connection, rows: Sequence[sa.Row], ctx: RuleContext) -> dict[str, SessionFacts]:
    """Facts for `rows` (having FACT_COLUMNS), with a handful of primary-key / index lookups per call."""
    if not rows:
        return {}
    run_ids = {r.workflow_run_id for r in rows if r.workflow_run_id}
    runs: dict[str, str] = {}
    open_pauses: set[str] = set()
    if run_ids and ctx.has("workflow_runs"):
        runs = {
            r.id: r.status
            for r in _lookup(
                conn,
                lambda c: sa.select(WorkflowRun.id, WorkflowRun.status).where(WorkflowRun.id.in_(c)),
                run_ids,
            )
        }
    if run_ids and ctx.has("workflow_pauses"):
        open_pauses = {
            r.workflow_run_id
            for r in _lookup(
                conn,
                lambda c: sa.select(WorkflowPause.workflow_run_id).where(
                    WorkflowPause.workflow_run_id.in_(c), WorkflowPause.resumed_at.is_(None)
                ),
                run_ids,
            )
        }
    agents = {
        r.id: str(r.status)
        for r in _lookup(
            conn,
            lambda c: sa.select(Agent.id, Agent.status).where(Agent.id.in_(c)),
            {r.agent_id for r in rows},
        )
    }
    apps: set[str] | None = None
    if ctx.has("apps"):
        apps = {
            r.id
            for r in _lookup(conn, lambda c: sa.select(App.id).where(App.id.in_(c)), {r.app_id for r in rows})
        }
    conversation_ids = {r.conversation_id for r in rows if r.conversation_id}
    conversations: dict[str, bool] = {}
    if conversation_ids and ctx.has("conversations"):
        columns = [Conversation.id]
        if ctx.has_is_deleted:
            columns.append(Conversation.is_deleted)
        conversations = {
            r.id: bool(r.is_deleted) if ctx.has_is_deleted else False
            for r in _lookup(
                conn, lambda c: sa.select(*columns).where(Conversation.id.in_(c)), conversation_ids
            )
        }
    newer = _rows_with_newer_sibling(conn, rows)
    facts = {}
    for r in rows:
        facts[r.id] = SessionFacts(
            id=r.id,
            status=str(r.status),
            owner_type=str(r.owner_type),
            created_at=r.created_at,
            updated_at=r.updated_at,
            workflow_run_id=r.workflow_run_id,
            conversation_id=r.conversation_id,
            run_status=runs.get(r.workflow_run_id) if r.workflow_run_id else None,
            run_open_pause=r.workflow_run_id in open_pauses,
            agent_status=agents.get(r.agent_id),
            app_exists=apps is None or r.app_id in apps,
            conversation_exists=r.conversation_id is None or r.conversation_id in conversations,
            conversation_deleted=conversations.get(r.conversation_id, False) if r.conversation_id else False,
            newer_active_sibling=r.id in newer,
        )
    return facts


def _rows_with_newer_sibling(conn: sa.Connection, rows: Sequence[sa.Row]) -> set[str]:
    """Ids among `rows` (conversation owner) with a later ACTIVE row of the same tenant/conversation/agent."""
    wanted = [r for r in rows if str(r.owner_type) == CONVERSATION and r.conversation_id]
    if not wanted:
        return set()
    by_tenant: dict[str, set[str]] = {}
    for r in wanted:
        by_tenant.setdefault(r.tenant_id, set()).add(r.conversation_id)
    active: dict[tuple[str, str, str], list[tuple[datetime, str]]] = {}
    for tenant_id, conversation_ids in by_tenant.items():
        # Served by agent_runtime_session_conversation_lookup_idx (tenant_id, conversation_id, status).
        for row in _lookup(
            conn,
            lambda c, t=tenant_id: sa.select(S.id, S.conversation_id, S.agent_id, S.created_at).where(
                S.tenant_id == t, S.conversation_id.in_(c), S.status == ACTIVE
            ),
            conversation_ids,
        ):
            active.setdefault((tenant_id, row.conversation_id, row.agent_id), []).append(
                (row.created_at, row.id)
            )
    result = set()
    for r in wanted:
        mine = (r.created_at, r.id)
        if any(other > mine for other in active.get((r.tenant_id, r.conversation_id, r.agent_id), [])):
            result.add(r.id)
    return result
