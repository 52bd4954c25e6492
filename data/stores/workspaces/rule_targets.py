"""What a rule selects (ids, window by window) and how many rows each rule matches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from data.models.workspaces import AgentHomeSnapshot, AgentWorkspace, AgentWorkspaceBinding
from data.rules.workspace_leaks import (
    ACTIVE,
    RETIRED,
    WorkspaceRuleContext,
)
from data.stores.workspace_leaks import (
    first_match_binding_condition,
    first_match_home_condition,
    first_match_workspace_condition,
    workspace_join,
)

W, B, H = AgentWorkspace, AgentWorkspaceBinding, AgentHomeSnapshot
#: Rule counts read at most this many of the newest rows per table (exact below it).
COUNT_SCAN = 10_000
#: Index-served counts (`uncollected`) stop at this many.
COUNT_CAP = 10_000
COLLECT_WINDOW = 50_000


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
