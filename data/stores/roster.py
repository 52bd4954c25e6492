"""The roster: agents across workspaces, filtered, searched and keyset-paginated.

Ordering follows what Dify's indexes serve (shared/notes/scale-facts.md):
* `updated` (default): (updated_at, id) descending. One workspace: a seek on
  `agent_tenant_updated_at_idx`. All workspaces on PostgreSQL: a per-workspace seek through LATERAL,
  merged, in two phases so thousands of workspaces stay cheap (see `_merged_updated_page`).
* `created`: by id descending; ids are UUIDv7, so this is creation order, served by the primary key.
* `name`: (name, id) ascending; no index exists, so this reads the filtered rows (bounded by filters).
Never OFFSET; the cursor is opaque (base64 of the last row's sort key).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute

from data.guard import explain
from data.models import Account, Agent, AgentConfigSnapshot, Tenant, WorkflowAgentNodeBinding
from data.paging import InvalidCursor as InvalidCursor  # re-exported: pages catch store.InvalidCursor
from data.paging import Page, fetch_limit, keyset_page
from data.paging import decode_cursor as decode_cursor_of
from data.paging import encode_cursor as encode_cursor_of
from data.stores.counts import EXACT_LIMIT, Count, bounded_count, estimated_rows
from data.stores.filters import contains, day_range
from data.tolerant import EnumValue, normalize_uuid

PAGE_SIZE = 50
SORTS = ("updated", "name", "created")


@dataclass(frozen=True)
class RosterFilter:
    tenant_id: str | None = None
    name_query: str | None = None  # substring, case-insensitive
    scope: str | None = None
    status: str | None = None
    source: str | None = None
    kind: str | None = None
    updated_from: date | None = None
    updated_to: date | None = None  # inclusive day
    sort: str = "updated"

    @property
    def is_unfiltered(self) -> bool:
        return self == RosterFilter(sort=self.sort)


@dataclass(frozen=True)
class RosterRow:
    id: str
    tenant_id: str
    workspace: str
    name: str
    icon_type: EnumValue | None
    icon: str | None
    scope: EnumValue
    status: EnumValue
    source: EnumValue
    kind: EnumValue
    active_version: int | None
    version_count: int
    draft_bindings: int
    published_bindings: int
    created_at: datetime
    updated_at: datetime
    updated_by: str | None  # account name, or the raw id when no account row matches


@dataclass(frozen=True, kw_only=True)
class RosterPage(Page[RosterRow]):
    total: Count


# --- cursors ---------------------------------------------------------------------------------------


def encode_cursor(sort: str, row: sa.Row) -> str:
    key = _sort_key(sort, row)
    return encode_cursor_of(sort, [v.isoformat() if isinstance(v, datetime) else v for v in key])


def decode_cursor(sort: str, cursor: str) -> tuple:
    """The sort key in a cursor; `InvalidCursor` when it is invalid or belongs to another sort."""

    def parse(key: Any) -> tuple | None:
        if not isinstance(key, list):
            return None
        row_id = normalize_uuid(key[-1])
        if row_id is None:
            return None
        if sort == "updated":
            moment = datetime.fromisoformat(key[0])
            return None if moment.tzinfo is not None else (moment, row_id)
        if sort == "name":
            return (str(key[0]), row_id)
        return (row_id,)

    return decode_cursor_of(cursor, sort, parse)


def _sort_key(sort: str, row: sa.Row) -> tuple:
    if sort == "updated":
        return (row.updated_at, row.id)
    if sort == "name":
        return (row.name, row.id)
    return (row.id,)


def _order_columns(sort: str) -> list[InstrumentedAttribute[Any]]:
    if sort == "updated":
        return [Agent.updated_at, Agent.id]
    if sort == "name":
        return [Agent.name, Agent.id]
    return [Agent.id]


def _descending(sort: str) -> bool:
    return sort != "name"


# --- filters ----------------------------------------------------------------------------------


def _conditions(flt: RosterFilter) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if flt.tenant_id:
        conditions.append(Agent.tenant_id == flt.tenant_id)
    if flt.name_query:
        conditions.append(contains(Agent.name, flt.name_query))
    for column, value in (
        (Agent.scope, flt.scope),
        (Agent.status, flt.status),
        (Agent.source, flt.source),
        (Agent.agent_kind, flt.kind),
    ):
        if value:
            conditions.append(column == value)
    conditions.extend(day_range(Agent.updated_at, flt.updated_from, flt.updated_to))
    return conditions


def _seek(sort: str, key: tuple, forward: bool) -> sa.ColumnElement[bool]:
    """Rows after `key` in display order (forward) or before it (backward); bound with column types."""
    columns = _order_columns(sort)
    bound = [sa.literal(value, type_=column.type) for column, value in zip(columns, key, strict=True)]
    left, right = (columns[0], bound[0]) if len(columns) == 1 else (sa.tuple_(*columns), sa.tuple_(*bound))
    later = _descending(sort) == forward  # descending + forward means smaller keys
    return left < right if later else left > right


_ROW_COLUMNS = (
    Agent.id,
    Agent.tenant_id,
    Agent.name,
    Agent.icon_type,
    Agent.icon,
    Agent.scope,
    Agent.status,
    Agent.source,
    Agent.agent_kind,
    Agent.active_config_snapshot_id,
    Agent.created_at,
    Agent.updated_at,
    Agent.updated_by,
)


def _page_query(flt: RosterFilter, key: tuple | None, forward: bool, limit: int) -> sa.Select:
    query = sa.select(*_ROW_COLUMNS).where(*_conditions(flt))
    if key is not None:
        query = query.where(_seek(flt.sort, key, forward))
    descending = _descending(flt.sort) == forward
    order = [c.desc() if descending else c.asc() for c in _order_columns(flt.sort)]
    return query.order_by(*order).limit(limit)


def agent_tenant_ids() -> sa.Select:
    """The distinct workspaces of the agents table, one index probe each (a "loose index scan").

    Taken from `agents` itself, not `tenants`: an agent whose workspace row is gone must still be listed.
    PostgreSQL has no skip scan before 18, so a recursive CTE steps from one tenant_id to the next on
    `agent_tenant_updated_at_idx`.
    """
    step = sa.select(Agent.tenant_id).order_by(Agent.tenant_id).limit(1)
    walk = sa.select(step.scalar_subquery().label("id")).cte("workspaces", recursive=True)
    following = (
        sa.select(Agent.tenant_id).where(Agent.tenant_id > walk.c.id).order_by(Agent.tenant_id).limit(1)
    ).scalar_subquery()
    walk = walk.union_all(sa.select(following.label("id")).where(walk.c.id.is_not(None)))
    return sa.select(walk.c.id).where(walk.c.id.is_not(None))


def _merged_updated_page(
    flt: RosterFilter, key: tuple | None, forward: bool, limit: int, tenant_ids: sa.Select
) -> sa.Select:
    """All workspaces by updated_at on PostgreSQL: per-workspace index seeks, merged.

    Phase 1 ("heads") takes each workspace's first row key, one index probe per workspace. The
    `limit`-th best head is a threshold every row of the page reaches (those `limit` workspaces alone
    hold `limit` rows at or above it), and only workspaces whose head reaches it can contribute. Phase 2
    seeks just those workspaces, above the threshold. Work: one probe per workspace plus about
    `limit` short seeks, instead of `limit` rows from every workspace.
    """
    descending = forward  # the updated sort is descending
    tenants = tenant_ids.subquery("t")

    def seek(tenant_column: sa.ColumnElement, extra: list[sa.ColumnElement[bool]], n: int) -> sa.Select:
        query = sa.select(*_ROW_COLUMNS).where(Agent.tenant_id == tenant_column, *_conditions(flt), *extra)
        if key is not None:
            query = query.where(_seek("updated", key, forward))
        order = [Agent.updated_at.desc(), Agent.id.desc()] if descending else [Agent.updated_at, Agent.id]
        return query.order_by(*order).limit(n)

    first = seek(tenants.c.id, [], 1).lateral("first_row")
    heads = (
        sa.select(tenants.c.id.label("tenant_id"), first.c.updated_at, first.c.id)
        .select_from(tenants.join(first, sa.true()))
        .cte("heads")
    )
    head_order = (
        [heads.c.updated_at.desc(), heads.c.id.desc()] if descending else [heads.c.updated_at, heads.c.id]
    )
    threshold = (
        sa.select(heads.c.updated_at, heads.c.id)
        .order_by(*head_order)
        .offset(limit - 1)
        .limit(1)
        .subquery("threshold")
    )
    head_key, bound = (
        sa.tuple_(heads.c.updated_at, heads.c.id),
        sa.tuple_(threshold.c.updated_at, threshold.c.id),
    )
    # No threshold row (fewer workspaces than `limit`): every workspace with a head takes part.
    reaches = sa.or_(threshold.c.id.is_(None), head_key >= bound if descending else head_key <= bound)
    candidates = (
        sa.select(
            heads.c.tenant_id, threshold.c.updated_at.label("t_updated_at"), threshold.c.id.label("t_id")
        )
        .select_from(heads.outerjoin(threshold, sa.true()))
        .where(reaches)
        .subquery("candidates")
    )
    row_key = sa.tuple_(Agent.updated_at, Agent.id)
    candidate_bound = sa.tuple_(candidates.c.t_updated_at, candidates.c.t_id)
    above = sa.or_(
        candidates.c.t_id.is_(None), row_key >= candidate_bound if descending else row_key <= candidate_bound
    )
    page = seek(candidates.c.tenant_id, [above], limit).lateral("page_rows")
    merged = sa.select(*[page.c[c.key] for c in _ROW_COLUMNS]).select_from(candidates.join(page, sa.true()))
    order = [page.c.updated_at.desc(), page.c.id.desc()] if descending else [page.c.updated_at, page.c.id]
    return merged.order_by(*order).limit(limit)


def list_roster(
    conn: sa.Connection,
    flt: RosterFilter,
    *,
    after: str | None = None,
    before: str | None = None,
    has_tenants: bool = True,
    has_accounts: bool = True,
    page_size: int = PAGE_SIZE,
) -> RosterPage:
    forward = before is None
    cursor = after if forward else before
    key = decode_cursor(flt.sort, cursor) if cursor else None
    limit = fetch_limit(page_size)
    # A name search reads every name anyway (no trigram index in Dify): one plain scan beats walking
    # each workspace's index with the filter.
    merge = flt.sort == "updated" and not flt.tenant_id and not flt.name_query
    if merge and conn.dialect.name == "postgresql":
        query = _merged_updated_page(flt, key, forward, limit, agent_tenant_ids())
    else:
        query = _page_query(flt, key, forward, limit)
    # A first page of a name search scans every name anyway: count the matches in that same scan.
    count_in_scan = flt.name_query is not None and key is None and not merge
    if count_in_scan:
        query = query.add_columns(sa.func.count().over().label("matches"))
    page = keyset_page(
        list(conn.execute(query)),
        page_size=page_size,
        forward=forward,
        cursor_of=lambda r: encode_cursor(flt.sort, r),
        from_cursor=cursor if key is not None else None,
    )
    return RosterPage(
        _decorate(conn, page.rows, has_tenants=has_tenants, has_accounts=has_accounts),
        page.next_cursor,
        page.prev_cursor,
        page.has_more,
        total=_page_total(
            conn,
            flt,
            page.rows,
            counted_in_scan=count_in_scan,
            first_and_only=key is None and not page.has_more,
        ),
    )


def _page_total(
    conn: sa.Connection, flt: RosterFilter, rows: list[sa.Row], *, counted_in_scan: bool, first_and_only: bool
) -> Count:
    """The match count without a second scan when the page already tells it."""
    if first_and_only:
        return Count(len(rows))
    if counted_in_scan and rows:
        return Count(int(rows[0].matches))
    return count_roster(conn, flt)


def count_roster(conn: sa.Connection, flt: RosterFilter) -> Count:
    """Exact up to the bound; the unfiltered roster of a big table uses the planner's estimate first."""
    if replace(flt, sort="updated").is_unfiltered:
        estimate = estimated_rows(conn, "agents")
        if estimate is not None and estimate > EXACT_LIMIT:
            return Count(estimate, exact=False)
    return bounded_count(conn, sa.select(Agent.id).where(*_conditions(flt)))


def _decorate(
    conn: sa.Connection, rows: list[sa.Row], *, has_tenants: bool, has_accounts: bool
) -> list[RosterRow]:
    """Per-page lookups (at most one page of ids each): versions, bindings, names."""
    if not rows:
        return []
    ids = [r.id for r in rows]
    tenants = sorted({r.tenant_id for r in rows})
    active_ids = [r.active_config_snapshot_id for r in rows if r.active_config_snapshot_id]
    active_versions = (
        dict(
            conn.execute(
                sa.select(AgentConfigSnapshot.id, AgentConfigSnapshot.version).where(
                    AgentConfigSnapshot.tenant_id.in_(tenants), AgentConfigSnapshot.id.in_(active_ids)
                )
            ).all()
        )
        if active_ids
        else {}
    )
    version_counts = dict(
        conn.execute(
            sa.select(AgentConfigSnapshot.agent_id, sa.func.count())
            .where(AgentConfigSnapshot.tenant_id.in_(tenants), AgentConfigSnapshot.agent_id.in_(ids))
            .group_by(AgentConfigSnapshot.agent_id)
        ).all()
    )
    is_draft = WorkflowAgentNodeBinding.workflow_version == "draft"
    binding_counts: dict[str, tuple[int, int]] = {}
    for agent_id, drafts, total in conn.execute(
        sa.select(
            WorkflowAgentNodeBinding.agent_id,
            sa.func.sum(sa.case((is_draft, 1), else_=0)),
            sa.func.count(),
        )
        .where(WorkflowAgentNodeBinding.tenant_id.in_(tenants), WorkflowAgentNodeBinding.agent_id.in_(ids))
        .group_by(WorkflowAgentNodeBinding.agent_id)
    ):
        binding_counts[agent_id] = (int(drafts or 0), int(total) - int(drafts or 0))
    workspace_names = (
        dict(conn.execute(sa.select(Tenant.id, Tenant.name).where(Tenant.id.in_(tenants))).all())
        if has_tenants
        else {}
    )
    account_ids = sorted({r.updated_by for r in rows if r.updated_by})
    account_names = (
        dict(conn.execute(sa.select(Account.id, Account.name).where(Account.id.in_(account_ids))).all())
        if has_accounts and account_ids
        else {}
    )
    return [
        RosterRow(
            id=r.id,
            tenant_id=r.tenant_id,
            workspace=workspace_names.get(r.tenant_id, r.tenant_id),
            name=r.name,
            icon_type=r.icon_type,
            icon=r.icon,
            scope=r.scope,
            status=r.status,
            source=r.source,
            kind=r.agent_kind,
            active_version=active_versions.get(r.active_config_snapshot_id),
            version_count=int(version_counts.get(r.id, 0)),
            draft_bindings=binding_counts.get(r.id, (0, 0))[0],
            published_bindings=binding_counts.get(r.id, (0, 0))[1],
            created_at=r.created_at,
            updated_at=r.updated_at,
            updated_by=account_names.get(r.updated_by, r.updated_by),
        )
        for r in rows
    ]


def explain_roster(conn: sa.Connection, flt: RosterFilter) -> str:
    """PostgreSQL's plan of the first roster page (used by tests and the benchmark)."""
    query = _page_query(flt, None, True, PAGE_SIZE + 1)
    if flt.sort == "updated" and not flt.tenant_id and not flt.name_query:
        query = _merged_updated_page(flt, None, True, PAGE_SIZE + 1, agent_tenant_ids())
    return explain(conn, query)


def export_rows(
    conn: sa.Connection, flt: RosterFilter, cap: int, has_tenants: bool, has_accounts: bool
) -> list[RosterRow]:
    """Up to `cap` rows of the filter, page by page (same keyset queries as the page)."""
    rows: list[RosterRow] = []
    after = None
    while len(rows) < cap:
        page = list_roster(
            conn,
            flt,
            after=after,
            has_tenants=has_tenants,
            has_accounts=has_accounts,
            page_size=min(500, cap - len(rows)),
        )
        rows.extend(page.rows)
        if not page.next_cursor:
            break
        after = page.next_cursor
    return rows
