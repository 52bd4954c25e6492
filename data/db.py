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
#
# Allowed on the app's engines, and nothing else:
# * reads: SELECT / WITH (no data-modifying CTE, no SELECT INTO, no side-effect functions), EXPLAIN of
#   an allowed statement, SHOW, read-only PRAGMAs, and transaction control;
# * the session cleanup transition: UPDATE agent_runtime_sessions assigning only status, cleaned_at and
#   updated_at (any WHERE and RETURNING);
# * INSERT INTO Agent Desk's insert-only audit tables (agent_desk_audit*);
# * SET [SESSION|LOCAL] of the few timeouts the app sets.
# Comments and string literals are removed before the checks, and one statement is one statement.

_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
_STRINGS = re.compile(r"'(?:[^']|'')*'|\$\$.*?\$\$", re.S)
# Inside a SELECT (strings blanked), only a data-modifying CTE can write: these verbs give it away.
_WRITE_WORDS = re.compile(r"\b(insert|update|delete|merge|truncate)\b")
_SIDE_EFFECT_FUNCTIONS = re.compile(
    r"\b(pg_terminate_backend|pg_cancel_backend|set_config|dblink\w*|lo_\w+|pg_advisory\w*|nextval|setval|"
    r"pg_reload_conf|pg_rotate_logfile|pg_read\w*|pg_write\w*|pg_file\w*|pg_switch_wal|txid_\w+|"
    r"pg_notify|sleep|benchmark|get_lock|load_file|sys_exec)\s*\("
)
_SELECT_INTO = re.compile(r"\binto\b")
_EXPLAIN = re.compile(r"^explain\s+(\((?P<opts>[^)]*)\)\s*|(?P<bare>(analy[sz]e|verbose)\s+)*)")
_ALLOWED_SET = re.compile(
    r"^set\s+(session\s+|local\s+)?(statement_timeout|lock_timeout|idle_in_transaction_session_timeout|jit|"
    r"max_execution_time|max_statement_time|innodb_lock_wait_timeout)\s*(=|to)\s*[\w.']+$"
)
_READ_PRAGMA = re.compile(r"^pragma\s+[\w.]+(\s*\(\s*[\w.\"]*\s*\))?$")
_TRANSACTION = re.compile(r"^(begin|commit|rollback|savepoint|release)(\s+[\w\s]*)?$")
_OWN_INSERT = re.compile(r"^insert\s+into\s+[`\"]?(agent_desk_audit\w*)[`\"]?\s*[(\s]")
_CLEANUP = re.compile(
    r"^update\s+[`\"]?(?P<table>agent_runtime_sessions|agent_workspaces|agent_workspace_bindings)[`\"]?\s+"
    r"set\s+(?P<rest>.+)$",
    re.S,
)
# workenv (issue 11), minimal change for the lead to reconcile with the structural guard: the 1.17+
# manual retire may set exactly these columns of these two tables (data/services/retire.py).
_CLEANUP_COLUMNS_BY_TABLE = {
    "agent_runtime_sessions": {"status", "cleaned_at", "updated_at"},
    "agent_workspaces": {"status", "retired_at", "active_guard", "updated_at"},
    "agent_workspace_bindings": {"status", "retired_at", "updated_at"},
}
_CLEANUP_COLUMNS = _CLEANUP_COLUMNS_BY_TABLE["agent_runtime_sessions"]


def _normalize(statement: str) -> str:
    """Lower-case text without comments or string literals, one statement, trailing `;` removed."""
    text = _STRINGS.sub("''", _COMMENTS.sub(" ", statement)).strip().lower()
    text = text.rstrip("; \n\t")
    if ";" in text:
        raise WriteRefused("more than one statement")
    return text


def _split_top_level(text: str, separator: str) -> list[str]:
    """Split at `separator` outside parentheses (strings are already blanked)."""
    parts, depth, current = [], 0, []
    for char in text:
        depth += (char == "(") - (char == ")")
        if char == separator and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _top_level_where(text: str) -> int:
    """Index of the first ` where ` outside parentheses, or -1."""
    depth = 0
    for match in re.finditer(r"[()]|\bwhere\b", text):
        token = match.group(0)
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        elif depth == 0:
            return match.start()
    return -1


def _check_read(text: str) -> None:
    if _WRITE_WORDS.search(text):
        raise WriteRefused("a read statement may not modify data")
    if _SIDE_EFFECT_FUNCTIONS.search(text):
        raise WriteRefused("a read statement may not call functions with side effects")
    if _SELECT_INTO.search(text):
        raise WriteRefused("SELECT ... INTO creates a table")


def _check_cleanup(rest: str, allowed: set[str] = _CLEANUP_COLUMNS) -> None:
    where = _top_level_where(rest)
    assignments = rest[:where] if where >= 0 else rest
    for assignment in _split_top_level(assignments, ","):
        column = assignment.split("=", 1)[0].strip().strip('`"').split(".")[-1]
        if column not in allowed:
            raise WriteRefused(f"the cleanup may only set {', '.join(sorted(allowed))}, not {column!r}")
        if _WRITE_WORDS.search(assignment.split("=", 1)[-1]) or _SIDE_EFFECT_FUNCTIONS.search(assignment):
            raise WriteRefused("the cleanup assignments must be plain values")
    if where >= 0:
        _check_read(rest[where:].replace("for update", "").replace("returning", ""))


def check_statement(statement: str) -> None:
    """Raise WriteRefused unless `statement` is one of the allowed kinds listed above."""
    text = _normalize(statement)
    explain = _EXPLAIN.match(text)
    if explain and explain.group(0):
        return check_statement(text[explain.end() :])
    if text.startswith(("select", "with", "(")):
        return _check_read(text.replace("for update", "").replace("skip locked", ""))
    if (
        text.startswith(("show ", "describe ", "desc "))
        or _READ_PRAGMA.match(text)
        or _TRANSACTION.match(text)
        or _ALLOWED_SET.match(text)
    ):
        return None
    own = _OWN_INSERT.match(text)
    if own:
        return _check_read(text[own.end() :])
    cleanup = _CLEANUP.match(text)
    if cleanup:
        return _check_cleanup(cleanup.group("rest"), _CLEANUP_COLUMNS_BY_TABLE[cleanup.group("table")])
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
            cursor.execute("SELECT VERSION()")
            if "mariadb" in str(cursor.fetchone()[0]).lower():  # MariaDB's name and unit (seconds)
                cursor.execute(f"SET SESSION max_statement_time={settings.statement_timeout_ms / 1000:.3f}")
            else:
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
            from data.models.generations import DEFAULT_GENERATION  # the embedded demo is current Dify

            seed_database(engine, now=now, scale="S", generation=DEFAULT_GENERATION)
        finally:
            engine.dispose()
        building.rename(path)
        return True


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


def os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"
