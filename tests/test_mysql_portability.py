"""Dify's other backend: the mirror, the demo data, every page and the CLI on a real MariaDB server."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from data import migrate
from data.db import seed_database
from data.demo import DemoIds
from tests.apptest_helpers import PAGES, open_page
from tests.conftest import NOW
from tests.mariadb import MariaDB, start_mariadb

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def mariadb() -> Iterator[MariaDB]:
    try:
        server = start_mariadb()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        pytest.fail(f"MariaDB is required for the MySQL portability tests: {exc}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def seeded_mysql_url(mariadb: MariaDB) -> str:
    url = mariadb.create_database("demo")
    engine = sa.create_engine(url)
    seed_database(engine, now=NOW, generation="sessions")
    engine.dispose()
    return url


def test_migrations_round_trip_and_types(mariadb: MariaDB) -> None:
    engine = sa.create_engine(mariadb.create_database("roundtrip"))
    migrate.upgrade(engine, "mirror")
    migrate.upgrade(engine, "app")
    migrate.downgrade(engine, "app")
    migrate.downgrade(engine, "mirror")
    migrate.upgrade(engine, "mirror")
    with engine.connect() as conn:
        columns = {c["name"]: c for c in sa.inspect(conn).get_columns("agents")}
    engine.dispose()
    assert str(columns["id"]["type"]).startswith("CHAR(36)")
    assert "LONGTEXT" in str(columns["description"]["type"]).upper()


@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_page_renders_on_mysql(seeded_mysql_url: str, app_env_for, page: str) -> None:
    app_env_for(seeded_mysql_url)
    at = open_page(page)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_detail_views_on_mysql(seeded_mysql_url: str, app_env_for) -> None:
    app_env_for(seeded_mysql_url)
    for page, params in [
        ("agent", {"agent": DemoIds.SHOWCASE_AGENT}),
        ("compare", {"agent": DemoIds.SHOWCASE_AGENT, "view": "unified"}),
        ("sessions", {"session": DemoIds.FINISHED_RUN_SESSION}),
        ("bindings", {"tenant": DemoIds.TENANT_ACME, "app": DemoIds.APP_TICKET_TRIAGE}),
        ("roster", {"q": "assistant", "sort": "name"}),
    ]:
        at = open_page(page, **params)
        assert not at.exception, (page, [e.value for e in at.exception])


def test_cli_check_and_cleanup_on_mysql(mariadb: MariaDB, tmp_path: Path) -> None:
    url = mariadb.create_database("cli")
    engine = sa.create_engine(url)
    seed_database(engine, now=NOW, generation="sessions")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENT_DESK_")}
    env.update(DATABASE_URL=url, AGENT_DESK_DATA_DIR=str(tmp_path), AGENT_DESK_ALLOW_WRITES="true")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "data", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert run("check").returncode == 1  # the demo plants error-severity anomalies
    cleaned = run("sessions", "clean", "--rule", "finished-run", "--reason", "portability test", "--yes")
    assert cleaned.returncode == 0, cleaned.stderr
    with engine.connect() as conn:
        status = conn.execute(
            sa.text("SELECT status FROM agent_runtime_sessions WHERE id = :id"),
            {"id": DemoIds.FINISHED_RUN_SESSION},
        ).scalar()
        audited = conn.execute(sa.text("SELECT count(*) FROM agent_desk_audit_targets")).scalar()
    engine.dispose()
    assert status == "cleaned" and audited > 0
