"""Benchmark of the sessions page and of the audited cleanup on a Dify-sized `agent_runtime_sessions`.

Run: `uv run python -m bench.sessions_bench` (`--sessions N` to change the size, default 1,000,000;
`--runs N` timed runs per query, default 7). It starts its own throwaway PostgreSQL cluster
(`tests.pgcluster`, server defaults: shared_buffers 128 MB, work_mem 4 MB, as Dify's docker setup),
creates the mirror with exactly Dify's indexes (no extra index) and builds, with SQL generate_series:

* N sessions, ~1.8 KB snapshot each, ids UUIDv7 over 90 days; 80% cleaned, 20% active. Per 1,000:
  25 of running and 25 of paused runs (in flight: never leaks), 60 `finished-run`, 15 `orphaned`
  (run or conversation row missing), 10 `superseded` (+10 newer sessions of the same conversations),
  15 `idle`, 40 recently used conversations: 10% leaks (100,000 at 1M);
* one workflow_runs row per workflow session (except the missing ones), workflow_pauses for the paused
  runs, one conversations row per conversation, 300 apps, 3,000 agents, 3 workspaces.

Then it measures (median of `--runs` after one warm-up): the first page of the list, of `status=active`
and of each leak rule, printing EXPLAIN (ANALYZE, BUFFERS) of the page's statements; collects every
leak (all rules, whole table, window by window), previews and cleans them with the audit (rows/s and
the longest batch: how long a Dify writer could wait on one of its rows); then measures the first
page of each rule again, now on a database where every rule matches nothing (the worst case of a
bounded scan). Targets: >= 10,000 rows/s cleaned with audit, < 50 ms for a first page.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from data import migrate
from data.actor import Actor, Role
from data.db import create_engine
from data.models import naive_utc_now
from data.schema_check import check_schema
from data.services.cleanup import apply_cleanup, preview_cleanup
from data.services.leaks import RULE_NAMES, RuleContext
from data.settings import Settings
from data.stores import sessions as store
from tests.pgcluster import start_cluster

FIRST_PAGE_TARGET_MS = 50.0
CLEAN_TARGET_ROWS_PER_S = 10_000

V7_FUNCTION = """
CREATE OR REPLACE FUNCTION bench_v7(ts timestamp, salt bigint) RETURNS uuid AS $$
DECLARE
    raw bytea := uuid_send(md5('id' || salt::text)::uuid);
BEGIN
    raw := overlay(raw PLACING substring(int8send((extract(epoch FROM ts) * 1000)::bigint) FROM 3) FROM 1 FOR 6);
    raw := set_byte(raw, 6, (get_byte(raw, 6) & 15) | 112);
    raw := set_byte(raw, 8, (get_byte(raw, 8) & 63) | 128);
    RETURN encode(raw, 'hex')::uuid;
END
$$ LANGUAGE plpgsql IMMUTABLE
"""

# Per session g (1..N): c = g % 1000 decides its kind; `gb` is the session whose conversation, agent,
# app and workspace it shares (itself, or the superseded session 10 before it).
SESSION_ROWS = """
WITH s AS (
  SELECT g, g % 1000 AS c,
         CASE WHEN g % 1000 BETWEEN 935 AND 944 THEN g - 10 ELSE g END AS gb,
         :now - ((:n - g) * interval '90 days' / :n) AS created_at
  FROM generate_series(:lo, :hi) g
)
INSERT INTO agent_runtime_sessions (
  id, tenant_id, app_id, owner_type, agent_id, backend_run_id, session_snapshot, workflow_id,
  workflow_run_id, node_id, node_execution_id, binding_id, agent_config_snapshot_id,
  composition_layer_specs, conversation_id, status, cleaned_at, created_at, updated_at)
SELECT
  bench_v7(created_at, g),
  md5('tenant' || (gb % 3))::uuid,
  md5('app' || (gb % 300))::uuid,
  CASE WHEN c < 700 OR c BETWEEN 800 AND 917 THEN 'workflow_run' ELSE 'conversation' END,
  md5('agent' || (gb % 3000))::uuid,
  md5('backend' || g),
  '{"schema_version": 1,"layers":[{"name":"execution_context","lifecycle_state":"suspended","runtime_state":{}},'
    || '{"name":"history","lifecycle_state":"suspended","runtime_state":{"messages":["'
    || repeat(md5(g::text), 50) || '"]}},{"name":"llm","lifecycle_state":"suspended","runtime_state":{}}]}',
  CASE WHEN c < 700 OR c BETWEEN 800 AND 917 THEN md5('workflow' || (gb % 300))::uuid END,
  CASE WHEN c < 700 OR c BETWEEN 800 AND 917 THEN md5('run' || g)::uuid END,
  CASE WHEN c < 700 OR c BETWEEN 800 AND 917 THEN 'node-' || (g % 3) END,
  CASE WHEN c < 700 OR c BETWEEN 800 AND 917 THEN md5('exec' || g) END,
  NULL,
  md5('snap' || g)::uuid,
  '[{"name":"execution_context","type":"dify.execution_context","deps":{},"metadata":{},"config":{}}]',
  CASE WHEN c < 700 OR c BETWEEN 800 AND 917 THEN NULL ELSE md5('conv' || gb)::uuid END,
  CASE WHEN c < 800 THEN 'cleaned' ELSE 'active' END,
  CASE WHEN c < 800 THEN created_at + interval '40 seconds' END,
  created_at,
  CASE WHEN c < 800 THEN created_at + interval '40 seconds'
       WHEN c BETWEEN 935 AND 944 OR c >= 960 THEN :now - (g % 5) * interval '1 hour'
       ELSE created_at + interval '20 seconds' END
FROM s
"""
RUN_ROWS = """
INSERT INTO workflow_runs (id, tenant_id, app_id, workflow_id, type, triggered_from, version, status,
  created_by_role, created_by, created_at, finished_at)
SELECT md5('run' || g)::uuid, md5('tenant' || (g % 3))::uuid, md5('app' || (g % 300))::uuid,
  md5('workflow' || (g % 300))::uuid, 'workflow', 'app-run', 'v1',
  CASE WHEN g % 1000 BETWEEN 800 AND 824 THEN 'running'
       WHEN g % 1000 BETWEEN 825 AND 849 THEN 'paused'
       WHEN g % 1000 BETWEEN 850 AND 909 THEN 'succeeded'
       ELSE (ARRAY['succeeded','succeeded','succeeded','failed','stopped','partial-succeeded'])[1 + g % 6] END,
  'end_user', md5('user' || g)::uuid,
  :now - ((:n - g) * interval '90 days' / :n),
  CASE WHEN g % 1000 BETWEEN 800 AND 849 THEN NULL
       ELSE :now - ((:n - g) * interval '90 days' / :n) + interval '30 seconds' END
FROM generate_series(:lo, :hi) g
WHERE g % 1000 < 700 OR g % 1000 BETWEEN 800 AND 909
"""
PAUSE_ROWS = """
INSERT INTO workflow_pauses (id, workflow_id, workflow_run_id, resumed_at, state_object_key, created_at, updated_at)
SELECT md5('pause' || g)::uuid, md5('workflow' || (g % 300))::uuid, md5('run' || g)::uuid, NULL, 'k/' || g,
  :now - ((:n - g) * interval '90 days' / :n), :now - ((:n - g) * interval '90 days' / :n)
FROM generate_series(:lo, :hi) g WHERE g % 1000 BETWEEN 825 AND 849
"""
CONVERSATION_ROWS = """
INSERT INTO conversations (id, app_id, mode, name, inputs, status, from_source, is_deleted, created_at, updated_at)
SELECT md5('conv' || g)::uuid, md5('app' || (g % 300))::uuid, 'agent', 'Conversation ' || g, '{}'::json,
  'normal', 'api', false, :now - ((:n - g) * interval '90 days' / :n), :now
FROM generate_series(:lo, :hi) g
WHERE g % 1000 BETWEEN 700 AND 799 OR g % 1000 BETWEEN 925 AND 934 OR g % 1000 >= 945
"""


def _timed(label: str, fn: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    value = fn()
    print(f"  {label}: {time.perf_counter() - started:.1f} s", flush=True)
    return value


def build(engine: sa.Engine, n: int, now) -> None:
    """The mirror (Dify's schema and indexes only) filled with `n` sessions and their runs/conversations."""
    migrate.upgrade_mirror(engine, "sessions")
    migrate.upgrade(engine, "app")
    with engine.begin() as conn:
        conn.exec_driver_sql(V7_FUNCTION)
        conn.execute(
            sa.text(
                "INSERT INTO tenants (id, name) SELECT md5('tenant' || k)::uuid, 'Workspace ' || k "
                "FROM generate_series(0, 2) k"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO apps (id, tenant_id, name, mode) SELECT md5('app' || k)::uuid, "
                "md5('tenant' || (k % 3))::uuid, 'App ' || k, 'workflow' FROM generate_series(0, 299) k"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO agents (id, tenant_id, name, description, scope, source, agent_kind, status, "
                "created_at, updated_at) SELECT md5('agent' || k)::uuid, md5('tenant' || (k % 3))::uuid, "
                "'Agent ' || k, '', 'workflow_only', 'workflow', 'dify_agent', 'active', :now, :now "
                "FROM generate_series(0, 2999) k"
            ),
            {"now": now},
        )
    step = 100_000
    for lo in range(1, n + 1, step):
        hi = min(lo + step - 1, n)
        bounds = {"lo": lo, "hi": hi, "n": n, "now": now}
        started = time.perf_counter()
        with engine.begin() as conn:
            for statement in (SESSION_ROWS, RUN_ROWS, PAUSE_ROWS, CONVERSATION_ROWS):
                conn.execute(sa.text(statement), bounds)
        print(f"  sessions {lo:,}..{hi:,}: {time.perf_counter() - started:.1f} s", flush=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        _timed("VACUUM ANALYZE", lambda: conn.exec_driver_sql("VACUUM ANALYZE"))
        size = conn.exec_driver_sql("SELECT pg_size_pretty(pg_total_relation_size('agent_runtime_sessions'))")
        print(f"  agent_runtime_sessions: {size.scalar()} with indexes", flush=True)


def median_ms(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    value = fn()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        value = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), value


def measure_pages(engine: sa.Engine, ctx: RuleContext, runs: int, label: str) -> list[tuple[str, float, int]]:
    print(f"\n== first pages: {label} ==", flush=True)
    filters = [
        ("all sessions", store.SessionFilter()),
        ("status=active", store.SessionFilter(status="active")),
    ]
    filters += [(f"rule={rule}", store.SessionFilter(rule=rule)) for rule in RULE_NAMES]
    results = []
    with engine.connect() as conn:
        for name, flt in filters:
            ms, page = median_ms(lambda flt=flt: store.list_sessions(conn, flt, ctx), runs)
            results.append((name, ms, len(page.rows)))
            access = page.access
            how = access.served_by or f"bounded scan of {access.scan_limit:,} rows"
            print(f"\n-- {name}: {ms:.1f} ms, {len(page.rows)} rows ({how})", flush=True)
            print(store.explain_page(conn, flt, ctx, analyze=True), flush=True)
    return results


def clean_everything(engine: sa.Engine, ctx: RuleContext) -> dict[str, float]:
    print("\n== cleanup of every leak, with audit ==", flush=True)
    ids: list[str] = []
    started = time.perf_counter()
    with engine.connect() as conn:
        for rule in RULE_NAMES:
            collected = store.collect_ids(conn, store.SessionFilter(rule=rule), ctx, cap=1_000_000)
            print(f"  {rule}: {len(collected.ids):,} ids (complete: {collected.complete})", flush=True)
            ids.extend(collected.ids)
    collect_s = time.perf_counter() - started
    print(f"  collect (whole table, window by window): {collect_s:.1f} s", flush=True)
    started = time.perf_counter()
    with engine.connect() as conn:
        preview = preview_cleanup(conn, ids, ctx, source={"bench": True})
    preview_s = time.perf_counter() - started
    print(
        f"  preview of {preview.count:,} rows: {preview_s:.1f} s; per rule {dict(preview.per_rule)}",
        flush=True,
    )
    batch_times: list[float] = []
    last = [time.perf_counter()]

    def on_batch(number: int, conn: sa.Connection) -> None:
        now = time.perf_counter()
        batch_times.append(now - last[0])
        last[0] = now

    actor = Actor("bench:sessions_bench", Role.OPERATOR)
    started = time.perf_counter()
    last[0] = started
    result = apply_cleanup(engine, actor, preview, reason="benchmark", block_reason=None, on_batch=on_batch)
    apply_s = time.perf_counter() - started
    rate = len(result.transitioned) / apply_s if apply_s else 0.0
    print(
        f"  apply: {len(result.transitioned):,} transitioned, {result.skipped_count:,} skipped in {apply_s:.1f} s "
        f"= {rate:,.0f} rows/s with audit; longest batch {max(batch_times) * 1000:.0f} ms "
        f"(median {statistics.median(batch_times) * 1000:.0f} ms, {result.batches_total} batches)",
        flush=True,
    )
    assert result.ok, result.error
    return {
        "collect_s": collect_s,
        "preview_s": preview_s,
        "apply_s": apply_s,
        "rate": rate,
        "rows": len(ids),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    cluster = start_cluster()
    try:
        admin = sa.create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql("CREATE DATABASE sessions_bench")
            version = conn.exec_driver_sql("SHOW server_version").scalar()
            buffers = conn.exec_driver_sql("SHOW shared_buffers").scalar()
            work_mem = conn.exec_driver_sql("SHOW work_mem").scalar()
        admin.dispose()
        print(f"PostgreSQL {version}, shared_buffers {buffers}, work_mem {work_mem}", flush=True)
        url = cluster.url("sessions_bench")
        now = naive_utc_now().replace(microsecond=0)
        raw = sa.create_engine(url)
        print(f"== building {args.sessions:,} sessions ==", flush=True)
        _timed("build total", lambda: build(raw, args.sessions, now))
        raw.dispose()
        engine = create_engine(url, Settings())  # the app's guarded engine, statement timeout included
        with engine.connect() as conn:
            ctx = RuleContext.from_report(check_schema(conn), now=now, idle_days=7)
        leaky = measure_pages(engine, ctx, args.runs, "every rule matches")
        cleanup = clean_everything(engine, ctx)
        raw = sa.create_engine(url, isolation_level="AUTOCOMMIT")  # maintenance: not through the guard
        with raw.connect() as conn:
            conn.exec_driver_sql("VACUUM ANALYZE agent_runtime_sessions")
        raw.dispose()
        empty = measure_pages(engine, ctx, args.runs, "after the cleanup: every rule matches nothing")
        engine.dispose()
    finally:
        cluster.stop()
    print("\n== summary ==")
    print(f"{'query':<24} {'matches':>14} {'ms':>8} {'nothing matches':>16} {'ms':>8}")
    for (name, ms, rows), (_, ms2, rows2) in zip(leaky, empty, strict=True):
        print(f"{name:<24} {rows:>14} {ms:>8.1f} {rows2:>16} {ms2:>8.1f}")
    worst = max(ms for _, ms, _ in leaky + empty)
    print(
        f"first page: worst {worst:.1f} ms (target < {FIRST_PAGE_TARGET_MS:.0f} ms): "
        f"{'met' if worst < FIRST_PAGE_TARGET_MS else 'NOT met'}"
    )
    print(
        f"cleanup: {cleanup['rows']:,} rows at {cleanup['rate']:,.0f} rows/s with audit "
        f"(target >= {CLEAN_TARGET_ROWS_PER_S:,}): {'met' if cleanup['rate'] >= CLEAN_TARGET_ROWS_PER_S else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
