"""The SQL of the manual retire (Dify 1.17+ working environments): the locking reads, the plain reads
a batch re-checks against, and the three re-checking UPDATEs.

Every function takes the caller's connection and a keyword-only `tenant_id` that goes into every
statement. The locking reads and the UPDATEs run only inside `data.guard.write_transaction` (the guard
allows exactly these: `FOR UPDATE SKIP LOCKED` on agent_workspaces / agent_workspace_bindings, and the
columns Dify's own retire sets). An UPDATE that does not change every locked, checked row raises
`data.errors.Conflict`, so the caller's batch rolls back, audit included.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from data.errors import Conflict
from data.models import WorkflowPause, WorkflowRun
from data.models.workspaces import AgentWorkspace, AgentWorkspaceBinding
from data.rules.workspace_leaks import ACTIVE, ENDED, RETIRED, WorkspaceRuleContext
from data.stores.session_writes import locks_rows

W, B = AgentWorkspace, AgentWorkspaceBinding


@dataclass(frozen=True)
class LockedWorkspace:
    id: str
    status: str
    active_guard: str | None
    updated_at: datetime
    owner_type: str
    owner_id: str | None


@dataclass(frozen=True)
class LockedBinding:
    id: str
    workspace_id: str
    status: str
    updated_at: datetime
    pending_form_id: str | None
    pending_tool_call_id: str | None


def _lock(conn: sa.Connection, query: sa.Select) -> list[sa.Row]:
    if locks_rows(conn):
        query = query.with_for_update(skip_locked=True)
    return list(conn.execute(query))


def lock_workspaces(conn: sa.Connection, ids: Sequence[str], *, tenant_id: str) -> dict[str, LockedWorkspace]:
    """Lock these workspaces of `tenant_id`, skipping the ones another writer holds."""
    query = sa.select(W.id, W.status, W.active_guard, W.updated_at, W.owner_type, W.owner_id).where(
        W.tenant_id == tenant_id, W.id.in_(list(ids))
    )
    return {
        r.id: LockedWorkspace(
            r.id, str(r.status), r.active_guard, r.updated_at, str(r.owner_type), r.owner_id
        )
        for r in _lock(conn, query)
    }


def existing_workspace_ids(conn: sa.Connection, ids: Sequence[str], *, tenant_id: str) -> set[str]:
    return set(conn.execute(sa.select(W.id).where(W.tenant_id == tenant_id, W.id.in_(list(ids)))).scalars())


def active_binding_ids(
    conn: sa.Connection, workspace_ids: Sequence[str], *, tenant_id: str
) -> dict[str, set[str]]:
    """Every ACTIVE binding of these workspaces as committed now (a plain read sees locked rows too)."""
    found: dict[str, set[str]] = defaultdict(set)
    for r in conn.execute(
        sa.select(B.id, B.workspace_id).where(
            B.tenant_id == tenant_id, B.workspace_id.in_(list(workspace_ids)), B.status == ACTIVE
        )
    ):
        found[r.workspace_id].add(r.id)
    return found


def lock_bindings(conn: sa.Connection, ids: Sequence[str], *, tenant_id: str) -> dict[str, LockedBinding]:
    """Lock these bindings of `tenant_id`, skipping the ones another writer holds."""
    if not ids:
        return {}
    query = sa.select(
        B.id, B.workspace_id, B.status, B.updated_at, B.pending_form_id, B.pending_tool_call_id
    ).where(B.tenant_id == tenant_id, B.id.in_(list(ids)))
    return {
        r.id: LockedBinding(
            r.id, r.workspace_id, str(r.status), r.updated_at, r.pending_form_id, r.pending_tool_call_id
        )
        for r in _lock(conn, query)
    }


def runs_in_flight(
    conn: sa.Connection, ctx: WorkspaceRuleContext, owners: Mapping[str, str | None]
) -> set[str]:
    """Workspace ids (of `owners`: workspace -> run id) whose run is running, paused or unknown now."""
    if not owners:
        return set()
    if not ctx.has("workflow_runs"):
        return set(owners)
    statuses = {
        r.id: str(r.status)
        for r in conn.execute(
            sa.select(WorkflowRun.id, WorkflowRun.status).where(WorkflowRun.id.in_(list(owners.values())))
        )
    }
    paused: set[str] = set()
    if ctx.has("workflow_pauses"):
        paused = set(
            conn.execute(
                sa.select(WorkflowPause.workflow_run_id).where(
                    WorkflowPause.workflow_run_id.in_(list(owners.values())),
                    WorkflowPause.resumed_at.is_(None),
                )
            ).scalars()
        )
    return {
        w for w, run in owners.items() if (run in statuses and statuses[run] not in ENDED) or run in paused
    }


def _update(conn: sa.Connection, statement: Any, id_column: Any, ids: Sequence[str]) -> None:
    """Run one re-checking UPDATE; every locked, checked row must change, or `Conflict`."""
    if conn.dialect.update_returning:
        done = set(conn.execute(statement.returning(id_column)).scalars())
        if done != set(ids):
            raise Conflict("rows changed under their locks: batch rolled back")
    elif conn.execute(statement).rowcount != len(ids):
        raise Conflict("the number of updated rows differs from the locked rows: batch rolled back")


def retire_bindings(conn: sa.Connection, ids: Sequence[str], *, tenant_id: str, now: datetime) -> None:
    """`status='retired', retired_at, updated_at` where still active and not pending (Dify's rule 2)."""
    _update(
        conn,
        sa.update(B)
        .where(
            B.tenant_id == tenant_id,
            B.id.in_(list(ids)),
            B.status == ACTIVE,
            B.pending_form_id.is_(None),
            B.pending_tool_call_id.is_(None),
        )
        .values(status=RETIRED, retired_at=now, updated_at=now),
        B.id,
        ids,
    )


def retire_workspaces(conn: sa.Connection, ids: Sequence[str], *, tenant_id: str, now: datetime) -> None:
    """`status='retired', retired_at, active_guard=NULL, updated_at` where still active."""
    _update(
        conn,
        sa.update(W)
        .where(W.tenant_id == tenant_id, W.id.in_(list(ids)), W.status == ACTIVE)
        .values(status=RETIRED, retired_at=now, active_guard=None, updated_at=now),
        W.id,
        ids,
    )


def clear_guards(conn: sa.Connection, ids: Sequence[str], *, tenant_id: str, now: datetime) -> None:
    """`active_guard=NULL, updated_at` of RETIRED workspaces whose guard is still set (never an un-retire)."""
    _update(
        conn,
        sa.update(W)
        .where(W.tenant_id == tenant_id, W.id.in_(list(ids)), W.status != ACTIVE, W.active_guard.is_not(None))
        .values(active_guard=None, updated_at=now),
        W.id,
        ids,
    )
