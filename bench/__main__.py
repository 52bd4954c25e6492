"""One benchmark command: `uv run --frozen python -m bench --all` writes docs/benchmarks.md.

    python -m bench --all                       # S and L, browsers, 25 users, variants (the full report)
    python -m bench --scale S,M --runs 5        # chosen scales; add --browser / --users N / --quick

Databases come from bench/datasets.py: a persistent throwaway PostgreSQL cluster (`BENCH_PG_DIR`, default
/tmp/agent-desk-bench-pg; server defaults as Dify's docker setup, only Dify's indexes), one database per
(scale, schema generation, variant) fingerprinted by the generator's source and reused when present:
both generations (`sessions` = Dify 1.15-1.16, `workspaces` = 1.17+), S (the demo story) and M / L (the
story grown set-based to 10,000 / 100,000 agents, ~1,000,000 snapshots, ~200,000 bindings, ~1,000,000
sessions), a 10,000-workspace variant and a cleanup / no-leak variant. Per scale it times, on the app's
own guarded engine:

* every page's store calls (min / median / max of `--runs` after a warm-up);
* the whole page through AppTest (app.py + the page, every st.cache_data cleared before each run; the
  compiled scripts kept between runs, as a server keeps them);
* the naive way of the generic admins (COUNT(*) + ORDER BY .. LIMIT 50 OFFSET k) as a ratio;
* a thread concurrency run (each thread its own engine, as separate servers);
* EXPLAIN (ANALYZE, BUFFERS) of every statement those store calls send, listing any sequential scan of
  a table of >= 10,000 rows;
* with `--browser` (or `--all`): chromium timings against the Streamlit floor measured in the same run
  (bench/browser.py), the first page after a server start (`app.py` vs `serve.py`'s warm-up) and
  `--users` concurrent browser sessions at the largest scale (p95, errors, server RSS);
* unless `--quick`: the 10,000-workspace roster and the audited cleanup rate, then the no-leak variant.
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

from bench import datasets
from bench.harness import Plan, Timing, captured, explain, large_tables, timed
from data.db import create_engine
from data.models import naive_utc_now
from data.read_context import ReadContext
from data.schema_check import check_schema
from data.services.leaks import RULE_NAMES, RuleContext
from data.settings import Settings
from data.stores import agents as agents_store
from data.stores import overview as overview_store
from data.stores import roster as roster_store
from data.stores import sessions as sessions_store
from tests.pgcluster import Cluster

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
    built: list[str] = field(default_factory=list)  # how each database was obtained
    browser: list[tuple[str, str, str, Timing]] = field(default_factory=list)  # (database, group, kind, t)
    browser_notes: list[str] = field(default_factory=list)
    first_page: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # entry -> samples
    users: list[str] = field(default_factory=list)


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
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import AppTest, app_test

    # A server compiles each page script once (its ScriptCache lives as long as the process); AppTest
    # builds a new cache per run, so every run would pay the compile (and magic's AST pass): share one.
    shared = ScriptCache()
    app_test.ScriptCache = lambda: shared  # type: ignore[attr-defined, assignment]
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


def measure_heavy(cluster: Cluster, scale: str, runs: int, result: ScaleResult) -> None:
    """The 10,000-workspace roster and the cleanup rate (rows/s) with the no-leak variant."""
    from bench import sessions_bench

    agents = {"S": 20_000, "M": 50_000, "L": 100_000}[scale]
    built = datasets.database(
        cluster, scale, "sessions", "workspaces10k", datasets.build_workspaces10k(scale)
    )
    result.built.append(_built_line(built))
    engine = create_engine(built.url, Settings())
    with engine.connect() as conn:
        t = timed(
            f"roster first page, 10,000 workspaces, {agents:,} agents",
            lambda: roster_store.list_roster(conn, roster_store.RosterFilter()),
            runs,
        )
    engine.dispose()
    result.store.append(("10k workspaces", "list", t))

    n = datasets.CLEANUP_SESSIONS[scale]
    built = datasets.database(cluster, scale, "sessions", "cleanup", datasets.build_cleanup(scale))
    result.built.append(_built_line(built))
    now = datasets.built_at(built.url)
    url = datasets.scratch_copy(cluster, built, f"scratch_{scale.lower()}_cleanup")  # the cleanup writes
    engine = create_engine(url, Settings())
    with engine.connect() as conn:
        ctx = RuleContext.from_report(check_schema(conn), now=now, idle_days=7)
    cleanup = sessions_bench.clean_everything(engine, ctx)
    result.extra.append(
        f"cleanup with audit: {int(cleanup['rows']):,} leaked rows of {n:,} sessions cleaned at "
        f"{cleanup['rate']:,.0f} rows/s (target >= 10,000 rows/s: "
        f"{'met' if cleanup['rate'] >= 10_000 else '**not met**'}; measured while the machine was shared)"
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
    datasets.drop(cluster, f"scratch_{scale.lower()}_cleanup")


def _built_line(built: datasets.Built) -> str:
    how = "reused" if built.reused else f"generated in {built.seconds:.0f} s"
    return f"`{built.name}`: {how}"


def measure_browser(
    url: str, generation: str, args: argparse.Namespace, result: ScaleResult, top: bool
) -> None:
    from bench import browser

    env = {"DATABASE_URL": url}
    sessions = generation == "sessions"
    print(f"[{result.scale}] {generation}: browser pages", flush=True)
    measured = browser.measure(env, args.runs, sessions, entry="serve.py")
    for group, kind, t in measured.rows:
        result.browser.append((generation, group, kind, t))
    result.browser_notes += [f"{generation}: {line}" for line in measured.lines]
    if top and sessions:
        print(f"[{result.scale}] first page after a server start", flush=True)
        for entry in ("app.py", "serve.py"):
            result.first_page[entry] = browser.first_page(env, entry, args.starts)
        if args.users:
            print(f"[{result.scale}] {args.users} concurrent browser sessions", flush=True)
            result.users += browser.concurrency(env, args.users, sessions)


def run_scale(cluster: Cluster, scale: str, args: argparse.Namespace, top: bool) -> ScaleResult:
    result = ScaleResult(scale)
    for generation in ("sessions", "workspaces"):
        print(f"[{scale}] {generation}: database (generated once, then reused) ...", flush=True)
        built = datasets.database(cluster, scale, generation, "main", datasets.build_main(scale, generation))
        result.built.append(_built_line(built))
        url = built.url
        result.sizes[generation] = _analyze(url)
        print(f"[{scale}] {generation}: store calls, naive baseline, pages", flush=True)
        measure_store(url, generation, args.runs, result)
        measure_naive(url, generation, args.runs, result)
        measure_pages(url, generation, args.runs, result)
        if generation == "sessions":
            measure_concurrency(
                url, threads=4 if args.quick else 8, per_thread=5 if args.quick else 20, result=result
            )
        if args.browser:
            try:
                measure_browser(url, generation, args, result, top)
            except Exception as exc:  # reported in the document, the rest of the run goes on
                result.browser_notes.append(
                    f"{generation}: browser run failed: {type(exc).__name__}: {exc}"[:400]
                )
    if not args.quick:
        print(f"[{scale}] 10,000 workspaces and the cleanup rate", flush=True)
        measure_heavy(cluster, scale, args.runs, result)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--all", action="store_true", help="the full report: --scale S,L --browser --users 25"
    )
    parser.add_argument("--scale", default=None, help="S, M or L, or several: S,L (default S; XS = S, quick)")
    parser.add_argument("--quick", action="store_true", help="skip the 10,000-workspace and cleanup runs")
    parser.add_argument("--browser", action="store_true", help="chromium timings (bench/browser.py)")
    parser.add_argument(
        "--users", type=int, default=None, help="concurrent browser sessions (with --browser)"
    )
    parser.add_argument("--starts", type=int, default=3, help="server starts for the first-page timing")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args(argv)
    if args.all:
        args.scale = args.scale or "S,L"
        args.browser = True
        args.users = 25 if args.users is None else args.users
    args.scale = args.scale or "S"
    args.users = args.users or 0
    scales = [s.strip().upper() for s in args.scale.split(",") if s.strip()]
    if scales == ["XS"]:  # the smoke run: S data, no variants
        scales, args.quick = ["S"], True
    if not scales or any(s not in ("S", "M", "L") for s in scales):
        parser.error("--scale takes S, M, L or a comma-separated list")
    if args.browser:
        from bench import browser

        missing = browser.available()
        if missing:
            parser.error(f"--browser: {missing}")
    started = datetime.now(UTC)
    cluster = datasets.persistent_cluster()
    try:
        admin = sa.create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            server = {
                name: conn.exec_driver_sql(f"SHOW {name}").scalar()
                for name in ("server_version", "shared_buffers", "work_mem")
            }
        admin.dispose()
        results = [run_scale(cluster, scale, args, top=scale == scales[-1]) for scale in scales]
    finally:
        datasets.stop_cluster(cluster)
    from bench.report import write_report

    write_report(args.out, results, server=server, started=started, args=args, machine=machine())
    print(f"wrote {args.out}")
    return 0


def _chromium_version() -> str:
    import subprocess

    try:
        return subprocess.run(
            ["chromium", "--version"], capture_output=True, text=True, timeout=20
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "chromium (version unknown)"


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
        "pandas": md.version("pandas"),
        "playwright": md.version("playwright"),
        "chromium": _chromium_version(),
        "max_rss": f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB",
    }


if __name__ == "__main__":
    raise SystemExit(main())
