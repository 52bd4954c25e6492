"""What every integrity check shares: the scope, findings, the bounded driving read and its probes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.dialects.postgresql import ARRAY

from data.models import Agent, AgentConfigRevision, AgentConfigSnapshot, AgentRuntimeSession, DifyBase

#: What a check may assume without a schema survey (the seed's five agent tables).
SEED_TABLES = frozenset(
    {
        "agents",
        "agent_config_snapshots",
        "agent_config_revisions",
        "workflow_agent_node_bindings",
        "agent_runtime_sessions",
    }
)
SCAN_LIMIT = 200_000
SAMPLE_LIMIT = 20
STREAM_BATCH = 500  # rows per fetched batch when Python reads the rows (memory stays bounded)
MAX_LISTED_GAPS = 10

Snapshot = AgentConfigSnapshot
Revision = AgentConfigRevision
Session = AgentRuntimeSession
#: Newer Dify: sessions of console debug runs point `agent_config_snapshot_id` at a draft row.
DRAFTS = sa.table("agent_config_drafts", sa.column("id"), sa.column("tenant_id"))


@dataclass(frozen=True)
class Scope:
    """What a check run covers: one workspace or all, how many rows each check may read, samples kept."""

    tenant_id: str | None = None
    scan_limit: int = SCAN_LIMIT
    sample_limit: int = SAMPLE_LIMIT
    has_drafts_table: bool = False
    #: Tables present, and "table.column" of the newer columns present (None: the seed's tables).
    present: frozenset[str] | None = None

    def has(self, name: str) -> bool:
        """Whether a table (or "table.column") is here; without `present`, the seed's tables are."""
        if self.present is None:
            return "." not in name and name in SEED_TABLES
        return name in self.present

    # --- windows of a background job (None: the first `scan_limit` rows, as the live checks read) ---
    table: str | None = None  # only this driving table (multi-table checks skip the others)
    key_after: str | None = None  # the window covers driving keys > key_after ...
    key_upto: str | None = None  # ... and <= key_upto (None: to the end of the table)
    only_ids: tuple[str, ...] | None = None  # only these rows (by primary key)
    only_agents: tuple[str, ...] | None = None  # gap checks: only these agents' rows
    json_prefilter: bool = False  # the database can test JSON validity safely (see `json_prefilter`)

    @property
    def windowed(self) -> bool:
        return self.key_after is not None or self.key_upto is not None or self.only_ids is not None

    def covers(self, table: str) -> bool:
        return self.table is None or self.table == table


@dataclass(frozen=True)
class Anomaly:
    """One offending row. The optional ids are link targets that exist (an agent id only if the agent
    row exists); `detail` is a plain sentence with ids and stored values, never parsed user text."""

    table: str
    id: str
    tenant_id: str
    detail: str
    agent_id: str | None = None
    app_id: str | None = None
    workflow_id: str | None = None
    node_id: str | None = None


@dataclass(frozen=True)
class Finding:
    """`count` offending rows (or groups) among `scanned` rows; `bounded`: the scan limit was reached."""

    count: int
    scanned: int
    bounded: bool
    samples: tuple[Anomaly, ...]


# --- the shared shape: a bounded driving read, tested row by row -----------------------------------


def _column(model: type[DifyBase], name: str) -> orm.InstrumentedAttribute[Any]:
    """`model.<name>`: the mirrors share `id`, `tenant_id`, `agent_id`, ... by convention, not by a base
    class, so the checks that take any mirror look the column up (AttributeError when it has none)."""
    column = getattr(model, name)
    if not isinstance(column, orm.InstrumentedAttribute):
        raise TypeError(f"{model.__name__}.{name} is not a mapped column")
    return column


def _driving(model: type[DifyBase], columns: Sequence[sa.SQLColumnExpression[Any]], scope: Scope) -> sa.CTE:
    """At most `scan_limit` rows of `model` (one workspace, or all), nothing filtered but the tenant.

    A MATERIALIZED CTE on PostgreSQL: planned on its own, so the outer sample query's small LIMIT
    cannot talk the planner into a "fast start" sequential scan of the whole table filtered by
    tenant (which, when anomalies are rare, reads every row of every workspace)."""
    query = _restrict(sa.select(*columns), model, _column(model, "id"), scope)
    return query.limit(scope.scan_limit).cte("scanned").prefix_with("MATERIALIZED", dialect="postgresql")


def _restrict(
    query: sa.Select, model: type[DifyBase], key: sa.SQLColumnExpression[Any], scope: Scope
) -> sa.Select:
    """The scope's filters on a driving read: workspace, key window (on `key`), chosen rows."""
    if scope.tenant_id:
        query = query.where(_column(model, "tenant_id") == scope.tenant_id)
    if scope.key_after is not None:
        query = query.where(key > scope.key_after)
    if scope.key_upto is not None:
        query = query.where(key <= scope.key_upto)
    if scope.only_ids is not None:
        query = query.where(_column(model, "id").in_(scope.only_ids))
    if scope.only_agents is not None:
        query = query.where(_column(model, "agent_id").in_(scope.only_agents))
    return query


def window_upto(
    conn: sa.Connection,
    model: type[DifyBase],
    key: str,
    *,
    tenant_id: str | None,
    after: str | None,
    rows: int,
) -> str | None:
    """The key of the `rows`-th row after `after` in key order (the end of the next window), or None
    when fewer rows remain (the window runs to the end). An index-only walk of at most `rows` keys."""
    column = getattr(model, key)
    query = _restrict(sa.select(column), model, column, Scope(tenant_id=tenant_id, key_after=after))
    return conn.execute(query.order_by(column).offset(rows - 1).limit(1)).scalar()


def table_estimate(conn: sa.Connection, model: type[DifyBase]) -> int | None:
    """A cheap row estimate for progress (PostgreSQL statistics, MySQL table status), else None."""
    from data.stores.counts import estimated_rows  # the guard's constant planner-estimate statements

    try:
        return estimated_rows(conn, model.__tablename__)
    except sa.exc.SQLAlchemyError:
        return None


@dataclass(frozen=True)
class Lookup:
    """The row of `target` a driving row names, LEFT JOINed to the window on a unique key of the
    target (its primary key, plus the tenant), so a driving row joins at most one row."""

    target: sa.FromClause
    on: sa.ColumnElement[bool]

    @property
    def c(self) -> Any:
        return self.target.c

    @property
    def missing(self) -> sa.ColumnElement[bool]:
        """No such row (also when the reference is NULL: the join condition is then unknown)."""
        return self.target.c.id.is_(None)

    @property
    def found(self) -> sa.ColumnElement[bool]:
        return self.target.c.id.is_not(None)


def _lookup(
    conn: sa.Connection,
    target: type[DifyBase] | sa.TableClause,
    name: str,
    id: sa.ColumnElement[Any],
    also: tuple[str, ...] = (),
    **equal: sa.ColumnElement[Any],
) -> Lookup:
    """A `Lookup` of `target` (alias `name`): its row whose `id` equals the driving column `id` and
    whose other named columns equal the given driving columns; `also`: more target columns the
    check reads (`lookup.c.<name>`). Only these columns are named (a database may lack the others).

    The target side reads only the rows the window names: `id = ANY(CAST((SELECT array_agg(<id>) FROM
    window) AS uuid[]))`
    on PostgreSQL (one sorted, de-duplicated primary-key index scan; a planner that sees a key list
    of unknown length never prefers a sequential scan of the target), `id IN (SELECT ...)` elsewhere.
    So a window of N rows costs one index scan of at most N distinct keys and one anti-join, never a
    read of the whole referenced table (a 2 GB snapshot table) and never a probe per row.

    Use it only where `anomaly` keeps the join an outer join (`lookup.missing`, possibly OR'd or AND'd
    with tests of the window's own columns). A test of the target's columns (`lookup.c.status = ...`)
    makes it an inner join; the planner, estimating the key list at 10 rows, may then put the target
    outside a nested loop or, worse, rescan the key-list index scan once per window row (seen at L:
    20,000 x 20,000 descents, a statement timeout). Those checks probe per row (`_exists`)."""
    table: sa.FromClause = target if isinstance(target, sa.TableClause) else target.__table__
    if conn.dialect.name == "postgresql":
        keys = sa.cast(sa.select(sa.func.array_agg(id)).scalar_subquery(), ARRAY(id.type))
        among = table.c.id == sa.any_(keys)  # ANY(<an array>), not ANY(<a subquery>): no semi-join
    else:
        among = table.c.id.in_(sa.select(id))
    named = dict.fromkeys(("id", *equal, *also))
    alias = sa.select(*(table.c[column] for column in named)).where(among).subquery(name)
    conditions = [alias.c.id == id, *(alias.c[column] == value for column, value in equal.items())]
    return Lookup(alias, sa.and_(*conditions))


def _agent_lookup(
    conn: sa.Connection,
    agent_id: sa.ColumnElement[Any],
    tenant_id: sa.ColumnElement[Any],
    name: str = "agent",
    also: tuple[str, ...] = (),
) -> Lookup:
    return _lookup(conn, Agent, name, id=agent_id, also=also, tenant_id=tenant_id)


def _snapshot_lookup(
    conn: sa.Connection,
    snapshot_id: sa.ColumnElement[Any],
    tenant_id: sa.ColumnElement[Any],
    name: str = "snap",
    also: tuple[str, ...] = (),
) -> Lookup:
    return _lookup(conn, Snapshot, name, id=snapshot_id, also=also, tenant_id=tenant_id)


def _find(
    conn: sa.Connection,
    scanned: sa.CTE,
    anomaly: sa.ColumnElement[bool],
    scope: Scope,
    make: Callable[[sa.Row], Anomaly],
    extra: Sequence[sa.SQLColumnExpression[Any]] = (),
    lookups: Sequence[Lookup] = (),
) -> Finding:
    """Count the rows read and the rows matching `anomaly` in one statement; fetch samples (with
    `extra`) only when some match.

    The references are tested set-based: the window is LEFT JOINed to each lookup's target and
    `anomaly` (e.g. `lookup.missing`) filters the joined rows, so `... LEFT JOIN t ... WHERE t.id IS
    NULL` is an anti-join the planner runs as it judges best for the window's rows (a hash anti-join,
    a merge anti-join, or index probes with Memoize for repeated keys), instead of one correlated probe
    per row. The window's count is a second scalar subquery over the same materialized window."""
    source: sa.FromClause = scanned
    for lookup in lookups:
        source = source.outerjoin(lookup.target, lookup.on)
    scanned_rows, found = conn.execute(
        sa.select(
            sa.select(sa.func.count()).select_from(scanned).scalar_subquery(),
            sa.select(sa.func.count()).select_from(source).where(anomaly).scalar_subquery(),
        )
    ).one()
    samples: tuple[Anomaly, ...] = ()
    if found:
        # The matching rows as a MATERIALIZED CTE, planned for all its rows like the count, and read
        # lazily up to the sample limit: a LIMIT on the join itself talks the planner into a fast-start
        # nested loop that repeats the key-list index scan for every window row (seen at L).
        matching = (
            sa.select(*scanned.c, *extra)
            .select_from(source)
            .where(anomaly)
            .cte("matching")
            .prefix_with("MATERIALIZED", dialect="postgresql")
        )
        rows = conn.execute(sa.select(matching).limit(scope.sample_limit))
        samples = tuple(make(row) for row in rows)
    return Finding(int(found), int(scanned_rows), int(scanned_rows) >= scope.scan_limit, samples)


def _none(model: type[DifyBase], *conditions: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    """No row of `model` matches `conditions` (a target with no unique key to join on). Use it only as
    a top-level conjunct of `anomaly`: there PostgreSQL plans NOT EXISTS as an anti-join; elsewhere (in
    an OR, a CASE, a select list) it may become a hashed subplan that reads the whole table."""
    return ~sa.exists(sa.select(sa.literal(1)).select_from(model).where(*conditions))


def _exists(
    model: type[DifyBase] | sa.FromClause, *conditions: sa.ColumnElement[bool]
) -> sa.ColumnElement[bool]:
    """Whether a row matching `conditions` exists, probed once per row read (for the few sample rows
    `extra` columns; the counting statements join, see `_find`).

    Written as `(SELECT 1 ... LIMIT 1) IS NOT NULL`, not EXISTS: PostgreSQL may turn an EXISTS into
    a hashed subplan that reads the whole referenced table (a 2 GB snapshot table); a scalar
    subquery always runs as an index probe per row, so the cost follows the rows read."""
    return (
        sa.select(sa.literal(1)).select_from(model).where(*conditions).limit(1).scalar_subquery().is_not(None)
    )


def _agent_exists(
    agent_id: sa.SQLColumnExpression[Any], tenant_id: sa.SQLColumnExpression[Any]
) -> sa.ColumnElement[bool]:
    return _exists(Agent, Agent.id == agent_id, Agent.tenant_id == tenant_id)


def _snapshot_exists(
    snapshot_id: sa.SQLColumnExpression[Any], tenant_id: sa.SQLColumnExpression[Any]
) -> sa.ColumnElement[bool]:
    return _exists(Snapshot, Snapshot.id == snapshot_id, Snapshot.tenant_id == tenant_id)


def _with_samples(scope: Scope, taken: int) -> Scope:
    """The scope with the sample budget left after `taken` samples (at least one: counting still runs)."""
    return replace(scope, sample_limit=max(1, scope.sample_limit - taken))


def _only_existing_agents(conn: sa.Connection, samples: Sequence[Anomaly]) -> tuple[Anomaly, ...]:
    """Drop agent ids that name no agent row, so every agent link a sample carries opens an agent."""
    wanted = sorted({a.agent_id for a in samples if a.agent_id})
    existing = (
        set(conn.execute(sa.select(Agent.id).where(Agent.id.in_(wanted))).scalars()) if wanted else set()
    )
    return tuple(a if a.agent_id in existing else replace(a, agent_id=None) for a in samples)
