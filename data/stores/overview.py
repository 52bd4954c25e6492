"""Counts per table and per status for the overview page (cheap on any table size)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from data.models import (
    Agent,
    AgentConfigDraft,
    AgentConfigRevision,
    AgentConfigSnapshot,
    AgentHomeSnapshot,
    AgentRuntimeSession,
    AgentWorkspace,
    AgentWorkspaceBinding,
    WorkflowAgentNodeBinding,
)
from data.models.base import DifyBase
from data.stores.counts import Count, bounded_count, estimated_rows, estimated_value_counts

# Which column each table is broken down by on the overview.
BREAKDOWN = {
    Agent: Agent.status,
    AgentConfigSnapshot: None,
    AgentConfigRevision: AgentConfigRevision.operation,
    WorkflowAgentNodeBinding: WorkflowAgentNodeBinding.binding_type,
    AgentRuntimeSession: AgentRuntimeSession.status,
    # Newer Dify (optional: counted only where present).
    AgentConfigDraft: AgentConfigDraft.draft_type,
    AgentWorkspace: AgentWorkspace.status,
    AgentWorkspaceBinding: AgentWorkspaceBinding.status,
    AgentHomeSnapshot: AgentHomeSnapshot.status,
}
#: The four core agent tables every supported database has; the others are counted when present.
ALWAYS = frozenset(
    {"agents", "agent_config_snapshots", "agent_config_revisions", "workflow_agent_node_bindings"}
)


@dataclass(frozen=True)
class TableOverview:
    table: str
    total: Count
    breakdown_column: str | None
    breakdown: tuple[tuple[str, Count], ...]  # (stored value, count), most frequent first


def table_overview(
    conn: sa.Connection, model: type[DifyBase], *, tenant_id: str | None = None
) -> TableOverview:
    table = model.__table__
    column = BREAKDOWN.get(model)
    base = sa.select(table.c.id)
    if tenant_id is not None:
        base = base.where(table.c.tenant_id == tenant_id)
    total = bounded_count(conn, base)
    breakdown: list[tuple[str, Count]] = []
    if column is not None:
        if total.exact:
            # Small enough: an exact GROUP BY over at most EXACT_LIMIT rows.
            query = sa.select(column, sa.func.count()).group_by(column)
            if tenant_id is not None:
                query = query.where(table.c.tenant_id == tenant_id)
            breakdown = [(str(value), Count(n)) for value, n in conn.execute(query)]
        elif tenant_id is None:
            estimate = estimated_rows(conn, table.name)
            if estimate is not None:
                total = Count(estimate, exact=False)
                estimates = estimated_value_counts(conn, table.name, column.key, estimate)
                breakdown = [(value, Count(n, exact=False)) for value, n in estimates.items()]
    elif not total.exact and tenant_id is None:
        estimate = estimated_rows(conn, table.name)
        if estimate is not None:
            total = Count(estimate, exact=False)
    breakdown.sort(key=lambda item: (-item[1].value, item[0]))
    return TableOverview(table.name, total, column.key if column is not None else None, tuple(breakdown))


def overview(
    conn: sa.Connection, *, tenant_id: str | None = None, present: frozenset[str] | None = None
) -> list[TableOverview]:
    """The core agent tables and the optional agent tables in `present` (None: the seed's five)."""
    wanted = ALWAYS | (frozenset({"agent_runtime_sessions"}) if present is None else present)
    return [
        table_overview(conn, model, tenant_id=tenant_id)
        for model in BREAKDOWN
        if model.__tablename__ in wanted
    ]
