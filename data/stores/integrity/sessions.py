"""Integrity checks driven by `agent_runtime_sessions` (1.15-1.16 runtime sessions)."""

from __future__ import annotations

import sqlalchemy as sa

from data.models import WorkflowAgentNodeBinding as Binding
from data.models.enums import (
    SessionOwnerType,
)
from data.stores.integrity.base import (
    DRAFTS,
    Anomaly,
    Finding,
    Scope,
    Session,
    _agent_exists,
    _agent_lookup,
    _driving,
    _find,
    _lookup,
    _snapshot_lookup,
)

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
    agent = _agent_lookup(conn, s.c.agent_id, s.c.tenant_id)

    def make(r: sa.Row) -> Anomaly:
        return _session(
            r, f"Session ({r.owner_type}) of agent {r.agent_id}, which does not exist.", agent_exists=False
        )

    return _find(conn, s, agent.missing, scope, make, lookups=(agent,))


def session_missing_binding(conn: sa.Connection, scope: Scope) -> Finding:
    s = _driving(Session, _SESSION_COLUMNS, scope)
    binding = _lookup(conn, Binding, "binding", id=s.c.binding_id, tenant_id=s.c.tenant_id)
    anomaly = sa.and_(s.c.binding_id.is_not(None), binding.missing)
    agent_ok = _agent_exists(s.c.agent_id, s.c.tenant_id).label("agent_ok")

    def make(r: sa.Row) -> Anomaly:
        detail = f"Session of node {r.node_id} names binding {r.binding_id}, which does not exist."
        return _session(r, detail, agent_exists=bool(r.agent_ok))

    return _find(conn, s, anomaly, scope, make, extra=(agent_ok,), lookups=(binding,))


def session_missing_snapshot(conn: sa.Connection, scope: Scope) -> Finding:
    s = _driving(Session, _SESSION_COLUMNS, scope)
    snap = _snapshot_lookup(conn, s.c.agent_config_snapshot_id, s.c.tenant_id)
    lookups = [snap]
    missing = sa.and_(s.c.agent_config_snapshot_id.is_not(None), snap.missing)
    if scope.has_drafts_table:  # newer Dify: debugger sessions point at an agent_config_drafts row
        draft = _lookup(conn, DRAFTS, "draft", id=s.c.agent_config_snapshot_id, tenant_id=s.c.tenant_id)
        lookups.append(draft)
        missing = sa.and_(missing, draft.missing)
    agent_ok = _agent_exists(s.c.agent_id, s.c.tenant_id).label("agent_ok")
    where = "snapshot or draft" if scope.has_drafts_table else "snapshot"

    def make(r: sa.Row) -> Anomaly:
        detail = f"Session names {where} {r.agent_config_snapshot_id}, which does not exist."
        return _session(r, detail, agent_exists=bool(r.agent_ok))

    return _find(conn, s, missing, scope, make, extra=(agent_ok,), lookups=lookups)


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
