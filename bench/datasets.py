"""Benchmark databases, generated once and reused: a persistent throwaway PostgreSQL cluster.

The cluster lives in `BENCH_PG_DIR` (default `/tmp/agent-desk-bench-pg`; socket only, trust auth,
fsync off, server memory defaults as Dify's docker setup). It survives between runs of `python -m bench`
(the server is stopped at the end, the data directory stays); delete the directory to start over.

Each database is named `b_<scale>_<generation>_<variant>_<fingerprint>`; the fingerprint hashes the
scale, generation, variant, `GENERATOR_VERSION` and the source of the generators and migrations
(`data/demo*.py`, `data/migrations/`, this file, the variant builders). A database is built under a
temporary name and renamed when complete, so a present name is a complete build: it is reused. Older
builds of the same (scale, generation, variant) are dropped.

What is in them (only Dify's schema and indexes, no extra index):

* `S`: `python -m data demo`'s story at scale S (3 workspaces, ~70 agents, ~250 sessions);
* `M` / `L`: the same story, then every Dify table cloned set-based (`INSERT .. SELECT .. CROSS JOIN
  generate_series`) with each uuid reference remapped per copy (uuidv7 ids keep their millisecond,
  so id order stays creation order), up to 10,000 / 100,000 agents; then older config versions,
  published binding copies and cleaned sessions (history, as Dify keeps it) fill the tables to the
  issue's L shape: 100,000 agents, ~1,000,000 snapshots, ~200,000 bindings, ~1,000,000 sessions
  (the workspaces generation has no sessions table; its agent_workspaces grow with the clones);
* variants: `main`; `workspaces10k` (10,000 workspaces, bench/roster_bench.py); `cleanup` (the leak
  mix of bench/sessions_bench.py; after its cleanup it is the no-leak variant).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from data.models import naive_utc_now
from tests.pgcluster import Cluster, PostgresUnavailable, _as_postgres, find_bindir

ROOT = Path(__file__).resolve().parent.parent
GENERATOR_VERSION = 1
DEFAULT_DIR = Path(os.environ.get("BENCH_PG_DIR", "/tmp/agent-desk-bench-pg"))

# Agents wanted per scale (S is the story as it is).
AGENTS = {"S": 0, "M": 10_000, "L": 100_000}
# Rows wanted per scale after cloning (the filler adds history rows up to these).
TARGETS = {
    "M": {
        "agent_config_snapshots": 100_000,
        "workflow_agent_node_bindings": 20_000,
        "agent_runtime_sessions": 100_000,
    },
    "L": {
        "agent_config_snapshots": 1_000_000,
        "workflow_agent_node_bindings": 200_000,
        "agent_runtime_sessions": 1_000_000,
    },
}
# uuid columns that are not remapped per copy (shared: the workspace, the people).
SHARED_UUIDS = {"tenant_id", "created_by", "updated_by", "archived_by", "account_id", "from_account_id"}
# Tables never cloned (the workspaces, the people, Agent Desk's own tables).
NOT_CLONED = {"tenants", "accounts", "tenant_account_joins"}


def persistent_cluster(base: Path = DEFAULT_DIR) -> Cluster:
    """Start the bench cluster in `base`, creating it (initdb) the first time."""
    cluster = Cluster(base=base, bindir=find_bindir())
    base.mkdir(parents=True, exist_ok=True)
    if not (cluster.datadir / "PG_VERSION").exists():
        cluster.start()
        return cluster
    status = subprocess.run(
        _as_postgres([str(cluster.bindir / "pg_ctl"), "-D", str(cluster.datadir), "status"]),
        capture_output=True,
    )
    if status.returncode != 0:
        with contextlib.suppress(FileNotFoundError):
            (cluster.datadir / "postmaster.pid").unlink()  # a stale pid file of a killed server
        cluster._launch()
    return cluster


def stop_cluster(cluster: Cluster) -> None:
    """Stop the server, keep the data directory (the databases are reused next time)."""
    subprocess.run(
        _as_postgres(
            [str(cluster.bindir / "pg_ctl"), "-D", str(cluster.datadir), "-m", "fast", "-w", "stop"]
        ),
        capture_output=True,
    )


def _source_hash(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for f in files:
            digest.update(str(f.relative_to(ROOT)).encode())
            digest.update(f.read_bytes())
    return digest.hexdigest()


def fingerprint(scale: str, generation: str, variant: str) -> str:
    """Changes when what would be generated changes: the demo generators, the migrations, this module's
    generator functions and sizes, the variant's builder (bump GENERATOR_VERSION for anything else)."""
    import inspect

    sources = [ROOT / "data" / "demo.py", ROOT / "data" / "demo_workspaces.py"]
    sources += [p for p in (ROOT / "data" / "migrations", ROOT / "migrations") if p.exists()]
    if variant == "workspaces10k":
        sources.append(ROOT / "bench" / "roster_bench.py")
    if variant == "cleanup":
        sources.append(ROOT / "bench" / "sessions_bench.py")
    generator = "".join(
        inspect.getsource(f) for f in (_remap, _columns, _dify_tables, _clone_all, _fill, build_main)
    )
    key = (
        f"{GENERATOR_VERSION}|{scale}|{generation}|{variant}|{_source_hash(sources)}|{AGENTS}|{TARGETS}|"
        f"{sorted(SHARED_UUIDS)}|{sorted(NOT_CLONED)}|{CLEANUP_SESSIONS}|{generator}"
    )
    return hashlib.sha256(key.encode()).hexdigest()[:10]


BUILT_AT = naive_utc_now().replace(microsecond=0)


def built_at(url: str) -> datetime:
    """The `now` a bench database was generated with (its data's clock)."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        text = conn.exec_driver_sql(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()"
        ).scalar()
    engine.dispose()
    return datetime.fromisoformat(text) if text else naive_utc_now()


def scratch_copy(cluster: Cluster, built: Built, name: str) -> str:
    """A throwaway copy of a built database (CREATE DATABASE .. TEMPLATE): for runs that write to it."""
    admin = sa.create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{built.name}"')
    admin.dispose()
    return cluster.url(name)


def drop(cluster: Cluster, name: str) -> None:
    admin = sa.create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@dataclass
class Built:
    url: str
    name: str
    reused: bool
    seconds: float  # generation time (0 when reused)


def database(
    cluster: Cluster, scale: str, generation: str, variant: str, build: Callable[[sa.Engine], None]
) -> Built:
    """The database for (scale, generation, variant): reused when its fingerprint is present. The build's
    `now` (the generated data's clock) is kept as the database's comment: `built_at()`."""
    prefix = f"b_{scale.lower()}_{generation}_{variant}_".replace("-", "_")
    name = prefix + fingerprint(scale, generation, variant)
    admin = sa.create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            present = set(conn.exec_driver_sql("SELECT datname FROM pg_database").scalars())
            if name in present:
                return Built(cluster.url(name), name, True, 0.0)
            for old in sorted(present):
                if old.startswith(prefix) or old == "tmp_" + name:
                    conn.exec_driver_sql(f'DROP DATABASE "{old}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "tmp_{name}"')
        started = time.perf_counter()
        global BUILT_AT
        BUILT_AT = naive_utc_now().replace(microsecond=0)
        engine = sa.create_engine(cluster.url("tmp_" + name))
        try:
            build(engine)
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        finally:
            engine.dispose()
        seconds = time.perf_counter() - started
        with admin.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "tmp_{name}" RENAME TO "{name}"')
            conn.exec_driver_sql(f"COMMENT ON DATABASE \"{name}\" IS '{BUILT_AT.isoformat()}'")
        return Built(cluster.url(name), name, False, seconds)
    finally:
        admin.dispose()


# --------------------------------------------------------------------------------------------
# Set-based growth of the story to M / L
# --------------------------------------------------------------------------------------------


def _remap(col: str, key: str) -> str:
    """A uuid remapped per copy `key` (SQL text): the first 48 bits (a uuidv7's millisecond) kept."""
    h = f"md5({col}::text || ':' || {key})"
    return (
        f"CASE WHEN {col} IS NULL THEN NULL ELSE (left(replace({col}::text, '-', ''), 12) || '7' || "
        f"substr({h}, 1, 3) || '8' || substr({h}, 4, 15))::uuid END"
    )


def _columns(conn: sa.Connection, table: str) -> list[tuple[str, str]]:
    return [
        (name, dtype)
        for name, dtype in conn.exec_driver_sql(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'public' "
            "AND table_name = %(t)s AND is_generated = 'NEVER' ORDER BY ordinal_position",
            {"t": table},
        ).all()
    ]


def _dify_tables(conn: sa.Connection) -> list[str]:
    from data.models.base import DifyBase

    mirror = set(DifyBase.metadata.tables)
    present = set(sa.inspect(conn).get_table_names())
    return sorted((mirror & present) - NOT_CLONED)


def _clone_all(conn: sa.Connection, copies: int) -> None:
    """Every Dify table's rows copied `copies` times (copy g = 1..copies), references remapped per copy."""
    for table in _dify_tables(conn):
        cols = _columns(conn, table)
        exprs = []
        for name, dtype in cols:
            if dtype == "uuid" and name not in SHARED_UUIDS:
                exprs.append(_remap(name, "g"))
            elif table == "agents" and name == "name":
                exprs.append("left(name, 230) || ' #' || g")
            else:
                exprs.append(name)
        names = ", ".join(n for n, _ in cols)
        conn.exec_driver_sql(
            f"INSERT INTO {table} ({names}) SELECT {', '.join(exprs)} FROM {table} "
            f"CROSS JOIN generate_series(1, {copies}) g"
        )


def _fill(conn: sa.Connection, table: str, want: int, overrides: dict[str, str], where: str = "TRUE") -> None:
    """Copies of `table`'s rows (matching `where`) until it has about `want` rows: only the primary key is
    remapped, `overrides` set columns (SQL in terms of the row and the copy number `g`)."""
    have = conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
    base = conn.exec_driver_sql(f"SELECT count(*) FROM {table} WHERE {where}").scalar_one()
    if have >= want or base == 0:
        return
    copies = -(-(want - have) // base)
    cols = _columns(conn, table)
    exprs = [overrides.get(name, _remap(name, "'f' || g") if name == "id" else name) for name, _dtype in cols]
    names = ", ".join(n for n, _ in cols)
    conn.exec_driver_sql(
        f"INSERT INTO {table} ({names}) SELECT {', '.join(exprs)} FROM {table} "
        f"CROSS JOIN generate_series(1, {copies}) g WHERE {where}"
    )


def build_main(scale: str, generation: str) -> Callable[[sa.Engine], None]:
    def build(engine: sa.Engine) -> None:
        from data.db import seed_database

        seed_database(engine, generation=generation, scale="S", now=BUILT_AT)
        if scale == "S":
            return
        with engine.begin() as conn:
            story = conn.exec_driver_sql("SELECT count(*) FROM agents").scalar_one()
            copies = max(1, -(-(AGENTS[scale] - story) // story))
            t = time.perf_counter()
            _clone_all(conn, copies)
            print(f"  cloned the story x{copies}: {time.perf_counter() - t:.1f} s", flush=True)
            targets = TARGETS[scale]
            t = time.perf_counter()
            # Older config versions (what Dify keeps per agent), published binding copies, old cleaned
            # sessions: history rows, each a copy of a real row with its own id.
            _fill(
                conn,
                "agent_config_snapshots",
                targets["agent_config_snapshots"],
                {"version": "version + 1000 * g"},
            )
            _fill(
                conn,
                "workflow_agent_node_bindings",
                targets["workflow_agent_node_bindings"],
                {"workflow_version": "left(workflow_version, 200) || '.bench' || g"},
            )
            if sa.inspect(conn).has_table("agent_runtime_sessions"):
                _fill(
                    conn,
                    "agent_runtime_sessions",
                    targets["agent_runtime_sessions"],
                    {
                        "status": "'cleaned'",
                        "cleaned_at": "coalesce(cleaned_at, updated_at)",
                        # unique scopes: a run / conversation of its own (a cleaned row of history)
                        "workflow_run_id": _remap("workflow_run_id", "'f' || g"),
                        "conversation_id": _remap("conversation_id", "'f' || g"),
                    },
                    where="status = 'cleaned'",
                )
            print(f"  filled history rows: {time.perf_counter() - t:.1f} s", flush=True)

    return build


def build_workspaces10k(scale: str) -> Callable[[sa.Engine], None]:
    def build(engine: sa.Engine) -> None:
        from bench import roster_bench

        roster_bench.build(engine, {"S": 20_000, "M": 50_000, "L": 100_000}[scale], 10_000)

    return build


CLEANUP_SESSIONS = {"S": 100_000, "M": 300_000, "L": 1_000_000}


def build_cleanup(scale: str) -> Callable[[sa.Engine], None]:
    def build(engine: sa.Engine) -> None:
        from bench import sessions_bench

        sessions_bench.build(engine, CLEANUP_SESSIONS[scale], BUILT_AT)

    return build


__all__ = ["Built", "PostgresUnavailable", "database", "persistent_cluster", "stop_cluster"]
