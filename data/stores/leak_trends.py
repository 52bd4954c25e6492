"""Leak charts for `/sessions` on both generations: matches per rule, per age bucket, per day.

Bounded by construction: every statement reads the newest `TREND_SCAN` rows (primary-key order) of one
table, in the workspace when one is chosen, and applies the rules' SQL twins
(`first_match_condition`, `first_match_binding_condition`) to them; it never counts a whole table. The
result says how many rows it looked at and whether the table had more (`cut`), so the chart's caption
can state the cap. Bucketing is a pure function (`summarize`), tested without a database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from data.models import AgentRuntimeSession
from data.models.workspaces import AgentWorkspace, AgentWorkspaceBinding
from data.rules.session_leaks import RULE_NAMES as SESSION_RULES
from data.rules.session_leaks import RuleContext
from data.rules.workspace_leaks import RULE_NAMES as WORKSPACE_RULES
from data.rules.workspace_leaks import WorkspaceRuleContext
from data.stores.session_leaks import first_match_condition
from data.stores.workspace_leaks import first_match_binding_condition, workspace_join

#: Rows of one table a chart looks at, newest first (stated in the chart's caption).
TREND_SCAN = 10_000
#: Age buckets by creation time: (label, upper bound in days; None = no bound), youngest first.
AGE_BUCKETS: tuple[tuple[str, float | None], ...] = (
    ("< 1 day", 1),
    ("1-7 days", 7),
    ("7-30 days", 30),
    ("30-90 days", 90),
    ("90+ days", None),
)
AGE_LABELS = tuple(label for label, _ in AGE_BUCKETS)


@dataclass(frozen=True)
class LeakTrends:
    """Matches per rule, per (rule, age bucket) and per (day of last activity, rule), among `scanned`
    rows (the newest `scan` of the table; `cut`: the table has more)."""

    unit: str  # "sessions" | "bindings"
    rules: tuple[str, ...]  # every rule, in first-match order (zero counts included)
    by_rule: tuple[tuple[str, int], ...]
    by_age: tuple[tuple[str, str, int], ...]  # (rule, age bucket, matches), non-zero only
    by_day: tuple[tuple[date, str, int], ...]  # (day of last activity, rule, matches), oldest first
    scanned: int
    scan: int
    cut: bool

    @property
    def total(self) -> int:
        return sum(n for _, n in self.by_rule)

    def count(self, rule: str) -> int:
        return dict(self.by_rule).get(rule, 0)

    @property
    def bound(self) -> str:
        """How exact the numbers are, stated (the chart's caption)."""
        if self.cut:
            return f"among the newest {self.scan:,} {self.unit} (bounded scan; older ones are not counted)"
        return f"among all {self.scanned:,} {self.unit}"


def age_bucket(created_at: datetime | None, now: datetime) -> str:
    """The AGE_BUCKETS label of a row created at `created_at` (naive UTC); unknown is the oldest."""
    if created_at is None:
        return AGE_LABELS[-1]
    days = (now - created_at).total_seconds() / 86400
    for label, upper in AGE_BUCKETS:
        if upper is not None and days < upper:
            return label
    return AGE_LABELS[-1]


def summarize(
    matches: Iterable[tuple[str, datetime | None, datetime | None]],
    *,
    rules: Sequence[str],
    now: datetime,
    unit: str,
    scanned: int,
    scan: int,
    cut: bool,
) -> LeakTrends:
    """Pure: (rule, created_at, updated_at) per matching row -> the three breakdowns."""
    per_rule: Counter[str] = Counter()
    per_age: Counter[tuple[str, str]] = Counter()
    per_day: Counter[tuple[date, str]] = Counter()
    for rule, created_at, updated_at in matches:
        per_rule[rule] += 1
        per_age[(rule, age_bucket(created_at, now))] += 1
        last = updated_at or created_at
        if last is not None:
            per_day[(last.date(), rule)] += 1
    order = {r: i for i, r in enumerate(rules)}
    return LeakTrends(
        unit=unit,
        rules=tuple(rules),
        by_rule=tuple((r, per_rule[r]) for r in rules),
        by_age=tuple(
            (r, a, n)
            for (r, a), n in sorted(
                per_age.items(), key=lambda kv: (order[kv[0][0]], AGE_LABELS.index(kv[0][1]))
            )
        ),
        by_day=tuple(
            (d, r, n) for (d, r), n in sorted(per_day.items(), key=lambda kv: (kv[0][0], order[kv[0][1]]))
        ),
        scanned=scanned,
        scan=scan,
        cut=cut,
    )


def _newest(conn: sa.Connection, table: Any, tenant_id: str | None, scan: int) -> tuple[Any, int, bool]:
    """The newest `scan` rows of `table` (in the workspace) as a subquery, how many there are, and
    whether the table has more (one bounded count: at most scan + 1 rows)."""
    where = [table.tenant_id == tenant_id] if tenant_id else []
    inner = sa.select(table).where(*where).order_by(table.id.desc()).limit(scan).subquery()
    probe = sa.select(table.id).where(*where).limit(scan + 1).subquery()
    seen = int(conn.execute(sa.select(sa.func.count()).select_from(probe)).scalar() or 0)
    return inner, min(seen, scan), seen > scan


def session_trends(
    conn: sa.Connection, ctx: RuleContext, *, tenant_id: str | None = None, scan: int = TREND_SCAN
) -> LeakTrends:
    """Leaking runtime sessions (Dify 1.15-1.16) among the newest `scan` sessions, one statement per rule."""
    inner, scanned, cut = _newest(conn, AgentRuntimeSession, tenant_id, scan)
    s = aliased(AgentRuntimeSession, inner, name="trend")
    matches: list[tuple[str, datetime | None, datetime | None]] = []
    for rule in SESSION_RULES:
        query = sa.select(s.created_at, s.updated_at).where(first_match_condition(rule, ctx, s))
        matches.extend((rule, row.created_at, row.updated_at) for row in conn.execute(query))
    return summarize(
        matches, rules=SESSION_RULES, now=ctx.now, unit="sessions", scanned=scanned, scan=scan, cut=cut
    )


def binding_trends(
    conn: sa.Connection, ctx: WorkspaceRuleContext, *, tenant_id: str | None = None, scan: int = TREND_SCAN
) -> LeakTrends:
    """Leaking workspace bindings (Dify 1.17+) among the newest `scan` bindings, one statement per rule."""
    inner, scanned, cut = _newest(conn, AgentWorkspaceBinding, tenant_id, scan)
    b = aliased(AgentWorkspaceBinding, inner, name="trend")
    w = aliased(AgentWorkspace, name="trendws")
    matches: list[tuple[str, datetime | None, datetime | None]] = []
    for rule in WORKSPACE_RULES:
        query = (
            sa.select(b.created_at, b.updated_at)
            .select_from(b)
            .outerjoin(w, workspace_join(b, w))
            .where(first_match_binding_condition(rule, ctx, b, w))
        )
        matches.extend((rule, row.created_at, row.updated_at) for row in conn.execute(query))
    return summarize(
        matches, rules=WORKSPACE_RULES, now=ctx.now, unit="bindings", scanned=scanned, scan=scan, cut=cut
    )
