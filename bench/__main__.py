"""One benchmark command: `uv run --frozen python -m bench [--scale S|M|L[,..]] [--quick] [--runs N]`.

Starts a throwaway PostgreSQL cluster (tests/pgcluster.py, server defaults), and per scale builds the
demo databases of both schema generations (`python -m data demo` data: `sessions` = Dify 1.15-1.16,
`workspaces` = 1.17+), then times, on the app's own guarded engine:

* every page's store calls (min / median / max of `--runs` after a warm-up);
* the whole page through AppTest (app.py + the page, every st.cache_data cleared before each run);
* the naive way of the generic admins (COUNT(*) + ORDER BY .. LIMIT 50 OFFSET k) on the same data, as a
  ratio to Agent Desk's query;
* a concurrency run (threads, each with its own engine, issuing page queries at once);
* peak memory (max RSS of this process);
* EXPLAIN (ANALYZE, BUFFERS) of every statement those store calls send, listing any sequential scan of
  a table of >= 10,000 rows;
* unless `--quick`: the 10,000-workspace roster (bench/roster_bench.py's builder) and the cleanup with
  audit on a generated sessions table (bench/sessions_bench.py's builder; rows/s, then the first pages
  again when no rule matches anything: the no-leak variant).

Writes `docs/benchmarks.md` (`--out`). Browser (chromium) page timings and the 25-browser concurrency
run are not part of this command yet; the report says so.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.harness import Plan, Timing, captured, explain, large_tables, timed
from data.db import create_engine, seed_database
from data.models import naive_utc_now
from data.read_context import ReadContext
from data.schema_check import check_schema
from data.services.leaks import RULE_NAMES, RuleContext
from data.settings import Settings
from data.stores import agents as agents_store
from data.stores import overview as overview_store
from data.stores import roster as roster_store
from data.stores import sessions as sessions_store
from tests.pgcluster import Cluster, start_cluster

ROOT = Path(__file__).resolve().parent.parent
TARGETS_MS = {"list": 25.0, "one": 15.0, "search": 40.0}


@dataclass
class ScaleResult:
    scale: str
    sizes: dict[str, dict[str, int]] = field(default_factory=dict)
    store: list[tuple[str, str, Timing]] = field(default_factory=list)  # (database, kind, timing)
    pages: list[tuple[str, str, Timing]] = field(default_factory=list)
    naive: list[tuple[str, Timing, Timing]] = field(default_factory=list)  # (what, naive, ours)
    concurrency: list[str] = field(default_factory=list)
    plans: list[Plan] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)


def _db(cluster: Cluster, admin: sa.Engine, name: str) -> str:
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    return cluster.url(name)


def _analyze(url: str) -> dict[str, int]:
    raw = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with raw.connect() as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
        rows = conn.exec_driver_sql(
            "SELECT relname, reltuples::bigint FROM pg_class WHERE relkind = 'r' "
            "AND relnamespace = 'public'::regnamespace AND relname IN ('agents', 'agent_config_snapshots', "
            "'agent_node_bindings', 'agent_runtime_sessions', 'agent_workspaces', 'tenants')"
        ).all()
    raw.dispose()
    return {name: int(n) for name, n in rows}


def store_cases(conn: sa.Connection, generation: str) -> list[tuple[str, str, Callable[[], Any]]]:
    """(label, kind: list/one/search/other, call) of what the pages ask the stores for."""
    report = check_schema(conn)
    everywhere = ReadContext.unscoped(report)
    opt = {"has_tenants": report.has_table("tenants"), "has_accounts": report.has_table("accounts")}
    first = roster_store.list_roster(conn, roster_store.RosterFilter(), **opt)
    tenant = conn.execute(sa.select(sa.column("id")).select_from(sa.table("tenants")).limit(1)).scalar()
    agent_id = first.rows[0].id
    cases: list[tuple[str, str, Callable[[], Any]]] = [
        ("overview counts", "other", lambda: overview_store.overview(conn, present=report.agent_tables)),
        (
            "roster first page",
            "list",
            lambda: roster_store.list_roster(conn, roster_store.RosterFilter(), **opt),
        ),
        (
            "roster next page (keyset)",
            "list",
            lambda: roster_store.list_roster(
                conn, roster_store.RosterFilter(), after=first.next_cursor, **opt
            ),
        ),
        (
            "roster one workspace",
            "list",
            lambda: roster_store.list_roster(conn, roster_store.RosterFilter(tenant_id=str(tenant)), **opt),
        ),
        (
            "roster name search",
            "search",
            lambda: roster_store.list_roster(conn, roster_store.RosterFilter(name_query="assist"), **opt),
        ),
        (
            "one agent",
            "one",
            lambda: agents_store.get_agent(conn, agent_id, read=everywhere, has_core=report.core_tables),
        ),
    ]
    if generation == "sessions":
        ctx = RuleContext.from_report(report, now=naive_utc_now(), idle_days=7)
        indexes = sessions_store.session_indexes(conn)
        page = sessions_store.list_sessions(conn, sessions_store.SessionFilter(), ctx, indexes=indexes)
        session_id = page.rows[0].id
        cases.append(
            (
                "sessions first page",
                "list",
                lambda: sessions_store.list_sessions(
                    conn, sessions_store.SessionFilter(), ctx, indexes=indexes
                ),
            )
        )
        for rule in RULE_NAMES:
            flt = sessions_store.SessionFilter(rule=rule)
            cases.append(
                (
                    f"sessions rule={rule} (bounded scan)",
                    "other",
                    lambda flt=flt: sessions_store.list_sessions(conn, flt, ctx, indexes=indexes),
                )
            )
        cases.append(
            ("one session", "one", lambda: sessions_store.get_session(conn, session_id, ctx, read=everywhere))
        )
    return cases


def measure_store(url: str, generation: str, runs: int, result: ScaleResult) -> None:
    engine = create_engine(url, Settings())
    raw = sa.create_engine(url)
    large = large_tables(raw)
    with engine.connect() as conn:
        for label, kind, call in store_cases(conn, generation):
            result.store.append((generation, kind, timed(label, call, runs)))
            with captured(engine) as statements:
                call()
            result.plans += explain(raw, f"{generation}: {label}", statements, large)
    engine.dispose()
    raw.dispose()


def measure_naive(url: str, generation: str, runs: int, result: ScaleResult) -> None:
    """COUNT(*) + ORDER BY .. OFFSET k LIMIT 50, as SQLAdmin / Django admin do, against our own query."""
    raw = sa.create_engine(url)
    engine = create_engine(url, Settings())
    tables = [("agents", "updated_at")] + (
        [("agent_runtime_sessions", "id")] if generation == "sessions" else []
    )
    with raw.connect() as conn, engine.connect() as app:
        report = check_schema(app)
        opt = {"has_tenants": report.has_table("tenants"), "has_accounts": report.has_table("accounts")}
        for table, order in tables:
            total = conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
            deep = max(0, (total // 2) // 50 * 50)

            def naive(table=table, order=order, deep=deep) -> None:
                conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
                conn.exec_driver_sql(
                    f"SELECT * FROM {table} ORDER BY {order} DESC LIMIT 50 OFFSET {deep}"
                ).all()

            if table == "agents":
                ours = timed(
                    "roster first page",
                    lambda: roster_store.list_roster(app, roster_store.RosterFilter(), **opt),
                    runs,
                )
            else:
                ctx = RuleContext.from_report(report, now=naive_utc_now(), idle_days=7)
                ours = timed(
                    "sessions first page",
                    lambda ctx=ctx: sessions_store.list_sessions(app, sessions_store.SessionFilter(), ctx),
                    runs,
                )
            result.naive.append(
                (f"{generation}: {table} (COUNT(*) + OFFSET {deep:,})", timed("naive", naive, runs), ours)
            )
    engine.dispose()
    raw.dispose()


def measure_pages(url: str, generation: str, runs: int, result: ScaleResult) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["DATABASE_URL"] = url
    os.environ.pop("DATABASE_READ_URL", None)
    st.cache_resource.clear()
    st.cache_data.clear()
    raw = sa.create_engine(url)
    with raw.connect() as conn:
        agent = conn.exec_driver_sql("SELECT id::text FROM agents ORDER BY updated_at DESC LIMIT 1").scalar()
    raw.dispose()
    pages: list[tuple[str, str, str, dict[str, str]]] = [
        ("overview", "other", "app_pages/overview.py", {}),
        ("roster", "list", "app_pages/roster.py", {}),
        ("roster name search", "search", "app_pages/roster.py", {"q": "assist"}),
        ("agent", "one", "app_pages/agent.py", {"agent": str(agent)}),
    ]
    if generation == "sessions":
        pages.append(("sessions", "list", "app_pages/sessions.py", {}))
    for label, kind, path, params in pages:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.run()
        for key, value in params.items():
            at.query_params[key] = value
        at.switch_page(path)

        def render(at=at, label=label) -> None:
            st.cache_data.clear()  # every run reads the database (the engines stay, as in a server)
            at.run()
            if at.exception:
                raise RuntimeError(f"{label}: {[e.value for e in at.exception]}")

        result.pages.append((generation, kind, timed(f"{label} page", render, runs)))


def measure_concurrency(url: str, threads: int, per_thread: int, result: ScaleResult) -> None:
    """`threads` workers, each with its own engine (as separate servers), each running the roster and the
    sessions first page `per_thread` times, all at once."""
    samples: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def worker() -> None:
        import time

        engine = create_engine(url, Settings())
        with engine.connect() as conn:
            ctx = RuleContext.from_report(check_schema(conn), now=naive_utc_now(), idle_days=7)
            barrier.wait()
            for _ in range(per_thread):
                for call in (
                    lambda: roster_store.list_roster(conn, roster_store.RosterFilter()),
                    lambda: sessions_store.list_sessions(conn, sessions_store.SessionFilter(), ctx),
                ):
                    started = time.perf_counter()
                    call()
                    with lock:
                        samples.append((time.perf_counter() - started) * 1000)
        engine.dispose()

    import time

    started = time.perf_counter()
    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wall = time.perf_counter() - started
    samples.sort()
    p95 = samples[int(len(samples) * 0.95) - 1]
    result.concurrency.append(
        f"{threads} threads x {per_thread} x (roster + sessions first page), own engine each: "
        f"{len(samples)} queries in {wall:.1f} s; per query min / median / p95 / max "
        f"{samples[0]:.1f} / {samples[len(samples) // 2]:.1f} / {p95:.1f} / {samples[-1]:.1f} ms"
    )


def measure_heavy(cluster: Cluster, admin: sa.Engine, scale: str, runs: int, result: ScaleResult) -> None:
    """The 10,000-workspace roster and the cleanup rate (rows/s) with the no-leak variant."""
    from bench import roster_bench, sessions_bench

    agents = {"S": 20_000, "M": 50_000, "L": 100_000}[scale]
    url = _db(cluster, admin, f"bench_{scale.lower()}_workspaces10k")
    raw = sa.create_engine(url)
    roster_bench.build(raw, agents, 10_000)
    raw.dispose()
    engine = create_engine(url, Settings())
    with engine.connect() as conn:
        t = timed(
            f"roster first page, 10,000 workspaces, {agents:,} agents",
            lambda: roster_store.list_roster(conn, roster_store.RosterFilter()),
            runs,
        )
    engine.dispose()
    result.store.append(("10k workspaces", "list", t))

    n = {"S": 100_000, "M": 300_000, "L": 1_000_000}[scale]
    url = _db(cluster, admin, f"bench_{scale.lower()}_cleanup")
    now = naive_utc_now().replace(microsecond=0)
    raw = sa.create_engine(url)
    sessions_bench.build(raw, n, now)
    raw.dispose()
    engine = create_engine(url, Settings())
    with engine.connect() as conn:
        ctx = RuleContext.from_report(check_schema(conn), now=now, idle_days=7)
    cleanup = sessions_bench.clean_everything(engine, ctx)
    result.extra.append(
        f"cleanup with audit: {int(cleanup['rows']):,} leaked rows of {n:,} sessions cleaned at "
        f"{cleanup['rate']:,.0f} rows/s (target >= 10,000 rows/s)"
    )
    raw = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with raw.connect() as conn:
        conn.exec_driver_sql("VACUUM ANALYZE agent_runtime_sessions")
    raw.dispose()
    with engine.connect() as conn:
        for rule in RULE_NAMES:
            flt = sessions_store.SessionFilter(rule=rule)
            t = timed(
                f"no-leak variant ({n:,} sessions, nothing matches): rule={rule}",
                lambda flt=flt: sessions_store.list_sessions(conn, flt, ctx),
                runs,
            )
            result.store.append(("no-leak", "other", t))
    engine.dispose()


def run_scale(cluster: Cluster, admin: sa.Engine, scale: str, args: argparse.Namespace) -> ScaleResult:
    result = ScaleResult(scale)
    for generation in ("sessions", "workspaces"):
        url = _db(cluster, admin, f"bench_{scale.lower()}_{generation}")
        print(f"[{scale}] seeding {generation} ...", flush=True)
        engine = sa.create_engine(url)
        seed_database(engine, generation=generation, scale=scale, now=naive_utc_now())
        engine.dispose()
        result.sizes[generation] = _analyze(url)
        print(f"[{scale}] {generation}: store calls, naive baseline, pages", flush=True)
        measure_store(url, generation, args.runs, result)
        measure_naive(url, generation, args.runs, result)
        measure_pages(url, generation, args.runs, result)
        if generation == "sessions":
            measure_concurrency(
                url, threads=4 if args.quick else 8, per_thread=5 if args.quick else 20, result=result
            )
    if not args.quick:
        print(f"[{scale}] 10,000 workspaces and the cleanup rate", flush=True)
        measure_heavy(cluster, admin, scale, args.runs, result)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="S", help="S, M or L, or several: S,M")
    parser.add_argument("--quick", action="store_true", help="skip the 10,000-workspace and cleanup runs")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    scales = [s.strip().upper() for s in args.scale.split(",") if s.strip()]
    if not scales or any(s not in ("S", "M", "L") for s in scales):
        parser.error("--scale takes S, M, L or a comma-separated list")
    started = datetime.now(UTC)
    cluster = start_cluster()
    try:
        admin = sa.create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            server = {
                name: conn.exec_driver_sql(f"SHOW {name}").scalar()
                for name in ("server_version", "shared_buffers", "work_mem")
            }
        results = [run_scale(cluster, admin, scale, args) for scale in scales]
        admin.dispose()
    finally:
        cluster.stop()
    from bench.report import write_report

    write_report(args.out, results, server=server, started=started, args=args, machine=machine())
    print(f"wrote {args.out}")
    return 0


def machine() -> dict[str, str]:
    import importlib.metadata as md

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GB"
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": f"{cpu} ({os.cpu_count()} cores visible)",
        "memory": mem,
        "os": platform.platform(),
        "python": platform.python_version(),
        "streamlit": md.version("streamlit"),
        "sqlalchemy": md.version("sqlalchemy"),
        "psycopg": md.version("psycopg"),
        "max_rss": f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB",
    }


if __name__ == "__main__":
    raise SystemExit(main())
