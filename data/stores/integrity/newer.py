"""Integrity checks of newer Dify tables (1.16+ drafts, 1.17+ working environments and home snapshots)."""

from __future__ import annotations

from dataclasses import replace

import sqlalchemy as sa

from data.models import Agent, AgentConfigSnapshot
from data.stores.integrity.agents import _agent
from data.stores.integrity.base import (
    Anomaly,
    Finding,
    Scope,
    _driving,
    _find,
    _lookup,
    _only_existing_agents,
    _snapshot_lookup,
    _with_samples,
)

# --- newer Dify (1.16+ drafts, 1.17+ working environments and home snapshots) -------------------------


def draft_missing_base_snapshot(conn: sa.Connection, scope: Scope) -> Finding:
    """Drafts (tenant-leading draft indexes) whose base snapshot names no snapshot (primary key)."""
    from data.models import AgentConfigDraft as Draft

    s = _driving(
        Draft, (Draft.id, Draft.tenant_id, Draft.agent_id, Draft.draft_type, Draft.base_snapshot_id), scope
    )
    snap = _snapshot_lookup(conn, s.c.base_snapshot_id, s.c.tenant_id)
    anomaly = sa.and_(s.c.base_snapshot_id.is_not(None), snap.missing)

    def make(r: sa.Row) -> Anomaly:
        detail = f"{r.draft_type} draft starts from snapshot {r.base_snapshot_id}, which does not exist."
        return Anomaly("agent_config_drafts", r.id, r.tenant_id, detail, agent_id=r.agent_id)

    finding = _find(conn, s, anomaly, scope, make, lookups=(snap,))
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
        home = _lookup(conn, AgentHomeSnapshot, "home", id=s.c.home_snapshot_id, tenant_id=s.c.tenant_id)
        anomaly = sa.and_(s.c.home_snapshot_id.is_not(None), home.missing)

        def make(r: sa.Row, table=table) -> Anomaly:
            detail = f"Names home snapshot {r.home_snapshot_id}, which does not exist: new runs of it fail."
            return Anomaly(table, r.id, r.tenant_id, detail, agent_id=r.agent_id)

        finding = _find(conn, s, anomaly, _with_samples(scope, len(samples)), make, lookups=(home,))
        count, scanned = count + finding.count, scanned + finding.scanned
        bounded = bounded or finding.bounded
        samples.extend(finding.samples)
    return Finding(count, scanned, bounded, _only_existing_agents(conn, samples[: scope.sample_limit]))


def workspace_binding_missing_workspace(conn: sa.Connection, scope: Scope) -> Finding:
    """Working-environment bindings (tenant-leading binding indexes) whose workspace does not exist."""
    from data.models import AgentWorkspace as W
    from data.models import AgentWorkspaceBinding as B

    s = _driving(B, (B.id, B.tenant_id, B.agent_id, B.workspace_id, B.status), scope)
    workspace = _lookup(conn, W, "workspace", id=s.c.workspace_id, tenant_id=s.c.tenant_id)

    def make(r: sa.Row) -> Anomaly:
        detail = f"{r.status} binding names workspace {r.workspace_id}, which does not exist."
        return Anomaly("agent_workspace_bindings", r.id, r.tenant_id, detail, agent_id=r.agent_id)

    finding = _find(conn, s, workspace.missing, scope, make, lookups=(workspace,))
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
        binding = _lookup(conn, B, "binding", id=s.c.agent_workspace_binding_id)
        anomaly = sa.and_(s.c.agent_workspace_binding_id.is_not(None), binding.missing)

        def make(r: sa.Row) -> Anomaly:
            detail = f"Build draft points at binding {r.agent_workspace_binding_id}, which does not exist."
            return Anomaly("agent_config_drafts", r.id, r.tenant_id, detail, agent_id=r.agent_id)

        finding = _find(conn, s, anomaly, scope, make, lookups=(binding,))
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
        binding = _lookup(conn, B, "binding", id=s.c.agent_workspace_binding_id)
        anomaly = sa.and_(s.c.agent_workspace_binding_id.is_not(None), binding.missing)

        def make_conversation(r: sa.Row) -> Anomaly:
            detail = f"Conversation points at binding {r.agent_workspace_binding_id}, which does not exist."
            return Anomaly("conversations", r.id, r.tenant_id or "", detail)

        finding = _find(
            conn, s, anomaly, _with_samples(scope, len(samples)), make_conversation, lookups=(binding,)
        )
        count, scanned = count + finding.count, scanned + finding.scanned
        bounded = bounded or finding.bounded
        samples.extend(finding.samples)
    return Finding(count, scanned, bounded, _only_existing_agents(conn, samples[: scope.sample_limit]))


def agent_backing_app_missing(conn: sa.Connection, scope: Scope) -> Finding:
    """Agents (tenant-leading agent indexes) whose `backing_app_id` names no app (primary key)."""
    from data.models import App

    s = _driving(Agent, (Agent.id, Agent.tenant_id, Agent.status, Agent.backing_app_id), scope)
    app = _lookup(conn, App, "app", id=s.c.backing_app_id, tenant_id=s.c.tenant_id)
    anomaly = sa.and_(s.c.backing_app_id.is_not(None), app.missing)

    def make(r: sa.Row) -> Anomaly:
        return _agent(r, f"Agent's backing app {r.backing_app_id} does not exist: the agent cannot run.")

    return _find(conn, s, anomaly, scope, make, lookups=(app,))
