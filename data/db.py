"""Engines for the Dify database, with the write guard, and the embedded demo bootstrap.

Callers own connections (`with engine.connect() as conn:`); stores take a connection. Connections of
the app's engines are read-only; writes happen only in `data.guard.write_transaction` (docs/write-guard.md).
"""

from __future__ import annotations

import functools
import getpass
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from filelock import FileLock

from data.actor import WritesDisabled
from data.errors import SeedRefused
from data.guard import WritePolicy, WriteRefused, check_statement, install
from data.settings import Settings

APPLICATION_NAME = "agent-desk"


# The write guard lives in data/guard.py (docs/write-guard.md); re-exported for callers of data.db.
__all__ = ["WriteRefused", "check_statement"]


# --- engines --------------------------------------------------------------------------------


def _connect_args(url: sa.URL, settings: Settings, guarded: bool) -> dict:
    if url.get_backend_name() == "postgresql":
        # jit=off: the planner's JIT compiles "expensive-looking" plans (per-workspace seeks, bounded
        # scans) for tens of ms; every query here reads a page in a few ms.
        options = f"-c statement_timeout={settings.statement_timeout_ms} -c lock_timeout=2000 -c jit=off"
        if guarded:  # every transaction read-only unless data.guard.write_transaction switches it
            options += " -c default_transaction_read_only=on"
        return {"application_name": APPLICATION_NAME, "options": options}
    if url.get_backend_name() == "sqlite":
        return {"timeout": 15}
    return {}


def write_policy(url: sa.URL, settings: Settings) -> WritePolicy:
    """The deployment's write policy for an engine on `url`: the demo is the demo file, nothing else."""
    demo = settings.is_demo and url == sa.make_url(f"sqlite:///{settings.demo_db_path}")
    return WritePolicy(read_only=settings.read_only, allow_writes=settings.allow_writes, is_demo=demo)


def create_engine(url: str, settings: Settings, *, replica: bool = False) -> sa.Engine:
    """The app's engine on a Dify (or demo) database: small pool, pre-ping, statement timeout, the
    write guard, read-only connections (data/guard.py), and the write policy read from `settings`.

    `replica`: the engine of `DATABASE_READ_URL`. Its policy refuses every write whatever the settings
    say, so a write (or an audit row) can only ever go to the primary."""
    parsed = sa.make_url(url)
    engine = _build_engine(parsed, settings, guarded=True)
    policy = write_policy(parsed, settings)
    if replica:
        policy = WritePolicy(read_only=True, allow_writes=False, is_demo=False)
    install(engine, policy)
    return engine


def create_migration_engine(settings: Settings) -> sa.Engine:
    """The separate, unguarded path for DDL (`python -m data migrate`, `demo`, the demo's own branch).

    Refused in read-only mode. The mirror branch and seeding refuse Dify databases themselves."""
    if settings.read_only:
        raise WritesDisabled("read-only mode (AGENT_DESK_READ_ONLY) is on: no migrations, no seeding")
    return _build_engine(sa.make_url(settings.write_url), settings, guarded=False)


def _build_engine(parsed: sa.URL, settings: Settings, *, guarded: bool) -> sa.Engine:
    kwargs: dict = {"pool_pre_ping": True, "connect_args": _connect_args(parsed, settings, guarded)}
    if parsed.get_backend_name() != "sqlite":
        kwargs.update(pool_size=3, max_overflow=2, pool_recycle=1800)
    engine = sa.create_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, record):
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=15000")
            if guarded:
                cursor.execute("PRAGMA query_only = 1")
            cursor.close()

    elif parsed.get_backend_name() == "mysql":

        @sa.event.listens_for(engine, "connect")
        def _mysql_session(dbapi_conn, record):
            cursor = dbapi_conn.cursor()
            cursor.execute("SELECT VERSION()")
            if "mariadb" in str(cursor.fetchone()[0]).lower():  # MariaDB's name and unit (seconds)
                cursor.execute(f"SET SESSION max_statement_time={settings.statement_timeout_ms / 1000:.3f}")
            else:
                cursor.execute(f"SET SESSION max_execution_time={int(settings.statement_timeout_ms)}")
            if guarded:
                cursor.execute("SET SESSION TRANSACTION READ ONLY")
            cursor.close()
            dbapi_conn.rollback()

    return engine


@dataclass(frozen=True)
class Engines:
    """Reads may go to a replica; writes and audit always go to `DATABASE_URL`.

    `read` serves what pages show (it may lag behind the primary); `write` serves every write, the
    audit, and every read that decides a write (cleanup and retire previews, their re-checks). With
    `DATABASE_READ_URL` the read engine refuses writes at the gate (its policy is read-only)."""

    read: sa.Engine
    write: sa.Engine
    is_demo: bool

    @property
    def has_replica(self) -> bool:
        return self.read is not self.write

    def dispose(self) -> None:
        self.read.dispose()
        if self.write is not self.read:
            self.write.dispose()


def open_engines(settings: Settings) -> Engines:
    # A demo built just now has every table already; an older one gets Agent Desk's newer own tables.
    if settings.is_demo and not ensure_demo_database(settings):
        upgrade_demo_own_tables(settings)
    write = create_engine(settings.write_url, settings)
    read = create_engine(settings.read_url, settings, replica=True) if settings.database_read_url else write
    return Engines(read=read, write=write, is_demo=settings.is_demo)


# --- the embedded demo ----------------------------------------------------------------------


def ensure_demo_database(settings: Settings, *, now: datetime | None = None) -> bool:
    """Create and seed the embedded SQLite demo once; True when this call created it.

    Two browser tabs (or processes) may start at once: a file lock serializes them, and the database
    is built under a temporary name and renamed into place, so nobody ever sees a half-seeded file.
    """
    path = settings.demo_db_path
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock", timeout=120):
        if path.exists():
            return False
        building = path.with_suffix(".building")
        building.unlink(missing_ok=True)
        engine = sa.create_engine(f"sqlite:///{building}")
        try:
            from data.models.generations import DEFAULT_GENERATION  # the embedded demo is current Dify

            seed_database(engine, now=now, scale="S", generation=DEFAULT_GENERATION)
        finally:
            engine.dispose()
        building.rename(path)
        return True


def upgrade_demo_own_tables(settings: Settings) -> None:
    """An embedded demo created before Agent Desk's own tables (audit, check jobs) existed gets them.

    The one place a migration runs implicitly: when the engines are opened (once per process; the app
    caches them), on the embedded demo only, never in read-only mode, never against a real Dify
    database and never on a page load. A real deployment runs `python -m data migrate`."""
    if not settings.is_demo or settings.read_only:
        return
    from data import migrate

    engine = create_migration_engine(settings)
    try:
        migrate.upgrade(engine, "app")
    finally:
        engine.dispose()


def seed_database(engine: sa.Engine, *, generation: str, now: datetime | None = None, scale: str = "S"):
    """Create the mirror of one schema generation (`sessions` or `workspaces`; refusing a database with
    Dify data) and fill it with that generation's demo data."""
    from data import demo, migrate
    from data.models import Agent, naive_utc_now

    with (
        engine.connect() as conn
    ):  # refuse before migrating: never move a filled mirror to another generation
        if (
            sa.inspect(conn).has_table(Agent.__tablename__)
            and conn.execute(sa.select(Agent.id).limit(1)).first()
        ):
            raise SeedRefused("refusing to seed: the database already holds agents")
    try:
        migrate.upgrade_mirror(engine, generation)
    except migrate.MigrationRefused as exc:
        raise SeedRefused(str(exc)) from exc
    migrate.upgrade(engine, "app")
    with engine.begin() as conn:
        if conn.execute(sa.select(Agent.id).limit(1)).first() is not None:
            raise SeedRefused("refusing to seed: the database already holds agents")
        return demo.seed_demo(conn, now=now or naive_utc_now(), scale=scale, generation=generation)


@functools.cache  # every page asks (the local-mode actor); getpwuid is a file lookup each time
def os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"
