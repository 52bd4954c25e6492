"""SQL of id-ordered keyset listings (runtime sessions, workspace bindings): seeks, bounded windows.

Ids are UUIDv7, so id order is creation order and the primary key serves it. A listing reads away from
its cursor ("scan order": newest first when paging forward). When no index serves a filter, a page
reads a *bounded window*: at most `limit` rows in id order from the cursor, fenced by a LIMIT inside a
subquery, and says so through `Access`. The cursor codec itself is `data.paging`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased


@dataclass(frozen=True)
class Access:
    """How a list query reaches its rows, for the page to say plainly."""

    mode: str  # "primary key" | "index" | "run lookup" | "conversation lookup" | "bounded scan"
    served_by: str | None  # index name, when one serves the filter
    scan_limit: int | None = None  # rows a page may read (bounded scans)
    window_cut: bool = False  # this page stopped at the bound: rows beyond were not read yet
    suggestion: str | None = None  # CREATE INDEX CONCURRENTLY ... (bounded scans without index)

    @property
    def bounded(self) -> bool:
        return self.scan_limit is not None


def beyond(id_column: Any, key: str | None, forward: bool) -> tuple[sa.ColumnElement[bool], ...]:
    """The rows after `key` in scan order (smaller ids forward, larger backward); none without a key."""
    if key is None:
        return ()
    return (id_column < key if forward else id_column > key,)


def scan_order(id_column: Any, forward: bool) -> Any:
    return id_column.desc() if forward else id_column.asc()


def fenced_window(
    model: Any,
    where: Sequence[sa.ColumnElement[bool]],
    key: str | None,
    forward: bool,
    limit: int,
    *,
    name: str = "window",
) -> Any:
    """At most `limit` rows of `model` in id order from `key`, as an entity to filter on.

    The LIMIT inside the subquery is a fence: PostgreSQL must walk the primary key (or the index the
    `where` conditions name) and filter what it yields, instead of planning a bitmap over a whole index
    (e.g. `status = 'active'` on the lookup indexes' last column: 200,000 entries at 1M sessions).
    """
    query = sa.select(model).where(*where, *beyond(model.id, key, forward))
    inner = query.order_by(scan_order(model.id, forward)).limit(limit).subquery(name)
    return aliased(model, inner, name=name)


def edge_statement(
    id_column: Any, where: Sequence[sa.ColumnElement[bool]], key: str | None, forward: bool, limit: int
) -> sa.Select:
    """The id `limit` rows beyond `key` in scan order: an index-only walk of at most `limit` entries."""
    query = sa.select(id_column).where(*where, *beyond(id_column, key, forward))
    return query.order_by(scan_order(id_column, forward)).offset(limit - 1).limit(1)


def window_edge(
    conn: sa.Connection,
    id_column: Any,
    where: Sequence[sa.ColumnElement[bool]],
    key: str | None,
    forward: bool,
    limit: int,
) -> str | None:
    """Where a bounded window from `key` ends, or None when fewer than `limit` rows remain."""
    return conn.execute(edge_statement(id_column, where, key, forward, limit)).scalar()
