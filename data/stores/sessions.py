"""Runtime sessions: filtered, keyset-paginated in id order, bounded wherever no index serves the filter.

What Dify's indexes serve (shared/notes/scale-facts.md): the primary key (id order = creation order,
the ids being UUIDv7), workspace + workflow run (`agent_runtime_session_workflow_lookup_idx`),
workspace + conversation (`agent_runtime_session_conversation_lookup_idx`) and the backend run id.
There is no index on status, updated_at, app or agent. So:

* no filter: a keyset walk of the primary key;
* a `run` or `conversation` filter: a seek on the lookup index (the workspace is taken from the
  filter, else from the run / conversation row, else every workspace: `tenant_id IN (...)`);
* anything else: a *bounded scan*. A page reads at most `scan_limit` rows in id order below (or
  above) its cursor, returns the matches among them, and says so (`Access`). The next page continues
  where the window ended. The page also gets the exact `CREATE INDEX CONCURRENTLY` that would serve
  the filter; if such an index exists (found by `session_indexes`), the window counts only the rows
  that index yields, so equality filters fill their page at once. The app never creates indexes.

No OFFSET paging: cursors are opaque ids. (A bounded window's far edge is found with an OFFSET of at most
`scan_limit` primary-key entries: an index-only walk.) Reading a row never raises on bad JSON or unknown
enum values.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from data.guard import explain
from data.masking import mask_layer_specs, mask_session_snapshot, mask_text
from data.models import (
    Agent,
    AgentConfigSnapshot,
    AgentRuntimeSession,
    App,
    Conversation,
    Tenant,
    WorkflowAgentNodeBinding,
    WorkflowPause,
    WorkflowRun,
)
from data.models.enums import SessionOwnerType, SessionStatus
from data.paging import InvalidCursor as InvalidCursor  # re-exported: pages catch store.InvalidCursor
from data.paging import Page, decode_id_cursor, encode_id_cursor, fetch_limit, keyset_page
from data.rules.session_leaks import RuleContext, SessionFacts, classify, in_flight
from data.stores.filters import day_after, day_range
from data.stores.session_leaks import FACT_COLUMNS, fact_columns, facts_from_row, first_match_condition
from data.tolerant import EnumValue, parse_json

S = AgentRuntimeSession
PAGE_SIZE = 50
#: Rows one page may read when no index serves the filter (a first page: 6-13 ms at 1M, docs/sessions.md).
SCAN_LIMIT = 10_000
#: Rows one statement reads while collecting the ids of "everything matching" (well under the timeout).
COLLECT_WINDOW = 50_000
MAX_WORKSPACES = 5_000
MAX_RAW_CHARS = 20_000
OWNER_TYPES = tuple(o.value for o in SessionOwnerType)
STATUSES = tuple(s.value for s in SessionStatus)
WORKFLOW_LOOKUP_INDEX = "agent_runtime_session_workflow_lookup_idx"
CONVERSATION_LOOKUP_INDEX = "agent_runtime_session_conversation_lookup_idx"
PRIMARY_KEY = "agent_runtime_session_pkey"


@dataclass(frozen=True)
class SessionFilter:
    tenant_id: str | None = None
    app_id: str | None = None
    agent_id: str | None = None
    owner: str | None = None  # owner_type
    status: str | None = None
    rule: str | None = None  # a leak rule name: rows whose FIRST matching rule is this one
    run_id: str | None = None
    conversation_id: str | None = None
    updated_from: date | None = None
    updated_to: date | None = None  # inclusive day
    updated_before: datetime | None = None  # CLI `--older-than` (exclusive), naive UTC

    @property
    def is_unfiltered(self) -> bool:
        return self == SessionFilter()

    def equalities(self) -> dict[str, str]:
        """Column = value conditions an index on this table could serve (a rule implies active)."""
        pairs = {
            "tenant_id": self.tenant_id,
            "app_id": self.app_id,
            "agent_id": self.agent_id,
            "owner_type": self.owner,
            "status": self.status or (SessionStatus.ACTIVE.value if self.rule else None),
        }
        return {column: value for column, value in pairs.items() if value}

    def describe(self) -> dict[str, str]:
        """The filter as plain strings (for the audit log and messages)."""
        values = {
            "tenant": self.tenant_id,
            "app": self.app_id,
            "agent": self.agent_id,
            "owner": self.owner,
            "status": self.status,
            "rule": self.rule,
            "run": self.run_id,
            "conversation": self.conversation_id,
            "updated_from": self.updated_from.isoformat() if self.updated_from else None,
            "updated_to": self.updated_to.isoformat() if self.updated_to else None,
            "updated_before": self.updated_before.isoformat(sep=" ") if self.updated_before else None,
        }
        return {k: v for k, v in values.items() if v}


#: Clock skew allowed between Dify's app servers (which mint the ids) and the database clock.
ID_CLOCK_MARGIN = timedelta(hours=1)


def uuidv7_floor(moment: datetime) -> str:
    """The smallest UUIDv7 of `moment`'s millisecond: every id minted earlier sorts below it."""
    ms = (moment - datetime(1970, 1, 1)) // timedelta(milliseconds=1)
    return str(uuid.UUID(int=max(ms, 0) << 80))


def id_ceiling(flt: SessionFilter, ctx: RuleContext) -> str | None:
    """An id every matching row is below, implied by "updated before T" (rule idle, updated_to, --older-than).

    Ids are UUIDv7 carrying the creation millisecond, and a row is updated after it is created, so a row
    updated before T was created before T: the scan can start at T's id instead of at the newest row.
    """
    moments = []
    if flt.rule == "idle":
        moments.append(ctx.idle_before)
    if flt.updated_to:
        moments.append(day_after(flt.updated_to))
    if flt.updated_before:
        moments.append(flt.updated_before)
    return uuidv7_floor(min(moments) + ID_CLOCK_MARGIN) if moments else None


def conditions(flt: SessionFilter, ctx: RuleContext, s: Any = S) -> list[sa.ColumnElement[bool]]:
    """The filter as SQL on the session entity `s` (the table, or a bounded window of it)."""
    result: list[sa.ColumnElement[bool]] = []
    ceiling = id_ceiling(flt, ctx)
    if ceiling:
        result.append(s.id < ceiling)
    for column, value in (
        (s.tenant_id, flt.tenant_id),
        (s.app_id, flt.app_id),
        (s.agent_id, flt.agent_id),
        (s.owner_type, flt.owner),
        (s.status, flt.status),
        (s.workflow_run_id, flt.run_id),
        (s.conversation_id, flt.conversation_id),
    ):
        if value:
            result.append(column == value)
    result.extend(day_range(s.updated_at, flt.updated_from, flt.updated_to))
    if flt.updated_before:
        result.append(s.updated_at < flt.updated_before)
    if flt.rule:
        result.append(first_match_condition(flt.rule, ctx, s))
    return result


# --- indexes: which exist, which would help --------------------------------------------------------


@dataclass(frozen=True)
class IndexInfo:
    name: str
    columns: tuple[str, ...]
    where: str | None  # partial-index predicate as the database prints it


def session_indexes(conn: sa.Connection) -> tuple[IndexInfo, ...]:
    """The indexes on agent_runtime_sessions (reflection: a few ms; pages cache it)."""
    result = []
    for index in sa.inspect(conn).get_indexes(S.__tablename__):
        options = index.get("dialect_options", {})
        where = options.get("postgresql_where") or options.get("sqlite_where")
        columns = tuple(c for c in index.get("column_names", ()) if c)
        result.append(IndexInfo(index["name"] or "", columns, str(where) if where is not None else None))
    return tuple(result)


_STATUS_PREDICATE = re.compile(r"status\W*(?:::\s*\w+\W*)?=\s*'([\w-]+)'", re.I)


def _suggested_shape(flt: SessionFilter) -> tuple[tuple[str, ...], str | None] | None:
    """(index columns, partial status) that would serve the filter's equalities in id order."""
    eq = flt.equalities()
    status = eq.pop("status", None)
    if not eq and not status:
        return None
    return (*eq, "id"), status


def suggest_index(flt: SessionFilter) -> str | None:
    """The exact statement an operator could run in Dify's database (the app never runs it)."""
    shape = _suggested_shape(flt)
    if shape is None:
        return None
    columns, status = shape
    short = {"tenant_id": "tenant", "app_id": "app", "agent_id": "agent", "owner_type": "owner"}
    parts = [short.get(c, c) for c in columns[:-1]]
    name = "_".join(["agent_desk_sessions", *([status] if status else []), *parts, "id_idx"])
    where = f" WHERE status = '{status}'" if status else ""
    return f"CREATE INDEX CONCURRENTLY {name} ON agent_runtime_sessions ({', '.join(columns)}){where};"


def usable_index(flt: SessionFilter, indexes: Sequence[IndexInfo]) -> IndexInfo | None:
    """An existing index yielding exactly the filter's equality candidates in id order, if any."""
    eq = flt.equalities()
    if not eq:
        return None
    for index in indexes:
        if not index.columns or index.columns[-1] != "id":
            continue
        covered = set(index.columns[:-1])
        if index.where:
            match = _STATUS_PREDICATE.search(index.where)
            if not match or eq.get("status") != match.group(1):
                continue
            covered.add("status")
        if covered == set(eq):
            return index
    return None


# --- access plan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Access:
    """How a list query reaches its rows, for the page to say plainly."""

    mode: str  # "primary key" | "run lookup" | "conversation lookup" | "bounded scan"
    served_by: str | None  # index name, when one serves the filter
    scan_limit: int | None = None  # rows a page may read (bounded scans)
    window_cut: bool = False  # this page stopped at the bound: rows beyond were not read yet
    suggestion: str | None = None  # CREATE INDEX CONCURRENTLY ... (bounded scans without index)

    @property
    def bounded(self) -> bool:
        return self.scan_limit is not None


@dataclass(frozen=True)
class _Plan:
    access: Access
    extra: tuple[sa.ColumnElement[bool], ...] = ()  # e.g. tenant_id IN (...) for a lookup seek
    window: tuple[sa.ColumnElement[bool], ...] = ()  # conditions the window boundary may use


def _all_tenants(conn: sa.Connection, ctx: RuleContext) -> list[str] | None:
    if not ctx.has("tenants"):
        return None
    ids = list(conn.execute(sa.select(Tenant.id).limit(MAX_WORKSPACES + 1)).scalars())
    return ids if len(ids) <= MAX_WORKSPACES else None


def _lookup_tenants(conn: sa.Connection, flt: SessionFilter, ctx: RuleContext) -> list[str] | None:
    if flt.tenant_id:
        return [flt.tenant_id]
    tenant = None
    if flt.run_id and ctx.has("workflow_runs"):
        tenant = conn.execute(sa.select(WorkflowRun.tenant_id).where(WorkflowRun.id == flt.run_id)).scalar()
    elif flt.conversation_id and ctx.has("conversations") and ctx.has("apps"):
        tenant = conn.execute(
            sa.select(App.tenant_id)
            .join(Conversation, Conversation.app_id == App.id)
            .where(Conversation.id == flt.conversation_id)
        ).scalar()
    return [tenant] if tenant else _all_tenants(conn, ctx)


def plan_access(
    conn: sa.Connection,
    flt: SessionFilter,
    ctx: RuleContext,
    *,
    scan_limit: int = SCAN_LIMIT,
    indexes: Sequence[IndexInfo] = (),
) -> _Plan:
    if flt.run_id or flt.conversation_id:
        tenants = _lookup_tenants(conn, flt, ctx)
        if tenants:
            run = bool(flt.run_id)
            return _Plan(
                Access(
                    "run lookup" if run else "conversation lookup",
                    WORKFLOW_LOOKUP_INDEX if run else CONVERSATION_LOOKUP_INDEX,
                ),
                extra=(S.tenant_id.in_(tenants),),
            )
    if flt.is_unfiltered:
        return _Plan(Access("primary key", PRIMARY_KEY))
    # The window starts below the implied id ceiling (if any): the rows above it cannot match.
    ceiling = id_ceiling(flt, ctx)
    start = (S.id < ceiling,) if ceiling else ()
    index = usable_index(flt, indexes)
    if index is not None:
        eq = [getattr(S, column) == value for column, value in flt.equalities().items()]
        return _Plan(Access("bounded scan", index.name, scan_limit=scan_limit), window=(*start, *eq))
    return _Plan(
        Access("bounded scan", None, scan_limit=scan_limit, suggestion=suggest_index(flt)), window=start
    )


def _window_edge(
    conn: sa.Connection, key: str | None, forward: bool, limit: int, window: Sequence[sa.ColumnElement[bool]]
) -> str | None:
    """The id `limit` rows beyond `key` in scan order (an index walk), or None when fewer remain."""
    query = sa.select(S.id).where(*window)
    if key is not None:
        query = query.where(S.id < key if forward else S.id > key)
    order = S.id.desc() if forward else S.id.asc()
    return conn.execute(query.order_by(order).offset(limit - 1).limit(1)).scalar()


# --- rows ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layer:
    name: str
    state: str  # lifecycle_state (or `state`, older agenton); "?" when absent


@dataclass(frozen=True)
class LayerSummary:
    layers: tuple[Layer, ...]
    error: str | None = None  # the snapshot text is not a usable snapshot document

    def label(self) -> str:
        text = ", ".join(f"{layer.name}: {layer.state}" for layer in self.layers)
        if self.error:
            return f"⚠ {self.error}" + (f" · {text}" if text else "")
        return text


def parse_layers(text: str | None) -> LayerSummary:
    """Layer names and lifecycle states from a `session_snapshot` text; tolerant, never raises."""
    parsed = parse_json(text, expect_object=True)
    if not parsed.ok:
        return LayerSummary((), parsed.error)
    layers = parsed.value.get("layers")
    if not isinstance(layers, list):
        return LayerSummary((), "no `layers` list in the snapshot")
    result = []
    odd = 0
    for layer in layers:
        if not isinstance(layer, dict):
            odd += 1
            continue
        state = layer.get("lifecycle_state", layer.get("state"))
        result.append(Layer(str(layer.get("name", "?")), "?" if state is None else str(state)))
    return LayerSummary(tuple(result), f"{odd} layer entries are not objects" if odd else None)


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


@dataclass(frozen=True, kw_only=True)
class SessionPage(Page[SessionRow]):
    access: Access


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


#: A list page parses layer states only from snapshots up to this size; bigger ones on the detail page.
LIST_PARSE_CHARS = 256_000


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


def _decorate(rows: Sequence[sa.Row], ctx: RuleContext) -> list[SessionRow]:
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


def _window(plan: _Plan, key: str | None, forward: bool, limit: int) -> Any:
    """At most `limit` rows in id order from `key`, as an entity to filter on.

    The LIMIT inside the subquery is a fence: PostgreSQL must walk the primary key (or the index the
    window conditions name) and filter what it yields, instead of planning a bitmap over a whole index
    (e.g. `status = 'active'` on the lookup indexes' last column: 200,000 entries at 1M sessions).
    """
    query = sa.select(S).where(*plan.window)
    if key is not None:
        query = query.where(S.id < key if forward else S.id > key)
    inner = query.order_by(S.id.desc() if forward else S.id.asc()).limit(limit).subquery("window")
    return aliased(AgentRuntimeSession, inner, name="window")


def _page_query(
    flt: SessionFilter,
    ctx: RuleContext,
    plan: _Plan,
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
        query = sa.select(*columns(ctx, s)).where(*conditions(flt, ctx, s), *plan.extra)
        if key is not None:
            query = query.where(S.id < key if forward else S.id > key)
    return query.order_by(s.id.desc() if forward else s.id.asc()).limit(limit)


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
        edge = _window_edge(conn, key, forward, scan_limit, plan.window)
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
        _decorate(page.rows, ctx), page.next_cursor, page.prev_cursor, page.has_more, access=access
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
        statements.append(
            sa.select(S.id).where(*plan.window).order_by(S.id.desc()).offset(scan_limit - 1).limit(1)
        )
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
        edge = _window_edge(conn, key, True, window, plan.window)
        if edge is None:
            return Collected(tuple(ids), cap, max_scan, scanned, True)
        scanned += window
        key = edge
        if max_scan is not None and scanned >= max_scan:
            return Collected(tuple(ids), cap, max_scan, scanned, False)


# --- one session -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunInfo:
    id: str
    exists: bool
    status: str | None = None
    triggered_from: str | None = None
    created_at: datetime | None = None
    finished_at: datetime | None = None
    open_pause_since: datetime | None = None  # a paused (human-in-the-loop) run waits since then


@dataclass(frozen=True)
class ConversationInfo:
    id: str
    exists: bool
    name: str | None = None  # user/LLM text: masked for tokens here, shown literally by the page
    from_source: str | None = None
    is_deleted: bool | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class BindingInfo:
    id: str
    exists: bool
    workflow_version: str | None = None
    node_id: str | None = None
    binding_type: str | None = None


@dataclass(frozen=True)
class LayerSpec:
    name: str
    type: str
    origin: str | None


@dataclass(frozen=True)
class SessionDetail:
    """One session, with every document already masked (the raw history never leaves `data` here)."""

    row: SessionRow
    facts: SessionFacts
    agent_status: str | None
    run: RunInfo | None
    conversation: ConversationInfo | None
    binding: BindingInfo | None
    node_execution_id: str | None
    snapshot_masked: Any  # parsed and masked (history runtime state collapsed), or None
    snapshot_error: str | None
    snapshot_text_masked: str | None  # token-scrubbed raw text when the JSON is unusable
    has_history: bool  # a `history` layer with runtime state exists (revealing it is audited)
    specs: tuple[LayerSpec, ...]
    specs_masked: Any
    specs_error: str | None


def get_session(conn: sa.Connection, session_id: str, ctx: RuleContext) -> SessionDetail | None:
    row = conn.execute(
        sa.select(
            *row_columns(ctx), S.session_snapshot, S.composition_layer_specs, S.node_execution_id
        ).where(S.id == session_id)
    ).first()
    if row is None:
        return None
    decorated = _decorate([row], ctx)[0]
    facts = facts_from_row(row)
    run = None
    if row.workflow_run_id:
        run = RunInfo(row.workflow_run_id, exists=False)
        if ctx.has("workflow_runs"):
            r = conn.execute(
                sa.select(WorkflowRun).where(
                    WorkflowRun.id == row.workflow_run_id, WorkflowRun.tenant_id == row.tenant_id
                )
            ).first()
            if r is not None:
                pause = None
                if ctx.has("workflow_pauses"):
                    pause = conn.execute(
                        sa.select(WorkflowPause.created_at).where(
                            WorkflowPause.workflow_run_id == r.id, WorkflowPause.resumed_at.is_(None)
                        )
                    ).scalar()
                run = RunInfo(r.id, True, r.status, r.triggered_from, r.created_at, r.finished_at, pause)
    conversation = None
    if row.conversation_id:
        conversation = ConversationInfo(row.conversation_id, exists=False)
        if ctx.has("conversations"):
            columns = [Conversation.id, Conversation.name, Conversation.from_source, Conversation.updated_at]
            if ctx.has_is_deleted:
                columns.append(Conversation.is_deleted)
            query = sa.select(*columns).where(Conversation.id == row.conversation_id)
            if ctx.has("apps"):  # conversations have no tenant column: scope them through their app
                query = query.join(App, App.id == Conversation.app_id).where(App.tenant_id == row.tenant_id)
            c = conn.execute(query).first()
            if c is not None:
                conversation = ConversationInfo(
                    c.id,
                    True,
                    mask_text(c.name or ""),
                    c.from_source,
                    bool(c.is_deleted) if ctx.has_is_deleted else None,
                    c.updated_at,
                )
    binding = None
    if row.binding_id:
        b = conn.execute(
            sa.select(WorkflowAgentNodeBinding).where(
                WorkflowAgentNodeBinding.id == row.binding_id,
                WorkflowAgentNodeBinding.tenant_id == row.tenant_id,
            )
        ).first()
        binding = (
            BindingInfo(b.id, True, b.workflow_version, b.node_id, str(b.binding_type))
            if b is not None
            else BindingInfo(row.binding_id, False)
        )
    snapshot = parse_json(row.session_snapshot, expect_object=True)
    has_history = False
    if snapshot.ok and isinstance(snapshot.value.get("layers"), list):
        has_history = any(
            isinstance(layer, dict) and layer.get("name") == "history" and layer.get("runtime_state")
            for layer in snapshot.value["layers"]
        )
    specs_doc = parse_json(row.composition_layer_specs)
    specs: list[LayerSpec] = []
    specs_error = specs_doc.error
    if specs_doc.ok and isinstance(specs_doc.value, list):
        for spec in specs_doc.value:
            if isinstance(spec, dict):
                metadata = spec.get("metadata")
                origin = metadata.get("origin") if isinstance(metadata, dict) else None
                specs.append(
                    LayerSpec(
                        str(spec.get("name", "?")),
                        str(spec.get("type", "?")),
                        str(origin) if origin else None,
                    )
                )
    elif specs_doc.ok:
        specs_error = f"JSON is a {type(specs_doc.value).__name__}, not a list"
    return SessionDetail(
        row=decorated,
        facts=facts,
        agent_status=facts.agent_status,
        run=run,
        conversation=conversation,
        binding=binding,
        node_execution_id=row.node_execution_id,
        snapshot_masked=mask_session_snapshot(snapshot.value) if snapshot.ok else None,
        snapshot_error=snapshot.error,
        snapshot_text_masked=None if snapshot.ok else mask_text((snapshot.raw or "")[:MAX_RAW_CHARS]),
        has_history=has_history,
        specs=tuple(specs),
        specs_masked=mask_layer_specs(specs_doc.value) if specs_doc.ok else None,
        specs_error=specs_error,
    )
