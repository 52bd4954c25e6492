"""Roster benchmark: 100,000 agents on a throwaway PostgreSQL (Dify's indexes only), timed per query.

    uv run python -m bench.roster_bench [--agents 100000] [--workspaces 3] [--repeat 7]

Measures the store calls the roster page makes (first page across all workspaces, a deep keyset page,
one workspace, name search) and the whole page through AppTest. Medians after one warm-up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import sqlalchemy as sa

from data import migrate
from data.db import create_engine
from data.settings import Settings
from data.stores.roster import RosterFilter, explain_roster, list_roster
from tests.pgcluster import start_cluster


def median_ms(fn, repeat: int) -> float:
    fn()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def build(engine: sa.Engine, agents: int, workspaces: int) -> None:
    migrate.upgrade(engine, "mirror")
    per = agents // workspaces
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"INSERT INTO tenants (id, name) SELECT gen_random_uuid(), 'Workspace ' || g "
            f"FROM generate_series(1, {workspaces}) g"
        )
        conn.exec_driver_sql(
            "INSERT INTO agents (tenant_id, name, description, scope, source, status, updated_at, created_at) "
            "SELECT t.id, 'Agent ' || g || ' ' || md5(g::text), '', "
            "CASE WHEN mod(g, 4) = 0 THEN 'workflow_only' ELSE 'roster' END, 'workflow', "
            "CASE WHEN mod(g, 10) = 0 THEN 'archived' ELSE 'active' END, "
            "now() - (random() * interval '400 days'), now() - interval '400 days' "
            f"FROM tenants t CROSS JOIN generate_series(1, {per}) g"
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=100_000)
    parser.add_argument("--workspaces", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    cluster = start_cluster()
    try:
        url = cluster.url()
        started = time.perf_counter()
        raw = sa.create_engine(url)  # building the data: not through the app's write guard
        build(raw, args.agents, args.workspaces)
        raw.dispose()
        engine = create_engine(url, Settings())  # measured on the app's own engine (timeouts, jit off)
        print(
            f"built {args.agents:,} agents in {args.workspaces:,} workspaces in {time.perf_counter() - started:.1f} s"
        )
        with engine.connect() as conn:
            tenant = conn.exec_driver_sql("SELECT id::text FROM tenants LIMIT 1").scalar()
            first = list_roster(conn, RosterFilter())
            deep = first
            for _ in range(20):
                deep = list_roster(conn, RosterFilter(), after=deep.next_cursor)
            cases = {
                "first page, all workspaces (merged seeks)": lambda: list_roster(conn, RosterFilter()),
                "21st page, all workspaces (keyset)": lambda: list_roster(
                    conn, RosterFilter(), after=deep.next_cursor
                ),
                "first page, one workspace": lambda: list_roster(conn, RosterFilter(tenant_id=tenant)),
                "name search '1234' (no index: reads names)": lambda: list_roster(
                    conn, RosterFilter(name_query="1234")
                ),
                "first page by name": lambda: list_roster(conn, RosterFilter(sort="name")),
                "first page by created (uuidv7 id)": lambda: list_roster(conn, RosterFilter(sort="created")),
            }
            for label, fn in cases.items():
                print(f"{label:48s} {median_ms(fn, args.repeat):8.2f} ms")
            print("\nEXPLAIN first page, all workspaces:\n" + explain_roster(conn, RosterFilter()))
        engine.dispose()

        # The whole page, rendered by Streamlit's AppTest (script run + queries + dataframe).
        from streamlit.testing.v1 import AppTest

        os.environ["DATABASE_URL"] = url
        at = AppTest.from_file("../app.py", default_timeout=60)
        at.run()
        at.switch_page("app_pages/roster.py")

        def render() -> None:
            import streamlit as st

            st.cache_data.clear()  # measure uncached reads
            at.run()

        print(f"{'roster page through AppTest (uncached)':48s} {median_ms(render, args.repeat):8.2f} ms")
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
