"""Workspace binding list pages: the filter, the plan (served or bounded scan), keyset pages in id order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from data.models.workspaces import AgentHomeSnapshot, AgentWorkspace, AgentWorkspaceBinding
from data.paging import Page, decode_id_cursor, encode_id_cursor, fetch_limit, keyset_page
from data.rules.workspace_leaks import (
    OWNER_CONVERSATION,
    OWNER_RUN,
    WorkspaceRuleContext,
)
from data.stores.filters import day_range, described
from data.stores.id_keyset import Access, beyond, fenced_window, scan_order, window_edge
from data.stores.owners import conversation_tenant, run_tenant
from data.stores.workspace_leaks import (
    first_match_binding_condition,
    workspace_join,
)
from data.stores.workspaces.binding_rows import BindingRow, decorate, row_columns

W, B, H = AgentWorkspace, AgentWorkspaceBinding, AgentHomeSnapshot
PAGE_SIZE = 50
SCAN_LIMIT = 10_000
BINDING_WORKSPACE_INDEX = "agent_workspace_binding_workspace_status_idx"
BINDING_AGENT_INDEX = "agent_workspace_binding_agent_status_idx"
BINDING_RETIRED_INDEX = "agent_workspace_binding_status_retired_idx"
WORKSPACE_APP_INDEX = "agent_workspace_tenant_app_status_idx"
WORKSPACE_OWNER_INDEX = "agent_workspace_owner_active_unique"


@dataclass(frozen=True)
class WorkspaceFilter:
    tenant_id: str | None = None
    app_id: str | None = None
    agent_id: str | None = None
    owner: str | None = None  # the workspace's owner_type
    status: str | None = None  # the binding's status
    rule: str | None = None
    run_id: str | None = None
    conversation_id: str | None = None
    workspace_id: str | None = None
    updated_from: date | None = None
    updated_to: date | None = None
    updated_before: datetime | None = None  # CLI --older-than (exclusive), naive UTC

    def describe(self) -> dict[str, str]:
        values: dict[str, str | date | datetime | None] = {
            "tenant": self.tenant_id,
            "app": self.app_id,
            "agent": self.agent_id,
            "owner": self.owner,
            "status": self.status,
            "rule": self.rule,
            "run": self.run_id,
            "conversation": self.conversation_id,
            "workspace": self.workspace_id,
            "updated_from": self.updated_from,
            "updated_to": self.updated_to,
            "updated_before": self.updated_before,
        }
        return described(values)


@dataclass(frozen=True)
class _Plan:
    access: Access
    served: tuple[sa.ColumnElement[bool], ...]  # conditions on B that pick the candidates


def _owner_workspaces(conn: sa.Connection, flt: WorkspaceFilter) -> tuple[str | None, list[str]] | None:
    """(tenant, workspace ids) of a run or conversation filter, through the owner unique index."""
    if flt.run_id:
        owner_type, owner_id = OWNER_RUN, flt.run_id
        tenant = flt.tenant_id or run_tenant(conn, owner_id)
    elif flt.conversation_id:
        owner_type, owner_id = OWNER_CONVERSATION, flt.conversation_id
        tenant = flt.tenant_id or conversation_tenant(conn, owner_id)
    else:
        return None
    query = sa.select(W.id).where(W.owner_type == owner_type, W.owner_id == owner_id)
    if tenant:
        query = query.where(W.tenant_id == tenant)
    return tenant, list(conn.execute(query.limit(1_000)).scalars())


def _plan(conn: sa.Connection, flt: WorkspaceFilter, scan_limit: int) -> _Plan:
    served: list[sa.ColumnElement[bool]] = []
    index: str | None = None
    tenant = flt.tenant_id
    if flt.workspace_id:
        tenant = tenant or conn.execute(sa.select(W.tenant_id).where(W.id == flt.workspace_id)).scalar()
        served += [B.workspace_id == flt.workspace_id]
        index = BINDING_WORKSPACE_INDEX
    owners = _owner_workspaces(conn, flt)
    if owners is not None:
        tenant = tenant or owners[0]
        served.append(B.workspace_id.in_(owners[1]) if owners[1] else sa.false())
        index = f"{WORKSPACE_OWNER_INDEX} + {BINDING_WORKSPACE_INDEX}"
    if tenant:
        served.insert(0, B.tenant_id == tenant)
        if flt.agent_id:
            served.append(B.agent_id == flt.agent_id)
            index = index or BINDING_AGENT_INDEX
        if flt.app_id:
            apps = sa.select(W.id).where(W.tenant_id == tenant, W.app_id == flt.app_id)
            served += [B.app_id == flt.app_id, B.workspace_id.in_(apps)]
            index = index or f"{WORKSPACE_APP_INDEX} + {BINDING_WORKSPACE_INDEX}"
        index = index or f"{BINDING_WORKSPACE_INDEX} (tenant_id prefix)"
    if flt.status:
        served.append(B.status == flt.status)
        index = index or BINDING_RETIRED_INDEX
    elif flt.rule == "uncollected":
        index = index or BINDING_RETIRED_INDEX
    extras = bool(
        (flt.rule and flt.rule != "uncollected")
        or (flt.owner and owners is None)
        or flt.updated_from
        or flt.updated_to
        or flt.updated_before
        or (not tenant and (flt.app_id or flt.agent_id))
    )
    if extras:
        return _Plan(Access("bounded scan", index, scan_limit=scan_limit), tuple(served))
    if not served and not flt.rule:
        return _Plan(Access("primary key", "agent_workspace_binding_pkey"), ())
    return _Plan(Access("index", index), tuple(served))


def conditions(
    flt: WorkspaceFilter, ctx: WorkspaceRuleContext, b: Any, w: Any
) -> list[sa.ColumnElement[bool]]:
    """The whole filter as SQL on a binding entity `b` joined to its workspace `w`."""
    result: list[sa.ColumnElement[bool]] = []
    for column, value in (
        (b.tenant_id, flt.tenant_id),
        (b.app_id, flt.app_id),
        (b.agent_id, flt.agent_id),
        (b.status, flt.status),
        (b.workspace_id, flt.workspace_id),
        (w.owner_type, flt.owner),
    ):
        if value:
            result.append(column == value)
    if flt.run_id:
        result += [w.owner_type == OWNER_RUN, w.owner_id == flt.run_id]
    if flt.conversation_id:
        result += [w.owner_type == OWNER_CONVERSATION, w.owner_id == flt.conversation_id]
    result.extend(day_range(b.updated_at, flt.updated_from, flt.updated_to))
    if flt.updated_before:
        result.append(b.updated_at < flt.updated_before)
    if flt.rule:
        result.append(first_match_binding_condition(flt.rule, ctx, b, w))
    return result


@dataclass(frozen=True, kw_only=True)
class BindingPage(Page[BindingRow]):
    access: Access


def _binding_window(plan: _Plan, key: str | None, forward: bool, limit: int) -> Any:
    """At most `limit` candidate bindings in id order from `key` (a LIMIT-fenced subquery)."""
    return fenced_window(B, plan.served, key, forward, limit)


def _page_query(flt, ctx, plan, key, forward, limit, columns) -> sa.Select:
    b = (
        _binding_window(plan, key, forward, plan.access.scan_limit or SCAN_LIMIT)
        if plan.access.bounded
        else B
    )
    w = aliased(W, name="ws")
    query = sa.select(*columns(ctx, b, w)).select_from(b).outerjoin(w, workspace_join(b, w))
    query = query.where(*conditions(flt, ctx, b, w))
    if not plan.access.bounded:
        query = query.where(*plan.served, *beyond(b.id, key, forward))
    return query.order_by(scan_order(b.id, forward)).limit(limit)


def list_bindings(
    conn: sa.Connection,
    flt: WorkspaceFilter,
    ctx: WorkspaceRuleContext,
    *,
    after: str | None = None,
    before: str | None = None,
    page_size: int = PAGE_SIZE,
    scan_limit: int = SCAN_LIMIT,
) -> BindingPage:
    """One page of bindings, newest id first. A bounded page may be short (even empty) yet have a next page."""
    forward = before is None
    cursor = after if forward else before
    key = decode_id_cursor(cursor) if cursor else None
    plan = _plan(conn, flt, scan_limit)
    rows = list(conn.execute(_page_query(flt, ctx, plan, key, forward, fetch_limit(page_size), row_columns)))
    edge = (
        window_edge(conn, B.id, plan.served, key, forward, scan_limit)
        if plan.access.bounded and len(rows) <= page_size
        else None
    )
    page = keyset_page(
        rows,
        page_size=page_size,
        forward=forward,
        cursor_of=lambda r: encode_id_cursor(r._mapping["b_id"]),
        from_cursor=encode_id_cursor(key) if key else None,
        edge=encode_id_cursor(edge) if edge else None,
    )
    access = plan.access
    if access.bounded:
        access = Access(access.mode, access.served_by, access.scan_limit, edge is not None)
    return BindingPage(
        decorate(page.rows, ctx), page.next_cursor, page.prev_cursor, page.has_more, access=access
    )
