"""The whole app on PostgreSQL under exactly the least-privilege role of docs/least-privilege.sql."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from data.db import seed_database
from tests.apptest_helpers import PAGES, open_page
from tests.conftest import NOW

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def least_privilege_url(pg_url: str) -> str:
    engine = sa.create_engine(pg_url)
    seed_database(engine, now=NOW, generation="sessions")
    database = sa.make_url(pg_url).database
    script = (
        (ROOT / "docs" / "least-privilege.sql").read_text().replace("DATABASE dify", f'DATABASE "{database}"')
    )
    with engine.connect() as conn:
        exists = conn.exec_driver_sql("SELECT 1 FROM pg_roles WHERE rolname = 'agent_desk'").scalar()
    if exists:  # roles are per cluster; databases are per test
        script = script.replace("CREATE ROLE agent_desk LOGIN PASSWORD 'change-me';", "")
    raw = engine.raw_connection()
    try:
        raw.driver_connection.autocommit = True
        raw.driver_connection.execute(script)  # no parameters: the script's `%` stay literal
    finally:
        raw.close()
    engine.dispose()
    return (
        sa.make_url(pg_url)
        .set(username="agent_desk", password="change-me")
        .render_as_string(hide_password=False)
    )


def test_role_cannot_write_beyond_the_cleanup_columns(least_privilege_url: str) -> None:
    engine = sa.create_engine(least_privilege_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM agents").scalar() > 0
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            conn.exec_driver_sql("UPDATE agents SET name = name")
        conn.rollback()
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            conn.exec_driver_sql("UPDATE agent_runtime_sessions SET session_snapshot = ''")
        conn.rollback()
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            conn.exec_driver_sql("DELETE FROM agent_runtime_sessions")
        conn.rollback()
        conn.exec_driver_sql("UPDATE agent_runtime_sessions SET updated_at = updated_at WHERE false")
    engine.dispose()


@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_page_renders_under_the_role(least_privilege_url: str, app_env_for, page: str) -> None:
    app_env_for(least_privilege_url)
    at = open_page(page)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_check_jobs_store_their_results_under_the_role(least_privilege_url: str) -> None:
    """The role's UPDATE on the claims and runs suffices for a whole job (claim, windows, finish), as
    the CLI runs it from cron; the findings stay insert-only."""
    from data.actor import Actor, Role
    from data.db import create_engine
    from data.services import check_jobs
    from data.settings import Settings

    engine = create_engine(least_privilege_url, Settings())
    cron = Actor("cli:cron", Role.OPERATOR, local_mode=True)
    outcome = check_jobs.run_now(engine, "session-owner-mismatch", actor=cron, window_rows=50)
    engine.dispose()
    assert outcome.status == "done" and outcome.rows_read > 50, outcome
    raw = sa.create_engine(least_privilege_url)
    with raw.connect() as conn, pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
        conn.exec_driver_sql("UPDATE agent_desk_check_findings SET detail = detail")
    raw.dispose()
