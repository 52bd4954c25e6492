"""Integrity checks of agents, their snapshots and revisions (references, numbering gaps)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import orm

from data.models import Agent, DifyBase
from data.models import WorkflowAgentNodeBinding as Binding
from data.models.enums import (
    AgentScope,
)
from data.stores.integrity.base import (
    MAX_LISTED_GAPS,
    STREAM_BATCH,
    Anomaly,
    Finding,
    Revision,
    Scope,
    Snapshot,
    _agent_exists,
    _agent_lookup,
    _column,
    _driving,
    _exists,
    _find,
    _none,
    _only_existing_agents,
    _restrict,
    _snapshot_lookup,
)

# --- agents, snapshots, revisions --------------------------------------------------------------------

_AGENT_COLUMNS = (Agent.id, Agent.tenant_id, Agent.active_config_snapshot_id)


def _agent(row: sa.Row, detail: str) -> Anomaly:
    return Anomaly("agents", row.id, row.tenant_id, detail, agent_id=row.id)


def agent_active_snapshot_missing(conn: sa.Connection, scope: Scope) -> Finding:
    s = _driving(Agent, _AGENT_COLUMNS, scope)
    snap = _snapshot_lookup(conn, s.c.active_config_snapshot_id, s.c.tenant_id)
    anomaly = sa.and_(s.c.active_config_snapshot_id.is_not(None), snap.missing)

    def make(r: sa.Row) -> Anomaly:
        return _agent(r, f"Active snapshot {r.active_config_snapshot_id} does not exist.")

    return _find(conn, s, anomaly, scope, make, lookups=(snap,))


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
        _none(Binding, Binding.tenant_id == s.c.tenant_id, Binding.agent_id == s.c.id),
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
    agent = _agent_lookup(conn, s.c.agent_id, s.c.tenant_id)

    def make(r: sa.Row) -> Anomaly:
        detail = f"Snapshot version {r.version} names agent {r.agent_id}, which does not exist."
        return Anomaly("agent_config_snapshots", r.id, r.tenant_id, detail)

    return _find(conn, s, agent.missing, scope, make, lookups=(agent,))


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
    current = _snapshot_lookup(conn, s.c.current_snapshot_id, s.c.tenant_id, "current_snap")
    previous = _snapshot_lookup(conn, s.c.previous_snapshot_id, s.c.tenant_id, "previous_snap")
    anomaly = sa.or_(current.missing, sa.and_(s.c.previous_snapshot_id.is_not(None), previous.missing))
    extra = (
        current.found.label("current_ok"),
        previous.found.label("previous_ok"),
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

    return _find(conn, s, anomaly, scope, make, extra=extra, lookups=(current, previous))


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
