"""Both schema generations: detection, the mirror and demo of each, every page and the CLI on each.

`sessions` (Dify 1.15-1.16, agent_runtime_sessions) and `workspaces` (Dify 1.17+, working
environments); `tests/fixtures/real_dify_117.sql` is a database built the way Dify 1.17's migrations
build it; a database with the four core agent tables only still opens.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from data.db import seed_database
from data.demo import DemoIds
from data.demo_workspaces import WorkspaceIds
from data.schema_check import check_schema
from tests.apptest_helpers import PAGES, all_text, open_page
from tests.conftest import NOW
from tests.test_foundation import run_cli

FIXTURES = Path(__file__).parent / "fixtures"


def no_exception(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


@pytest.fixture(scope="module")
def workspaces_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ws") / "demo.sqlite"
    engine = sa.create_engine(f"sqlite:///{path}")
    seed_database(engine, now=NOW, generation="workspaces")
    engine.dispose()
    return path


@pytest.fixture
def workspaces_app(workspaces_sqlite: Path, tmp_path: Path, app_env_for) -> str:
    target = tmp_path / "ws.sqlite"
    shutil.copy(workspaces_sqlite, target)
    url = f"sqlite:///{target}"
    app_env_for(url)
    return url


def test_generations_are_detected_from_the_tables(workspaces_sqlite: Path, seeded_engine: sa.Engine) -> None:
    engine = sa.create_engine(f"sqlite:///{workspaces_sqlite}")
    with engine.connect() as conn:
        report = check_schema(conn)
    engine.dispose()
    assert report.ok and report.generation == "workspaces" and not report.has_sessions
    assert "Dify 1.17+ schema: agent working environments" in report.summary()
    assert "agent_workspaces (new table)" in report.newer_summary()
    assert report.has_column("agents", "backing_app_id") and report.has_table("agent_config_drafts")
    with seeded_engine.connect() as conn:
        seed = check_schema(conn)
    assert seed.generation == "sessions" and seed.era == "seed-era"
    assert "Dify 1.15-1.16 schema: agent runtime sessions" in seed.summary()


@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_page_renders_on_the_workspaces_demo(workspaces_app: str, page: str) -> None:
    at = open_page(page)
    no_exception(at)
    assert "working environments" in " ".join(c.value for c in at.caption)


def test_sessions_page_says_where_working_environments_are(workspaces_app: str) -> None:
    at = open_page("sessions")
    no_exception(at)
    # workenv (issue 11): the 1.17 view itself (tests/test_workspaces.py covers it in depth).
    assert [t.value for t in at.title] == ["Working environments"]


def test_pasted_draft_and_workspace_ids_resolve(workspaces_app: str) -> None:
    from data.stores import agents as agents_store

    engine = sa.create_engine(workspaces_app)
    with engine.connect() as conn:
        report = check_schema(conn)
        kw = {"has_core": report.core_tables, "agent_tables": report.agent_tables}
        draft = agents_store.resolve_id(conn, WorkspaceIds.SHOWCASE_SHARED_DRAFT, **kw)
        home = agents_store.resolve_id(conn, WorkspaceIds.HOME_REFERENCED, **kw)
        workspace = agents_store.resolve_id(conn, WorkspaceIds.BUILD_DRAFT_WORKSPACE, **kw)
        binding = agents_store.resolve_id(conn, DemoIds.FINISHED_RUN_SESSION, **kw)
    engine.dispose()
    assert draft and draft.page == "agent" and draft.params["agent"] == DemoIds.SHOWCASE_AGENT
    assert home and home.page == "agent" and home.params["agent"] == DemoIds.GEN_E_AGENT
    assert workspace and workspace.page == "sessions" and "workspace" in workspace.params
    assert (
        binding
        and binding.kind == "workspace_binding"
        and binding.params["session"] == DemoIds.FINISHED_RUN_SESSION
    )


def test_health_runs_the_new_checks_on_the_workspaces_demo(workspaces_app: str) -> None:
    from data.services.integrity import run_checks

    engine = sa.create_engine(workspaces_app)
    with engine.connect() as conn:
        report = run_checks(conn)
    engine.dispose()
    found = {r.name: r for r in report.results}
    assert found["draft-missing-base-snapshot"].count == 1
    assert found["home-snapshot-reference-missing"].count == 1
    assert found["workspace-binding-missing-workspace"].count == 1
    assert found["agent-backing-app-missing"].count == 1
    assert found["binding-pointer-missing"].count >= 1
    assert {name for name, _ in report.not_applicable} >= {"session-missing-agent", "session-owner-mismatch"}
    assert not any(r.error for r in report.results)


def _load(url: str, sql: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(sql)
    engine.dispose()


def test_real_dify_117_postgres_opens_every_page_and_schema_exits_0(
    pg_url: str, app_env_for, tmp_path: Path
) -> None:
    _load(pg_url, (FIXTURES / "real_dify_117.sql").read_text())
    env = {"DATABASE_URL": pg_url, "AGENT_DESK_DATA_DIR": str(tmp_path)}
    schema = run_cli("schema", env=env)
    assert schema.returncode == 0, schema.stdout + schema.stderr
    assert "Dify 1.17+ schema: agent working environments" in schema.stdout
    sessions = run_cli("sessions", "clean", "--rule", "idle", "--reason", "x", "--dry-run", env=env)
    # workenv (issue 11): on 1.17+ `clean` retires working environments.
    assert sessions.returncode == 0, sessions.stderr
    assert "filter: rule=idle" in sessions.stdout
    check = run_cli("check", env=env)
    assert check.returncode in (0, 1), check.stderr
    app_env_for(pg_url)
    for page in sorted(PAGES):
        at = open_page(page)
        no_exception(at)
    at = open_page("agent", agent="01930000-0000-7000-8000-000000000001")
    no_exception(at)
    assert "pbkdf2-hash-PLANTED" not in all_text(at)


def test_core_tables_only_still_opens(pg_url: str, app_env_for, tmp_path: Path) -> None:
    sql = (FIXTURES / "real_dify_117.sql").read_text()
    _load(pg_url, sql)
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        for table in ("agent_workspace_bindings", "agent_workspaces", "agent_home_snapshots"):
            conn.exec_driver_sql(f"DROP TABLE {table}")
    engine.dispose()
    env = {"DATABASE_URL": pg_url, "AGENT_DESK_DATA_DIR": str(tmp_path)}
    schema = run_cli("schema", env=env)
    assert schema.returncode == 0 and "no agent runtime tables" in schema.stdout
    app_env_for(pg_url)
    for page in ("overview", "roster", "health", "bindings", "compare"):
        no_exception(open_page(page))
    at = open_page("sessions")
    no_exception(at)
    assert any("Neither `agent_runtime_sessions`" in w.value.replace("\\", "") for w in at.warning)


def test_cli_demo_generations(tmp_path: Path, pg_url: str) -> None:
    env = {"DATABASE_URL": pg_url, "AGENT_DESK_DATA_DIR": str(tmp_path)}
    assert run_cli("migrate", "--demo", env=env).returncode == 0
    seeded = run_cli("demo", "--scale", "S", env=env)
    assert seeded.returncode == 0 and "generation workspaces" in seeded.stdout, seeded.stderr
    schema = run_cli("schema", "--format", "json", env=env)
    assert schema.returncode == 0 and '"generation": "workspaces"' in schema.stdout
    assert run_cli("demo", "--generation", "sessions", env=env).returncode == 3
