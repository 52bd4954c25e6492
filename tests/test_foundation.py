"""Schema check, overview counts, settings, links, masking seam, demo bootstrap and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from data import links, migrate
from data.actor import Actor, NotAllowed, Role, require
from data.db import ensure_demo_database
from data.masking import MASK_EMPTY, MASK_SET, mask_document, mask_json_text
from data.schema_check import check_schema
from data.settings import Settings
from data.stores.overview import overview

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"


def test_schema_check_on_the_mirror(seeded_engine: sa.Engine) -> None:
    with seeded_engine.connect() as conn:
        report = check_schema(conn)
    assert report.ok
    assert report.era == "seed-era"
    assert report.conversation_index_columns == 4
    assert report.has_table("workflow_runs") and report.has_table("tenants")


def test_schema_check_on_a_real_dify_database(pg_url: str) -> None:
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql((FIXTURES / "real_dify.sql").read_text())
        report = check_schema(conn)
        assert (
            report.ok
            and "agents.role" in report.newer_features
            and "agent_config_drafts" in report.newer_features
        )
        assert report.conversation_index_columns == 4
        assert "workflow_pauses" not in report.core_tables
        conn.exec_driver_sql("ALTER TABLE agents DROP COLUMN roster_unique_name")
        conn.exec_driver_sql("DROP TABLE agent_config_revisions")
        broken = check_schema(conn)
    engine.dispose()
    assert not broken.ok
    assert broken.missing_tables == ("agent_config_revisions",)
    assert broken.missing_columns == {"agents": ("roster_unique_name",)}
    assert any("agent_config_revisions" in line for line in broken.problems())


def test_schema_check_detects_the_seed_three_column_index(sqlite_url: str) -> None:
    engine = sa.create_engine(sqlite_url)
    migrate.upgrade_mirror(engine, "sessions")
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX agent_runtime_session_conversation_scope_unique")
        conn.exec_driver_sql(
            "CREATE UNIQUE INDEX agent_runtime_session_conversation_scope_unique ON agent_runtime_sessions "
            "(tenant_id, conversation_id, agent_id) WHERE conversation_id IS NOT NULL"
        )
        assert check_schema(conn).conversation_index_columns == 3
    engine.dispose()


def test_overview_counts_are_exact_on_small_tables(seeded_engine: sa.Engine) -> None:
    with seeded_engine.connect() as conn:
        tables = {t.table: t for t in overview(conn)}
        agents = conn.execute(sa.text("SELECT count(*) FROM agents")).scalar()
        active = conn.execute(sa.text("SELECT count(*) FROM agents WHERE status = 'active'")).scalar()
    assert tables["agents"].total.exact and tables["agents"].total.value == agents
    assert dict(tables["agents"].breakdown)["active"].value == active
    assert tables["agents"].total.label() == f"{agents:,}"


def test_overview_estimates_large_tables_without_counting(pg_url: str) -> None:
    engine = sa.create_engine(pg_url)
    migrate.upgrade_mirror(engine, "sessions")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO agent_runtime_sessions (tenant_id, app_id, owner_type, agent_id, session_snapshot, "
            "composition_layer_specs, status) SELECT gen_random_uuid(), gen_random_uuid(), 'workflow_run', "
            "gen_random_uuid(), '{}', '[]', CASE WHEN mod(g, 5) = 0 THEN 'active' ELSE 'cleaned' END "
            "FROM generate_series(1, 30000) g"
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE agent_runtime_sessions")
        sessions = {t.table: t for t in overview(conn)}["agent_runtime_sessions"]
    engine.dispose()
    assert not sessions.total.exact and sessions.total.label().startswith("≈ ")
    assert abs(sessions.total.value - 30000) < 3000
    by_status = {value: count for value, count in sessions.breakdown}
    assert abs(by_status["active"].value - 6000) < 1500 and not by_status["active"].exact


def test_settings_read_the_contract_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("AGENT_DESK_IDLE_DAYS", "3")
    monkeypatch.setenv("AGENT_DESK_OPERATORS", "a@x.org, @ops.example:11111111-1111-4111-8111-111111111111")
    settings = Settings()
    assert not settings.is_demo and settings.idle_days == 3 and settings.statement_timeout_ms == 5000
    operators = settings.role_entries["operator"]
    assert [e.pattern for e in operators] == ["a@x.org", "@ops.example"]
    assert operators[1].tenant_id == "11111111-1111-4111-8111-111111111111"
    monkeypatch.setenv("DATABASE_URL", "")
    assert Settings().is_demo


def test_links_follow_the_contract() -> None:
    assert links.link("overview") == "/"
    assert links.link("roster", tenant="t", q="a b", sort=None) == "/roster?tenant=t&q=a+b"
    assert links.link("compare", agent="a", left=1, right=2) == "/compare?agent=a&left=1&right=2"
    with pytest.raises(ValueError):
        links.link("agent", tenant="x")
    assert links.console_link(None, agent_id="a") is None


def test_masking_seam_first_policy() -> None:
    doc = {
        "env": {
            "secret_refs": [{"name": "GITHUB_TOKEN", "value": "ghp_PLANTEDvalue123456"}],
            "variables": [{"name": "REGION", "value": ""}],
        },
        "model": {"credential_ref": {"id": "cred-1"}, "model_settings": {"max_tokens": 100}},
        "api_key": "PLANTED-KEY",
    }
    masked = mask_document(doc)
    assert masked["env"]["secret_refs"][0] == {"name": "GITHUB_TOKEN", "value": MASK_SET}
    assert masked["env"]["variables"][0]["value"] == MASK_EMPTY
    assert masked["model"]["credential_ref"]["id"] == "cred-1"
    assert masked["model"]["model_settings"]["max_tokens"] == 100
    assert "PLANTED" not in json.dumps(masked)
    assert "PLANTED" not in mask_json_text('{"broken": "api_key=PLANTED-KEY"')


def test_writes_need_a_role() -> None:
    viewer = Actor("v@x", Role.VIEWER)
    require(viewer, Role.VIEWER)
    with pytest.raises(NotAllowed):
        require(viewer, Role.OPERATOR)
    scoped = Actor("o@x", Role.OPERATOR, tenant_id="t1")
    assert scoped.can(Role.OPERATOR, tenant_id="t1") and not scoped.can(Role.OPERATOR, tenant_id="t2")


def _bootstrap(data_dir: str) -> bool:
    os.environ["AGENT_DESK_DATA_DIR"] = data_dir
    os.environ.pop("DATABASE_URL", None)
    return ensure_demo_database(Settings())


def test_demo_is_created_and_seeded_once_even_when_two_start_together(tmp_path: Path) -> None:
    with ProcessPoolExecutor(max_workers=2) as pool:
        created = list(pool.map(_bootstrap, [str(tmp_path)] * 2))
    assert sorted(created) == [False, True]
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'demo.sqlite'}")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM agents")).scalar() > 0
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() in ("delete", "wal")
    engine.dispose()
    assert not list(tmp_path.glob("*.building"))


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("AGENT_DESK_") and k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "data", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_migrate_demo_and_schema(pg_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": pg_url, "AGENT_DESK_DATA_DIR": str(tmp_path)}
    assert run_cli("migrate", "--demo", "--generation", "sessions", env=env).returncode == 0
    seeded = run_cli("demo", "--scale", "S", "--generation", "sessions", env=env)
    assert seeded.returncode == 0, seeded.stderr
    assert run_cli("demo", env=env).returncode == 3  # already holds agents
    schema = run_cli("schema", "--format", "json", env=env)
    assert schema.returncode == 0 and json.loads(schema.stdout)["conversation_index_columns"] == 4
    assert run_cli("nonsense", env=env).returncode == 2


def test_cli_refuses_to_build_the_mirror_in_a_dify_database(pg_url: str, tmp_path: Path) -> None:
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql((FIXTURES / "real_dify.sql").read_text())
    engine.dispose()
    env = {"DATABASE_URL": pg_url, "AGENT_DESK_DATA_DIR": str(tmp_path)}
    refused = run_cli("migrate", "--demo", env=env)
    assert refused.returncode == 3 and "refusing" in refused.stderr
    assert run_cli("demo", env=env).returncode == 3
    assert run_cli("migrate", env=env).returncode == 0  # the app's own branch is safe here
