"""Sessions list pages (keyset, newest id first), their plan, and the ids of everything matching a filter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa

from data.guard import explain
from data.models import (
    AgentRuntimeSession,
)
from data.models.enums import SessionStatus
from data.paging import Page, decode_id_cursor, encode_id_cursor, fetch_limit, keyset_page
from data.rules.session_leaks import RuleContext
from data.stores.id_keyset import Access, beyond, edge_statement, fenced_window, scan_order, window_edge
from data.stores.sessions.filter import SessionFilter, conditions
from data.stores.sessions.index_plan import SCAN_LIMIT, IndexInfo, Plan, plan_access
from data.stores.sessions.rows import SessionRow, decorate, row_columns

S = AgentRuntimeSession
PAGE_SIZE = 50

#: Rows one statement reads while collecting the ids of "everything matching" (well under the timeout).
COLLECT_WINDOW = 50_000


@dataclass(frozen=True, kw_only=True)
class SessionPage(Page[SessionRow]):
    access: Access


def _window(plan: Plan, key: str | None, forward: bool, limit: int) -> Any:
    """At most `limit` rows in id order from `key` (a LIMIT-fenced window, `id_keyset.fenced_window`)."""
    return fenced_window(S, plan.window, key, forward, limit)


def _page_query(
    flt: SessionFilter,
    ctx: RuleContext,
    plan: Plan,
    key: str | None,
    forward: bool,
    limit: int,
    columns: Any,
) -> sa.Select:
    """`columns(ctx, s)` of the rows matching `flt`, after `key` in scan order, at most `limit`."""
    if plan.access.bounded:
        s = _window(plan, key, forward, plan.access.scan_limit or SCAN_LIMIT)
        query = sa.select(*columns(ctx, s)).where(*conditions(flt, ctx, s))
    else:
        s = S
        query = sa.select(*columns(ctx, s)).where(
            *conditions(flt, ctx, s), *plan.extra, *beyond(S.id, key, forward)
        )
    return query.order_by(scan_order(s.id, forward)).limit(limit)


def list_sessions(
    conn: sa.Connection,
    flt: SessionFilter,
    ctx: RuleContext,
    *,
    after: str | None = None,
    before: str | None = None,
    page_size: int = PAGE_SIZE,
    scan_limit: int = SCAN_LIMIT,
    indexes: Sequence[IndexInfo] = (),
) -> SessionPage:
    """One page, newest id first. A bounded scan's page may be short (even empty) yet have a next page."""
    forward = before is None
    cursor = after if forward else before
    key = decode_id_cursor(cursor) if cursor else None
    plan = plan_access(conn, flt, ctx, scan_limit=scan_limit, indexes=indexes)
    rows = list(conn.execute(_page_query(flt, ctx, plan, key, forward, fetch_limit(page_size), row_columns)))
    # Where this page's coverage ends, in scan order: its last row when full; else the window's last
    # row (rows beyond it were not read yet); else nothing (the table's end was reached).
    edge = None
    if plan.access.bounded and len(rows) <= page_size:
        edge = window_edge(conn, S.id, plan.window, key, forward, scan_limit)
    page = keyset_page(
        rows,
        page_size=page_size,
        forward=forward,
        cursor_of=lambda r: encode_id_cursor(r.id),
        from_cursor=encode_id_cursor(key) if key else None,
        edge=encode_id_cursor(edge) if edge else None,
    )
    access = plan.access
    if access.bounded:
        access = Access(access.mode, access.served_by, access.scan_limit, edge is not None, access.suggestion)
    return SessionPage(
        decorate(page.rows, ctx), page.next_cursor, page.prev_cursor, page.has_more, access=access
    )


def explain_page(
    conn: sa.Connection,
    flt: SessionFilter,
    ctx: RuleContext,
    *,
    scan_limit: int = SCAN_LIMIT,
    indexes: Sequence[IndexInfo] = (),
    analyze: bool = False,
) -> str:
    """PostgreSQL's plan of a first page (benchmark and tests): the rows, then (bounded scans) the edge."""
    plan = plan_access(conn, flt, ctx, scan_limit=scan_limit, indexes=indexes)
    statements = [_page_query(flt, ctx, plan, None, True, PAGE_SIZE + 1, row_columns)]
    if plan.access.bounded:
        statements.append(edge_statement(S.id, plan.window, None, True, scan_limit))
    out = []
    for statement in statements:
        out.append(explain(conn, statement, analyze=analyze))
    return "\n--\n".join(out)


# --- "everything matching this filter" -----------------------------------------------------------------


@dataclass(frozen=True)
class Collected:
    """The ids of the ACTIVE rows matching a filter, newest first, within stated bounds."""

    ids: tuple[str, ...]
    cap: int  # at most this many ids
    max_scan: int | None  # at most this many rows read (bounded scans); None: the whole table
    scanned: int  # rows read by bounded windows (0 when an index served the filter)
    complete: bool  # every matching row is in `ids`


def collect_ids(
    conn: sa.Connection,
    flt: SessionFilter,
    ctx: RuleContext,
    *,
    cap: int,
    max_scan: int | None = None,
    window: int = COLLECT_WINDOW,
    indexes: Sequence[IndexInfo] = (),
) -> Collected:
    """Window by window (each statement reads at most `window` rows, far below the statement timeout)."""
    active = replace(flt, status=SessionStatus.ACTIVE.value) if flt.status is None else flt
    plan = plan_access(conn, active, ctx, scan_limit=window, indexes=indexes)

    def ids_only(ctx: RuleContext, s: Any) -> tuple:
        return (s.id,)

    if not plan.access.bounded:
        found = list(conn.execute(_page_query(active, ctx, plan, None, True, cap + 1, ids_only)).scalars())
        return Collected(tuple(found[:cap]), cap, max_scan, 0, len(found) <= cap)
    ids: list[str] = []
    scanned = 0
    key: str | None = None
    while True:
        query = _page_query(active, ctx, plan, key, True, cap - len(ids) + 1, ids_only)
        found = list(conn.execute(query).scalars())
        if len(ids) + len(found) > cap:
            ids.extend(found[: cap - len(ids)])
            return Collected(tuple(ids), cap, max_scan, scanned + window, False)
        ids.extend(found)
        edge = window_edge(conn, S.id, plan.window, key, True, window)
        if edge is None:
            return Collected(tuple(ids), cap, max_scan, scanned, True)
        scanned += window
        key = edge
        if max_scan is not None and scanned >= max_scan:
            return Collected(tuple(ids), cap, max_scan, scanned, False)
