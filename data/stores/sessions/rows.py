"""One sessions list row: the columns a page row needs (facts and names included) and its decoration."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from data.models import (
    Agent,
    AgentConfigSnapshot,
    AgentRuntimeSession,
    App,
    Tenant,
)
from data.models.enums import SessionOwnerType
from data.rules.session_leaks import RuleContext, classify, in_flight
from data.snapshot_layers import LIST_PARSE_CHARS, LayerSummary, parse_layers
from data.stores.session_leaks import FACT_COLUMNS, fact_columns, facts_from_row
from data.tolerant import EnumValue

S = AgentRuntimeSession


@dataclass(frozen=True)
class SessionRow:
    id: str
    tenant_id: str
    workspace: str
    owner_type: EnumValue
    owner_label: str
    workflow_run_id: str | None
    node_id: str | None
    conversation_id: str | None
    app_id: str
    app_name: str | None  # None: no apps row
    agent_id: str
    agent_name: str | None  # None: no agents row
    snapshot_id: str | None
    snapshot_version: int | None
    backend_run_id: str | None
    status: EnumValue
    created_at: datetime
    updated_at: datetime
    cleaned_at: datetime | None
    snapshot_chars: int
    layers: LayerSummary
    rule: str | None  # first matching leak rule
    in_flight: bool  # its workflow run is running or paused


_ROW_NAMES = (
    *(c.key for c in FACT_COLUMNS),
    "backend_run_id",
    "workflow_id",
    "node_id",
    "binding_id",
    "agent_config_snapshot_id",
    "cleaned_at",
)


def _name_columns(ctx: RuleContext, s: Any) -> tuple[sa.Label, ...]:
    """Names shown instead of ids: scalar subqueries on primary keys, evaluated only for returned rows."""

    def one(column: sa.SQLColumnExpression[Any], *where: sa.ColumnElement[bool]) -> sa.ScalarSelect:
        return sa.select(column).where(*where).limit(1).scalar_subquery()

    return (
        (one(Tenant.name, Tenant.id == s.tenant_id) if ctx.has("tenants") else sa.null()).label(
            "n_workspace"
        ),
        (
            one(App.name, App.id == s.app_id, App.tenant_id == s.tenant_id) if ctx.has("apps") else sa.null()
        ).label("n_app"),
        one(Agent.name, Agent.id == s.agent_id, Agent.tenant_id == s.tenant_id).label("n_agent"),
        one(
            AgentConfigSnapshot.version,
            AgentConfigSnapshot.id == s.agent_config_snapshot_id,
            AgentConfigSnapshot.tenant_id == s.tenant_id,
        ).label("n_version"),
    )


def _snapshot_columns(s: Any) -> tuple[sa.Label, ...]:
    """The snapshot's size, and its text only when small enough to parse for a list row."""
    size = sa.func.length(s.session_snapshot)
    return (
        size.label("snapshot_chars"),
        sa.case((size <= LIST_PARSE_CHARS, s.session_snapshot), else_=sa.null()).label("snapshot_small"),
    )


def row_columns(ctx: RuleContext, s: Any = S) -> tuple:
    """Everything a page row needs, facts and names included: one statement per page."""
    return (
        *(getattr(s, name) for name in _ROW_NAMES),
        *_snapshot_columns(s),
        *fact_columns(ctx, s),
        *_name_columns(ctx, s),
    )


def owner_label(
    owner_type: object, run_id: str | None, node_id: str | None, conversation_id: str | None
) -> str:
    if run_id or str(owner_type) == SessionOwnerType.WORKFLOW_RUN.value:
        return f"run {run_id or '—'} · node {node_id or '—'}"
    return f"conversation {conversation_id or '—'}"


def decorate(rows: Sequence[sa.Row], ctx: RuleContext) -> list[SessionRow]:
    """Rows selected with `row_columns(ctx)` as page rows (no further queries)."""
    result = []
    for r in rows:
        f = facts_from_row(r)
        chars = int(r.snapshot_chars or 0)
        layers = (
            parse_layers(r.snapshot_small)
            if r.snapshot_small is not None
            else LayerSummary((), f"{chars:,} characters: open the session to see its layers")
        )
        result.append(
            SessionRow(
                id=r.id,
                tenant_id=r.tenant_id,
                workspace=r.n_workspace or r.tenant_id,
                owner_type=r.owner_type,
                owner_label=owner_label(r.owner_type, r.workflow_run_id, r.node_id, r.conversation_id),
                workflow_run_id=r.workflow_run_id,
                node_id=r.node_id,
                conversation_id=r.conversation_id,
                app_id=r.app_id,
                app_name=r.n_app,
                agent_id=r.agent_id,
                agent_name=r.n_agent,
                snapshot_id=r.agent_config_snapshot_id,
                snapshot_version=r.n_version,
                backend_run_id=r.backend_run_id,
                status=r.status,
                created_at=r.created_at,
                updated_at=r.updated_at,
                cleaned_at=r.cleaned_at,
                snapshot_chars=chars,
                layers=layers,
                rule=classify(f, ctx),
                in_flight=in_flight(f, ctx),
            )
        )
    return result
