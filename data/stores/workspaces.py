"""Dify 1.17+ working environments: workspace bindings with their workspace, keyset pages in id order,
rule counts, one binding's and one workspace's detail, and the ids a rule selects.

What Dify's indexes serve (reference section 3): bindings (tenant_id, agent_id, status), (tenant_id,
workspace_id, status), (status, retired_at); workspaces (tenant_id, status), (tenant_id, app_id,
status), (status, retired_at), the owner unique index. A list filter made only of what these serve is
*served* (a direct keyset query); any other condition (a rule other than `uncollected`, owner type
without a run or conversation, an `updated_*` range, app or agent without a workspace) makes it a
*bounded scan*: a page reads at most `scan_limit` candidate bindings in id order (the served
conditions pick the candidates) and shows the matches among them, and says so.

Invariants: never OFFSET for paging (cursors are opaque ids); the tenant id is in every join; reading
a row never raises on bad JSON or unknown values; every document leaves here masked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from data.masking import mask_session_snapshot, mask_text
from data.models import Agent, AgentConfigSnapshot, App, Conversation, WorkflowPause, WorkflowRun
from data.models.drafts import AgentConfigDraft
from data.models.workspaces import AgentHomeSnapshot, AgentWorkspace, AgentWorkspaceBinding
from data.paging import InvalidCursor as InvalidCursor  # re-exported: pages catch store.InvalidCursor
from data.paging import Page, decode_id_cursor, encode_id_cursor, fetch_limit, keyset_page
from data.rules.workspace_leaks import (
    ACTIVE,
    OWNER_CONVERSATION,
    OWNER_DRAFT,
    OWNER_RUN,
    RETIRED,
    BindingFacts,
    HomeFacts,
    WorkspaceFacts,
    WorkspaceRuleContext,
    binding_protected,
    classify_binding,
    classify_workspace,
    workspace_protected,
)
from data.stores.filters import day_range
from data.stores.sessions import (
    LIST_PARSE_CHARS,
    MAX_RAW_CHARS,
    LayerSummary,
    parse_layers,
)
from data.stores.workspace_leaks import (
    binding_columns,
    binding_fact_columns,
    binding_facts,
    first_match_binding_condition,
    first_match_home_condition,
    first_match_workspace_condition,
    home_fact_columns,
    home_facts,
    workspace_columns,
    workspace_fact_columns,
    workspace_facts,
    workspace_join,
)
from data.tolerant import parse_json

W, B, H = AgentWorkspace, AgentWorkspaceBinding, AgentHomeSnapshot
PAGE_SIZE = 50
SCAN_LIMIT = 10_000
#: Rule counts read at most this many of the newest rows per table (exact below it).
COUNT_SCAN = 10_000
#: Index-served counts (`uncollected`) stop at this many.
COUNT_CAP = 10_000
CHUNK = 500
COLLECT_WINDOW = 50_000
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
        values = {
            "tenant": self.tenant_id,
            "app": self.app_id,
            "agent": self.agent_id,
            "owner": self.owner,
            "status": self.status,
            "rule": self.rule,
            "run": self.run_id,
            "conversation": self.conversation_id,
            "workspace": self.workspace_id,
            "updated_from": self.updated_from.isoformat() if self.updated_from else None,
            "updated_to": self.updated_to.isoformat() if self.updated_to else None,
            "updated_before": self.updated_before.isoformat(sep=" ") if self.updated_before else None,
        }
        return {k: v for k, v in values.items() if v}


@dataclass(frozen=True)
class Access:
    """How a list query reaches its rows, for the page to say plainly."""

    mode: str  # "primary key" | "index" | "bounded scan"
    served_by: str | None
    scan_limit: int | None = None
    window_cut: bool = False

    @property
    def bounded(self) -> bool:
        return self.scan_limit is not None


@dataclass(frozen=True)
class _Plan:
    access: Access
    served: tuple[sa.ColumnElement[bool], ...]  # conditions on B that pick the candidates


def _owner_workspaces(conn: sa.Connection, flt: WorkspaceFilter) -> tuple[str | None, list[str]] | None:
    """(tenant, workspace ids) of a run or conversation filter, through the owner unique index."""
    if flt.run_id:
        owner_type, owner_id = OWNER_RUN, flt.run_id
        tenant = (
            flt.tenant_id
            or conn.execute(sa.select(WorkflowRun.tenant_id).where(WorkflowRun.id == owner_id)).scalar()
        )
    elif flt.conversation_id:
        owner_type, owner_id = OWNER_CONVERSATION, flt.conversation_id
        tenant = (
            flt.tenant_id
            or conn.execute(
                sa.select(App.tenant_id)
                .join(Conversation, Conversation.app_id == App.id)
                .where(Conversation.id == owner_id)
            ).scalar()
        )
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


# --- rows -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BindingRow:
    id: str
    tenant_id: str
    workspace_name: str
    workspace_id: str
    workspace_status: str | None  # None: no workspace row
    owner_type: str | None
    owner_label: str
    app_id: str
    app_name: str | None
    agent_id: str
    agent_name: str | None
    version_kind: str
    version_id: str
    version_label: str
    status: str
    created_at: datetime
    updated_at: datetime
    retired_at: datetime | None
    pending: str | None  # "form <id>" / "tool call <id>"
    snapshot_chars: int
    layers: LayerSummary
    rule: str | None
    protected: bool  # pending form / tool call, or a running or paused run: no rule applies
    facts: BindingFacts


@dataclass(frozen=True, kw_only=True)
class BindingPage(Page[BindingRow]):
    access: Access


def _one(column: Any, *where: sa.ColumnElement[bool]) -> sa.ScalarSelect:
    return sa.select(column).where(*where).limit(1).scalar_subquery()


def _display_columns(ctx: WorkspaceRuleContext, b: Any, w: Any) -> tuple[sa.Label, ...]:
    from data.models import Tenant

    size = sa.func.length(b.session_snapshot)
    conversation_name = (
        _one(Conversation.name, Conversation.id == w.owner_id) if ctx.has("conversations") else sa.null()
    )
    run_status = (
        _one(WorkflowRun.status, WorkflowRun.id == w.owner_id, WorkflowRun.tenant_id == w.tenant_id)
        if ctx.has("workflow_runs")
        else sa.null()
    )
    draft_account = (
        _one(AgentConfigDraft.account_id, AgentConfigDraft.id == w.owner_id)
        if ctx.has("agent_config_drafts")
        else sa.null()
    )
    return (
        b.agent_config_version_kind.label("d_version_kind"),
        b.agent_config_version_id.label("d_version_id"),
        w.owner_scope_key.label("d_scope"),
        size.label("d_chars"),
        sa.case((size <= LIST_PARSE_CHARS, b.session_snapshot), else_=sa.null()).label("d_snapshot"),
        (_one(Tenant.name, Tenant.id == b.tenant_id) if ctx.has("tenants") else sa.null()).label(
            "d_workspace"
        ),
        (
            _one(App.name, App.id == b.app_id, App.tenant_id == b.tenant_id) if ctx.has("apps") else sa.null()
        ).label("d_app"),
        _one(Agent.name, Agent.id == b.agent_id, Agent.tenant_id == b.tenant_id).label("d_agent"),
        sa.case(
            (
                b.agent_config_version_kind == "snapshot",
                _one(
                    AgentConfigSnapshot.version,
                    AgentConfigSnapshot.id == b.agent_config_version_id,
                    AgentConfigSnapshot.tenant_id == b.tenant_id,
                ),
            ),
            else_=sa.null(),
        ).label("d_version"),
        sa.case((w.owner_type == OWNER_CONVERSATION, conversation_name), else_=sa.null()).label(
            "d_conversation"
        ),
        sa.case((w.owner_type == OWNER_RUN, run_status), else_=sa.null()).label("d_run_status"),
        sa.case((w.owner_type == OWNER_DRAFT, draft_account), else_=sa.null()).label("d_draft_account"),
    )


def row_columns(ctx: WorkspaceRuleContext, b: Any, w: Any) -> tuple:
    return (
        *binding_columns(b),
        *binding_fact_columns(ctx, b),
        *workspace_columns(w),
        *workspace_fact_columns(ctx, w),
        *_display_columns(ctx, b, w),
    )


def owner_label(facts: WorkspaceFacts | None, row: Any) -> str:
    if facts is None:
        return "(no workspace row)"
    get = row._mapping
    if facts.owner_type == OWNER_RUN:
        node = (get["d_scope"] or "").split(":", 1)[0] or "—"
        status = get["d_run_status"] or ("no run row" if facts.run_status is None else facts.run_status)
        return f"run {facts.owner_id} · node {node} · {status}"
    if facts.owner_type == OWNER_CONVERSATION:
        if not facts.owner_exists:
            return f"conversation {facts.owner_id} (no row)"
        name = mask_text(str(get["d_conversation"] or ""))[:80]
        return f"conversation {name!r} · {facts.owner_id}" + (" · deleted" if facts.owner_deleted else "")
    if facts.owner_type == OWNER_DRAFT:
        account = get["d_draft_account"]
        return f"build draft {facts.owner_id} · " + (f"account {account}" if account else "no draft row")
    return f"{facts.owner_type} {facts.owner_id}"


def _pending_label(row: Any) -> str | None:
    get = row._mapping
    parts = []
    if get["b_pending_form_id"]:
        parts.append(f"form {get['b_pending_form_id']}")
    if get["b_pending_tool_call_id"]:
        parts.append(f"tool call {mask_text(str(get['b_pending_tool_call_id']))}")
    return ", ".join(parts) or None


def _decorate(rows: Sequence[Any], ctx: WorkspaceRuleContext) -> list[BindingRow]:
    result = []
    for r in rows:
        f = binding_facts(r)
        get = r._mapping
        chars = int(get["d_chars"] or 0)
        layers = (
            parse_layers(get["d_snapshot"])
            if get["d_snapshot"] is not None
            else LayerSummary(
                (), f"{chars:,} characters: open the binding to see its layers" if chars else None
            )
        )
        kind = str(get["d_version_kind"])
        version = get["d_version"]
        result.append(
            BindingRow(
                id=f.id,
                tenant_id=f.tenant_id,
                workspace_name=get["d_workspace"] or f.tenant_id,
                workspace_id=f.workspace_id,
                workspace_status=f.workspace.status if f.workspace else None,
                owner_type=f.workspace.owner_type if f.workspace else None,
                owner_label=owner_label(f.workspace, r),
                app_id=f.app_id,
                app_name=get["d_app"],
                agent_id=f.agent_id,
                agent_name=get["d_agent"],
                version_kind=kind,
                version_id=get["d_version_id"],
                version_label=f"{kind} v{version}"
                if version is not None
                else f"{kind} {get['d_version_id']}",
                status=f.status,
                created_at=f.created_at,
                updated_at=f.updated_at,
                retired_at=f.retired_at,
                pending=_pending_label(r),
                snapshot_chars=chars,
                layers=layers,
                rule=classify_binding(f, ctx),
                protected=binding_protected(f, ctx),
                facts=f,
            )
        )
    return result


def _binding_window(plan: _Plan, key: str | None, forward: bool, limit: int) -> Any:
    """At most `limit` candidate bindings in id order from `key` (a LIMIT-fenced subquery)."""
    query = sa.select(B).where(*plan.served)
    if key is not None:
        query = query.where(B.id < key if forward else B.id > key)
    inner = query.order_by(B.id.desc() if forward else B.id.asc()).limit(limit).subquery("window")
    return aliased(B, inner, name="window")


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
        query = query.where(*plan.served)
        if key is not None:
            query = query.where(b.id < key if forward else b.id > key)
    return query.order_by(b.id.desc() if forward else b.id.asc()).limit(limit)


def _window_edge(conn, plan: _Plan, key: str | None, forward: bool, limit: int) -> str | None:
    query = sa.select(B.id).where(*plan.served)
    if key is not None:
        query = query.where(B.id < key if forward else B.id > key)
    order = B.id.desc() if forward else B.id.asc()
    return conn.execute(query.order_by(order).offset(limit - 1).limit(1)).scalar()


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
        _window_edge(conn, plan, key, forward, scan_limit)
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
        _decorate(page.rows, ctx), page.next_cursor, page.prev_cursor, page.has_more, access=access
    )


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


# --- what a rule selects ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleTargets:
    """The ids a rule selects (newest first), within stated bounds."""

    rule: str
    workspace_ids: tuple[str, ...]
    binding_ids: tuple[str, ...]
    home_ids: tuple[str, ...]
    complete: bool  # every matching row is here (no cap or bound reached)

    @property
    def count(self) -> int:
        return len(self.workspace_ids) + len(self.binding_ids) + len(self.home_ids)


def _collect(
    conn: sa.Connection, base: sa.Select, id_column: Any, cap: int, window: int, windowed: Any
) -> tuple[list[str], bool]:
    """Matching ids window by window (each statement reads at most `window` rows in id order)."""
    found: list[str] = []
    key: str | None = None
    while True:
        statement = windowed(key, window)
        ids = list(conn.execute(statement.limit(cap - len(found) + 1)).scalars())
        if len(found) + len(ids) > cap:
            found.extend(ids[: cap - len(found)])
            return found, False
        found.extend(ids)
        edge = conn.execute(
            base.where(*((id_column < key,) if key else ()))
            .order_by(id_column.desc())
            .offset(window - 1)
            .limit(1)
        ).scalar()
        if edge is None:
            return found, True
        key = edge


def collect_rule_targets(
    conn: sa.Connection,
    rule: str,
    ctx: WorkspaceRuleContext,
    *,
    tenant_id: str | None = None,
    updated_before: datetime | None = None,
    retired_before: datetime | None = None,
    cap: int = 10_000,
    window: int = COLLECT_WINDOW,
) -> RuleTargets:
    """Workspaces, bindings (and for `uncollected` home snapshots) whose first matching rule is `rule`.

    Bindings of a workspace that is itself selected are left out: retiring the workspace retires them.
    `updated_before` (CLI --older-than) applies to bindings' and workspaces' updated_at; for
    `uncollected`, `retired_before` replaces the hours threshold.
    """
    if retired_before is not None:
        ctx = WorkspaceRuleContext(
            now=ctx.now,
            idle_days=ctx.idle_days,
            uncollected_hours=max(0, int((ctx.now - retired_before) / timedelta(hours=1))),
            tables=ctx.tables,
            has_is_deleted=ctx.has_is_deleted,
            snapshot_home_ref=ctx.snapshot_home_ref,
            draft_home_ref=ctx.draft_home_ref,
        )
    complete = True

    def ws_query(key: str | None, limit: int) -> sa.Select:
        base = sa.select(W).where(*([W.tenant_id == tenant_id] if tenant_id else []))
        if rule == "uncollected":
            base = base.where(W.status == RETIRED)
        if key:
            base = base.where(W.id < key)
        inner = base.order_by(W.id.desc()).limit(limit).subquery("wwin")
        w = aliased(W, inner, name="wwin")
        query = sa.select(w.id).where(first_match_workspace_condition(rule, ctx, w))
        if updated_before:
            query = query.where(w.updated_at < updated_before)
        return query.order_by(w.id.desc())

    ws_base = sa.select(W.id).where(*([W.tenant_id == tenant_id] if tenant_id else []))
    if rule == "uncollected":
        ws_base = ws_base.where(W.status == RETIRED)
    workspace_ids, ok = _collect(conn, ws_base, W.id, cap, window, ws_query)
    complete &= ok

    def b_query(key: str | None, limit: int) -> sa.Select:
        base = sa.select(B).where(*([B.tenant_id == tenant_id] if tenant_id else []))
        base = base.where(B.status == (RETIRED if rule == "uncollected" else ACTIVE))
        if key:
            base = base.where(B.id < key)
        inner = base.order_by(B.id.desc()).limit(limit).subquery("bwin")
        b = aliased(B, inner, name="bwin")
        w = aliased(W, name="ws")
        query = (
            sa.select(b.id)
            .select_from(b)
            .outerjoin(w, workspace_join(b, w))
            .where(first_match_binding_condition(rule, ctx, b, w))
        )
        if workspace_ids and rule != "uncollected":
            chosen = set(workspace_ids)
            query = query.where(b.workspace_id.not_in(list(chosen))) if len(chosen) <= 5_000 else query
        if updated_before:
            query = query.where(b.updated_at < updated_before)
        return query.order_by(b.id.desc())

    b_base = sa.select(B.id).where(*([B.tenant_id == tenant_id] if tenant_id else []))
    b_base = b_base.where(B.status == (RETIRED if rule == "uncollected" else ACTIVE))
    binding_ids, ok = _collect(conn, b_base, B.id, max(cap - len(workspace_ids), 0), window, b_query)
    complete &= ok
    home_ids: list[str] = []
    if rule == "uncollected":

        def h_query(key: str | None, limit: int) -> sa.Select:
            base = sa.select(H).where(H.status == RETIRED, *([H.tenant_id == tenant_id] if tenant_id else []))
            if key:
                base = base.where(H.id < key)
            inner = base.order_by(H.id.desc()).limit(limit).subquery("hwin")
            h = aliased(H, inner, name="hwin")
            return sa.select(h.id).where(first_match_home_condition(rule, ctx, h)).order_by(h.id.desc())

        h_base = sa.select(H.id).where(
            H.status == RETIRED, *([H.tenant_id == tenant_id] if tenant_id else [])
        )
        home_ids, ok = _collect(
            conn, h_base, H.id, max(cap - len(workspace_ids) - len(binding_ids), 0), window, h_query
        )
        complete &= ok
    return RuleTargets(rule, tuple(workspace_ids), tuple(binding_ids), tuple(home_ids), complete)


# --- counts per rule --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleCount:
    rule: str
    workspaces: int
    bindings: int
    homes: int
    exact: bool  # False: among the newest COUNT_SCAN rows per table, or capped

    @property
    def total(self) -> int:
        return self.workspaces + self.bindings + self.homes


@dataclass(frozen=True)
class RuleCounts:
    counts: tuple[RuleCount, ...]
    note: str  # how exact they are, stated


def _count(conn: sa.Connection, query: sa.Select, cap: int) -> int:
    return int(
        conn.execute(sa.select(sa.func.count()).select_from(query.limit(cap + 1).subquery())).scalar() or 0
    )


def rule_counts(
    conn: sa.Connection, ctx: WorkspaceRuleContext, *, tenant_id: str | None = None, scan: int = COUNT_SCAN
) -> RuleCounts:
    """Counts per rule: exact when each table has at most `scan` rows (in the workspace), else among the
    newest `scan` rows; `uncollected` through the (status, retired_at) indexes, exact up to COUNT_CAP."""
    from data.rules.workspace_leaks import RULES

    tenant_b = [B.tenant_id == tenant_id] if tenant_id else []
    tenant_w = [W.tenant_id == tenant_id] if tenant_id else []
    b_inner = sa.select(B).where(*tenant_b).order_by(B.id.desc()).limit(scan).subquery("bcount")
    w_inner = sa.select(W).where(*tenant_w).order_by(W.id.desc()).limit(scan).subquery("wcount")
    b_cut = _count(conn, sa.select(B.id).where(*tenant_b), scan) > scan
    w_cut = _count(conn, sa.select(W.id).where(*tenant_w), scan) > scan
    counts = []
    for rule in RULES:
        if rule.name == "uncollected":
            w = aliased(W, name="wu")
            b = aliased(B, name="bu")
            wsel = sa.select(w.id).where(
                w.status == RETIRED,
                *([w.tenant_id == tenant_id] if tenant_id else []),
                first_match_workspace_condition(rule.name, ctx, w),
            )
            bw = aliased(W, name="ws")
            bsel = (
                sa.select(b.id)
                .select_from(b)
                .outerjoin(bw, workspace_join(b, bw))
                .where(
                    b.status == RETIRED,
                    *([b.tenant_id == tenant_id] if tenant_id else []),
                    first_match_binding_condition(rule.name, ctx, b, bw),
                )
            )
            hsel = sa.select(H.id).where(
                H.status == RETIRED,
                *([H.tenant_id == tenant_id] if tenant_id else []),
                first_match_home_condition(rule.name, ctx, H),
            )
            nw, nb, nh = (_count(conn, q, COUNT_CAP) for q in (wsel, bsel, hsel))
            counts.append(
                RuleCount(
                    rule.name,
                    min(nw, COUNT_CAP),
                    min(nb, COUNT_CAP),
                    min(nh, COUNT_CAP),
                    max(nw, nb, nh) <= COUNT_CAP,
                )
            )
            continue
        w = aliased(W, w_inner, name="wcount")
        b = aliased(B, b_inner, name="bcount")
        bw = aliased(W, name="ws")
        nw = _count(conn, sa.select(w.id).where(first_match_workspace_condition(rule.name, ctx, w)), scan)
        nb = _count(
            conn,
            sa.select(b.id)
            .select_from(b)
            .outerjoin(bw, workspace_join(b, bw))
            .where(first_match_binding_condition(rule.name, ctx, b, bw)),
            scan,
        )
        counts.append(RuleCount(rule.name, nw, nb, 0, not (b_cut or w_cut)))
    if b_cut or w_cut:
        note = f"Counts among the newest {scan:,} bindings and {scan:,} workspaces (bounded); `uncollected` through Dify's (status, retired_at) indexes."
    else:
        note = "Exact counts."
    return RuleCounts(tuple(counts), note)


# --- one binding, one workspace ------------------------------------------------------------------------


@dataclass(frozen=True)
class CallerPointer:
    kind: str  # "conversation" | "node execution" | "build draft"
    id: str
    label: str


@dataclass(frozen=True)
class OwnerInfo:
    owner_type: str
    owner_id: str
    exists: bool
    label: str
    run_status: str | None = None
    run_open_pause_since: datetime | None = None
    finished_at: datetime | None = None


@dataclass(frozen=True)
class WorkspaceRow:
    facts: WorkspaceFacts
    owner_scope_key: str
    backend_workspace_ref: str  # shown, never editable
    rule: str | None
    protected: bool


@dataclass(frozen=True)
class BindingDetail:
    row: BindingRow
    workspace: WorkspaceRow | None
    owner: OwnerInfo | None
    backend_binding_ref: str
    base_home_snapshot_id: str | None
    callers: tuple[CallerPointer, ...]
    snapshot_masked: Any
    snapshot_error: str | None
    snapshot_text_masked: str | None
    has_history: bool


@dataclass(frozen=True)
class WorkspaceDetail:
    workspace: WorkspaceRow
    owner: OwnerInfo
    bindings: tuple[BindingRow, ...]


def _workspace_row(conn: sa.Connection, workspace_id: str, ctx: WorkspaceRuleContext) -> WorkspaceRow | None:
    row = conn.execute(
        sa.select(
            *workspace_columns(W), *workspace_fact_columns(ctx, W), W.owner_scope_key, W.backend_workspace_ref
        ).where(W.id == workspace_id)
    ).first()
    if row is None:
        return None
    f = workspace_facts(row)
    assert f is not None
    return WorkspaceRow(
        f,
        str(row.owner_scope_key),
        str(row.backend_workspace_ref),
        classify_workspace(f, ctx),
        workspace_protected(f, ctx),
    )


def _owner(conn: sa.Connection, w: WorkspaceRow, ctx: WorkspaceRuleContext) -> OwnerInfo:
    f = w.facts
    if f.owner_type == OWNER_RUN and ctx.has("workflow_runs"):
        run = conn.execute(
            sa.select(WorkflowRun).where(WorkflowRun.id == f.owner_id, WorkflowRun.tenant_id == f.tenant_id)
        ).first()
        if run is None:
            return OwnerInfo(f.owner_type, f.owner_id, False, f"workflow run {f.owner_id} (no row)")
        pause = None
        if ctx.has("workflow_pauses"):
            pause = conn.execute(
                sa.select(WorkflowPause.created_at).where(
                    WorkflowPause.workflow_run_id == run.id, WorkflowPause.resumed_at.is_(None)
                )
            ).scalar()
        node = w.owner_scope_key.split(":", 1)[0]
        return OwnerInfo(
            f.owner_type,
            f.owner_id,
            True,
            f"workflow run {run.id} · node {node} · {run.status}",
            str(run.status),
            pause,
            run.finished_at,
        )
    if f.owner_type == OWNER_CONVERSATION and ctx.has("conversations"):
        columns: list[Any] = [Conversation.id, Conversation.name, Conversation.from_source]
        if ctx.has_is_deleted:
            columns.append(Conversation.is_deleted)
        c = conn.execute(sa.select(*columns).where(Conversation.id == f.owner_id)).first()
        if c is None:
            return OwnerInfo(f.owner_type, f.owner_id, False, f"conversation {f.owner_id} (no row)")
        deleted = bool(c.is_deleted) if ctx.has_is_deleted else False
        return OwnerInfo(
            f.owner_type,
            f.owner_id,
            True,
            f"conversation {mask_text(c.name or '')!r} · {c.id} · from {c.from_source}"
            + (" · deleted (is_deleted)" if deleted else ""),
        )
    if f.owner_type == OWNER_DRAFT and ctx.has("agent_config_drafts"):
        d = conn.execute(
            sa.select(AgentConfigDraft.id, AgentConfigDraft.account_id, AgentConfigDraft.draft_type).where(
                AgentConfigDraft.id == f.owner_id, AgentConfigDraft.tenant_id == f.tenant_id
            )
        ).first()
        if d is None:
            return OwnerInfo(
                f.owner_type, f.owner_id, False, f"build draft {f.owner_id} (no row: applied or discarded)"
            )
        return OwnerInfo(
            f.owner_type, f.owner_id, True, f"build draft {d.id} · {d.draft_type} · account {d.account_id}"
        )
    return OwnerInfo(
        f.owner_type, f.owner_id, True, f"{f.owner_type} {f.owner_id} (not checked: table missing)"
    )


def _callers(
    conn: sa.Connection, binding_id: str, w: WorkspaceRow | None, agent_id: str, ctx: WorkspaceRuleContext
) -> tuple[CallerPointer, ...]:
    """Who points at the binding, found through the workspace's owner (the pointer columns have no index)."""
    result: list[CallerPointer] = []
    if w is None:
        return ()
    f = w.facts
    if f.owner_type == OWNER_CONVERSATION and ctx.has("conversations"):
        hit = conn.execute(
            sa.select(Conversation.id).where(
                Conversation.id == f.owner_id, Conversation.agent_workspace_binding_id == binding_id
            )
        ).scalar()
        if hit:
            result.append(CallerPointer("conversation", hit, f"conversation {hit}"))
    if f.owner_type == OWNER_RUN and ctx.has("workflow_node_executions"):
        from data.models.core import WorkflowNodeExecution

        for e in conn.execute(
            sa.select(WorkflowNodeExecution.id, WorkflowNodeExecution.node_id, WorkflowNodeExecution.status)
            .where(
                WorkflowNodeExecution.tenant_id == f.tenant_id,
                WorkflowNodeExecution.workflow_run_id == f.owner_id,
                WorkflowNodeExecution.agent_workspace_binding_id == binding_id,
            )
            .limit(20)
        ):
            result.append(
                CallerPointer(
                    "node execution", e.id, f"node execution {e.id} · node {e.node_id} · {e.status}"
                )
            )
    if ctx.has("agent_config_drafts"):
        for d in conn.execute(
            sa.select(AgentConfigDraft.id, AgentConfigDraft.draft_type)
            .where(
                AgentConfigDraft.tenant_id == f.tenant_id,
                AgentConfigDraft.agent_id == agent_id,
                AgentConfigDraft.agent_workspace_binding_id == binding_id,
            )
            .limit(20)
        ):
            result.append(CallerPointer("build draft", d.id, f"draft {d.id} · {d.draft_type}"))
    return tuple(result)


def get_binding(conn: sa.Connection, binding_id: str, ctx: WorkspaceRuleContext) -> BindingDetail | None:
    w = aliased(W, name="ws")
    row = conn.execute(
        sa.select(*row_columns(ctx, B, w), B.session_snapshot, B.backend_binding_ref, B.base_home_snapshot_id)
        .select_from(B)
        .outerjoin(w, workspace_join(B, w))
        .where(B.id == binding_id)
    ).first()
    if row is None:
        return None
    decorated = _decorate([row], ctx)[0]
    workspace = _workspace_row(conn, decorated.workspace_id, ctx) if decorated.facts.workspace else None
    owner = _owner(conn, workspace, ctx) if workspace else None
    snapshot = parse_json(row.session_snapshot, expect_object=True)
    has_history = bool(
        snapshot.ok
        and isinstance(snapshot.value.get("layers"), list)
        and any(
            isinstance(layer, dict) and layer.get("name") == "history" and layer.get("runtime_state")
            for layer in snapshot.value["layers"]
        )
    )
    return BindingDetail(
        row=decorated,
        workspace=workspace,
        owner=owner,
        backend_binding_ref=str(row.backend_binding_ref),
        base_home_snapshot_id=row.base_home_snapshot_id,
        callers=_callers(conn, binding_id, workspace, decorated.agent_id, ctx),
        snapshot_masked=mask_session_snapshot(snapshot.value) if snapshot.ok else None,
        snapshot_error=snapshot.error if row.session_snapshot is not None else None,
        snapshot_text_masked=None if snapshot.ok else mask_text((snapshot.raw or "")[:MAX_RAW_CHARS]),
        has_history=has_history,
    )


def get_workspace(
    conn: sa.Connection, workspace_id: str, ctx: WorkspaceRuleContext, *, limit: int = 200
) -> WorkspaceDetail | None:
    workspace = _workspace_row(conn, workspace_id, ctx)
    if workspace is None:
        return None
    w = aliased(W, name="ws")
    rows = conn.execute(
        sa.select(*row_columns(ctx, B, w))
        .select_from(B)
        .outerjoin(w, workspace_join(B, w))
        .where(B.tenant_id == workspace.facts.tenant_id, B.workspace_id == workspace_id)
        .order_by(B.id.desc())
        .limit(limit)
    ).all()
    return WorkspaceDetail(workspace, _owner(conn, workspace, ctx), tuple(_decorate(rows, ctx)))


def binding_snapshot_for_reveal(conn: sa.Connection, binding_id: str) -> Any:
    """(tenant_id, status, session_snapshot) of one binding, for the audited reveal."""
    return conn.execute(
        sa.select(B.tenant_id, B.status, B.session_snapshot).where(B.id == binding_id)
    ).first()


def workspaces_matching(
    conn: sa.Connection,
    rule: str,
    ctx: WorkspaceRuleContext,
    *,
    tenant_id: str | None = None,
    limit: int = 50,
    scan: int = SCAN_LIMIT,
) -> tuple[WorkspaceRow, ...]:
    """Workspaces whose first rule is `rule`, among the newest `scan` (shown next to the binding list:
    a workspace without any binding row has no row in it)."""
    base = sa.select(W).where(*([W.tenant_id == tenant_id] if tenant_id else []))
    inner = base.order_by(W.id.desc()).limit(scan).subquery("wwin")
    w = aliased(W, inner, name="wwin")
    rows = conn.execute(
        sa.select(
            *workspace_columns(w), *workspace_fact_columns(ctx, w), w.owner_scope_key, w.backend_workspace_ref
        )
        .where(first_match_workspace_condition(rule, ctx, w))
        .order_by(w.id.desc())
        .limit(limit)
    ).all()
    result = []
    for r in rows:
        f = workspace_facts(r)
        assert f is not None
        result.append(
            WorkspaceRow(
                f,
                str(r.owner_scope_key),
                str(r.backend_workspace_ref),
                classify_workspace(f, ctx),
                workspace_protected(f, ctx),
            )
        )
    return tuple(result)
