"""Leak charts' numbers (data/stores/leak_trends.py): the pure bucketing, and parity of the bounded
per-rule counts with the rules' SQL twins on both generations."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from data.models import AgentRuntimeSession
from data.rules.session_leaks import RULE_NAMES, RuleContext
from data.rules.workspace_leaks import RULE_NAMES as WS_RULES
from data.schema_check import check_schema
from data.stores import leak_trends
from data.stores.session_leaks import first_match_condition
from tests.conftest import NOW
from tests.test_workspaces import ctx_of, planted_db, sql_matches


def test_age_buckets_and_days_are_ordered_and_bounded() -> None:
    now = datetime(2026, 11, 30, 12)
    assert leak_trends.age_bucket(now - timedelta(hours=3), now) == "< 1 day"
    assert leak_trends.age_bucket(now - timedelta(days=1), now) == "1-7 days"
    assert leak_trends.age_bucket(now - timedelta(days=29), now) == "7-30 days"
    assert leak_trends.age_bucket(now - timedelta(days=400), now) == "90+ days"
    assert leak_trends.age_bucket(None, now) == "90+ days"
    rows = [
        ("idle", now - timedelta(days=40), now - timedelta(days=10)),
        ("finished-run", now - timedelta(hours=2), now - timedelta(hours=1)),
        ("idle", now - timedelta(days=45), now - timedelta(days=10)),
        ("orphaned", now - timedelta(days=3), None),
    ]
    t = leak_trends.summarize(rows, rules=RULE_NAMES, now=now, unit="sessions", scanned=9, scan=10, cut=False)
    assert t.by_rule == (("finished-run", 1), ("orphaned", 1), ("superseded", 0), ("idle", 2))
    assert t.by_age == (
        ("finished-run", "< 1 day", 1),
        ("orphaned", "1-7 days", 1),
        ("idle", "30-90 days", 2),
    )
    assert t.by_day == (
        (date(2026, 11, 20), "idle", 2),
        (date(2026, 11, 27), "orphaned", 1),
        (now.date(), "finished-run", 1),
    )
    assert t.total == 4 and t.count("idle") == 2
    assert t.bound == "among all 9 sessions"
    cut = leak_trends.summarize([], rules=RULE_NAMES, now=now, unit="bindings", scanned=10, scan=10, cut=True)
    assert "newest 10 bindings" in cut.bound and cut.total == 0


def test_session_trends_match_the_rules_sql_and_respect_the_bound(seeded_sqlite_file: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{seeded_sqlite_file}")
    with engine.connect() as conn:
        ctx = RuleContext.from_report(check_schema(conn), now=NOW, idle_days=7)
        trends = leak_trends.session_trends(conn, ctx)
        total = conn.execute(sa.select(sa.func.count()).select_from(AgentRuntimeSession)).scalar_one()
        assert total < leak_trends.TREND_SCAN and not trends.cut and trends.scanned == total
        for rule in RULE_NAMES:
            expected = conn.execute(
                sa.select(sa.func.count()).where(first_match_condition(rule, ctx, AgentRuntimeSession))
            ).scalar_one()
            assert trends.count(rule) == expected, rule
        assert trends.total > 0  # the demo has leaks to chart
        assert sum(n for *_, n in trends.by_age) == trends.total == sum(n for *_, n in trends.by_day)
        small = leak_trends.session_trends(conn, ctx, scan=5)
        assert small.cut and small.scanned == 5 and small.total <= 5
    engine.dispose()


def test_binding_trends_match_the_rules_sql(sqlite_url: str) -> None:
    engine, _ = planted_db(sqlite_url)
    with engine.connect() as conn:
        ctx = ctx_of(conn)
        trends = leak_trends.binding_trends(conn, ctx)
        assert not trends.cut
        for rule in WS_RULES:
            assert trends.count(rule) == len(sql_matches(conn, ctx, rule)[1]), rule
        assert trends.total > 0
        small = leak_trends.binding_trends(conn, ctx, scan=2)
        assert small.cut and small.scanned == 2 and small.total <= 2
    engine.dispose()
