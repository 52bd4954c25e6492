"""The SQL of the runtime-session leak rules (`data.rules.session_leaks`): one condition per rule,
correlated on `agent_runtime_sessions`, selecting exactly the rows the rule's predicate labels, and the
facts the predicates read, loaded as scalar subqueries next to the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from data.models import Agent, AgentRuntimeSession, App, Conversation, WorkflowPause, WorkflowRun
from data.models.enums import AgentStatus
from data.rules.session_leaks import (
    ACTIVE,
    CONVERSATION,
    ENDED,
    RULE_NAMES,
    RULES,
    WORKFLOW_RUN,
    RuleContext,
    SessionFacts,
)

S = AgentRuntimeSession
CHUNK = 500  # ids per IN list (SQLite's bound-parameter limit is far above this)


# --- SQL conditions (correlated on agent_runtime_sessions) ---------------------------------------
#
# Every lookup is a scalar subquery on a primary key or unique index (at most one row), never EXISTS:
# PostgreSQL may turn an EXISTS under OR / NOT into a *hashed* sub-plan that reads the whole inner
# table (all conversations, all runs) before the first row, while a scalar subquery is always one
# index probe per candidate row. Bounded scans stay bounded that way.


def _one(column: sa.SQLColumnExpression[Any], *where: sa.ColumnElement[bool]) -> sa.ScalarSelect:
    return sa.select(column).where(*where).limit(1).scalar_subquery()


def _run_status(s: Any) -> sa.ScalarSelect:
    return _one(WorkflowRun.status, WorkflowRun.id == s.workflow_run_id)


def in_flight_condition(ctx: RuleContext, s: Any = S) -> sa.ColumnElement[bool]:
    if not ctx.has("workflow_runs"):
        return s.workflow_run_id.is_not(None)
    # A NULL status (no run row) is neither "in the ended set" nor "outside it": coalesce to ended.
    running: sa.ColumnElement[bool] = sa.func.coalesce(_run_status(s), ENDED[0]).not_in(ENDED)
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


#: Each rule's SQL condition (ctx, session entity), by rule name.
CONDITIONS: dict[str, Callable[[RuleContext, Any], sa.ColumnElement[bool]]] = {
    "finished-run": _finished_run_sql,
    "orphaned": _orphaned_sql,
    "superseded": _superseded_sql,
    "idle": _idle_sql,
}
assert tuple(CONDITIONS) == RULE_NAMES  # one condition per rule, in first-match order


def first_match_condition(name: str, ctx: RuleContext, s: Any = S) -> sa.ColumnElement[bool]:
    """SQL selecting exactly the rows `classify` labels `name`.

    A flat AND list (cheap column tests first) so the planner may order the sub-plans itself.
    """
    if name not in CONDITIONS:
        raise ValueError(f"unknown leak rule {name!r}; rules: {', '.join(RULE_NAMES)}")
    earlier = RULE_NAMES[: RULE_NAMES.index(name)]
    return sa.and_(
        s.status == ACTIVE,
        CONDITIONS[name](ctx, s),
        *[sa.not_(CONDITIONS[r](ctx, s)) for r in earlier],
        sa.not_(in_flight_condition(ctx, s)),
    )


def any_rule_condition(ctx: RuleContext, s: Any = S) -> sa.ColumnElement[bool]:
    """SQL selecting the rows `classify` labels with some rule."""
    return sa.and_(
        s.status == ACTIVE,
        sa.or_(*[CONDITIONS[r.name](ctx, s) for r in RULES]),
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
