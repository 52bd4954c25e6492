"""Integrity checks driven by `workflow_agent_node_bindings`."""

from __future__ import annotations

import sqlalchemy as sa

from data.models import Agent
from data.models import WorkflowAgentNodeBinding as Binding
from data.models.enums import (
    AgentStatus,
)
from data.stores.integrity.base import (
    Anomaly,
    Finding,
    Scope,
    Snapshot,
    _agent_exists,
    _agent_lookup,
    _driving,
    _exists,
    _find,
    _snapshot_lookup,
)

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
    agent = _agent_lookup(conn, s.c.agent_id, s.c.tenant_id)  # a NULL agent_id joins nothing: missing

    def make(r: sa.Row) -> Anomaly:
        what = "names no agent" if r.agent_id is None else f"names agent {r.agent_id}, which does not exist"
        return _binding(r, f"Binding of {_where(r)} {what}.", agent_exists=False)

    return _find(conn, s, agent.missing, scope, make, lookups=(agent,))


def binding_missing_snapshot(conn: sa.Connection, scope: Scope) -> Finding:
    s = _driving(Binding, _BINDING_COLUMNS, scope)
    snap = _snapshot_lookup(conn, s.c.current_snapshot_id, s.c.tenant_id)
    anomaly = sa.and_(s.c.current_snapshot_id.is_not(None), snap.missing)
    agent_ok = _agent_exists(s.c.agent_id, s.c.tenant_id).label("agent_ok")

    def make(r: sa.Row) -> Anomaly:
        detail = f"Binding of {_where(r)} pins snapshot {r.current_snapshot_id}, which does not exist."
        return _binding(r, detail, agent_exists=bool(r.agent_ok))

    return _find(conn, s, anomaly, scope, make, extra=(agent_ok,), lookups=(snap,))


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
