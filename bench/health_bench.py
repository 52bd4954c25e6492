"""Benchmark of `/health` and of the background check jobs at Dify's measured scale.

Run: `uv run python -m bench.health_bench [--agents N]` (default 100,000 = L: 1,000,000 snapshots of
about 2 KB, 200,000 bindings, 1,000,000 sessions of about 2 KB, 3 workspaces; `--agents 10000` = M).
It starts its own throwaway PostgreSQL cluster (`tests.pgcluster`, server defaults: shared_buffers
128 MB, work_mem 4 MB, as Dify's docker setup), creates the mirror with exactly Dify's indexes, builds
the rows with SQL generate_series (uuidv7 ids in creation order, a few planted anomalies), and reports:

* a full background run of every whole-table check (the jobs, in the foreground, one after the
  other, windows of `check_jobs.WINDOW_ROWS`), its time per check and in all, and its peak memory
  (tracemalloc peak of Python allocations, and the process's max RSS);
* `/health` rendered with the stored results (AppTest, first render of a new session; median of 5)
  and the stored-report read alone;
* an incremental run of every check after 1,000 new snapshots and sessions.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
import tracemalloc

import sqlalchemy as sa

from bench.sessions_bench import V7_FUNCTION
from data import migrate
from data.actor import Actor, Role
from data.db import create_engine
from data.models import naive_utc_now
from data.services import check_jobs, integrity
from data.settings import Settings
from tests.pgcluster import start_cluster

BENCH = Actor("bench", Role.OPERATOR)

SOUL = (
    '\'{"schema_version": 1,"prompt":{"system_prompt":"\' || repeat(md5(g::text), 55) || \'"},'
    '"model":{"provider":"openai","name":"gpt-4o"},"tools":[]}\''
)
BUILD = [
    "INSERT INTO tenants (id, name) SELECT md5('tenant' || t)::uuid, 'ws ' || t FROM generate_series(0, 2) t",
    # agents: ids in creation order over a year
    "INSERT INTO agents (id, tenant_id, name, description, scope, source, status, created_at, updated_at) "
    "SELECT bench_v7(:now - (:n - g) * interval '365 days' / :n, g), md5('tenant' || (g % 3))::uuid, "
    "'agent ' || g, '', CASE WHEN g % 5 = 0 THEN 'workflow_only' ELSE 'roster' END, "
    "CASE WHEN g % 5 = 0 THEN 'workflow' ELSE 'agent_app' END, 'active', :now, :now "
    "FROM generate_series(1, :n) g",
    # 10 snapshots per agent, ~2 KB each
    f"INSERT INTO agent_config_snapshots (id, tenant_id, agent_id, version, config_snapshot, created_at) "
    f"SELECT bench_v7(:now - (:n * 10 - g) * interval '365 days' / (:n * 10), g + 10000000), a.tenant_id, a.id, "
    f"1 + (g - 1) / :n, {SOUL}, :now "
    f"FROM generate_series(1, :n * 10) g JOIN LATERAL (SELECT id, tenant_id FROM agents "
    f"WHERE id = bench_v7(:now - (:n - (1 + (g - 1) % :n)) * interval '365 days' / :n, 1 + (g - 1) % :n)) a ON true",
    "UPDATE agents a SET active_config_snapshot_id = s.id FROM agent_config_snapshots s "
    "WHERE s.agent_id = a.id AND s.version = 10",
    "INSERT INTO agent_config_revisions (id, tenant_id, agent_id, current_snapshot_id, revision, operation) "
    "SELECT md5('rev' || a.id)::uuid, a.tenant_id, a.id, a.active_config_snapshot_id, 1, 'create_version' "
    "FROM agents a",
    # 2 bindings per agent (draft and published)
    "INSERT INTO workflow_agent_node_bindings (id, tenant_id, app_id, workflow_id, workflow_version, node_id, "
    "binding_type, agent_id, current_snapshot_id, node_job_config) "
    "SELECT bench_v7(:now - interval '1 day' * v, (row_number() OVER ()) + 30000000), a.tenant_id, "
    "md5('app' || a.id)::uuid, md5('wf' || a.id || v)::uuid, CASE WHEN v = 0 THEN 'draft' ELSE '2026-01-01' END, "
    "'node-' || v, CASE WHEN a.scope = 'roster' THEN 'roster_agent' ELSE 'inline_agent' END, a.id, "
    'a.active_config_snapshot_id, \'{"schema_version": 1,"mode":"tell_agent_what_to_do","workflow_prompt":"x"}\' '
    "FROM agents a CROSS JOIN generate_series(0, 1) v",
    # 10 sessions per agent, ~2 KB snapshot each
    "INSERT INTO agent_runtime_sessions (id, tenant_id, app_id, owner_type, agent_id, session_snapshot, "
    "composition_layer_specs, conversation_id, agent_config_snapshot_id, status, created_at, updated_at) "
    "SELECT bench_v7(:now - (:n * 10 - g) * interval '90 days' / (:n * 10), g + 50000000), a.tenant_id, "
    "md5('app' || a.id)::uuid, 'conversation', a.id, "
    '\'{"schema_version": 1,"layers":[{"name":"history","runtime_state":{"m":"\' || repeat(md5(g::text), 55) || \'"}}]}\', '
    "'[]', md5('conv' || g)::uuid, a.active_config_snapshot_id, CASE WHEN g % 5 = 0 THEN 'active' ELSE 'cleaned' END, :now, :now "
    "FROM generate_series(1, :n * 10) g JOIN LATERAL (SELECT id, tenant_id, active_config_snapshot_id FROM agents "
    "WHERE id = bench_v7(:now - (:n - (1 + (g - 1) % :n)) * interval '365 days' / :n, 1 + (g - 1) % :n)) a ON true",
    # a few planted anomalies so that the sample paths run too
    "UPDATE agent_config_snapshots SET config_snapshot = '{\"prompt\": ' WHERE id IN "
    "(SELECT id FROM agent_config_snapshots ORDER BY id LIMIT 3)",
    "UPDATE workflow_agent_node_bindings SET agent_id = gen_random_uuid() WHERE id IN "
    "(SELECT id FROM workflow_agent_node_bindings ORDER BY id DESC LIMIT 2)",
    "UPDATE agent_runtime_sessions SET agent_id = gen_random_uuid() WHERE id IN "
    "(SELECT id FROM agent_runtime_sessions ORDER BY id LIMIT 5)",
]
NEW_ROWS = [
    # 1,000 new rows after the full run: 500 snapshots and 500 sessions, newest ids
    f"INSERT INTO agent_config_snapshots (id, tenant_id, agent_id, version, config_snapshot, created_at) "
    f"SELECT bench_v7(:later, g + 90000000), a.tenant_id, a.id, 100 + g, {SOUL}, :later "
    f"FROM generate_series(1, 500) g JOIN LATERAL (SELECT id, tenant_id FROM agents ORDER BY id OFFSET g LIMIT 1) a ON true",
    "INSERT INTO agent_runtime_sessions (id, tenant_id, app_id, owner_type, agent_id, session_snapshot, "
    "composition_layer_specs, conversation_id, status, created_at, updated_at) "
    "SELECT bench_v7(:later, g + 95000000), a.tenant_id, md5('app' || a.id)::uuid, 'conversation', a.id, "
    "'{\"layers\":[]}', '[]', gen_random_uuid(), 'active', :later, :later "
    "FROM generate_series(1, 500) g JOIN LATERAL (SELECT id, tenant_id FROM agents ORDER BY id OFFSET g LIMIT 1) a ON true",
]


def run_every_check(engine: sa.Engine, mode: str) -> tuple[float, dict[str, tuple[float, int, int]]]:
    per_check: dict[str, tuple[float, int, int]] = {}
    started = time.perf_counter()
    for check in integrity.CHECKS:
        t = time.perf_counter()
        outcome = check_jobs.run_now(engine, check.name, mode=mode, actor=BENCH)
        assert outcome.status == "done", outcome
        per_check[check.name] = (time.perf_counter() - t, outcome.rows_read, outcome.found)
        print(
            f"    {check.name}: {per_check[check.name][0]:.2f} s, {outcome.rows_read:,} rows, {outcome.found:,} found",
            flush=True,
        )
    return time.perf_counter() - started, per_check


def render_page(url: str, repeat: int) -> float:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from tests.apptest_helpers import APP, PAGES

    os.environ["DATABASE_URL"] = url
    samples = []
    for i in range(repeat + 1):
        st.cache_data.clear()  # a new session: nothing cached but the process's engines
        at = AppTest.from_file(APP, default_timeout=120)
        at.run()
        started = time.perf_counter()
        at.switch_page(PAGES["health"])
        at.run()
        elapsed = time.perf_counter() - started
        assert not at.exception, [e.value for e in at.exception]
        assert len(at.dataframe[0].value) == len(integrity.CHECKS)
        if i:
            samples.append(elapsed)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    cluster = start_cluster()
    try:
        url = cluster.url()
        raw = sa.create_engine(url)
        migrate.upgrade_mirror(raw, "sessions")
        migrate.upgrade(raw, "app")
        now = naive_utc_now()
        started = time.perf_counter()
        with raw.begin() as conn:
            conn.exec_driver_sql(V7_FUNCTION)
            for statement in BUILD:
                conn.execute(sa.text(statement), {"n": args.agents, "now": now})
        with raw.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
            size = conn.exec_driver_sql(
                "SELECT pg_size_pretty(pg_database_size(current_database()))"
            ).scalar()
            counts = {
                t: conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar()
                for t in (
                    "agents",
                    "agent_config_snapshots",
                    "workflow_agent_node_bindings",
                    "agent_runtime_sessions",
                )
            }
        print(f"built in {time.perf_counter() - started:.0f} s: {counts}, {size}", flush=True)
        engine = create_engine(url, Settings())  # the app's guarded engine: timeouts, jit off

        print("full background run of every check:", flush=True)
        tracemalloc.start()
        total, _ = run_every_check(engine, "full")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"  full run: {total:.1f} s; peak Python allocations {peak / 2**20:.1f} MB; max RSS {rss:.0f} MB"
        )

        with engine.connect() as conn:
            t = time.perf_counter()
            check_jobs.report(conn)
            read_ms = (time.perf_counter() - t) * 1000
        print(f"  stored report read: {read_ms:.1f} ms")
        print(
            f"  /health first render with stored results (AppTest, median of {args.repeat}): "
            f"{render_page(url, args.repeat) * 1000:.0f} ms"
        )

        with raw.begin() as conn:
            for statement in NEW_ROWS:
                conn.execute(sa.text(statement), {"later": naive_utc_now()})
        print("incremental run after 1,000 new rows:", flush=True)
        total, _ = run_every_check(engine, "auto")
        print(f"  incremental run: {total:.2f} s")
        engine.dispose()
        raw.dispose()
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
