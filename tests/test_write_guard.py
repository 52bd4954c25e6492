"""The write guard: only reads, the session cleanup transition and Agent Desk's own tables pass."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from data import migrate
from data.db import WriteRefused, check_statement, create_engine
from data.models import Agent, AgentRuntimeSession, uuidv7
from data.settings import Settings


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT 1",
        "  with x as (select 1) select * from x",
        "UPDATE agent_runtime_sessions SET status=%(status)s, cleaned_at=%(c)s, updated_at=%(u)s WHERE id = 1",
        "INSERT INTO agent_desk_audit_action (id) VALUES (1)",
        "EXPLAIN SELECT 1",
        "SET SESSION statement_timeout = 5",
        "SET LOCAL lock_timeout = '200ms'",
        "EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM agents",
        "SELECT id FROM agent_runtime_sessions WHERE id IN (1) FOR UPDATE SKIP LOCKED",
        "UPDATE agent_runtime_sessions SET status=%(status)s, cleaned_at=%(cleaned_at)s, updated_at=%(updated_at)s "
        "WHERE agent_runtime_sessions.id IN (__[POSTCOMPILE_id_1]) AND agent_runtime_sessions.status = %(status_1)s "
        "RETURNING agent_runtime_sessions.id",
        "SELECT 'a; b' AS text_with_semicolon -- comment; here",
        'PRAGMA main.table_info("agents")',
        "SELECT updated_at FROM agents",
        "DESCRIBE `dify`.`agent_config_drafts`",
    ],
)
def test_allowed(statement: str) -> None:
    check_statement(statement)


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
    ],
)
def test_refused(statement: str) -> None:
    with pytest.raises(WriteRefused):
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
        # The one allowed write compiles to a statement the guard accepts.
        conn.execute(
            sa.update(AgentRuntimeSession)
            .where(AgentRuntimeSession.id == uuidv7(), AgentRuntimeSession.status == "active")
            .values(status="cleaned", cleaned_at=sa.func.now(), updated_at=sa.func.now())
        )
    engine.dispose()
