"""The write guard (data/guard.py, docs/write-guard.md): statement objects are classified by structure;
SQL text is refused except the app's constants and SQLAlchemy's reflection forms; the database itself
keeps every connection read-only outside `write_transaction`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from data import cli, migrate
from data.actor import Actor, NotAllowed, Role, WritesDisabled
from data.db import WriteRefused, check_statement, create_engine
from data.demo import DemoIds
from data.guard import explain, require_bookkeeping, require_write, write_transaction
from data.models import Agent, AgentRuntimeSession, AuditAction, uuidv7
from data.models.check_runs import CheckClaim, CheckFinding, CheckRun
from data.schema_check import check_schema
from data.settings import Settings
from data.stores.counts import estimated_rows, estimated_value_counts
from tests.conftest import PostgresServer, _seed
from tests.mariadb import MariaDB
from tests.test_mysql_portability import mariadb  # noqa: F401  (fixture)

S = AgentRuntimeSession
OPERATOR = Actor("ops@example.org", Role.OPERATOR)
READ_ONLY = r"(?i)read.?only"  # PostgreSQL, MariaDB and SQLite word it differently
CLEANUP_VALUES = {"status": "cleaned", "cleaned_at": sa.func.now(), "updated_at": sa.func.now()}

# (statement, inside the write transaction): what the old text guard allowed, as the objects the app
# executes (SET of timeouts and EXPLAIN are covered on PostgreSQL below).
ALLOWED: list[tuple[Callable[[], object], bool]] = [
    (lambda: sa.select(sa.literal(1)), False),
    (lambda: sa.select(sa.literal_column("*")).select_from(sa.select(sa.literal(1)).cte("x")), False),
    (lambda: sa.update(S).where(S.id == "1").values(**CLEANUP_VALUES), True),
    (lambda: sa.insert(AuditAction).values(id="1"), True),
    (lambda: sa.select(S.id).where(S.id.in_(["1"])).with_for_update(skip_locked=True), True),
    (
        lambda: (
            sa.update(S)
            .where(S.id.in_(["1", "2"]), S.status == "active")
            .values(**CLEANUP_VALUES)
            .returning(S.id)
        ),
        True,
    ),
    (lambda: sa.select(sa.literal("a; b -- comment; here").label("text_with_semicolon")), False),
    (lambda: 'PRAGMA main.table_info("agents")', False),
    (lambda: sa.select(Agent.updated_at), False),
    (lambda: "DESCRIBE `dify`.`agent_config_drafts`", False),
    (lambda: sa.select(S.id).limit(3).cte("scanned").prefix_with("MATERIALIZED").select(), False),
    (lambda: sa.text("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(:t)"), False),
    # The Dify 1.17 retire transitions (declarative allow-list).
    (
        lambda: sa.update(sa.table("agent_workspaces", sa.column("status"), sa.column("retired_at"))).values(
            status="retired", retired_at=sa.func.now()
        ),
        True,
    ),
]


@pytest.mark.parametrize(("build", "writing"), ALLOWED)
def test_allowed(build: Callable[[], object], writing: bool) -> None:
    check_statement(build(), writing=writing)


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO agents (id) VALUES (1)",
        "UPDATE agents SET name='x'",
        "UPDATE agent_runtime_sessions SET status='cleaned', session_snapshot='' WHERE id=1",
        "UPDATE agent_runtime_sessions SET backend_run_id='x' WHERE id=1",
        "DELETE FROM agent_runtime_sessions",
        "DROP TABLE agents",
        "WITH d AS (DELETE FROM agents RETURNING id) SELECT * FROM d",
        "TRUNCATE agent_runtime_sessions",
        "SET ROLE postgres",
        "CREATE INDEX x ON agents (name)",
        # Bypasses found in review: each must be refused.
        "EXPLAIN ANALYZE DELETE FROM agents",
        "EXPLAIN (ANALYZE, BUFFERS) UPDATE agents SET name = 'x'",
        "UPDATE agent_runtime_sessions SET status='x where ', session_snapshot='y' WHERE id=1",
        "UPDATE agent_runtime_sessions SET status=(select 'a' where true), session_snapshot='x' WHERE id=1",
        "SELECT 1; DELETE FROM agents",
        "UPDATE agent_runtime_sessions SET status='c' WHERE id=1; DROP TABLE agents",
        "SELECT 1 /* ; */ ; DELETE FROM agents",
        "UPDATE agent_desk_audit_actions SET reason = 'x'",
        "DELETE FROM agent_desk_audit_targets",
        "INSERT INTO agent_desk_alembic_version VALUES ('x')",
        "SELECT * INTO newtab FROM agents",
        "SELECT pg_terminate_backend(123)",
        "SELECT set_config('role', 'postgres', false)",
        "SELECT dblink_exec('x', 'drop table agents')",
        "SET SESSION AUTHORIZATION postgres",
        "SET LOCAL ROLE postgres",
        "PRAGMA writable_schema=1",
        "INSERT INTO agent_desk_audit_actions (id) SELECT id FROM agents ON CONFLICT DO UPDATE SET id = 1",
        "UPDATE agent_runtime_sessions SET agent_runtime_sessions.status='c', session_snapshot='' WHERE id=1",
        # Issue 12, part 3: the bypasses of the text guard.
        "SELECT '--'; DELETE FROM agents",
        "UPDATE agent_runtime_sessions SET status = '--', session_snapshot = '' WHERE id = 1",
        'SELECT "pg_terminate_backend"(123)',
        "SELECT pg_sleep(10)",
        "SELECT pg_ls_dir('.')",
        "SELECT my_volatile_function()",
        "SET statement_timeout = 0",
        "SELECT id FROM agents FOR UPDATE",
        'PRAGMA main.table_info("agents"); DELETE FROM agents',
        "SHOW CREATE TABLE `agents`; DELETE FROM agents",
        "SET TRANSACTION READ WRITE",
        "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
        "PRAGMA query_only = 0",
    ],
)
def test_refused(statement: str) -> None:
    for form in (statement, sa.text(statement)):
        with pytest.raises(WriteRefused):
            check_statement(form, writing=True)


AGENTS_FOR_UPDATE = sa.select(Agent.id).with_for_update()

# Each bypass class as the statement objects that would carry it: refused, in and out of the write
# transaction unless stated.
BYPASSES: dict[str, Callable[[], object]] = {
    "delete": lambda: sa.delete(Agent),
    "data-modifying cte": lambda: sa.select(sa.func.count()).select_from(
        sa.delete(Agent).returning(Agent.id).cte("d")
    ),
    "update with a '--' literal and session_snapshot": lambda: sa.update(S).values(
        status="--", session_snapshot="{}"
    ),
    "update column via parameters": lambda: sa.update(S).where(S.id == sa.bindparam("b_id")),
    "update of a Dify table": lambda: sa.update(Agent).values(name="x"),
    "update of an audit row": lambda: sa.update(AuditAction).values(reason="x"),
    "insert into a Dify table": lambda: sa.insert(Agent).values(id="1"),
    "insert into the alembic version": lambda: sa.insert(sa.table("agent_desk_alembic_version")).values(),
    "upsert into the audit": lambda: (
        postgresql.insert(AuditAction)
        .values(id="1")
        .on_conflict_do_update(index_elements=["id"], set_={"reason": "x"})
    ),
    "pg_terminate_backend": lambda: sa.select(sa.func.pg_terminate_backend(1)),
    "quoted pg_terminate_backend": lambda: sa.select(sa.literal_column('"pg_terminate_backend"(1)')),
    "pg_catalog.pg_terminate_backend": lambda: sa.select(sa.func.pg_catalog.pg_terminate_backend(1)),
    "pg_sleep in a subquery": lambda: sa.select(Agent.id).where(
        Agent.id.in_(sa.select(sa.func.pg_sleep(1)).scalar_subquery())
    ),
    "pg_ls_dir": lambda: sa.select(sa.func.pg_ls_dir(".")),
    "user-defined volatile function": lambda: sa.select(sa.func.agent_desk_side_effect()),
    "set_config": lambda: sa.select(sa.func.set_config("statement_timeout", "0", False)),
    "nextval": lambda: sa.select(sa.func.nextval("s")),
    "SET statement_timeout = 0": lambda: sa.text("SET statement_timeout = 0"),
    "text inside a where": lambda: sa.select(Agent.id).where(sa.text("pg_sleep(1) IS NULL")),
    "raw prefix": lambda: sa.select(Agent.id).prefix_with("/*+ x */ pg_sleep(1),"),
    "hint": lambda: sa.select(Agent.id).with_hint(Agent, "USE INDEX (x)"),
    "custom operator": lambda: sa.select(Agent.id).where(Agent.name.op("; DELETE FROM agents; --")("x")),
    "FOR UPDATE on Dify's agents": lambda: AGENTS_FOR_UPDATE,
    "FOR SHARE on Dify's agents": lambda: sa.select(Agent.id).with_for_update(read=True),
    "FOR UPDATE joining agents": lambda: (
        sa.select(S.id).join(Agent, Agent.id == S.agent_id).with_for_update()
    ),
    "ddl": lambda: sa.schema.CreateTable(sa.Table("x", sa.MetaData(), sa.Column("a", sa.Integer))),
    "compiled": lambda: sa.select(Agent.id).compile(),
}


@pytest.mark.parametrize("name", list(BYPASSES))
def test_each_bypass_class_is_refused_structurally(name: str) -> None:
    statement = BYPASSES[name]()
    parameters = [{"b_id": "1", "session_snapshot": "{}"}] if "parameters" in name else []
    for writing in (False, True):
        with pytest.raises(WriteRefused):
            check_statement(statement, writing=writing, parameters=parameters)


def test_locking_reads_and_writes_only_inside_the_write_transaction() -> None:
    for statement in (
        sa.select(S.id).with_for_update(skip_locked=True),
        sa.update(S).values(**CLEANUP_VALUES),
        sa.insert(AuditAction).values(id="1"),
    ):
        check_statement(statement, writing=True)
        with pytest.raises(WriteRefused, match="write transaction"):
            check_statement(statement)


def test_engine_refuses_before_reaching_the_database(empty_url: str) -> None:
    raw = sa.create_engine(empty_url)
    migrate.upgrade_mirror(raw, "sessions")
    raw.dispose()
    engine = create_engine(empty_url, Settings())
    with pytest.raises(WriteRefused), engine.begin() as conn:
        conn.execute(
            sa.insert(Agent).values(
                id=uuidv7(), tenant_id=uuidv7(), name="x", description="", scope="roster", source="x"
            )
        )
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Agent)).scalar() == 0
        # Outside the write transaction even the allowed cleanup update is refused ...
        cleanup = (
            sa.update(AgentRuntimeSession)
            .where(AgentRuntimeSession.id == uuidv7(), AgentRuntimeSession.status == "active")
            .values(status="cleaned", cleaned_at=sa.func.now(), updated_at=sa.func.now())
        )
        with pytest.raises(WriteRefused):
            conn.execute(cleanup)
        # ... and the database refuses writes that go around the guard (the driver connection).
        with pytest.raises(Exception, match=READ_ONLY):
            conn.connection.driver_connection.cursor().execute("DELETE FROM agents")
    # The one allowed write compiles to a statement the guard accepts, in the write transaction.
    with write_transaction(engine, require_write(engine, OPERATOR, Role.OPERATOR, tenant_id=None)) as conn:
        conn.execute(cleanup)
    with engine.connect() as conn, pytest.raises(Exception, match=READ_ONLY):  # back in the pool: read-only
        conn.connection.driver_connection.cursor().execute("DELETE FROM agents")
    engine.dispose()


def test_the_gate_reads_the_policy_its_engine_was_built_with(sqlite_url: str, tmp_path: Path) -> None:
    local = Actor("local:me", Role.ADMIN, local_mode=True)
    cases = [
        (Settings(AGENT_DESK_READ_ONLY=True, AGENT_DESK_ALLOW_WRITES=True), OPERATOR, "read-only"),
        (Settings(), local, "AGENT_DESK_ALLOW_WRITES"),  # a file that is not the demo: not the demo
    ]
    for settings, actor, message in cases:
        engine = create_engine(sqlite_url, settings)
        with pytest.raises(WritesDisabled, match=message):
            require_write(engine, actor, Role.OPERATOR, tenant_id=None)
        engine.dispose()
    demo = Settings(AGENT_DESK_DATA_DIR=str(tmp_path))
    engine = create_engine(demo.write_url, demo)  # the embedded demo file: local mode may write
    assert require_write(engine, local, Role.OPERATOR, tenant_id=None).actor == local
    engine.dispose()
    with pytest.raises(WritesDisabled, match="no write guard"):  # a raw engine has no policy: no writes
        require_write(sa.create_engine(sqlite_url), OPERATOR, Role.OPERATOR, tenant_id=None)


# --- the own (bookkeeping) grant: Agent Desk's check-job tables, nothing of Dify's ----------------------

OWN_WRITES: list[Callable[[], object]] = [
    lambda: sa.insert(CheckFinding).values(id="1", run_id="1", seq=0),
    lambda: sa.update(CheckClaim).where(CheckClaim.run_id == "1").values(heartbeat_at=sa.func.now()),
    lambda: sa.update(CheckRun).where(CheckRun.id == "1").values(rows_read=5, cursor="{}", status="done"),
]
NOT_OWN: list[Callable[[], object]] = [
    lambda: sa.update(S).where(S.id == "1").values(**CLEANUP_VALUES),  # the cleanup: a Dify table
    lambda: sa.update(sa.table("agent_workspaces", sa.column("status"))).values(status="retired"),
    lambda: sa.select(S.id).with_for_update(skip_locked=True),  # locking reads: none at all
    lambda: sa.select(CheckClaim.run_id).with_for_update(),
    lambda: sa.insert(Agent).values(id="1"),  # inserts: own tables only
    lambda: sa.update(CheckRun).values(check_name="x"),  # own updates: the listed columns only
    lambda: sa.update(AuditAction).values(reason="x"),  # the audit stays insert-only
]


def test_an_own_grant_writes_only_the_check_job_bookkeeping() -> None:
    for build in OWN_WRITES:
        check_statement(build(), writing=True, own=True)
        with pytest.raises(WriteRefused, match="write transaction"):
            check_statement(build())
    for build in NOT_OWN:
        with pytest.raises(WriteRefused):
            check_statement(build(), writing=True, own=True)
    with pytest.raises(WriteRefused, match="bookkeeping"):  # and the Dify grant does not do bookkeeping
        check_statement(OWN_WRITES[2](), writing=True)


def test_the_own_grant_on_an_engine(sqlite_url: str) -> None:
    raw = sa.create_engine(sqlite_url)
    migrate.upgrade_mirror(raw, "sessions")
    migrate.upgrade(raw, "app")
    raw.dispose()
    local = Actor("local:me", Role.OPERATOR, local_mode=True)
    engine = create_engine(sqlite_url, Settings())  # not the demo, no AGENT_DESK_ALLOW_WRITES
    with pytest.raises(WritesDisabled, match="AGENT_DESK_ALLOW_WRITES"):  # no Dify write for local mode ...
        require_write(engine, local, Role.OPERATOR, tenant_id=None)
    grant = require_bookkeeping(engine, local, Role.OPERATOR, tenant_id=None)  # ... but bookkeeping
    assert grant.kind == "own"
    session = sa.update(S).where(S.id == uuidv7()).values(**CLEANUP_VALUES)
    for statement in (session, sa.insert(Agent).values(id=uuidv7()), sa.select(S.id).with_for_update()):
        with pytest.raises(WriteRefused), write_transaction(engine, grant) as conn:
            conn.execute(statement)
    run_id = uuidv7()
    with write_transaction(engine, grant) as conn:
        conn.execute(sa.insert(CheckClaim).values(check_name="c", scope="*"))
        conn.execute(sa.update(CheckClaim).values(run_id=run_id, heartbeat_at=sa.func.now()))
    widened = dataclasses.replace(grant, kind="dify")  # the kind is bound to its token: no widening
    with pytest.raises(WritesDisabled), write_transaction(engine, widened) as conn:
        conn.execute(session)
    with engine.connect() as conn:
        assert conn.execute(sa.select(CheckClaim.run_id)).scalars().all() == [run_id]
        with pytest.raises(Exception, match=READ_ONLY):  # outside the transaction: read-only again
            conn.connection.driver_connection.cursor().execute("DELETE FROM agent_desk_check_claims")
    scoped = Actor("s@example.org", Role.OPERATOR, tenant_id=DemoIds.TENANT_NORTHWIND)
    for actor, tenant in ((Actor("v@example.org", Role.VIEWER), None), (scoped, None), (scoped, uuidv7())):
        with pytest.raises(NotAllowed):
            require_bookkeeping(engine, actor, Role.OPERATOR, tenant_id=tenant)
    engine.dispose()
    read_only = create_engine(sqlite_url, Settings(AGENT_DESK_READ_ONLY=True, AGENT_DESK_ALLOW_WRITES=True))
    with pytest.raises(WritesDisabled, match="read-only"):
        require_bookkeeping(read_only, OPERATOR, Role.OPERATOR, tenant_id=None)
    read_only.dispose()


# --- executed on PostgreSQL through the app's engine ------------------------------------------------------


@pytest.fixture(scope="module")
def pg_pair(postgres: PostgresServer) -> Iterator[tuple[sa.Engine, sa.Engine]]:
    """(the app's guarded engine, an unguarded engine standing in for Dify) on a private seeded DB."""
    url = _seed(postgres.create_database("guard"))
    dify = sa.create_engine(url)
    app = create_engine(url, Settings(AGENT_DESK_STATEMENT_TIMEOUT_MS=5000))
    yield app, dify
    app.dispose()
    dify.dispose()


def test_bypasses_change_nothing_and_kill_nothing_on_postgresql(pg_pair: tuple[sa.Engine, sa.Engine]) -> None:
    app, dify = pg_pair
    victim = dify.connect()
    pid = victim.connection.driver_connection.info.backend_pid
    with dify.connect() as conn:
        agents = conn.execute(sa.select(sa.func.count()).select_from(Agent)).scalar_one()
    grant = require_write(app, OPERATOR, Role.OPERATOR, tenant_id=None)
    attempts: list[Callable[[sa.Connection], object]] = [
        lambda c: c.execute(sa.select(sa.func.pg_terminate_backend(pid))),
        lambda c: c.execute(sa.text(f'SELECT "pg_terminate_backend"({pid})')),
        lambda c: c.exec_driver_sql(f'SELECT "pg_terminate_backend"({pid})'),
        lambda c: c.execute(sa.select(sa.literal_column(f"pg_terminate_backend({pid})"))),
        lambda c: c.exec_driver_sql("SELECT '--'; DELETE FROM agents"),
        lambda c: c.execute(sa.delete(Agent)),
        lambda c: c.execute(sa.update(S).values(status="--", session_snapshot="{}")),
        lambda c: c.execute(sa.select(sa.func.pg_sleep(3))),
        lambda c: c.execute(sa.select(sa.func.pg_ls_dir("."))),
        lambda c: c.exec_driver_sql("SET statement_timeout = 0"),
        lambda c: c.execute(sa.text("SET statement_timeout = 0")),
        lambda c: c.exec_driver_sql("SET TRANSACTION READ WRITE"),
        lambda c: c.execute(AGENTS_FOR_UPDATE),
    ]
    for attempt in attempts:
        with app.connect() as conn, pytest.raises(WriteRefused):
            attempt(conn)
        with write_transaction(app, grant) as conn, pytest.raises(WriteRefused):
            attempt(conn)
    # A user-defined volatile function (Dify's owner created it): refused, and it never ran.
    with dify.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE side_effects (n int)")
        conn.exec_driver_sql(
            "CREATE FUNCTION agent_desk_side_effect() RETURNS int LANGUAGE sql VOLATILE "
            "AS 'INSERT INTO side_effects VALUES (1) RETURNING n'"
        )
    with write_transaction(app, grant) as conn, pytest.raises(WriteRefused):
        conn.execute(sa.select(sa.func.agent_desk_side_effect()))
    assert victim.execute(sa.select(sa.literal(1))).scalar() == 1  # the target backend still lives
    victim.close()
    with dify.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Agent)).scalar_one() == agents
        assert conn.exec_driver_sql("SELECT count(*) FROM side_effects").scalar() == 0
        assert conn.execute(sa.select(sa.func.count()).where(S.session_snapshot == "{}")).scalar() == 0
    with app.connect() as conn:
        # The timeouts are set at connect and stay; every read transaction is read-only.
        settings = conn.execute(
            sa.select(
                sa.func.current_setting("statement_timeout"), sa.func.current_setting("transaction_read_only")
            )
        ).one()
        assert tuple(settings) == ("5s", "on")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.connection.driver_connection.execute("SELECT id FROM agents LIMIT 1 FOR UPDATE")
    with write_transaction(app, grant, lock_timeout_ms=200) as conn:
        mode = conn.execute(
            sa.select(
                sa.func.current_setting("transaction_read_only"), sa.func.current_setting("lock_timeout")
            )
        ).one()
        assert tuple(mode) == ("off", "200ms")


def test_the_app_s_own_text_reflection_and_explain_pass_on_postgresql(
    pg_pair: tuple[sa.Engine, sa.Engine],
) -> None:
    app, dify = pg_pair
    with dify.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    with app.connect() as conn:
        assert check_schema(conn).ok  # SQLAlchemy's reflection: catalog selects only
        assert estimated_rows(conn, "agents") is not None  # a text constant
        assert estimated_value_counts(conn, "agent_runtime_sessions", "status", 100)
        assert "Scan" in explain(conn, sa.select(Agent.id).where(Agent.tenant_id == DemoIds.TENANT_ACME))
        assert "actual time" in explain(conn, sa.select(Agent.id).limit(1), analyze=True)
        with pytest.raises(WriteRefused):
            explain(conn, sa.select(sa.func.pg_sleep(1)))
        assert migrate.current(app, "app") is not None


def test_read_only_connections_and_the_write_transaction_on_mariadb(mariadb: MariaDB) -> None:  # noqa: F811
    url = _seed(mariadb.create_database("guard_ro"))
    app = create_engine(url, Settings())
    with app.connect() as conn:
        assert check_schema(conn).ok  # SHOW FULL TABLES / SHOW CREATE TABLE pass the backstop
        with pytest.raises(Exception, match=READ_ONLY):
            conn.connection.driver_connection.cursor().execute("DELETE FROM agents")
    grant = require_write(app, OPERATOR, Role.OPERATOR, tenant_id=None)
    with write_transaction(app, grant) as conn:
        done = conn.execute(sa.update(S).where(S.id == DemoIds.IDLE_SESSION).values(**CLEANUP_VALUES))
        assert done.rowcount == 1
    with app.connect() as conn:
        with pytest.raises(Exception, match=READ_ONLY):
            conn.connection.driver_connection.cursor().execute("DELETE FROM agents")
        assert (
            str(conn.execute(sa.select(S.status).where(S.id == DemoIds.IDLE_SESSION)).scalar()) == "cleaned"
        )
    app.dispose()


# --- the separate migration path -----------------------------------------------------------------------------


def test_read_only_migrate_and_demo_exit_3_and_create_nothing(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "agent-desk"
    monkeypatch.setenv("AGENT_DESK_READ_ONLY", "true")
    monkeypatch.setenv("AGENT_DESK_DATA_DIR", str(data_dir))
    for command, url in ((["migrate"], pg_url), (["migrate", "--demo"], None), (["demo"], pg_url)):
        if url:
            monkeypatch.setenv("DATABASE_URL", url)
        else:  # the embedded demo
            monkeypatch.delenv("DATABASE_URL", raising=False)
        assert cli.main(command) == cli.EXIT_REFUSED, command
        assert "read-only" in capsys.readouterr().err
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        assert sa.inspect(conn).get_table_names() == []
    engine.dispose()
    assert not data_dir.exists()


def test_approval_cache_never_widens_what_is_allowed() -> None:
    """Approved shapes are remembered (the guard was most of a page's time), keyed by SQLAlchemy's cache
    key + the write-transaction flag + parameter names: an approval in one context never covers another."""
    s = AgentRuntimeSession
    locking = sa.select(s.id).where(s.status == "active").with_for_update(skip_locked=True)
    check_statement(locking, writing=True)  # approved inside the write transaction ...
    with pytest.raises(WriteRefused):
        check_statement(locking, writing=False)  # ... and still refused outside it
    cleanup = sa.update(s).where(s.id == "x")
    check_statement(cleanup, writing=True, parameters=[{"status": "cleaned"}])
    with pytest.raises(WriteRefused, match="never updates"):  # approved for a Dify grant, not an own one
        check_statement(cleanup, writing=True, own=True, parameters=[{"status": "cleaned"}])
    check_statement(locking, writing=True)
    with pytest.raises(WriteRefused, match="no row locks"):
        check_statement(locking, writing=True, own=True)
    with pytest.raises(WriteRefused, match="may set only"):  # an extra SET column through parameters
        check_statement(cleanup, writing=True, parameters=[{"status": "cleaned", "session_snapshot": "{}"}])
    read = sa.select(s.id).where(s.status == "active")
    check_statement(read)
    with pytest.raises(WriteRefused):  # same columns, a different function: a different shape
        check_statement(sa.select(s.id).where(s.status == sa.func.pg_sleep(1)))


def test_home_snapshots_are_never_written_nor_locked() -> None:
    """Agent Desk never retires a home snapshot by hand (a draft or snapshot may reference it): the guard
    refuses any UPDATE of `agent_home_snapshots` and any lock on it, even inside the write transaction."""
    homes = sa.table("agent_home_snapshots", sa.column("id"), sa.column("status"), sa.column("retired_at"))
    with pytest.raises(WriteRefused):
        check_statement(sa.update(homes).values(status="retired", retired_at=sa.func.now()), writing=True)
    with pytest.raises(WriteRefused):
        check_statement(sa.select(homes.c.id).with_for_update(skip_locked=True), writing=True)
