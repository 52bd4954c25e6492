"""Test harness: a throwaway PostgreSQL cluster (or TEST_DATABASE_URL), SQLite, seeded demo databases.

PostgreSQL is never skipped: if no server can be started the run fails and says what to install.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from data.db import seed_database
from tests.pgcluster import Cluster, PostgresUnavailable, start_cluster

#: The frozen clock of every seeded test database.
NOW = datetime(2026, 11, 20, 12, 0, 0)


class PostgresServer:
    """Hands out fresh databases on one server (the throwaway cluster or TEST_DATABASE_URL's)."""

    def __init__(self, admin_url: str, cluster: Cluster | None) -> None:
        self.admin_url = sa.make_url(admin_url)
        self.cluster = cluster
        self.admin = sa.create_engine(
            self.admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
        )

    def create_database(self, prefix: str = "t") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def close(self) -> None:
        self.admin.dispose()
        if self.cluster is not None:
            self.cluster.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    override = os.environ.get("TEST_DATABASE_URL")
    if override:
        server = PostgresServer(override, None)
    else:
        try:
            cluster = start_cluster()
        except PostgresUnavailable as exc:
            pytest.fail(f"PostgreSQL is required for the test suite: {exc}", pytrace=False)
        server = PostgresServer(cluster.url(), cluster)
    yield server
    server.close()


@pytest.fixture
def pg_url(postgres: PostgresServer) -> str:
    """A fresh, empty PostgreSQL database."""
    return postgres.create_database()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.sqlite'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest) -> str:
    """A fresh empty database on each backend."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


def _seed(url: str) -> str:
    engine = sa.create_engine(url)
    try:
        seed_database(engine, now=NOW, scale="S", generation="sessions")
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def seeded_pg_url(postgres: PostgresServer) -> str:
    """A PostgreSQL database with the mirror and the demo data at NOW. Read-only for tests."""
    url = _seed(postgres.create_database("demo"))
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text("ANALYZE"))
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def seeded_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo-template") / "demo.sqlite"
    _seed(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def seeded_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The seeded demo on each backend (SQLite: a private copy, so tests may write)."""
    if request.param == "sqlite":
        target = tmp_path / "seeded.sqlite"
        shutil.copy(request.getfixturevalue("seeded_sqlite_file"), target)
        return f"sqlite:///{target}"
    return request.getfixturevalue("seeded_pg_url")


@pytest.fixture
def seeded_engine(seeded_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(seeded_url)
    yield engine
    engine.dispose()


@pytest.fixture(autouse=True)
def _clear_streamlit_caches() -> Iterator[None]:
    """st.cache_* survive across AppTest instances in one process: start every test clean."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def demo_app_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, seeded_sqlite_file: Path) -> Path:
    """Environment of an app on the embedded demo (DATABASE_URL unset), pre-seeded at NOW."""
    data_dir = tmp_path / "agent-desk"
    data_dir.mkdir()
    shutil.copy(seeded_sqlite_file, data_dir / "demo.sqlite")
    for name in list(os.environ):
        if name.startswith("AGENT_DESK_") or name in ("DATABASE_URL", "DATABASE_READ_URL"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AGENT_DESK_DATA_DIR", str(data_dir))
    return data_dir


@pytest.fixture
def app_env_for(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Point the app at a given database URL (a real, non-demo database)."""

    def configure(url: str, **extra: str) -> None:
        for name in list(os.environ):
            if name.startswith("AGENT_DESK_") or name in ("DATABASE_URL", "DATABASE_READ_URL"):
                monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("AGENT_DESK_DATA_DIR", str(tmp_path / "agent-desk"))
        for key, value in extra.items():
            monkeypatch.setenv(key, value)

    return configure
