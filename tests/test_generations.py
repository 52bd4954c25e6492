"""Both schema generations: detection, the mirror and demo of each, every page and the CLI on each.

`sessions` (Dify 1.15-1.16, agent_runtime_sessions) and `workspaces` (Dify 1.17+, working
environments); `tests/fixtures/real_dify_117.sql` is a database built the way Dify 1.17's migrations
build it (and `real_dify_117_mysql.sql` its MariaDB twin); a database with the four core agent tables
only still opens. The agent page's newer parts (role, backing app, flags, drafts, home snapshots) and
compare's draft sides run on the workspaces demo.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from data import links
from data.db import seed_database
from data.demo import GEN_E_CLI_TOOL_ID, DemoIds, WorkspaceIds
from data.schema_check import check_schema
from tests.apptest_helpers import PAGES, all_text, open_page
from tests.conftest import NOW
from tests.mariadb import MariaDB, start_mariadb
from tests.test_access import signed_in_app
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
        from data.read_context import ReadContext

        kw = {
            "has_core": report.core_tables,
            "agent_tables": report.agent_tables,
            "read": ReadContext.unscoped(),
        }
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


# --- agent page and compare on the newer tables ----------------------------------------------------


def _markdown(at) -> str:
    return "\n".join(m.value.replace("\\", "") for m in at.markdown)


def _active_snapshot(url: str, agent_id: str) -> str:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        active = conn.execute(
            sa.text("SELECT active_config_snapshot_id FROM agents WHERE id = :id"), {"id": agent_id}
        ).scalar()
    engine.dispose()
    return str(active)


def test_agent_page_shows_role_flags_drafts_and_home_snapshots(workspaces_app: str) -> None:
    at = open_page("agent", agent=DemoIds.SHOWCASE_AGENT)
    no_exception(at)
    text = _markdown(at)
    assert "**Role:** " in text and "**Has a model:** yes" in text and "**Published:** " in text
    assert f"**Backing app:** Acme Support Assistant · {DemoIds.APP_SUPPORT_ASSISTANT}" in text
    assert "Open the backing app's bindings" in all_text(at)
    labels = [t.label for t in at.tabs]
    assert labels[3:5] == ["Drafts (2)", "Home snapshots (2)"]
    drafts = at.dataframe[3].value.set_index("id")
    shared, build = (
        drafts.loc[WorkspaceIds.SHOWCASE_SHARED_DRAFT],
        drafts.loc[WorkspaceIds.SHOWCASE_BUILD_DRAFT],
    )
    assert (shared["draft"], shared["changes"], shared["base"]) == ("Draft", "● unpublished changes", "v6")
    assert (build["draft"], build["changes"]) == ("Build draft of Maya Chen", "no changes")
    active = DemoIds.SHOWCASE_SNAPSHOTS[-1]
    assert (
        shared["vs active"]
        == f"/compare?left_snapshot={active}&right_draft={WorkspaceIds.SHOWCASE_SHARED_DRAFT}"
    )
    assert shared["vs active"] == links.link(
        "compare", left_snapshot=active, right_draft=WorkspaceIds.SHOWCASE_SHARED_DRAFT
    )
    assert ":orange-badge[Unpublished changes: 1 of 2 drafts]" in [m.value for m in at.markdown]
    homes = at.dataframe[4].value.set_index("home snapshot")
    referenced = homes.loc[WorkspaceIds.HOME_RETIRED_REFERENCED]
    assert (referenced["status"], referenced["drafts"]) == ("retired", "Build draft of Maya Chen")
    assert referenced["note"] == "⚠ retired while referenced"
    assert homes.loc[WorkspaceIds.HOME_RETIRED_UNCOLLECTED, "note"] == ""
    assert any("still referenced" in w.value for w in at.warning)


def test_gen_e_agent_home_snapshots_name_their_snapshots_and_drafts(workspaces_app: str) -> None:
    at = open_page("agent", agent=DemoIds.GEN_E_AGENT)
    no_exception(at)
    homes = at.dataframe[4].value.set_index("home snapshot")
    used = homes.loc[WorkspaceIds.HOME_REFERENCED]
    assert (used["status"], used["snapshots"], used["drafts"]) == ("active", "v1, v2", "Draft")
    assert homes.loc[WorkspaceIds.HOME_UNREFERENCED, "snapshots"] == ""
    assert homes.loc[WorkspaceIds.MISSING_HOME, "status"] == "missing (no row)"
    drafts = at.dataframe[3].value.set_index("id")
    assert drafts.loc[WorkspaceIds.GEN_E_SHARED_DRAFT, "changes"] == "● unpublished changes"
    assert drafts.loc[WorkspaceIds.MISSING_HOME_DRAFT, "changes"] == "no changes"


def test_compare_draft_against_snapshot_renamed_cli_tool_is_one_change(workspaces_app: str) -> None:
    active = _active_snapshot(workspaces_app, DemoIds.GEN_E_AGENT)
    at = open_page("compare", left_snapshot=active, right_draft=WorkspaceIds.GEN_E_SHARED_DRAFT)
    no_exception(at)
    text = _markdown(at)
    assert [s.value for s in at.subheader][:2] == ["Active", "Draft"]  # titled by meaning (issue 13)
    assert "**What:** Draft · Discharge Summary Writer" in text
    assert "**Last edited by:** " in text and "**Last edit:** " in text and "**Note:** based on v2" in text
    rows = [r for frame in at.dataframe for r in frame.value.to_dict("records")]
    tools = [(r["path"], r["change"]) for r in rows if r["path"].startswith("tools.")]
    assert (f"tools.cli_tools[{GEN_E_CLI_TOOL_ID}].name", "changed") in tools
    assert not [kind for _, kind in tools if kind in ("added", "removed")]
    assert ("config_note", "changed") in [(r["path"], r["change"]) for r in rows]
    url = "\n".join(c.value for c in at.code)
    assert f"right_draft={WorkspaceIds.GEN_E_SHARED_DRAFT}" in url


def test_compare_two_drafts(workspaces_app: str) -> None:
    at = open_page(
        "compare",
        left_draft=WorkspaceIds.SHOWCASE_SHARED_DRAFT,
        right_draft=WorkspaceIds.SHOWCASE_BUILD_DRAFT,
    )
    no_exception(at)
    text = _markdown(at)
    assert "**What:** Draft · Acme Support Assistant" in text
    assert "**What:** Build draft of Maya Chen · Acme Support Assistant" in text
    assert [s.value for s in at.subheader][:2] == ["Draft", "Build draft of Maya Chen"]
    assert "prompt" in {r["path"].split(".")[0] for f in at.dataframe for r in f.value.to_dict("records")}


def test_compare_drafts_follow_the_workspace_scope(
    workspaces_app: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A role scoped to Northwind compares its own drafts, never Acme's (the tenant check of snapshots)."""
    at = signed_in_app(
        monkeypatch, "scoped@example.org", AGENT_DESK_VIEWERS=f"scoped@example.org:{DemoIds.TENANT_NORTHWIND}"
    )
    at.run()
    at.query_params["left_draft"] = WorkspaceIds.SHOWCASE_SHARED_DRAFT
    at.query_params["right_draft"] = WorkspaceIds.GEN_E_SHARED_DRAFT
    at.switch_page(PAGES["compare"])
    at.run()
    no_exception(at)
    assert any("does not cover" in e.value for e in at.error) and not at.dataframe
    at.query_params["left_draft"] = WorkspaceIds.MISSING_HOME_DRAFT
    at.switch_page(PAGES["compare"])
    at.run()
    no_exception(at)
    assert not at.error and at.dataframe


def test_seed_era_agent_page_is_unchanged(demo_app_env: Path) -> None:
    at = open_page("agent", agent=DemoIds.SHOWCASE_AGENT)
    no_exception(at)
    assert [t.label for t in at.tabs] == [
        "Versions (6)",
        "Revisions (7)",
        "Bindings (4)",
        "Runtime sessions",
        "Active soul",
    ]
    text = _markdown(at)
    assert not any(
        label in text for label in ("**Role:**", "**Backing app:**", "**Has a model:**", "**Published:**")
    )
    at = open_page(
        "compare", left_snapshot=DemoIds.SHOWCASE_SNAPSHOTS[0], right_draft=WorkspaceIds.SHOWCASE_SHARED_DRAFT
    )
    no_exception(at)
    assert any("agent_config_drafts" in w.value.replace("\\", "") for w in at.warning)


# --- the same 1.17 database on MariaDB -------------------------------------------------------------


@pytest.fixture(scope="module")
def mariadb() -> Iterator[MariaDB]:
    try:
        server = start_mariadb()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        pytest.fail(f"MariaDB is required for the MySQL twin of the 1.17 fixture: {exc}", pytrace=False)
    yield server
    server.stop()


def _load_statements(url: str, sql: str) -> None:
    """Run a fixture one statement at a time (PyMySQL runs one per call): `;` ends a line-final statement."""
    body = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for statement in body.split(";\n"):
            if statement.strip():
                conn.exec_driver_sql(statement.strip().rstrip(";"))
    engine.dispose()


def test_real_dify_117_mariadb_opens_every_page_and_schema_exits_0(
    mariadb: MariaDB, app_env_for, tmp_path: Path
) -> None:
    url = mariadb.create_database("real117")
    _load_statements(url, (FIXTURES / "real_dify_117_mysql.sql").read_text())
    env = {"DATABASE_URL": url, "AGENT_DESK_DATA_DIR": str(tmp_path)}
    schema = run_cli("schema", env=env)
    assert schema.returncode == 0, schema.stdout + schema.stderr
    assert "Dify 1.17+ schema: agent working environments" in schema.stdout and "mysql" in schema.stdout
    check = run_cli("check", env=env)
    assert check.returncode in (0, 1) and "Traceback" not in check.stderr, check.stderr
    assert "agent-backing-app-missing" in check.stdout
    app_env_for(url)
    for page in sorted(PAGES):
        no_exception(open_page(page))
    at = open_page("agent", agent="01930000-0000-7000-8000-000000000001")
    no_exception(at)
    assert "**Role:** helper" in _markdown(at)
    drafts = at.dataframe[3].value
    assert list(drafts["changes"]) == ["● unpublished changes"]
    assert "pbkdf2-hash-PLANTED" not in all_text(at)
    at = open_page(
        "compare",
        left_snapshot="01930000-0000-7000-8000-0000000000a1",
        right_draft="01930000-0000-7000-8000-0000000000d1",
    )
    no_exception(at)
    assert any("prompt.system_prompt" in f.value.to_csv() for f in at.dataframe)
