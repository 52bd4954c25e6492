"""Both migration branches: upgrade / downgrade / upgrade, refusals, and Dify's alembic_version untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from data import migrate
from data.models import DifyBase

FIXTURES = Path(__file__).parent / "fixtures"


def tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def _generation_tables(generation: str) -> set[str]:
    from data.models.generations import table_in_generation

    return {name for name, t in DifyBase.metadata.tables.items() if table_in_generation(t, generation)}


def test_upgrade_downgrade_upgrade(empty_url: str) -> None:
    """Through both generations: sessions (m0001) -> workspaces (head) -> nothing -> sessions again."""
    engine = sa.create_engine(empty_url)
    migrate.upgrade_mirror(engine, "sessions")
    migrate.upgrade(engine, "app")
    assert _generation_tables("sessions") <= tables(engine)
    assert {"agent_desk_mirror_version", "agent_desk_alembic_version"} <= tables(engine)
    assert "alembic_version" not in tables(engine)
    migrate.upgrade_mirror(engine, "workspaces")
    assert _generation_tables("workspaces") <= tables(engine)
    assert "agent_runtime_sessions" not in tables(engine)
    with pytest.raises(migrate.MigrationRefused, match="workspaces generation"):
        migrate.upgrade_mirror(engine, "sessions")
    migrate.downgrade(engine, "app")
    migrate.downgrade(engine, "mirror")
    assert not (set(DifyBase.metadata.tables) & tables(engine))
    migrate.upgrade_mirror(engine, "sessions")
    migrate.upgrade(engine, "app")
    assert migrate.current(engine, "mirror") == "m0001_dify_mirror"
    assert migrate.current(engine, "app") is not None
    engine.dispose()


def test_mirror_refuses_database_with_dify_alembic_version(empty_url: str) -> None:
    engine = sa.create_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
    with pytest.raises(migrate.MigrationRefused, match="alembic_version"):
        migrate.upgrade(engine, "mirror")
    assert tables(engine) == {"alembic_version"}
    engine.dispose()


def load_real_dify(url: str) -> sa.Engine:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql((FIXTURES / "real_dify.sql").read_text())
    return engine


def test_real_dify_database_refuses_mirror_but_takes_app_branch(pg_url: str) -> None:
    engine = load_real_dify(pg_url)
    with pytest.raises(migrate.MigrationRefused, match="agents"):
        migrate.upgrade(engine, "mirror")
    migrate.upgrade(engine, "app")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "89919253ca7a"
    assert "agent_desk_alembic_version" in tables(engine)
    assert "agent_desk_mirror_version" not in tables(engine)
    engine.dispose()
