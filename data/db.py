"""Engines for the Dify database, with the write guard, and the embedded demo bootstrap.

Callers own sessions and transactions (`with engine.begin() as conn:`); stores take a connection.
"""

from __future__ import annotations

import getpass
import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from filelock import FileLock

from data.settings import Settings

APPLICATION_NAME = "agent-desk"


class WriteRefused(PermissionError):
    """A statement would write to Dify's tables beyond the session cleanup transition."""


# --- the write guard ------------------------------------------------------------------------

_READ_PREFIXES = (
    "select",
    "with",
    "explain",
    "show",
    "pragma",
    "set ",
    "begin",
    "commit",
    "rollback",
    "savepoint",
    "release",
)
_OWN_TABLE = re.compile(r"^\s*(insert\s+into|update|delete\s+from)\s+\"?(agent_desk_\w+)", re.I)
# The one write allowed on Dify's tables: the session cleanup transition of these three columns.
_CLEANUP_UPDATE = re.compile(
    r"^\s*update\s+\"?agent_runtime_sessions\"?\s+set\s+(?P<cols>.+?)\s+where\s", re.I | re.S
)
_CLEANUP_COLUMNS = {"status", "cleaned_at", "updated_at"}
_DATA_MODIFYING_CTE = re.compile(r"\b(insert|update|delete|merge|truncate|drop|alter|create)\b", re.I)


def check_statement(statement: str) -> None:
    """Raise WriteRefused unless `statement` is a read, the cleanup transition or a write to our tables."""
    text = statement.lstrip().lower()
    if text.startswith(_READ_PREFIXES):
        if text.startswith("with") and _DATA_MODIFYING_CTE.search(text):
            raise WriteRefused("data-modifying WITH statements are not allowed")
        if text.startswith("set ") and not text.startswith(("set session", "set local", "set statement")):
            raise WriteRefused(f"statement not allowed: {statement[:80]!r}")
        return
    if _OWN_TABLE.match(statement):
        return
    match = _CLEANUP_UPDATE.match(statement)
    if match:
        assigned = {part.split("=")[0].strip().strip('"').lower() for part in match["cols"].split(",")}
        if assigned <= _CLEANUP_COLUMNS:
            return
    raise WriteRefused(f"Agent Desk does not write this to Dify's database: {statement[:120]!r}")


def install_write_guard(engine: sa.Engine) -> None:
    """Every statement on this engine passes `check_statement` before it reaches the database."""

    @sa.event.listens_for(engine, "before_cursor_execute", retval=False)
    def _guard(conn, cursor, statement, parameters, context, executemany):
        check_statement(statement)


# --- engines --------------------------------------------------------------------------------


def _connect_args(url: sa.URL, settings: Settings) -> dict:
    if url.get_backend_name() == "postgresql":
        # jit=off: the planner's JIT compiles "expensive-looking" plans (per-workspace seeks, bounded
        # scans) for tens of ms; every query here reads a page in a few ms.
        options = f"-c statement_timeout={settings.statement_timeout_ms} -c lock_timeout=2000 -c jit=off"
        return {"application_name": APPLICATION_NAME, "options": options}
    if url.get_backend_name() == "sqlite":
        return {"timeout": 15}
    return {}


def create_engine(url: str, settings: Settings, *, guarded: bool = True) -> sa.Engine:
    """An engine on a Dify (or demo) database: small pool, pre-ping, statement timeout, write guard."""
    parsed = sa.make_url(url)
    kwargs: dict = {"pool_pre_ping": True, "connect_args": _connect_args(parsed, settings)}
    if parsed.get_backend_name() != "sqlite":
        kwargs.update(pool_size=3, max_overflow=2, pool_recycle=1800)
    engine = sa.create_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, record):
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=15000")
            cursor.close()

    elif parsed.get_backend_name() == "mysql":

        @sa.event.listens_for(engine, "connect")
        def _mysql_timeout(dbapi_conn, record):
            cursor = dbapi_conn.cursor()
            cursor.execute(f"SET SESSION max_execution_time={int(settings.statement_timeout_ms)}")
            cursor.close()

    if guarded:
        install_write_guard(engine)
    return engine


@dataclass(frozen=True)
class Engines:
    """Reads may go to a replica; writes and audit always go to `DATABASE_URL`."""

    read: sa.Engine
    write: sa.Engine
    is_demo: bool

    def dispose(self) -> None:
        self.read.dispose()
        if self.write is not self.read:
            self.write.dispose()


def open_engines(settings: Settings) -> Engines:
    if settings.is_demo:
        ensure_demo_database(settings)
    write = create_engine(settings.write_url, settings)
    read = create_engine(settings.read_url, settings) if settings.database_read_url else write
    return Engines(read=read, write=write, is_demo=settings.is_demo)


# --- the embedded demo ----------------------------------------------------------------------


class SeedRefused(PermissionError):
    """Demo or benchmark data would be written into a database that holds Dify data."""


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
            seed_database(engine, now=now, scale="S")
        finally:
            engine.dispose()
        building.rename(path)
        return True


def seed_database(engine: sa.Engine, *, now: datetime | None = None, scale: str = "S"):
    """Create the mirror (refusing a database with Dify data) and fill it with demo data."""
    from data import demo, migrate
    from data.models import Agent, naive_utc_now

    try:
        migrate.upgrade(engine, "mirror")
    except migrate.MigrationRefused as exc:
        raise SeedRefused(str(exc)) from exc
    migrate.upgrade(engine, "app")
    with engine.begin() as conn:
        if conn.execute(sa.select(Agent.id).limit(1)).first() is not None:
            raise SeedRefused("refusing to seed: the database already holds agents")
        return demo.seed_demo(conn, now=now or naive_utc_now(), scale=scale)


def os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"
