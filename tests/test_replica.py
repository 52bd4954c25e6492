"""`DATABASE_READ_URL` against a real PostgreSQL streaming replica (a second throwaway cluster following
the first, tests/pgcluster.py).

The replica is made to lag on purpose and deterministically: `pg_wal_replay_pause()` on the replica (from
the test's own superuser connection, never the app's engine) stops replay, so everything the primary
does afterwards is invisible on the replica until `pg_wal_replay_resume()`.

What is proven: pages read from the replica; the sidebar says how far it lags; the cleanup preview and its
apply read and write on the primary (a row cleaned there after the replica stopped is not previewed
again, though the replica-served list still shows it active); the audit rows are written on the primary
(the paused replica has none until it replays them); the read engine refuses writes at the gate.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
import streamlit as st

from data.actor import Actor, Role, WritesDisabled
from data.db import open_engines, seed_database
from data.demo import DemoIds
from data.guard import require_write
from data.models import Agent, AgentRuntimeSession, AuditTarget
from data.settings import Settings
from data.stores import replica as replica_store
from tests.apptest_helpers import open_page
from tests.conftest import NOW
from tests.pgcluster import Cluster, start_cluster

S = AgentRuntimeSession
RULE = "finished-run"


@dataclass
class Pair:
    primary: Cluster
    replica: Cluster
    primary_url: str
    replica_url: str
    primary_admin: sa.Engine
    replica_admin: sa.Engine

    def wal_position(self) -> int:
        with self.primary_admin.connect() as conn:
            return replica_store.parse_lsn(conn.exec_driver_sql("SELECT pg_current_wal_lsn()").scalar_one())

    def replayed(self) -> int:
        with self.replica_admin.connect() as conn:
            return replica_store.parse_lsn(
                conn.exec_driver_sql("SELECT pg_last_wal_replay_lsn()").scalar_one()
            )

    def wait(self, condition, what: str) -> None:
        """Poll until `condition()` (a bound on waiting, not a timing assertion)."""
        deadline = time.monotonic() + 30
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting until {what}")
            time.sleep(0.05)

    def caught_up(self) -> None:
        self.wait(lambda: self.replayed() >= self.wal_position(), "the replica caught up")

    def behind(self) -> None:
        self.wait(lambda: self.wal_position() > self.replayed(), "the primary wrote WAL the replica lacks")

    def pause(self) -> None:
        with self.replica_admin.connect() as conn:
            conn.exec_driver_sql("SELECT pg_wal_replay_pause()")

    def resume(self) -> None:
        with self.replica_admin.connect() as conn:
            conn.exec_driver_sql("SELECT pg_wal_replay_resume()")


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    primary = start_cluster()
    replica = None
    engines: list[sa.Engine] = []
    try:
        admin = sa.create_engine(primary.url(), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        engines.append(admin)
        with admin.connect() as conn:
            conn.exec_driver_sql('CREATE DATABASE "dify"')
        seed = sa.create_engine(primary.url("dify"))
        seed_database(seed, now=NOW, scale="S", generation="sessions")
        seed.dispose()
        replica = primary.start_replica()  # after seeding: the base backup carries the data
        replica_admin = sa.create_engine(
            replica.url("dify"), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
        )
        primary_admin = sa.create_engine(
            primary.url("dify"), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool
        )
        engines += [replica_admin, primary_admin]
        found = Pair(primary, replica, primary.url("dify"), replica.url("dify"), primary_admin, replica_admin)
        found.caught_up()
        yield found
    finally:
        for engine in engines:
            engine.dispose()
        if replica is not None:
            replica.stop()
        primary.stop()


@pytest.fixture
def app_on_pair(pair: Pair, app_env_for) -> Iterator[Pair]:
    app_env_for(
        pair.primary_url,
        DATABASE_READ_URL=pair.replica_url,
        AGENT_DESK_ALLOW_WRITES="true",
        AGENT_DESK_CLEANUP_CONFIRM_ABOVE="100000",
    )
    yield pair
    pair.resume()  # never leave the replica paused for the next test
    pair.caught_up()


def sidebar_text(at) -> str:
    return "\n".join(str(c.value) for c in at.sidebar.caption)


def texts(at) -> str:
    return "\n".join(str(t.value) for t in at.text)


def fresh(page: str, **params: str):
    st.cache_data.clear()  # a new visitor: no cached reads, no cached lag
    at = open_page(page, **params)
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_pages_read_from_the_replica_and_say_how_far_it_lags(app_on_pair: Pair) -> None:
    pair = app_on_pair
    at = fresh("agent", agent=DemoIds.SHOWCASE_AGENT)
    assert "caught up with the primary" in sidebar_text(at)
    assert "Acme Support Assistant" in texts(at)

    pair.pause()
    with pair.primary_admin.connect() as conn:
        conn.execute(
            sa.update(Agent).where(Agent.id == DemoIds.SHOWCASE_AGENT).values(name="Renamed on the primary")
        )
    pair.behind()
    at = fresh("agent", agent=DemoIds.SHOWCASE_AGENT)
    # The page still shows the replica's (old) name, and the sidebar says the replica is behind.
    assert "Acme Support Assistant" in texts(at) and "Renamed on the primary" not in texts(at)
    assert "behind the primary" in sidebar_text(at) and "⏳" in sidebar_text(at)

    pair.resume()
    pair.caught_up()
    at = fresh("agent", agent=DemoIds.SHOWCASE_AGENT)
    assert "Renamed on the primary" in texts(at)
    assert "caught up with the primary" in sidebar_text(at)


def statuses(engine: sa.Engine, ids: list[str]) -> dict[str, str]:
    with engine.connect() as conn:
        return {str(k): str(v) for k, v in conn.execute(sa.select(S.id, S.status).where(S.id.in_(ids))).all()}


def audit_targets(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        return {str(t) for t in conn.execute(sa.select(AuditTarget.target_id)).scalars()}


def test_cleanup_previews_rechecks_and_audits_on_the_primary_while_the_replica_lags(
    app_on_pair: Pair,
) -> None:
    pair = app_on_pair
    at = fresh("sessions", rule=RULE)
    listed = [str(i) for i in at.dataframe[0].value["id"]]
    assert len(listed) >= 2, listed

    pair.pause()
    already = listed[0]  # cleaned on the primary (by another server, or Dify) after the replica stopped
    with pair.primary_admin.connect() as conn:
        conn.execute(sa.update(S).where(S.id == already).values(status="cleaned"))
    pair.behind()

    at = fresh("sessions", rule=RULE)
    assert already in {str(i) for i in at.dataframe[0].value["id"]}  # the replica still lists it active
    assert "behind the primary" in sidebar_text(at)
    at.button(key="cleanup_filter").click().run()
    assert not at.exception, [e.value for e in at.exception]
    previewed = next(c.value for c in at.code if listed[1] in c.value).split("\n")
    assert already not in previewed  # the preview read the primary, not the lagging list
    assert set(listed[1:]) <= set(previewed)
    at.text_input(key="cleanup_reason").set_value("replica test").run()
    at.button(key="cleanup_confirm").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(f"{len(previewed)} transitioned" in s.value for s in at.success), [s.value for s in at.success]

    # Writes and audit are on the primary; the paused replica has neither yet.
    assert set(statuses(pair.primary_admin, previewed).values()) == {"cleaned"}
    assert audit_targets(pair.primary_admin) == set(previewed)
    assert set(statuses(pair.replica_admin, previewed).values()) == {"active"}
    assert audit_targets(pair.replica_admin) == set()

    pair.resume()
    pair.caught_up()
    assert audit_targets(pair.replica_admin) == set(previewed)  # replicated from the primary


def test_the_read_engine_refuses_writes_and_lag_is_measured_by_the_store(pair: Pair) -> None:
    settings = Settings(
        DATABASE_URL=pair.primary_url, DATABASE_READ_URL=pair.replica_url, AGENT_DESK_ALLOW_WRITES=True
    )
    engines = open_engines(settings)
    operator = Actor(identity="ops@example.com", role=Role.OPERATOR)
    try:
        assert engines.has_replica
        require_write(engines.write, operator, Role.OPERATOR, tenant_id=None)  # the primary: allowed
        with pytest.raises(WritesDisabled):
            require_write(engines.read, operator, Role.OPERATOR, tenant_id=None)
        with engines.read.connect() as replica, engines.write.connect() as primary:
            assert replica_store.measure(replica, primary).state == replica_store.CAUGHT_UP
            # The primary measured as if it were the replica: not in recovery, nothing to measure.
            assert replica_store.measure(primary, primary).state == replica_store.NOT_A_REPLICA
        pair.pause()
        with pair.primary_admin.connect() as conn:
            conn.execute(
                sa.update(Agent).where(Agent.id == DemoIds.SHOWCASE_AGENT).values(description="moved")
            )
        pair.behind()
        with engines.read.connect() as replica, engines.write.connect() as primary:
            lag = replica_store.measure(replica, primary)
        assert lag.state == replica_store.BEHIND and lag.lagging and (lag.bytes_behind or 0) > 0
        assert "behind the primary" in lag.summary()
    finally:
        pair.resume()
        pair.caught_up()
        engines.dispose()
