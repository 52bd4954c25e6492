"""How a sessions list reaches its rows: which indexes exist, which would help, the access plan.

What Dify's indexes serve (shared/notes/scale-facts.md): the primary key (id order = creation order,
the ids being UUIDv7), workspace + workflow run (`agent_runtime_session_workflow_lookup_idx`),
workspace + conversation (`agent_runtime_session_conversation_lookup_idx`) and the backend run id.
There is no index on status, updated_at, app or agent. See the package docstring for the resulting plans.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from data.models import (
    AgentRuntimeSession,
    Tenant,
)
from data.rules.session_leaks import RuleContext
from data.stores.id_keyset import Access
from data.stores.owners import conversation_tenant, run_tenant
from data.stores.sessions.filter import SessionFilter, id_ceiling

S = AgentRuntimeSession
SCAN_LIMIT = 10_000

MAX_WORKSPACES = 5_000

WORKFLOW_LOOKUP_INDEX = "agent_runtime_session_workflow_lookup_idx"
CONVERSATION_LOOKUP_INDEX = "agent_runtime_session_conversation_lookup_idx"
PRIMARY_KEY = "agent_runtime_session_pkey"


# --- indexes: which exist, which would help --------------------------------------------------------


@dataclass(frozen=True)
class IndexInfo:
    name: str
    columns: tuple[str, ...]
    where: str | None  # partial-index predicate as the database prints it


def session_indexes(conn: sa.Connection) -> tuple[IndexInfo, ...]:
    """The indexes on agent_runtime_sessions (reflection: a few ms; pages cache it)."""
    result = []
    for index in sa.inspect(conn).get_indexes(S.__tablename__):
        options = index.get("dialect_options", {})
        where = options.get("postgresql_where") or options.get("sqlite_where")
        columns = tuple(c for c in index.get("column_names", ()) if c)
        result.append(IndexInfo(index["name"] or "", columns, str(where) if where is not None else None))
    return tuple(result)


_STATUS_PREDICATE = re.compile(r"status\W*(?:::\s*\w+\W*)?=\s*'([\w-]+)'", re.I)


def _suggested_shape(flt: SessionFilter) -> tuple[tuple[str, ...], str | None] | None:
    """(index columns, partial status) that would serve the filter's equalities in id order."""
    eq = flt.equalities()
    status = eq.pop("status", None)
    if not eq and not status:
        return None
    return (*eq, "id"), status


def suggest_index(flt: SessionFilter) -> str | None:
    """The exact statement an operator could run in Dify's database (the app never runs it)."""
    shape = _suggested_shape(flt)
    if shape is None:
        return None
    columns, status = shape
    short = {"tenant_id": "tenant", "app_id": "app", "agent_id": "agent", "owner_type": "owner"}
    parts = [short.get(c, c) for c in columns[:-1]]
    name = "_".join(["agent_desk_sessions", *([status] if status else []), *parts, "id_idx"])
    where = f" WHERE status = '{status}'" if status else ""
    return f"CREATE INDEX CONCURRENTLY {name} ON agent_runtime_sessions ({', '.join(columns)}){where};"


def usable_index(flt: SessionFilter, indexes: Sequence[IndexInfo]) -> IndexInfo | None:
    """An existing index yielding exactly the filter's equality candidates in id order, if any."""
    eq = flt.equalities()
    if not eq:
        return None
    for index in indexes:
        if not index.columns or index.columns[-1] != "id":
            continue
        covered = set(index.columns[:-1])
        if index.where:
            match = _STATUS_PREDICATE.search(index.where)
            if not match or eq.get("status") != match.group(1):
                continue
            covered.add("status")
        if covered == set(eq):
            return index
    return None


# --- access plan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    access: Access
    extra: tuple[sa.ColumnElement[bool], ...] = ()  # e.g. tenant_id IN (...) for a lookup seek
    window: tuple[sa.ColumnElement[bool], ...] = ()  # conditions the window boundary may use


def _all_tenants(conn: sa.Connection, ctx: RuleContext) -> list[str] | None:
    if not ctx.has("tenants"):
        return None
    ids = list(conn.execute(sa.select(Tenant.id).limit(MAX_WORKSPACES + 1)).scalars())
    return ids if len(ids) <= MAX_WORKSPACES else None


def _lookup_tenants(conn: sa.Connection, flt: SessionFilter, ctx: RuleContext) -> list[str] | None:
    if flt.tenant_id:
        return [flt.tenant_id]
    tenant = None
    if flt.run_id and ctx.has("workflow_runs"):
        tenant = run_tenant(conn, flt.run_id)
    elif flt.conversation_id and ctx.has("conversations") and ctx.has("apps"):
        tenant = conversation_tenant(conn, flt.conversation_id)
    return [tenant] if tenant else _all_tenants(conn, ctx)


def plan_access(
    conn: sa.Connection,
    flt: SessionFilter,
    ctx: RuleContext,
    *,
    scan_limit: int = SCAN_LIMIT,
    indexes: Sequence[IndexInfo] = (),
) -> Plan:
    if flt.run_id or flt.conversation_id:
        tenants = _lookup_tenants(conn, flt, ctx)
        if tenants:
            run = bool(flt.run_id)
            return Plan(
                Access(
                    "run lookup" if run else "conversation lookup",
                    WORKFLOW_LOOKUP_INDEX if run else CONVERSATION_LOOKUP_INDEX,
                ),
                extra=(S.tenant_id.in_(tenants),),
            )
    if flt.is_unfiltered:
        return Plan(Access("primary key", PRIMARY_KEY))
    # The window starts below the implied id ceiling (if any): the rows above it cannot match.
    ceiling = id_ceiling(flt, ctx)
    start = (S.id < ceiling,) if ceiling else ()
    index = usable_index(flt, indexes)
    if index is not None:
        eq = [getattr(S, column) == value for column, value in flt.equalities().items()]
        return Plan(Access("bounded scan", index.name, scan_limit=scan_limit), window=(*start, *eq))
    return Plan(
        Access("bounded scan", None, scan_limit=scan_limit, suggestion=suggest_index(flt)), window=start
    )
