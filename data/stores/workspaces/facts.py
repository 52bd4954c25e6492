"""Rule facts by id, for previews and retire (chunked `IN` lookups on primary keys)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from data.models.workspaces import AgentHomeSnapshot, AgentWorkspace, AgentWorkspaceBinding
from data.rules.workspace_leaks import (
    ACTIVE,
    BindingFacts,
    HomeFacts,
    WorkspaceFacts,
    WorkspaceRuleContext,
)
from data.stores.workspace_leaks import (
    binding_columns,
    binding_fact_columns,
    binding_facts,
    home_fact_columns,
    home_facts,
    workspace_columns,
    workspace_fact_columns,
    workspace_facts,
    workspace_join,
)

W, B, H = AgentWorkspace, AgentWorkspaceBinding, AgentHomeSnapshot
CHUNK = 500


# --- facts by id (preview, retire) ---------------------------------------------------------------------


def load_binding_facts(
    conn: sa.Connection, ids: Sequence[str], ctx: WorkspaceRuleContext
) -> dict[str, BindingFacts]:
    w = aliased(W, name="ws")
    facts: dict[str, BindingFacts] = {}
    wanted = list(dict.fromkeys(ids))
    for start in range(0, len(wanted), CHUNK):
        query = (
            sa.select(
                *binding_columns(B),
                *binding_fact_columns(ctx, B),
                *workspace_columns(w),
                *workspace_fact_columns(ctx, w),
            )
            .select_from(B)
            .outerjoin(w, workspace_join(B, w))
            .where(B.id.in_(wanted[start : start + CHUNK]))
        )
        for row in conn.execute(query):
            f = binding_facts(row)
            facts[f.id] = f
    return facts


def load_workspace_facts(
    conn: sa.Connection, ids: Sequence[str], ctx: WorkspaceRuleContext
) -> dict[str, WorkspaceFacts]:
    facts: dict[str, WorkspaceFacts] = {}
    wanted = list(dict.fromkeys(ids))
    for start in range(0, len(wanted), CHUNK):
        query = sa.select(*workspace_columns(W), *workspace_fact_columns(ctx, W)).where(
            W.id.in_(wanted[start : start + CHUNK])
        )
        for row in conn.execute(query):
            f = workspace_facts(row)
            if f is not None:
                facts[f.id] = f
    return facts


def load_home_facts(
    conn: sa.Connection, ids: Sequence[str], ctx: WorkspaceRuleContext
) -> dict[str, HomeFacts]:
    facts: dict[str, HomeFacts] = {}
    wanted = list(dict.fromkeys(ids))
    for start in range(0, len(wanted), CHUNK):
        for row in conn.execute(
            sa.select(*home_fact_columns(ctx, H)).where(H.id.in_(wanted[start : start + CHUNK]))
        ):
            f = home_facts(row)
            facts[f.id] = f
    return facts


def active_bindings_of(
    conn: sa.Connection, tenant_id: str, workspace_ids: Sequence[str]
) -> dict[str, dict[str, datetime]]:
    """{workspace id: {active binding id: updated_at}} (served by the workspace-status index)."""
    result: dict[str, dict[str, datetime]] = {w: {} for w in workspace_ids}
    wanted = list(workspace_ids)
    for start in range(0, len(wanted), CHUNK):
        query = sa.select(B.id, B.workspace_id, B.updated_at).where(
            B.tenant_id == tenant_id, B.workspace_id.in_(wanted[start : start + CHUNK]), B.status == ACTIVE
        )
        for row in conn.execute(query):
            result.setdefault(row.workspace_id, {})[row.id] = row.updated_at
    return result
