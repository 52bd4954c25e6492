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
    ],
)
def test_refused(statement: str) -> None:
    with pytest.raises(WriteRefused):
        check_statement(statement)


def test_engine_refuses_before_reaching_the_database(empty_url: str) -> None:
    raw = sa.create_engine(empty_url)
    migrate.upgrade(raw, "mirror")
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
