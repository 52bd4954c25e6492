"""Roster store on SQLite and PostgreSQL: filters, search, keyset pagination both ways, counts."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from data.demo import DemoIds
from data.models import Agent, uuidv7
from data.read_context import ReadContext
from data.stores import agents as agents_store
from data.stores.roster import InvalidCursor, RosterFilter, count_roster, list_roster

CORE = frozenset(
    {"tenants", "accounts", "apps", "workflows", "workflow_runs", "conversations", "workflow_pauses"}
)


def all_pages(conn: sa.Connection, flt: RosterFilter, page_size: int = 7) -> list[list[str]]:
    pages, after = [], None
    while True:
        page = list_roster(conn, flt, after=after, page_size=page_size)
        pages.append([r.id for r in page.rows])
        if not page.next_cursor:
            return pages
        after = page.next_cursor


def expected_ids(conn: sa.Connection, flt: RosterFilter) -> list[str]:
    rows = conn.execute(sa.select(Agent.id, Agent.name, Agent.updated_at, Agent.tenant_id, Agent.scope)).all()
    rows = [r for r in rows if not flt.tenant_id or r.tenant_id == flt.tenant_id]
    if flt.sort == "updated":
        rows.sort(key=lambda r: (r.updated_at, r.id), reverse=True)
    elif flt.sort == "name":
        rows.sort(key=lambda r: (r.name, r.id))
    else:
        rows.sort(key=lambda r: r.id, reverse=True)
    return [r.id for r in rows]


@pytest.mark.parametrize("sort", ["updated", "name", "created"])
def test_keyset_pages_cover_everything_in_order(seeded_engine: sa.Engine, sort: str) -> None:
    with seeded_engine.connect() as conn:
        flt = RosterFilter(sort=sort)
        pages = all_pages(conn, flt)
        flat = [i for p in pages for i in p]
        assert flat == expected_ids(conn, flt)
        assert len(flat) == len(set(flat))


def test_backward_pagination_returns_the_previous_page(seeded_engine: sa.Engine) -> None:
    with seeded_engine.connect() as conn:
        first = list_roster(conn, RosterFilter(), page_size=5)
        assert first.prev_cursor is None
        second = list_roster(conn, RosterFilter(), after=first.next_cursor, page_size=5)
        third = list_roster(conn, RosterFilter(), after=second.next_cursor, page_size=5)
        back = list_roster(conn, RosterFilter(), before=third.prev_cursor, page_size=5)
        assert [r.id for r in back.rows] == [r.id for r in second.rows]
        back_again = list_roster(conn, RosterFilter(), before=back.prev_cursor, page_size=5)
        assert [r.id for r in back_again.rows] == [r.id for r in first.rows]


def test_equal_timestamps_paginate_by_id(seeded_url: str) -> None:
    engine = sa.create_engine(seeded_url)
    tenant = DemoIds.TENANT_GLOBEX
    stamp = datetime(2030, 1, 1)
    ids = sorted(uuidv7() for _ in range(9))
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.insert(Agent),
                [
                    dict(
                        id=i,
                        tenant_id=tenant,
                        name=f"tie {n}",
                        description="",
                        scope="workflow_only",
                        source="workflow",
                        updated_at=stamp,
                        created_at=stamp,
                    )
                    for n, i in enumerate(ids)
                ],
            )
        with engine.connect() as conn:
            flt = RosterFilter(tenant_id=tenant, updated_from=stamp.date())
            pages = all_pages(conn, flt, page_size=4)
            assert [i for p in pages for i in p] == sorted(ids, reverse=True)
            assert [len(p) for p in pages] == [4, 4, 1]
    finally:
        with engine.begin() as conn:
            conn.execute(sa.delete(Agent).where(Agent.id.in_(ids)))
        engine.dispose()


def test_filters(seeded_engine: sa.Engine) -> None:
    with seeded_engine.connect() as conn:
        for flt, check in [
            (
                RosterFilter(tenant_id=DemoIds.TENANT_NORTHWIND),
                lambda r: r.tenant_id == DemoIds.TENANT_NORTHWIND,
            ),
            (RosterFilter(scope="workflow_only"), lambda r: r.scope == "workflow_only"),
            (RosterFilter(status="archived"), lambda r: r.status == "archived"),
            (RosterFilter(status="suspended"), lambda r: r.status == "suspended" and not r.status.known),
            (RosterFilter(source="imported"), lambda r: r.source == "imported"),
            (RosterFilter(kind="dify_agent"), lambda r: r.kind == "dify_agent"),
        ]:
            rows = list_roster(conn, flt, page_size=500).rows
            assert rows, flt
            assert all(check(r) for r in rows), flt
        newest = conn.execute(sa.select(sa.func.max(Agent.updated_at))).scalar()
        day = newest.date()
        rows = list_roster(conn, RosterFilter(updated_from=day, updated_to=day), page_size=500).rows
        assert rows and all(r.updated_at.date() == day for r in rows)
        assert not list_roster(conn, RosterFilter(updated_to=day - timedelta(days=3650))).rows


def test_name_search_is_case_insensitive_substring_and_escapes_wildcards(seeded_engine: sa.Engine) -> None:
    with seeded_engine.connect() as conn:
        rows = list_roster(conn, RosterFilter(name_query="support assistant"), page_size=100).rows
        assert DemoIds.SHOWCASE_AGENT in [r.id for r in rows]
        # `%` and `_` are literal: no agent name contains them, so nothing matches.
        assert list_roster(conn, RosterFilter(name_query="%"), page_size=500).rows == []
        assert list_roster(conn, RosterFilter(name_query="_"), page_size=500).rows == []
        hostile = list_roster(conn, RosterFilter(name_query="onerror=alert"), page_size=10).rows
        assert [r.id for r in hostile] == [DemoIds.HOSTILE_NAME_AGENT]
        assert hostile[0].name == DemoIds.HOSTILE_NAME


def test_row_decorations(seeded_engine: sa.Engine) -> None:
    with seeded_engine.connect() as conn:
        rows = list_roster(conn, RosterFilter(name_query="Acme Support Assistant"), page_size=10).rows
        showcase = next(r for r in rows if r.id == DemoIds.SHOWCASE_AGENT)
        assert showcase.version_count == 6
        assert showcase.active_version == 6
        assert showcase.workspace == "Acme Robotics"
        assert showcase.draft_bindings + showcase.published_bindings >= 1


def test_counts_exact_and_bounded(seeded_engine: sa.Engine) -> None:
    with seeded_engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(Agent)).scalar()
        count = count_roster(conn, RosterFilter())
        assert count.exact and count.value == total
        assert count_roster(conn, RosterFilter(tenant_id=DemoIds.TENANT_ACME)).value < total


def test_invalid_cursor_is_reported(seeded_engine: sa.Engine) -> None:
    with seeded_engine.connect() as conn, pytest.raises(InvalidCursor):
        list_roster(conn, RosterFilter(), after="garbage")
    first = None
    with seeded_engine.connect() as conn:
        first = list_roster(conn, RosterFilter(sort="name"), page_size=3)
        with pytest.raises(InvalidCursor):  # a name cursor is not an updated cursor
            list_roster(conn, RosterFilter(), after=first.next_cursor)


@pytest.mark.parametrize(
    ("attr", "page", "param"),
    [
        ("SHOWCASE_AGENT", "agent", "agent"),
        ("INVALID_JSON_SNAPSHOT", "agent", "agent"),
        ("SHOWCASE_RESTORE_REVISION", "agent", "agent"),
        ("DRIFT_BINDING", "bindings", "node"),
        ("FINISHED_RUN_SESSION", "sessions", "session"),
        ("APP_TICKET_TRIAGE", "bindings", "app"),
        ("RUN_PAUSED", "sessions", "run"),
        ("CONVERSATION_SUPERSEDED", "sessions", "conversation"),
    ],
)
def test_pasted_ids_resolve_in_contract_order(
    seeded_engine: sa.Engine, attr: str, page: str, param: str
) -> None:
    with seeded_engine.connect() as conn:
        match = agents_store.resolve_id(
            conn, getattr(DemoIds, attr), has_core=CORE, read=ReadContext.unscoped()
        )
    assert match is not None and match.page == page and param in match.params


def test_unknown_id_resolves_to_nothing(seeded_engine: sa.Engine) -> None:
    with seeded_engine.connect() as conn:
        assert (
            agents_store.resolve_id(
                conn, "00000000-0000-4000-8000-000000000000", has_core=CORE, read=ReadContext.unscoped()
            )
            is None
        )


def test_roster_plans_use_the_tenant_index(pg_url: str) -> None:
    """EXPLAIN on PostgreSQL with 60,000 agents in 40 workspaces, analyzed: index seeks, no full scan."""
    from data import migrate
    from data.stores.roster import explain_roster

    engine = sa.create_engine(pg_url)
    migrate.upgrade(engine, "mirror")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO tenants (id, name) SELECT gen_random_uuid(), 'ws ' || g FROM generate_series(1, 40) g"
        )
        conn.exec_driver_sql(
            "INSERT INTO agents (tenant_id, name, description, scope, source, updated_at) "
            "SELECT t.id, 'agent ' || g, '', 'roster', 'imported', now() - (g || ' minutes')::interval "
            "FROM generate_series(1, 1500) g CROSS JOIN tenants t"
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")
        tenant = conn.exec_driver_sql("SELECT id::text FROM tenants LIMIT 1").scalar()
        one = explain_roster(conn, RosterFilter(tenant_id=tenant))
        merged = explain_roster(conn, RosterFilter())
    engine.dispose()
    assert "agent_tenant_updated_at_idx" in one and "Seq Scan on agents" not in one
    assert "agent_tenant_updated_at_idx" in merged and "Seq Scan on agents" not in merged


def test_name_search_count_spans_pages(seeded_engine: sa.Engine) -> None:
    with seeded_engine.connect() as conn:
        names = conn.execute(sa.select(Agent.name)).scalars().all()
        expected = sum("agent" in n.lower() for n in names)
        page = list_roster(conn, RosterFilter(name_query="AGENT"), page_size=3)
    assert expected > 3 and page.next_cursor
    assert page.total.exact and page.total.value == expected


def test_agents_of_a_workspace_without_tenant_row_are_listed(seeded_url: str) -> None:
    engine = sa.create_engine(seeded_url)
    orphan_tenant, agent_id = "0193dead-0000-4000-8000-000000000000", uuidv7()
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.insert(Agent).values(
                    id=agent_id,
                    tenant_id=orphan_tenant,
                    name="No workspace row",
                    description="",
                    scope="roster",
                    source="imported",
                    updated_at=datetime(2031, 1, 1),
                    created_at=datetime(2031, 1, 1),
                )
            )
        with engine.connect() as conn:
            first = list_roster(conn, RosterFilter(), page_size=5)
            assert first.rows[0].id == agent_id and first.rows[0].workspace == orphan_tenant
            assert [i for p in all_pages(conn, RosterFilter()) for i in p] == expected_ids(
                conn, RosterFilter()
            )
    finally:
        with engine.begin() as conn:
            conn.execute(sa.delete(Agent).where(Agent.id == agent_id))
        engine.dispose()


@pytest.mark.parametrize(
    "payload",
    [
        '["updated",["2024-01-01T00:00:00","not-a-uuid"]]',
        '["created",["zzz"]]',
        '["updated",["2024-01-01T00:00:00+02:00","0193dead-0000-4000-8000-000000000000"]]',
    ],
)
def test_crafted_cursors_are_invalid_not_crashes(seeded_engine: sa.Engine, payload: str) -> None:
    import base64

    cursor = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    sort = json_sort = payload.split('"')[1]
    assert json_sort in ("updated", "created")
    with seeded_engine.connect() as conn, pytest.raises(InvalidCursor):
        list_roster(conn, RosterFilter(sort=sort), after=cursor)
