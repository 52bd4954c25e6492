"""SQL of the integrity checks; `data.services.integrity` names, grades and links what these find.

Dify declares no foreign keys, so every reference between the agent tables can dangle. Each check
here reads one *driving* table and tests every row it reads:

* The driving read filters by workspace only (for one workspace, a seek on a `tenant_id`-leading
  index Dify ships; for all, the table from its start) and stops after `Scope.scan_limit` rows: no
  check ever reads more rows than that from its driving table. Candidate conditions (e.g. "has a
  snapshot id") are tested on the rows read, never inside the bounded read, so they cannot make it
  read more.
* References are probed with correlated scalar subqueries on primary keys or tenant-leading indexes
  (see `_exists`), so a probe is an index lookup per row read, never a scan of the referenced table.
* A `Finding` says how many rows were read and whether the bound was reached (then its count is a
  lower bound: "≥ N").
JSON is never cast in SQL (a cast aborts the query on the first bad text). Where the database has a
validity test that never raises (`pg_input_is_valid` on PostgreSQL 16+, `JSON_VALID` on MySQL and
MariaDB, `json_valid` on SQLite), it rejects the surely-fine texts and Python parses only the
candidates; elsewhere (PostgreSQL 15) every text is streamed in batches and parsed in Python.

Windows (background jobs, `data.services.check_jobs`): a `Scope` may carry a key range
(`key_after`, `key_upto`]: the driving read then covers exactly that range of its driving key (the
uuidv7 `id`, or `agent_id` for the gap checks), so a job walks a table window by window in key order
and can resume after the last key it saw. `only_ids` re-reads given rows (an incremental run
re-verifies what the last run found). `table` restricts a multi-table check to one driving table.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from data.models import Agent, AgentConfigRevision, AgentConfigSnapshot, AgentRuntimeSession, DifyBase
from data.models import WorkflowAgentNodeBinding as Binding
from data.models.enums import (
    AgentIconType,
    AgentKind,
    AgentScope,
    AgentSource,
    AgentStatus,
    BindingType,
    RevisionOperation,
    SessionOwnerType,
    SessionStatus,
)
from data.tolerant import normalize_uuid

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


def _find(
    conn: sa.Connection,
    scanned: sa.CTE,
    anomaly: sa.ColumnElement[bool],
    scope: Scope,
    make: Callable[[sa.Row], Anomaly],
    extra: Sequence[sa.SQLColumnExpression[Any]] = (),
) -> Finding:
    """Count rows read and rows matching `anomaly` in one pass; fetch samples only when some match."""
    scanned_rows, found = conn.execute(
        sa.select(
            sa.func.count(), sa.func.coalesce(sa.func.sum(sa.case((anomaly, 1), else_=0)), 0)
        ).select_from(scanned)
    ).one()
    samples: tuple[Anomaly, ...] = ()
    if found:
        rows = conn.execute(sa.select(*scanned.c, *extra).where(anomaly).limit(scope.sample_limit))
        samples = tuple(make(row) for row in rows)
    return Finding(int(found), int(scanned_rows), int(scanned_rows) >= scope.scan_limit, samples)


def _exists(
    model: type[DifyBase] | sa.FromClause, *conditions: sa.ColumnElement[bool]
) -> sa.ColumnElement[bool]:
    """Whether a row matching `conditions` exists, probed once per row read.

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


# --- bindings --------------------------------------------------------------------------------------

_BINDING_COLUMNS = (
    Binding.id,
    Binding.tenant_id,
    Binding.app_id,
    Binding.workflow_id,
    Binding.workflow_version,
    Binding.node_id,
    Binding.agent_id,
    Binding.current_snapshot_id,
)


def _binding(row: sa.Row, detail: str, *, agent_exists: bool = True) -> Anomaly:
    return Anomaly(
        "workflow_agent_node_bindings",
        row.id,
        row.tenant_id,
        detail,
        agent_id=row.agent_id if agent_exists else None,
        app_id=row.app_id,
        workflow_id=row.workflow_id,
        node_id=row.node_id,
    )


def _where(row: sa.Row) -> str:
    version = "draft" if row.workflow_version == "draft" else f"published {row.workflow_version}"
    return f"node {row.node_id} ({version})"


def binding_missing_agent(conn: sa.Connection, scope: Scope) -> Finding:
    s = _driving(Binding, _BINDING_COLUMNS, scope)
    anomaly = sa.or_(s.c.agent_id.is_(None), ~_agent_exists(s.c.agent_id, s.c.tenant_id))

    def make(r: sa.Row) -> Anomaly:
        what = "names no agent" if r.agent_id is None else f"names agent {r.agent_id}, which does not exist"
        return _binding(r, f"Binding of {_where(r)} {what}.", agent_exists=False)

    return _find(conn, s, anomaly, scope, make)


def binding_missing_snapshot(conn: sa.Connection, scope: Scope) -> Finding:
    s = _driving(Binding, _BINDING_COLUMNS, scope)
    anomaly = sa.and_(
        s.c.current_snapshot_id.is_not(None), ~_snapshot_exists(s.c.current_snapshot_id, s.c.tenant_id)
    )
    agent_ok = _agent_exists(s.c.agent_id, s.c.tenant_id).label("agent_ok")

    def make(r: sa.Row) -> Anomaly:
        detail = f"Binding of {_where(r)} pins snapshot {r.current_snapshot_id}, which does not exist."
        return _binding(r, detail, agent_exists=bool(r.agent_ok))

    return _find(conn, s, anomaly, scope, make, extra=(agent_ok,))


def binding_foreign_snapshot(conn: sa.Connection, scope: Scope) -> Finding:
    s = _driving(Binding, _BINDING_COLUMNS, scope)
    anomaly = _exists(
        Snapshot,
        Snapshot.id == s.c.current_snapshot_id,
        Snapshot.tenant_id == s.c.tenant_id,
        Snapshot.agent_id != s.c.agent_id,
    )
    owner = (
        sa.select(Snapshot.agent_id)
        .where(Snapshot.id == s.c.current_snapshot_id, Snapshot.tenant_id == s.c.tenant_id)
        .scalar_subquery()
        .label("owner")
    )
    agent_ok = _agent_exists(s.c.agent_id, s.c.tenant_id).label("agent_ok")

    def make(r: sa.Row) -> Anomaly:
        detail = (
            f"Binding of {_where(r)} (agent {r.agent_id}) pins snapshot {r.current_snapshot_id} "
            f"of agent {r.owner}."
        )
        return _binding(r, detail, agent_exists=bool(r.agent_ok))

    return _find(conn, s, anomaly, scope, make, extra=(owner, agent_ok))


def archived_agent_bound_in_draft(conn: sa.Connection, scope: Scope) -> Finding:
    s = _driving(Binding, _BINDING_COLUMNS, scope)
    anomaly = sa.and_(
        s.c.workflow_version == "draft",
        _exists(
            Agent,
            Agent.id == s.c.agent_id,
            Agent.tenant_id == s.c.tenant_id,
            Agent.status == AgentStatus.ARCHIVED,
        ),
    )

    def make(r: sa.Row) -> Anomaly:
        return _binding(r, f"Draft binding of node {r.node_id} uses archived agent {r.agent_id}.")

    return _find(conn, s, anomaly, scope, make)


# --- agents, snapshots, revisions --------------------------------------------------------------------

_AGENT_COLUMNS = (Agent.id, Agent.tenant_id, Agent.active_config_snapshot_id)


def _agent(row: sa.Row, detail: str) -> Anomaly:
    return Anomaly("agents", row.id, row.tenant_id, detail, agent_id=row.id)


def agent_active_snapshot_missing(conn: sa.Connection, scope: Scope) -> Finding:
    s = _driving(Agent, _AGENT_COLUMNS, scope)
    anomaly = sa.and_(
        s.c.active_config_snapshot_id.is_not(None),
        ~_snapshot_exists(s.c.active_config_snapshot_id, s.c.tenant_id),
    )

    def make(r: sa.Row) -> Anomaly:
        return _agent(r, f"Active snapshot {r.active_config_snapshot_id} does not exist.")

    return _find(conn, s, anomaly, scope, make)


def agent_active_snapshot_foreign(conn: sa.Connection, scope: Scope) -> Finding:
    s = _driving(Agent, _AGENT_COLUMNS, scope)
    anomaly = _exists(
        Snapshot,
        Snapshot.id == s.c.active_config_snapshot_id,
        Snapshot.tenant_id == s.c.tenant_id,
        Snapshot.agent_id != s.c.id,
    )
    owner = (
        sa.select(Snapshot.agent_id)
        .where(Snapshot.id == s.c.active_config_snapshot_id, Snapshot.tenant_id == s.c.tenant_id)
        .scalar_subquery()
        .label("owner")
    )

    def make(r: sa.Row) -> Anomaly:
        return _agent(r, f"Active snapshot {r.active_config_snapshot_id} belongs to agent {r.owner}.")

    return _find(conn, s, anomaly, scope, make, extra=(owner,))


def workflow_only_agent_unreferenced(conn: sa.Connection, scope: Scope) -> Finding:
    s = _driving(
        Agent,
        (Agent.id, Agent.tenant_id, Agent.scope, Agent.app_id, Agent.workflow_id, Agent.workflow_node_id),
        scope,
    )
    anomaly = sa.and_(
        s.c.scope == AgentScope.WORKFLOW_ONLY,
        ~_exists(Binding, Binding.tenant_id == s.c.tenant_id, Binding.agent_id == s.c.id),
    )

    def make(r: sa.Row) -> Anomaly:
        detail = f"Workflow-only agent of node {r.workflow_node_id or '(none)'} is referenced by no binding."
        return Anomaly(
            "agents",
            r.id,
            r.tenant_id,
            detail,
            agent_id=r.id,
            app_id=r.app_id,
            workflow_id=r.workflow_id,
            node_id=r.workflow_node_id,
        )

    return _find(conn, s, anomaly, scope, make)


def snapshot_missing_agent(conn: sa.Connection, scope: Scope) -> Finding:
    s = _driving(Snapshot, (Snapshot.id, Snapshot.tenant_id, Snapshot.agent_id, Snapshot.version), scope)
    anomaly = ~_agent_exists(s.c.agent_id, s.c.tenant_id)

    def make(r: sa.Row) -> Anomaly:
        detail = f"Snapshot version {r.version} names agent {r.agent_id}, which does not exist."
        return Anomaly("agent_config_snapshots", r.id, r.tenant_id, detail)

    return _find(conn, s, anomaly, scope, make)


def revision_missing_snapshot(conn: sa.Connection, scope: Scope) -> Finding:
    s = _driving(
        Revision,
        (
            Revision.id,
            Revision.tenant_id,
            Revision.agent_id,
            Revision.revision,
            Revision.current_snapshot_id,
            Revision.previous_snapshot_id,
        ),
        scope,
    )
    current_ok = _snapshot_exists(s.c.current_snapshot_id, s.c.tenant_id)
    previous_ok = _snapshot_exists(s.c.previous_snapshot_id, s.c.tenant_id)
    anomaly = sa.or_(~current_ok, sa.and_(s.c.previous_snapshot_id.is_not(None), ~previous_ok))
    extra = (
        current_ok.label("current_ok"),
        previous_ok.label("previous_ok"),
        _agent_exists(s.c.agent_id, s.c.tenant_id).label("agent_ok"),
    )

    def make(r: sa.Row) -> Anomaly:
        missing = []
        if not r.current_ok:
            missing.append(f"current snapshot {r.current_snapshot_id}")
        if r.previous_snapshot_id and not r.previous_ok:
            missing.append(f"previous snapshot {r.previous_snapshot_id}")
        detail = f"Revision {r.revision}: {' and '.join(missing)} does not exist."
        return Anomaly(
            "agent_config_revisions", r.id, r.tenant_id, detail, agent_id=r.agent_id if r.agent_ok else None
        )

    return _find(conn, s, anomaly, scope, make, extra=extra)


def _numbering_gaps(
    conn: sa.Connection, scope: Scope, model: type[DifyBase], number: orm.InstrumentedAttribute[int]
) -> Finding:
    """Agents whose numbers are not exactly 1..max, streamed in agent order.

    The order is exactly an index's, so a bounded read needs no sort of everything first: (agent_id,
    number) UNIQUE for all workspaces (index-only), (tenant_id, agent_id, created_at) for one. When the
    scan limit cuts the read, the last agent may be incomplete, so it is not judged (no invented gaps)."""
    agent = _column(model, "agent_id")
    query = _restrict(sa.select(agent, number.label("n")), model, agent, scope)
    if scope.tenant_id:
        query = query.order_by(agent, _column(model, "created_at"))
    else:
        query = query.order_by(agent, number)
    result = conn.execute(query.limit(scope.scan_limit).execution_options(yield_per=STREAM_BATCH))
    gaps: list[tuple[str, list[int], int, int]] = []
    rows, current = 0, None
    numbers: set[int] = set()
    for agent_id, n in (row for batch in result.partitions() for row in batch):
        rows += 1
        if agent_id != current:
            _judge(current, numbers, gaps)
            current, numbers = agent_id, set()
        numbers.add(n)
    bounded = rows >= scope.scan_limit
    if not bounded:
        _judge(current, numbers, gaps)
    samples = tuple(
        Anomaly(
            model.__tablename__,
            agent_id,
            _tenant_of(conn, model, agent_id, scope),
            f"{number.key.capitalize()}s 1..{high}: {present} present, missing {_listed(missing)}.",
            agent_id=agent_id,
        )
        for agent_id, missing, high, present in gaps[: scope.sample_limit]
    )
    return Finding(len(gaps), rows, bounded, _only_existing_agents(conn, samples))


def _judge(agent_id: str | None, numbers: set[int], gaps: list[tuple[str, list[int], int, int]]) -> None:
    if agent_id is None or not numbers:
        return
    high = max(numbers)
    if len(numbers) != high or min(numbers) != 1:
        missing = [n for n in range(1, min(high, 10_000) + 1) if n not in numbers]
        gaps.append((agent_id, missing, high, len(numbers)))


def _listed(missing: list[int]) -> str:
    text = ", ".join(str(n) for n in missing[:MAX_LISTED_GAPS])
    return text + (f" … ({len(missing)} in all)" if len(missing) > MAX_LISTED_GAPS else "")


def _tenant_of(conn: sa.Connection, model: type[DifyBase], agent_id: str, scope: Scope) -> str:
    """A sample's workspace (all-workspace reads leave tenant_id out to stay index-only)."""
    if scope.tenant_id:
        return scope.tenant_id
    return conn.execute(
        sa.select(_column(model, "tenant_id")).where(_column(model, "agent_id") == agent_id).limit(1)
    ).scalar_one()


def version_gaps(conn: sa.Connection, scope: Scope) -> Finding:
    return _numbering_gaps(conn, scope, Snapshot, Snapshot.version)


def revision_gaps(conn: sa.Connection, scope: Scope) -> Finding:
    return _numbering_gaps(conn, scope, Revision, Revision.revision)


# --- runtime sessions ------------------------------------------------------------------------------

_SESSION_COLUMNS = (
    Session.id,
    Session.tenant_id,
    Session.app_id,
    Session.owner_type,
    Session.agent_id,
    Session.binding_id,
    Session.agent_config_snapshot_id,
    Session.workflow_run_id,
    Session.node_id,
    Session.conversation_id,
)


def _session(row: sa.Row, detail: str, *, agent_exists: bool) -> Anomaly:
    return Anomaly(
        "agent_runtime_sessions",
        row.id,
        row.tenant_id,
        detail,
        agent_id=row.agent_id if agent_exists else None,
        app_id=row.app_id,
    )


def session_missing_agent(conn: sa.Connection, scope: Scope) -> Finding:
    s = _driving(Session, _SESSION_COLUMNS, scope)
    anomaly = ~_agent_exists(s.c.agent_id, s.c.tenant_id)

    def make(r: sa.Row) -> Anomaly:
        return _session(
            r, f"Session ({r.owner_type}) of agent {r.agent_id}, which does not exist.", agent_exists=False
        )

    return _find(conn, s, anomaly, scope, make)


def session_missing_binding(conn: sa.Connection, scope: Scope) -> Finding:
    s = _driving(Session, _SESSION_COLUMNS, scope)
    anomaly = sa.and_(
        s.c.binding_id.is_not(None),
        ~_exists(Binding, Binding.id == s.c.binding_id, Binding.tenant_id == s.c.tenant_id),
    )
    agent_ok = _agent_exists(s.c.agent_id, s.c.tenant_id).label("agent_ok")

    def make(r: sa.Row) -> Anomaly:
        detail = f"Session of node {r.node_id} names binding {r.binding_id}, which does not exist."
        return _session(r, detail, agent_exists=bool(r.agent_ok))

    return _find(conn, s, anomaly, scope, make, extra=(agent_ok,))


def session_missing_snapshot(conn: sa.Connection, scope: Scope) -> Finding:
    s = _driving(Session, _SESSION_COLUMNS, scope)
    missing = sa.and_(
        s.c.agent_config_snapshot_id.is_not(None),
        ~_snapshot_exists(s.c.agent_config_snapshot_id, s.c.tenant_id),
    )
    if scope.has_drafts_table:  # newer Dify: debugger sessions point at an agent_config_drafts row
        missing = sa.and_(
            missing,
            ~_exists(
                DRAFTS, DRAFTS.c.id == s.c.agent_config_snapshot_id, DRAFTS.c.tenant_id == s.c.tenant_id
            ),
        )
    agent_ok = _agent_exists(s.c.agent_id, s.c.tenant_id).label("agent_ok")
    where = "snapshot or draft" if scope.has_drafts_table else "snapshot"

    def make(r: sa.Row) -> Anomaly:
        detail = f"Session names {where} {r.agent_config_snapshot_id}, which does not exist."
        return _session(r, detail, agent_exists=bool(r.agent_ok))

    return _find(conn, s, anomaly=missing, scope=scope, make=make, extra=(agent_ok,))


def _owner_problems(r: sa.Row) -> list[str]:
    """Owner columns a session of its `owner_type` must (or must not) set (schema reference, 2.5)."""
    if r.owner_type == SessionOwnerType.WORKFLOW_RUN:
        required: tuple[str, ...] = ("workflow_run_id", "node_id")
        forbidden: tuple[str, ...] = ("conversation_id",)
    else:
        required, forbidden = ("conversation_id",), ("workflow_run_id", "binding_id")
    return [f"{c} is empty" for c in required if getattr(r, c) is None] + [
        f"{c} is set" for c in forbidden if getattr(r, c) is not None
    ]


def session_owner_mismatch(conn: sa.Connection, scope: Scope) -> Finding:
    s = _driving(Session, _SESSION_COLUMNS, scope)
    workflow = sa.and_(
        s.c.owner_type == SessionOwnerType.WORKFLOW_RUN,
        sa.or_(s.c.workflow_run_id.is_(None), s.c.node_id.is_(None), s.c.conversation_id.is_not(None)),
    )
    conversation = sa.and_(
        s.c.owner_type == SessionOwnerType.CONVERSATION,
        sa.or_(s.c.conversation_id.is_(None), s.c.workflow_run_id.is_not(None), s.c.binding_id.is_not(None)),
    )
    agent_ok = _agent_exists(s.c.agent_id, s.c.tenant_id).label("agent_ok")

    def make(r: sa.Row) -> Anomaly:
        detail = f"owner_type {r.owner_type}, but " + ", ".join(_owner_problems(r)) + "."
        return _session(r, detail, agent_exists=bool(r.agent_ok))

    return _find(conn, s, sa.or_(workflow, conversation), scope, make, extra=(agent_ok,))


# --- stored values: enums and JSON -------------------------------------------------------------------

#: Enum columns per table: (column, enum, empty string allowed). Values newer Dify versions write are
#: members of our enums (data.models.enums), so "unknown" means unknown to every Dify we know of.
ENUM_COLUMNS: dict[type[DifyBase], tuple[tuple[orm.InstrumentedAttribute[Any], type[StrEnum], bool], ...]] = {
    Agent: (
        (Agent.scope, AgentScope, False),
        (Agent.source, AgentSource, False),
        (Agent.status, AgentStatus, False),
        (Agent.agent_kind, AgentKind, False),
        (Agent.icon_type, AgentIconType, True),  # Dify reads "" as None
    ),
    Revision: ((Revision.operation, RevisionOperation, False),),
    Binding: ((Binding.binding_type, BindingType, False),),
    Session: ((Session.owner_type, SessionOwnerType, False), (Session.status, SessionStatus, False)),
}


def _unknown(
    column: sa.SQLColumnExpression[Any], enum: type[StrEnum], empty_ok: bool
) -> sa.ColumnElement[bool]:
    known = [m.value for m in enum] + ([""] if empty_ok else [])
    return sa.and_(column.is_not(None), column.not_in(known))


def unknown_enum_values(conn: sa.Connection, scope: Scope) -> Finding:
    """One bounded read per table; a row counts once, however many of its columns are unknown."""
    count = scanned = 0
    bounded = False
    samples: list[Anomaly] = []
    for model, columns in ENUM_COLUMNS.items():
        if not scope.has(model.__tablename__) or not scope.covers(model.__tablename__):
            continue
        extra = (_column(model, "agent_id"),) if hasattr(model, "agent_id") else ()
        s = _driving(
            model,
            (_column(model, "id"), _column(model, "tenant_id"), *extra, *(c for c, _, _ in columns)),
            scope,
        )
        anomaly = sa.or_(*(_unknown(s.c[c.key], enum, empty_ok) for c, enum, empty_ok in columns))
        table = model.__tablename__

        def make(r: sa.Row, columns=columns, table=table) -> Anomaly:
            values = [
                f"{c.key} = {r._mapping[c.key].raw!r}"
                for c, _, _ in columns
                if _is_unknown(r._mapping[c.key])
            ]
            agent = r.id if table == "agents" else getattr(r, "agent_id", None)
            return Anomaly(
                table, r.id, r.tenant_id, "Unknown value: " + ", ".join(values) + ".", agent_id=agent
            )

        finding = _find(conn, s, anomaly, _with_samples(scope, len(samples)), make)
        count, scanned = count + finding.count, scanned + finding.scanned
        bounded = bounded or finding.bounded
        samples.extend(finding.samples)
    return Finding(count, scanned, bounded, _only_existing_agents(conn, samples[: scope.sample_limit]))


def _is_unknown(value: object) -> bool:
    return value is not None and not getattr(value, "known", True) and getattr(value, "raw", "") != ""


def _with_samples(scope: Scope, taken: int) -> Scope:
    """The scope with the sample budget left after `taken` samples (at least one: counting still runs)."""
    return replace(scope, sample_limit=max(1, scope.sample_limit - taken))


@dataclass(frozen=True)
class JsonColumn:
    model: type[DifyBase]
    column: orm.InstrumentedAttribute[Any]
    shape: type  # dict or list


#: The JSON-bearing columns Dify stores as text (schema reference, sections 2 and 3.4).
JSON_COLUMNS: tuple[JsonColumn, ...] = (
    JsonColumn(Snapshot, Snapshot.config_snapshot, dict),
    JsonColumn(Binding, Binding.node_job_config, dict),
    JsonColumn(Session, Session.session_snapshot, dict),
    JsonColumn(Session, Session.composition_layer_specs, list),
)


def _json_error(text: str | None, shape: type) -> str | None:
    """What Dify's ORM would fail on: `json.loads` (no size or depth limit of our own) and the shape."""
    if text is None:
        return "no value (NULL)"
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if text.strip() == "":
        return "empty text"
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return f"invalid JSON: {exc}"
    if not isinstance(value, shape):
        expected = "an object" if shape is dict else "a list"
        return f"JSON is a {type(value).__name__}, not {expected}"
    return None


def json_prefilter(conn: sa.Connection) -> bool:
    """Whether this database can tell valid JSON of a shape without ever raising (then only the
    other texts travel to Python): PostgreSQL 16+ (`pg_input_is_valid`), MySQL 5.7+ / MariaDB 10.2+
    (`JSON_VALID`), SQLite with JSON1 and strict RFC 8259 `json_valid` (not 3.42-3.44, where it also
    accepted JSON5, which Python's json module rejects)."""
    name = conn.dialect.name
    if name == "postgresql":
        return (conn.dialect.server_version_info or (0,)) >= (16,)
    if name == "mysql":
        return True
    if name == "sqlite":
        import sqlite3

        version = sqlite3.sqlite_version_info
        if (3, 42) <= version < (3, 45):
            return False
        try:
            return conn.execute(sa.select(sa.func.json_valid(sa.literal("{}")))).scalar() == 1
        except sa.exc.SQLAlchemyError:
            return False
    return False


def _surely_fine(
    conn: sa.Connection, column: sa.SQLColumnExpression[Any], shape: type
) -> sa.ColumnElement[bool]:
    """True only for texts that are valid JSON of `shape`; NULL or False for everything else. The type
    test sits behind the validity test in a CASE, so it never sees invalid text."""
    name = conn.dialect.name
    if name == "postgresql":
        valid: sa.ColumnElement[Any] = sa.func.pg_input_is_valid(column, sa.literal("json"))
        kind = sa.func.json_typeof(sa.cast(column, sa.JSON))
        want = "object" if shape is dict else "array"
    elif name == "mysql":
        valid, kind, want = (
            sa.func.json_valid(column) == 1,
            sa.func.json_type(column),
            ("OBJECT" if shape is dict else "ARRAY"),
        )
    else:
        valid, kind, want = (
            sa.func.json_valid(column) == 1,
            sa.func.json_type(column),
            ("object" if shape is dict else "array"),
        )
    return sa.case((valid, kind == want), else_=sa.false())


def invalid_json(conn: sa.Connection, scope: Scope) -> Finding:
    """Each table read once (its JSON columns together), streamed in batches of STREAM_BATCH rows.

    The stream carries only the raw id and the texts (converting three uuids per row cost more than
    parsing); the few sample rows are then fetched by primary key for their references."""
    count = scanned = 0
    bounded = False
    samples: list[Anomaly] = []
    for model in dict.fromkeys(c.model for c in JSON_COLUMNS):
        if not scope.has(model.__tablename__) or not scope.covers(model.__tablename__):
            continue
        columns = [c for c in JSON_COLUMNS if c.model is model]
        rows = 0
        bad: dict[str, str] = {}  # id -> what is wrong, for the first samples
        candidates = None
        if scope.json_prefilter and scope.windowed:  # the database rejects the surely-fine texts
            rows = _window_count(conn, model, scope)
            candidates = sa.or_(
                *(sa.not_(sa.func.coalesce(_surely_fine(conn, c.column, c.shape), False)) for c in columns)
            )
        for row in _stream(conn, model, [c.column for c in columns], scope, where=candidates):
            if candidates is None:
                rows += 1
            errors = [
                f"{c.column.key}: {e}" for c in columns if (e := _json_error(row[c.column.key], c.shape))
            ]
            if errors:
                count += 1
                if len(samples) + len(bad) < scope.sample_limit:
                    bad[normalize_uuid(row["id"]) or str(row["id"])] = "; ".join(errors)
        samples.extend(_json_samples(conn, model, bad))
        scanned += rows
        bounded = bounded or rows >= scope.scan_limit
    return Finding(count, scanned, bounded, _only_existing_agents(conn, samples))


def _window_count(conn: sa.Connection, model: type[DifyBase], scope: Scope) -> int:
    query = _restrict(sa.select(sa.literal(1)).select_from(model), model, _column(model, "id"), scope).limit(
        scope.scan_limit
    )
    return int(conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one())


def _stream(
    conn: sa.Connection,
    model: type[DifyBase],
    columns: Iterable[sa.SQLColumnExpression[Any]],
    scope: Scope,
    where: sa.ColumnElement[bool] | None = None,
) -> Iterable[sa.RowMapping]:
    raw_id = sa.type_coerce(_column(model, "id"), sa.String).label("id")  # no per-row uuid conversion
    query = _restrict(sa.select(raw_id, *columns), model, _column(model, "id"), scope)
    if where is not None:
        query = query.where(where)
    result = conn.execute(query.limit(scope.scan_limit).execution_options(yield_per=STREAM_BATCH))
    for batch in result.mappings().partitions():
        yield from batch


def _json_samples(conn: sa.Connection, model: type[DifyBase], bad: dict[str, str]) -> list[Anomaly]:
    if not bad:
        return []
    refs = [
        c
        for c in (_attr(model, n) for n in ("agent_id", "app_id", "workflow_id", "node_id"))
        if c is not None
    ]
    rows = conn.execute(
        sa.select(_column(model, "id"), _column(model, "tenant_id"), *refs).where(
            _column(model, "id").in_(sorted(bad))
        )
    ).mappings()
    found = {
        row["id"]: Anomaly(
            model.__tablename__,
            row["id"],
            row["tenant_id"],
            bad[row["id"]],
            agent_id=row.get("agent_id"),
            app_id=row.get("app_id"),
            workflow_id=row.get("workflow_id"),
            node_id=row.get("node_id"),
        )
        for row in rows
    }
    return [found[i] for i in bad if i in found]


def _attr(model: type[DifyBase], name: str) -> sa.SQLColumnExpression[Any] | None:
    # Sessions have a node_id and workflow_id but are linked as sessions, not as bindings.
    if model is Session and name in ("workflow_id", "node_id"):
        return None
    return getattr(model, name, None)


def _only_existing_agents(conn: sa.Connection, samples: Sequence[Anomaly]) -> tuple[Anomaly, ...]:
    """Drop agent ids that name no agent row, so every agent link a sample carries opens an agent."""
    wanted = sorted({a.agent_id for a in samples if a.agent_id})
    existing = (
        set(conn.execute(sa.select(Agent.id).where(Agent.id.in_(wanted))).scalars()) if wanted else set()
    )
    return tuple(a if a.agent_id in existing else replace(a, agent_id=None) for a in samples)


# --- newer Dify (1.16+ drafts, 1.17+ working environments and home snapshots) -------------------------


def draft_missing_base_snapshot(conn: sa.Connection, scope: Scope) -> Finding:
    """Drafts (tenant-leading draft indexes) whose base snapshot names no snapshot (primary key)."""
    from data.models import AgentConfigDraft as Draft

    s = _driving(
        Draft, (Draft.id, Draft.tenant_id, Draft.agent_id, Draft.draft_type, Draft.base_snapshot_id), scope
    )
    anomaly = sa.and_(
        s.c.base_snapshot_id.is_not(None), ~_snapshot_exists(s.c.base_snapshot_id, s.c.tenant_id)
    )

    def make(r: sa.Row) -> Anomaly:
        detail = f"{r.draft_type} draft starts from snapshot {r.base_snapshot_id}, which does not exist."
        return Anomaly("agent_config_drafts", r.id, r.tenant_id, detail, agent_id=r.agent_id)

    finding = _find(conn, s, anomaly, scope, make)
    return replace(finding, samples=_only_existing_agents(conn, finding.samples))


def home_snapshot_reference_missing(conn: sa.Connection, scope: Scope) -> Finding:
    """Config snapshots and drafts whose `home_snapshot_id` names no `agent_home_snapshots` row.

    NULL means the backend's default home (never an anomaly). Each table read once, bounded; the
    home snapshot probed by primary key."""
    from data.models import AgentConfigDraft, AgentHomeSnapshot

    count = scanned = 0
    bounded = False
    samples: list[Anomaly] = []
    for model in (AgentConfigSnapshot, AgentConfigDraft):
        table = model.__tablename__
        if not scope.has(f"{table}.home_snapshot_id"):
            continue
        s = _driving(model, (model.id, model.tenant_id, model.agent_id, model.home_snapshot_id), scope)
        anomaly = sa.and_(
            s.c.home_snapshot_id.is_not(None),
            ~_exists(
                AgentHomeSnapshot,
                AgentHomeSnapshot.id == s.c.home_snapshot_id,
                AgentHomeSnapshot.tenant_id == s.c.tenant_id,
            ),
        )

        def make(r: sa.Row, table=table) -> Anomaly:
            detail = f"Names home snapshot {r.home_snapshot_id}, which does not exist: new runs of it fail."
            return Anomaly(table, r.id, r.tenant_id, detail, agent_id=r.agent_id)

        finding = _find(conn, s, anomaly, _with_samples(scope, len(samples)), make)
        count, scanned = count + finding.count, scanned + finding.scanned
        bounded = bounded or finding.bounded
        samples.extend(finding.samples)
    return Finding(count, scanned, bounded, _only_existing_agents(conn, samples[: scope.sample_limit]))


def workspace_binding_missing_workspace(conn: sa.Connection, scope: Scope) -> Finding:
    """Working-environment bindings (tenant-leading binding indexes) whose workspace does not exist."""
    from data.models import AgentWorkspace as W
    from data.models import AgentWorkspaceBinding as B

    s = _driving(B, (B.id, B.tenant_id, B.agent_id, B.workspace_id, B.status), scope)
    anomaly = ~_exists(W, W.id == s.c.workspace_id, W.tenant_id == s.c.tenant_id)

    def make(r: sa.Row) -> Anomaly:
        detail = f"{r.status} binding names workspace {r.workspace_id}, which does not exist."
        return Anomaly("agent_workspace_bindings", r.id, r.tenant_id, detail, agent_id=r.agent_id)

    finding = _find(conn, s, anomaly, scope, make)
    return replace(finding, samples=_only_existing_agents(conn, finding.samples))


def binding_pointer_missing(conn: sa.Connection, scope: Scope) -> Finding:
    """Drafts and conversations whose `agent_workspace_binding_id` names no binding (primary key).

    Drafts are read by workspace (tenant-leading index). Conversations have no tenant column: for one
    workspace they are reached through its apps (`conversation_app_from_user_idx`), otherwise read from
    the start; both bounded. Dify never clears the pointer, so after collection a finished caller
    dangles normally: this is information, not an error."""
    from data.models import AgentConfigDraft as Draft
    from data.models import AgentWorkspaceBinding as B
    from data.models import App, Conversation

    count = scanned = 0
    bounded = False
    samples: list[Anomaly] = []
    if scope.has("agent_config_drafts.agent_workspace_binding_id"):
        s = _driving(
            Draft, (Draft.id, Draft.tenant_id, Draft.agent_id, Draft.agent_workspace_binding_id), scope
        )
        anomaly = sa.and_(
            s.c.agent_workspace_binding_id.is_not(None), ~_exists(B, B.id == s.c.agent_workspace_binding_id)
        )

        def make(r: sa.Row) -> Anomaly:
            detail = f"Build draft points at binding {r.agent_workspace_binding_id}, which does not exist."
            return Anomaly("agent_config_drafts", r.id, r.tenant_id, detail, agent_id=r.agent_id)

        finding = _find(conn, s, anomaly, scope, make)
        count, scanned, bounded = finding.count, finding.scanned, finding.bounded
        samples.extend(finding.samples)
    if scope.has("conversations.agent_workspace_binding_id") and scope.has("apps"):
        tenant = sa.select(App.tenant_id).where(App.id == Conversation.app_id).scalar_subquery()
        query = sa.select(
            Conversation.id,
            tenant.label("tenant_id"),
            Conversation.app_id,
            Conversation.agent_workspace_binding_id,
        )
        if scope.tenant_id:
            apps = sa.select(App.id).where(App.tenant_id == scope.tenant_id)
            query = query.where(Conversation.app_id.in_(apps))
        s = query.limit(scope.scan_limit).cte("scanned").prefix_with("MATERIALIZED", dialect="postgresql")
        anomaly = sa.and_(
            s.c.agent_workspace_binding_id.is_not(None), ~_exists(B, B.id == s.c.agent_workspace_binding_id)
        )

        def make_conversation(r: sa.Row) -> Anomaly:
            detail = f"Conversation points at binding {r.agent_workspace_binding_id}, which does not exist."
            return Anomaly("conversations", r.id, r.tenant_id or "", detail)

        finding = _find(conn, s, anomaly, _with_samples(scope, len(samples)), make_conversation)
        count, scanned = count + finding.count, scanned + finding.scanned
        bounded = bounded or finding.bounded
        samples.extend(finding.samples)
    return Finding(count, scanned, bounded, _only_existing_agents(conn, samples[: scope.sample_limit]))


def agent_backing_app_missing(conn: sa.Connection, scope: Scope) -> Finding:
    """Agents (tenant-leading agent indexes) whose `backing_app_id` names no app (primary key)."""
    from data.models import App

    s = _driving(Agent, (Agent.id, Agent.tenant_id, Agent.status, Agent.backing_app_id), scope)
    anomaly = sa.and_(
        s.c.backing_app_id.is_not(None),
        ~_exists(App, App.id == s.c.backing_app_id, App.tenant_id == s.c.tenant_id),
    )

    def make(r: sa.Row) -> Anomaly:
        return _agent(r, f"Agent's backing app {r.backing_app_id} does not exist: the agent cannot run.")

    return _find(conn, s, anomaly, scope, make)
