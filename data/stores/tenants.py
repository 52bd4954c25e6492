"""Workspaces (tenants), for pickers and for names instead of raw ids."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from data.models import Agent, Tenant

MAX_WORKSPACES = 5_000


@dataclass(frozen=True)
class Workspace:
    id: str
    name: str  # the tenant's name, or the id when the tenants table has no row for it


def list_workspaces(conn: sa.Connection, *, has_tenants_table: bool) -> list[Workspace]:
    """Workspaces by name. Without the tenants table: the distinct tenant ids of the agents table."""
    if has_tenants_table:
        rows = conn.execute(
            sa.select(Tenant.id, Tenant.name).order_by(Tenant.name, Tenant.id).limit(MAX_WORKSPACES)
        )
        return [Workspace(id=row.id, name=row.name) for row in rows]
    rows = conn.execute(sa.select(Agent.tenant_id).distinct().limit(MAX_WORKSPACES))
    return sorted((Workspace(id=row.tenant_id, name=row.tenant_id) for row in rows), key=lambda w: w.id)
