"""The read context's workspace scope is in the SQL of store lookups by id (PostgreSQL, real data).

A workspace-scoped role asking for another workspace's record by id gets "not found" from the store,
the same answer as for an id that does not exist; the same role finds its own records, and an unscoped
context finds everything.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from data.actor import Actor, Role
from data.demo import DemoIds as D
from data.models import naive_utc_now
from data.read_context import ReadContext
from data.rules.session_leaks import RuleContext
from data.schema_check import check_schema
from data.stores import agents, bindings, compare, sessions, workspaces
from data.stores.scope import in_scope
from tests.test_workspaces import ctx_of, planted_db

ACME = ReadContext.for_actor(Actor("acme@example.org", Role.VIEWER, D.TENANT_ACME), None, None)
NORTHWIND = ReadContext.for_actor(Actor("nw@example.org", Role.VIEWER, D.TENANT_NORTHWIND), None, None)
EVERYWHERE = ReadContext.unscoped()


def test_read_context_from_an_actor() -> None:
    assert ACME.tenant_ids == (D.TENANT_ACME,) and ACME.scoped and ACME.sees(D.TENANT_ACME)
    assert not ACME.sees(D.TENANT_NORTHWIND) and not ACME.sees(None)
    assert not EVERYWHERE.scoped and EVERYWHERE.sees(D.TENANT_NORTHWIND)
    now = naive_utc_now()
    admin = ReadContext.for_actor(Actor("a@example.org", Role.ADMIN), None, now)
    assert admin.tenant_ids is None and admin.now == now.replace(second=0, microsecond=0)
    assert in_scope(sa.column("tenant_id"), EVERYWHERE) == ()


@pytest.fixture(scope="module")
def conn(seeded_pg_url: str) -> Iterator[sa.Connection]:
    engine = sa.create_engine(seeded_pg_url)
    with engine.connect() as connection:
        yield connection
    engine.dispose()


def test_agent_and_compare_lookups_by_id_are_scoped(conn: sa.Connection) -> None:
    core = check_schema(conn).core_tables
    for read, visible in ((EVERYWHERE, True), (ACME, True), (NORTHWIND, False)):
        found = agents.get_agent(conn, D.SHOWCASE_AGENT, read=read, has_core=core)
        assert (found is not None) is visible, read
        assert (compare.agent_versions(conn, D.SHOWCASE_AGENT, read=read) is not None) is visible
        snapshot = compare.snapshot_side(conn, D.SHOWCASE_SNAPSHOTS[0], True, read=read)
        assert (snapshot is not None) is visible
        by_version = compare.snapshot_id_for_version(conn, agent_id=D.SHOWCASE_AGENT, version=1, read=read)
        assert (by_version == D.SHOWCASE_SNAPSHOTS[0]) is visible and (by_version is None) is not visible
        assert (compare.binding_side(conn, D.DRIFT_BINDING, True, read=read) is not None) is visible
        location = bindings.locate(conn, app_id=D.APP_SUPPORT_ASSISTANT, has_core=core, read=read)
        assert (location is not None) is visible
    # Northwind's own agent stays visible to Northwind (the scope is not "nothing").
    assert agents.get_agent(conn, D.GEN_E_AGENT, read=NORTHWIND, has_core=core) is not None
    assert agents.get_agent(conn, D.GEN_E_AGENT, read=ACME, has_core=core) is None


def test_the_id_box_resolves_only_visible_ids(conn: sa.Connection) -> None:
    """The sidebar's "Open any id" (agents.resolve_id) does not tell a scoped role that an id exists in
    another workspace: agent, snapshot, binding, app and session ids of Acme resolve for Acme only."""
    report = check_schema(conn)
    kw = {"has_core": report.core_tables, "agent_tables": report.agent_tables}
    ids = (D.SHOWCASE_AGENT, D.SHOWCASE_SNAPSHOTS[0], D.DRIFT_BINDING, D.APP_SUPPORT_ASSISTANT)
    for value in ids:
        assert agents.resolve_id(conn, value, read=EVERYWHERE, **kw) is not None, value
        assert agents.resolve_id(conn, value, read=ACME, **kw) is not None, value
        assert agents.resolve_id(conn, value, read=NORTHWIND, **kw) is None, value
    session = agents.resolve_id(conn, D.FINISHED_RUN_SESSION, read=EVERYWHERE, **kw)
    assert session is not None
    owner = ReadContext(tenant_ids=(session.params["tenant"],))
    other = ReadContext(tenant_ids=(str(uuid.uuid4()),))
    assert agents.resolve_id(conn, D.FINISHED_RUN_SESSION, read=owner, **kw) is not None
    assert agents.resolve_id(conn, D.FINISHED_RUN_SESSION, read=other, **kw) is None


def test_session_lookup_by_id_is_scoped(conn: sa.Connection) -> None:
    ctx = RuleContext.from_report(check_schema(conn), now=naive_utc_now(), idle_days=7)
    detail = sessions.get_session(conn, D.FINISHED_RUN_SESSION, ctx, read=EVERYWHERE)
    assert detail is not None
    owner = ReadContext(tenant_ids=(detail.row.tenant_id,))
    other = ReadContext(tenant_ids=(str(uuid.uuid4()),))
    assert sessions.get_session(conn, D.FINISHED_RUN_SESSION, ctx, read=owner) is not None
    assert sessions.get_session(conn, D.FINISHED_RUN_SESSION, ctx, read=other) is None


def test_workspace_binding_and_workspace_lookups_are_scoped(pg_url: str) -> None:
    engine, p = planted_db(pg_url)
    try:
        with engine.connect() as conn:
            ctx = ctx_of(conn)
            binding_id = p.id("b:conv_deleted")
            found = workspaces.get_binding(conn, binding_id, ctx, read=EVERYWHERE)
            assert found is not None and found.workspace is not None
            workspace_id = found.workspace.facts.id
            own = ReadContext(tenant_ids=(p.tenant,))
            other = ReadContext(tenant_ids=(str(uuid.uuid4()),))
            assert workspaces.get_binding(conn, binding_id, ctx, read=own) is not None
            assert workspaces.get_binding(conn, binding_id, ctx, read=other) is None
            assert workspaces.get_workspace(conn, workspace_id, ctx, read=own) is not None
            assert workspaces.get_workspace(conn, workspace_id, ctx, read=other) is None
    finally:
        engine.dispose()
