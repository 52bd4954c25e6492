"""Integrity checks on SQLite and PostgreSQL: a clean database with every anomaly planted exactly once,
the seeded demo, bounded reads, failure isolation, the CLI, the /health page and PostgreSQL plans."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from data import migrate
from data.demo import DemoIds
from data.models import (
    Agent,
    AgentConfigRevision,
    AgentConfigSnapshot,
    AgentRuntimeSession,
    App,
    Tenant,
    Workflow,
    WorkflowAgentNodeBinding,
)
from data.services import integrity
from tests.apptest_helpers import open_page

ROOT = Path(__file__).resolve().parent.parent
AT = datetime(2026, 3, 1, 12, 0, 0)


def _id(n: int) -> str:
    return f"01930000-0000-7000-8000-{n:012x}"


class Ids:
    """The planted database: a clean workspace (T) plus one row per anomaly, and a second workspace."""

    T, OTHER = "11111111-1111-4111-8111-000000000001", "11111111-1111-4111-8111-000000000002"
    APP = "22222222-2222-4222-8222-000000000001"
    DRAFT, P1, P2 = (f"33333333-3333-4333-8333-00000000000{n}" for n in (1, 2, 3))
    ORPHAN_WORKFLOW = "33333333-3333-4333-8333-000000000009"  # bindings name it; no workflows row
    P1_VERSION, P2_VERSION = "2026-01-01 10:00:00.000001", "2026-02-01 10:00:00.000002"
    ORPHAN_VERSION = "2025-12-01 09:00:00.000003"
    # clean agents and snapshots
    R, RB, INLINE, OTHER_AGENT = _id(0x101), _id(0x102), _id(0x103), _id(0x104)
    R1, R2, B1, I1, O1 = _id(0x201), _id(0x202), _id(0x203), _id(0x204), _id(0x205)
    R_NAME = "<img src=x onerror=alert(1)> **Router** [x](javascript:alert(1))"
    N2_TITLE = "<b>Answer</b> *the* [customer](javascript:alert(2))"
    # clean draft bindings (and the session scope of node n1)
    D_N1, D_N2, D_N8, D_N9, D_N10, D_N11 = (_id(0x300 + n) for n in (1, 2, 8, 9, 10, 11))
    # anomalies, one row each
    B_NO_AGENT, B_NO_SNAPSHOT, B_FOREIGN, B_ARCHIVED, B_BAD_JSON = (_id(0x400 + n) for n in range(1, 6))
    X1, X2, G, H, Z, L, U = (_id(0x500 + n) for n in range(1, 8))
    G1, G3, H1, Z1, L1, U1 = (_id(0x600 + n) for n in range(1, 7))
    S_ORPHAN = _id(0x701)
    REV_MISSING = _id(0x801)
    SS_NO_AGENT, SS_NO_BINDING, SS_NO_SNAPSHOT, SS_OWNER = (_id(0x900 + n) for n in range(1, 5))
    MISSING = tuple(_id(0xF00 + n) for n in range(1, 10))  # ids no row has
    PLANTED_EMAIL = "planted.person@example.com"
    PLANTED_KEY = "sk-PLANTEDsecret0123456789abcdef"


#: What each check must find in the planted database (ids of the sample rows), and nothing else.
EXPECTED: dict[str, set[str]] = {
    "binding-missing-agent": {Ids.B_NO_AGENT},
    "binding-missing-snapshot": {Ids.B_NO_SNAPSHOT},
    "binding-foreign-snapshot": {Ids.B_FOREIGN},
    "agent-active-snapshot-missing": {Ids.X1},
    "agent-active-snapshot-foreign": {Ids.X2},
    "snapshot-missing-agent": {Ids.S_ORPHAN},
    "revision-missing-snapshot": {Ids.REV_MISSING},
    "version-gaps": {Ids.G},
    "revision-gaps": {Ids.H},
    "archived-agent-bound-in-draft": {Ids.B_ARCHIVED},
    "workflow-only-agent-unreferenced": {Ids.L},
    "session-missing-agent": {Ids.SS_NO_AGENT},
    "session-missing-binding": {Ids.SS_NO_BINDING},
    "session-missing-snapshot": {Ids.SS_NO_SNAPSHOT},
    "session-owner-mismatch": {Ids.SS_OWNER},
    "unknown-enum-values": {Ids.U},
    "invalid-json": {Ids.B_BAD_JSON},
}


def job(prompt: str = f"Answer the ticket. Key: {Ids.PLANTED_KEY}", *, indent: int | None = None) -> str:
    """A node-job config; `indent` gives the same document as different text (unsorted, spaced)."""
    doc = {
        "schema_version": 1,
        "mode": "tell_agent_what_to_do",
        "workflow_prompt": prompt,
        "previous_node_output_refs": [{"node_id": "start", "output": "query"}],
        "declared_outputs": [
            {
                "name": "answer",
                "type": "string",
                "required": True,
                "failure_strategy": {
                    "on_failure": "default_value",
                    "default_value": "n/a",
                    "retry": {"enabled": True, "max_retries": 2, "retry_interval_ms": 1000},
                },
            },
            {"name": "tags", "type": "array", "required": False, "failure_strategy": None},
        ],
        "human_contacts": [{"name": "Planted Person", "email": Ids.PLANTED_EMAIL}],
        "metadata": {},
    }
    if indent is not None:
        return json.dumps(doc, indent=indent)
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


def graph(nodes: list[tuple[str, str]]) -> str:
    items = [{"id": "start", "data": {"type": "start", "title": "Start"}}]
    items += [{"id": node, "data": {"type": "agent-v2", "title": title}} for node, title in nodes]
    return json.dumps({"nodes": items, "edges": []})


SOUL = '{"prompt":{"system_prompt":"hi"},"schema_version":1}'
SESSION = (
    '{"schema_version":1,"layers":[{"name":"history","lifecycle_state":"suspended","runtime_state":{}}]}'
)


def _agent(id_: str, name: str, *, tenant: str = Ids.T, active: str | None = None, **extra: object) -> dict:
    values = dict(id=id_, tenant_id=tenant, name=name, description="", scope="roster", source="agent_app")
    return {**values, "active_config_snapshot_id": active, **extra}


def _snapshot(id_: str, agent: str, version: int, *, tenant: str = Ids.T, text: str = SOUL) -> dict:
    return dict(id=id_, tenant_id=tenant, agent_id=agent, version=version, config_snapshot=text)


def _revision(agent: str, revision: int, current: str, *, tenant: str = Ids.T, **extra: object) -> dict:
    values = dict(id=_id(0x10000 + revision * 0x1000 + int(agent[-3:], 16)), tenant_id=tenant, agent_id=agent)
    values.update(revision=revision, current_snapshot_id=current, previous_snapshot_id=None)
    return {**values, "operation": "save_new_version" if revision > 1 else "create_version", **extra}


def _binding(
    id_: str,
    workflow: str,
    version: str,
    node: str,
    kind: str,
    agent: str | None,
    pinned: str | None,
    **extra,
) -> dict:
    values = dict(id=id_, tenant_id=Ids.T, app_id=Ids.APP, workflow_id=workflow, workflow_version=version)
    values.update(node_id=node, binding_type=kind, agent_id=agent, current_snapshot_id=pinned)
    return {**values, "node_job_config": job(), "updated_at": AT, **extra}


def _session(id_: str, owner: str, agent: str, snapshot: str | None, **extra: object) -> dict:
    values = dict(id=id_, tenant_id=Ids.T, app_id=Ids.APP, owner_type=owner, agent_id=agent)
    values.update(agent_config_snapshot_id=snapshot, session_snapshot=SESSION, composition_layer_specs="[]")
    return {**values, **extra}


def build_planted(engine: sa.Engine, *, anomalies: bool = True) -> None:
    """The mirror, a clean dataset, and (with `anomalies`) one row per anomaly of EXPECTED."""
    migrate.upgrade_mirror(engine, "sessions")
    m = Ids.MISSING
    draft_nodes = [("n1", "Classify"), ("n2", Ids.N2_TITLE), *((f"n{n}", f"Node {n}") for n in range(3, 12))]
    p2_nodes = [n for n in draft_nodes if n[0] in ("n1", "n2", "n8", "n9", "n10", "n11")] + [("n_old", "Old")]
    p1_nodes = [("n1", "Classify"), ("n_unbound", "Agent node without a binding")]  # and no n_gone
    agents = [
        _agent(Ids.R, Ids.R_NAME, active=Ids.R2),
        _agent(Ids.RB, "Second roster agent", active=Ids.B1),
        _agent(
            Ids.INLINE,
            "Inline agent",
            active=Ids.I1,
            scope="workflow_only",
            source="workflow",
            app_id=Ids.APP,
        ),
        _agent(Ids.OTHER_AGENT, "Other workspace agent", tenant=Ids.OTHER, active=Ids.O1),
    ]
    # R's v2 was stamped before its v1 (clock skew): a read in created_at order is not in number order.
    skewed = {"created_at": datetime(2020, 1, 1)}
    snapshots = [
        _snapshot(Ids.R1, Ids.R, 1),
        {**_snapshot(Ids.R2, Ids.R, 2), **skewed},
        _snapshot(Ids.B1, Ids.RB, 1),
        _snapshot(Ids.I1, Ids.INLINE, 1),
        _snapshot(Ids.O1, Ids.OTHER_AGENT, 1, tenant=Ids.OTHER),
    ]
    revisions = [
        _revision(Ids.R, 1, Ids.R1),
        _revision(Ids.R, 2, Ids.R2, **skewed),
        _revision(Ids.RB, 1, Ids.B1),
        _revision(Ids.INLINE, 1, Ids.I1),
        _revision(Ids.OTHER_AGENT, 1, Ids.O1, tenant=Ids.OTHER),
    ]
    d, p2 = (Ids.DRAFT, "draft"), (Ids.P2, Ids.P2_VERSION)
    bindings = [
        _binding(Ids.D_N1, *d, "n1", "inline_agent", Ids.INLINE, Ids.I1),
        _binding(Ids.D_N2, *d, "n2", "roster_agent", Ids.R, Ids.R1),  # drift: R runs R2
        _binding(Ids.D_N8, *d, "n8", "roster_agent", Ids.RB, Ids.B1),
        _binding(Ids.D_N9, *d, "n9", "roster_agent", Ids.R, Ids.R2),
        _binding(
            Ids.D_N10, *d, "n10", "inline_agent", Ids.INLINE, Ids.I1, node_job_config=job("Changed prompt")
        ),
        _binding(Ids.D_N11, *d, "n11", "inline_agent", Ids.INLINE, Ids.I1, node_job_config=job(indent=2)),
        _binding(_id(0x3101), *p2, "n1", "inline_agent", Ids.INLINE, Ids.I1),
        _binding(_id(0x3102), *p2, "n2", "roster_agent", Ids.R, Ids.R2),
        _binding(_id(0x3108), *p2, "n8", "roster_agent", Ids.R, Ids.R2),
        _binding(_id(0x3109), *p2, "n9", "inline_agent", Ids.R, Ids.R2),
        _binding(_id(0x3110), *p2, "n10", "inline_agent", Ids.INLINE, Ids.I1),
        _binding(_id(0x3111), *p2, "n11", "inline_agent", Ids.INLINE, Ids.I1),
        _binding(_id(0x3112), *p2, "n_old", "roster_agent", Ids.R, Ids.R2),
        _binding(_id(0x3201), Ids.P1, Ids.P1_VERSION, "n1", "inline_agent", Ids.INLINE, Ids.I1),
        _binding(_id(0x3202), Ids.P1, Ids.P1_VERSION, "n_gone", "inline_agent", Ids.INLINE, Ids.I1),
        _binding(
            _id(0x3301), Ids.ORPHAN_WORKFLOW, Ids.ORPHAN_VERSION, "n1", "inline_agent", Ids.INLINE, Ids.I1
        ),
    ]
    sessions = [
        _session(
            _id(0x3401),
            "workflow_run",
            Ids.INLINE,
            Ids.I1,
            workflow_run_id=m[8],
            node_id="n1",
            binding_id=Ids.D_N1,
        ),
        _session(_id(0x3402), "conversation", Ids.R, Ids.R2, conversation_id=m[7]),
    ]
    if anomalies:
        agents += [
            _agent(Ids.X1, "Active snapshot missing", active=m[1]),
            _agent(Ids.X2, "Active snapshot foreign", active=Ids.R1),
            _agent(Ids.G, "Version gap", active=Ids.G3),
            _agent(Ids.H, "Revision gap", active=Ids.H1),
            _agent(Ids.Z, "Archived", active=Ids.Z1, status="archived", archived_at=AT),
            _agent(
                Ids.L, "Left behind", active=Ids.L1, scope="workflow_only", source="workflow", app_id=Ids.APP
            ),
            _agent(Ids.U, "Unknown status", active=Ids.U1, status="suspended"),
        ]
        snapshots += [
            _snapshot(Ids.S_ORPHAN, m[2], 1),
            _snapshot(Ids.G1, Ids.G, 1),
            _snapshot(Ids.G3, Ids.G, 3),
            _snapshot(Ids.H1, Ids.H, 1),
            _snapshot(Ids.Z1, Ids.Z, 1),
            _snapshot(Ids.L1, Ids.L, 1),
            _snapshot(Ids.U1, Ids.U, 1),
        ]
        revisions += [
            {**_revision(Ids.R, 3, m[3], previous_snapshot_id=m[4]), "id": Ids.REV_MISSING},
            _revision(Ids.G, 1, Ids.G1),
            _revision(Ids.G, 2, Ids.G3),
            _revision(Ids.H, 1, Ids.H1),
            _revision(Ids.H, 3, Ids.H1),
            _revision(Ids.Z, 1, Ids.Z1),
            _revision(Ids.L, 1, Ids.L1),
            _revision(Ids.U, 1, Ids.U1),
        ]
        bindings += [
            _binding(Ids.B_NO_AGENT, *d, "n3", "roster_agent", m[0], None),
            _binding(Ids.B_NO_SNAPSHOT, *d, "n4", "inline_agent", Ids.INLINE, m[5]),
            _binding(Ids.B_FOREIGN, *d, "n5", "roster_agent", Ids.RB, Ids.R1),
            _binding(Ids.B_ARCHIVED, *d, "n6", "roster_agent", Ids.Z, Ids.Z1),
            _binding(
                Ids.B_BAD_JSON, *d, "n7", "inline_agent", Ids.INLINE, Ids.I1, node_job_config='{"mode": '
            ),
        ]
        sessions += [
            _session(Ids.SS_NO_AGENT, "conversation", m[6], None, conversation_id=m[7]),
            _session(
                Ids.SS_NO_BINDING,
                "workflow_run",
                Ids.INLINE,
                Ids.I1,
                workflow_run_id=m[8],
                node_id="n1",
                binding_id=m[2],
            ),
            _session(Ids.SS_NO_SNAPSHOT, "conversation", Ids.R, m[3], conversation_id=m[8]),
            _session(Ids.SS_OWNER, "workflow_run", Ids.R, Ids.R2, node_id="n2"),
        ]
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Tenant), [dict(id=Ids.T, name="Planted Co"), dict(id=Ids.OTHER, name="Other Co")]
        )
        conn.execute(
            sa.insert(App),
            [
                dict(
                    id=Ids.APP, tenant_id=Ids.T, name="Planted Flow", mode="advanced-chat", workflow_id=Ids.P2
                )
            ],
        )
        conn.execute(
            sa.insert(Workflow),
            [
                dict(
                    id=wid,
                    tenant_id=Ids.T,
                    app_id=Ids.APP,
                    type="chat",
                    version=version,
                    graph=g,
                    marked_name=mark,
                    created_by=Ids.MISSING[0],
                    created_at=at,
                    updated_at=at,
                )
                for wid, version, g, mark, at in (
                    (Ids.DRAFT, "draft", graph(draft_nodes), "", datetime(2025, 11, 1)),
                    (Ids.P1, Ids.P1_VERSION, graph(p1_nodes), "", datetime(2026, 1, 1)),
                    (Ids.P2, Ids.P2_VERSION, graph(p2_nodes), "Spring release", datetime(2026, 2, 1)),
                )
            ],
        )
        for model, rows in (
            (Agent, agents),
            (AgentConfigSnapshot, snapshots),
            (AgentConfigRevision, revisions),
            (WorkflowAgentNodeBinding, bindings),
            (AgentRuntimeSession, sessions),
        ):
            for row in rows:  # one by one: rows set different optional columns
                conn.execute(sa.insert(model), row)


@pytest.fixture
def planted_engine(empty_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(empty_url)
    build_planted(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def clean_engine(empty_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(empty_url)
    build_planted(engine, anomalies=False)
    yield engine
    engine.dispose()


def found_ids(result: integrity.CheckResult) -> set[str]:
    return {s.id for s in result.samples}


# --- the planted database ----------------------------------------------------------------------


def test_every_check_has_a_planted_anomaly() -> None:
    assert set(EXPECTED) == set(integrity.CHECK_NAMES)


def test_clean_data_triggers_no_check(clean_engine: sa.Engine) -> None:
    with clean_engine.connect() as conn:
        report = integrity.run_checks(conn)
    assert not report.has_errors
    for result in report.results:
        assert (result.count, result.error, result.bounded) == (0, None, False), result.name
        assert result.scanned > 0, result.name


def test_each_planted_anomaly_is_found_exactly_once(planted_engine: sa.Engine) -> None:
    with planted_engine.connect() as conn:
        report = integrity.run_checks(conn)
    for result in report.results:
        assert result.error is None, (result.name, result.error)
        assert (result.count, found_ids(result)) == (len(EXPECTED[result.name]), EXPECTED[result.name]), (
            result.name
        )
    assert report.has_errors
    assert report.totals() == {"error": 6, "warning": 8, "info": 3}


def test_sample_details_and_links(planted_engine: sa.Engine) -> None:
    with planted_engine.connect() as conn:
        report = integrity.run_checks(conn)
    missing_agent = report.get("binding-missing-agent").samples[0]
    assert missing_agent.link("bindings") == (
        f"/bindings?tenant={Ids.T}&app={Ids.APP}&workflow={Ids.DRAFT}&node=n3"
    )
    assert missing_agent.link("agent") is None  # the agent does not exist: no dead link
    assert Ids.MISSING[0] in missing_agent.detail
    foreign = report.get("binding-foreign-snapshot").samples[0]
    assert foreign.link("agent") == f"/agent?agent={Ids.RB}" and Ids.R in foreign.detail
    revision = report.get("revision-missing-snapshot").samples[0]
    assert Ids.MISSING[3] in revision.detail and Ids.MISSING[4] in revision.detail
    assert "missing 2" in report.get("version-gaps").samples[0].detail
    assert "missing 2" in report.get("revision-gaps").samples[0].detail
    session = report.get("session-missing-binding").samples[0]
    assert session.link("session") == f"/sessions?tenant={Ids.T}&session={Ids.SS_NO_BINDING}"
    assert "workflow_run_id is empty" in report.get("session-owner-mismatch").samples[0].detail
    assert "status = 'suspended'" in report.get("unknown-enum-values").samples[0].detail
    bad_json = report.get("invalid-json").samples[0]
    assert bad_json.detail.startswith("node_job_config: invalid JSON")
    assert bad_json.link("bindings").endswith("&node=n7")


def test_checks_are_scoped_to_one_workspace(planted_engine: sa.Engine) -> None:
    with planted_engine.connect() as conn:
        mine = integrity.run_checks(conn, tenant_id=Ids.T)
        other = integrity.run_checks(conn, tenant_id=Ids.OTHER)
    assert {r.name: found_ids(r) for r in mine.results} == EXPECTED
    assert all(r.count == 0 and r.scanned <= 2 for r in other.results), [
        (r.name, r.scanned) for r in other.results
    ]


def test_reads_are_bounded_and_say_so(planted_engine: sa.Engine) -> None:
    tables = {"unknown-enum-values": 4, "invalid-json": 3}
    with planted_engine.connect() as conn:
        report = integrity.run_checks(conn, scan_limit=3, sample_limit=1)
    for result in report.results:
        assert result.scanned <= 3 * tables.get(result.name, 1), result.name
        assert result.bounded, result.name  # every table holds more than 3 rows
        assert result.count_label.startswith("≥ ") and result.count_label.endswith("(bounded)")
        assert len(result.samples) <= 1


@pytest.mark.parametrize("check", ["version-gaps", "revision-gaps"])
def test_a_bounded_gap_check_never_invents_a_gap(planted_engine: sa.Engine, check: str) -> None:
    """Whatever the bound cuts, only real gaps are reported: the agent the bound cuts is not judged
    (one workspace is read in created_at order, where R's v2 comes before its v1)."""
    with planted_engine.connect() as conn:
        for tenant in (None, Ids.T):
            for limit in range(1, 30):
                result = integrity.run_checks(
                    conn, tenant_id=tenant, names=[check], scan_limit=limit
                ).results[0]
                assert found_ids(result) <= EXPECTED[check], (tenant, limit, result.samples)


def test_a_failing_check_is_reported_and_the_others_still_run(pg_url: str) -> None:
    engine = sa.create_engine(pg_url)
    build_planted(engine)
    with engine.begin() as conn:
        # The table stays (so the session checks apply) but every read of it fails.
        conn.exec_driver_sql("ALTER TABLE agent_runtime_sessions RENAME COLUMN id TO id_gone")
    with engine.connect() as conn:
        report = integrity.run_checks(conn)
    engine.dispose()
    failed = {r.name for r in report.results if r.error}
    assert failed == {
        "session-missing-agent",
        "session-missing-binding",
        "session-missing-snapshot",
        "session-owner-mismatch",
        "unknown-enum-values",
        "invalid-json",
    }
    assert report.get("version-gaps").count == 1  # checks after a failure still ran (savepoints)
    assert report.get("invalid-json").count_label == "check failed"
    assert report.has_errors  # an error-severity check that could not run counts as a problem


# --- the seeded demo ---------------------------------------------------------------------------


def test_the_demo_anomalies_are_found(seeded_engine: sa.Engine) -> None:
    with seeded_engine.connect() as conn:
        report = integrity.run_checks(conn, sample_limit=50)
    by_name = {r.name: found_ids(r) for r in report.results}
    assert by_name["binding-missing-agent"] == {DemoIds.DANGLING_AGENT_BINDING}
    assert by_name["binding-missing-snapshot"] == {
        DemoIds.DANGLING_AGENT_BINDING,
        DemoIds.MISSING_SNAPSHOT_BINDING,
    }
    assert by_name["binding-foreign-snapshot"] == {DemoIds.FOREIGN_SNAPSHOT_BINDING}
    assert DemoIds.ARCHIVED_AGENT_BINDING in by_name["archived-agent-bound-in-draft"]
    assert by_name["workflow-only-agent-unreferenced"] == {DemoIds.LEFT_BEHIND_INLINE_AGENT}
    assert by_name["session-missing-agent"] == {DemoIds.ORPHANED_SESSION}
    assert by_name["unknown-enum-values"] == {DemoIds.UNKNOWN_ENUM_AGENT, DemoIds.UNKNOWN_OPERATION_REVISION}
    assert by_name["invalid-json"] == {DemoIds.INVALID_JSON_SNAPSHOT, DemoIds.NON_OBJECT_JSON_SNAPSHOT}
    assert report.has_errors
    assert all(r.error is None for r in report.results)
    with seeded_engine.connect() as conn:
        northwind = integrity.run_checks(conn, tenant_id=DemoIds.TENANT_NORTHWIND)
    assert not northwind.has_errors


def test_checks_on_a_database_built_by_difys_migrations(pg_url: str) -> None:
    """Native uuid columns, newer enum values (known), bad JSON, and `agent_config_drafts`: a debugger
    session pointing at a draft row is not a missing snapshot; one pointing nowhere is."""
    engine = sa.create_engine(pg_url)
    tenant, agent, app = (
        "11111111-1111-4111-8111-111111111111",
        "01930000-0000-7000-8000-000000000001",
        "33333333-3333-4333-8333-333333333333",
    )
    draft, nowhere = "01930000-0000-7000-8000-0000000000d1", "01930000-0000-7000-8000-0000000000d2"
    with engine.begin() as conn:
        conn.exec_driver_sql((ROOT / "tests" / "fixtures" / "real_dify.sql").read_text())
        conn.execute(
            sa.text(
                "INSERT INTO agent_config_drafts (id, tenant_id, agent_id, draft_type, draft_owner_key, "
                "config_snapshot) VALUES (:draft, :tenant, :agent, 'debug_build', 'acct', '{}')"
            ),
            {"draft": draft, "tenant": tenant, "agent": agent},
        )
        for session_id, snapshot in ((_id(0xD01), draft), (_id(0xD02), nowhere)):
            conn.execute(
                sa.text(
                    "INSERT INTO agent_runtime_sessions (id, tenant_id, app_id, owner_type, agent_id, "
                    "session_snapshot, composition_layer_specs, conversation_id, agent_config_snapshot_id) "
                    "VALUES (:id, :tenant, :app, 'conversation', :agent, '{}', '[]', gen_random_uuid(), :snapshot)"
                ),
                {"id": session_id, "tenant": tenant, "app": app, "agent": agent, "snapshot": snapshot},
            )
    with engine.connect() as conn:
        report = integrity.run_checks(conn)
    engine.dispose()
    assert all(r.error is None for r in report.results), [(r.name, r.error) for r in report.results]
    assert {r.name: r.count for r in report.results if r.count} == {
        "invalid-json": 3,  # a snapshot, a binding whose node_job_config is `[]`, a session snapshot
        "unknown-enum-values": 1,  # source `marketplace`, status `suspended` (one row)
        "session-missing-snapshot": 1,
    }
    assert found_ids(report.get("session-missing-snapshot")) == {_id(0xD02)}
    assert "snapshot or draft" in report.get("session-missing-snapshot").samples[0].detail


# --- the CLI -----------------------------------------------------------------------------------


def run_cli(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("AGENT_DESK_") and k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "data", "check", *args],
        cwd=ROOT,
        env={**base, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_exits_1_on_the_demo_with_the_same_report(seeded_pg_url: str) -> None:
    text = run_cli(url=seeded_pg_url)
    assert text.returncode == 1, text.stderr
    assert "[error] binding-missing-agent: 1" in text.stdout and DemoIds.DANGLING_AGENT_BINDING in text.stdout
    as_json = run_cli("--format", "json", url=seeded_pg_url)
    assert as_json.returncode == 1
    parsed = json.loads(as_json.stdout)
    assert parsed["has_errors"] is True
    assert [c["name"] for c in parsed["checks"]] == list(integrity.CHECK_NAMES)
    scoped = json.loads(
        run_cli("--tenant", DemoIds.TENANT_NORTHWIND, "--format", "json", url=seeded_pg_url).stdout
    )
    assert scoped["tenant"] == DemoIds.TENANT_NORTHWIND and not scoped["has_errors"]


def test_cli_exits_0_on_a_clean_database(pg_url: str) -> None:
    engine = sa.create_engine(pg_url)
    build_planted(engine, anomalies=False)
    engine.dispose()
    result = run_cli("--format", "json", url=pg_url)
    assert result.returncode == 0, result.stderr
    assert all(c["count"] == 0 for c in json.loads(result.stdout)["checks"])
    assert run_cli("--tenant", "not-a-uuid", url=pg_url).returncode == 2


# --- the /health page ----------------------------------------------------------------------------


def run_stored_jobs(data_dir: Path) -> None:
    """What a cron `python -m data check --fresh` leaves behind: a stored run of every whole-table check."""
    from data.actor import Actor, Role
    from data.db import create_engine
    from data.services import check_jobs
    from data.settings import load_settings

    cron = Actor("cli:cron", Role.OPERATOR, local_mode=True)  # the CLI's actor (data/cli.py)
    engine = create_engine(f"sqlite:///{data_dir / 'demo.sqlite'}", load_settings())
    with engine.connect() as conn:
        present = integrity.present_names(conn)
    for check in integrity.ALL_CHECKS:
        if integrity.applicable(check, present):
            assert check_jobs.run_now(engine, check.name, actor=cron).status == "done"
    engine.dispose()


def test_health_page_lists_every_check(demo_app_env: Path) -> None:
    run_stored_jobs(demo_app_env)
    at = open_page("health")
    assert not at.exception, [e.value for e in at.exception]
    frame = at.dataframe[0].value
    assert list(frame["check"]) == list(integrity.CHECK_NAMES)
    row = frame.set_index("check").loc["binding-missing-agent"]
    assert (row["found"], row["severity"], row["status"]) == ("1", "error", "🔴 error")
    assert row["open"] == "/health?check=binding-missing-agent"
    assert set(frame["access"]) == {"index-backed", "bounded full scan"}


def test_health_check_parameter_opens_its_samples(demo_app_env: Path) -> None:
    at = open_page("health", tenant=DemoIds.TENANT_ACME, check="binding-missing-snapshot")
    assert not at.exception, [e.value for e in at.exception]
    samples = at.dataframe[0].value
    assert set(samples["id"]) == {DemoIds.DANGLING_AGENT_BINDING, DemoIds.MISSING_SNAPSHOT_BINDING}
    assert all(
        link.startswith(f"/bindings?tenant={DemoIds.TENANT_ACME}&app=") for link in samples["bindings"]
    )
    assert any(
        f"/health?tenant={DemoIds.TENANT_ACME}&check=binding-missing-snapshot" in c.value for c in at.code
    )


def test_health_ignores_an_unknown_check_with_a_notice(demo_app_env: Path) -> None:
    run_stored_jobs(demo_app_env)
    at = open_page("health", check="no-such-check", tenant=DemoIds.TENANT_NORTHWIND)
    assert not at.exception
    assert any("check" in w.value for w in at.warning)
    frame = at.dataframe[0].value
    assert len(frame) == len(integrity.CHECKS) and set(frame["status"]) <= {"✅ ok", "🔵 info"}


# --- PostgreSQL plans --------------------------------------------------------------------------

#: A bigger, analyzed dataset: 40 workspaces x 1,000 agents (2 snapshots, 2 revisions, a binding and a
#: session each); anomalies planted in one workspace so that the sample queries run as well.
BIG = [
    "INSERT INTO tenants (id, name) SELECT gen_random_uuid(), 'ws ' || g FROM generate_series(1, 40) g",
    "INSERT INTO agents (id, tenant_id, name, description, scope, source) "
    "SELECT gen_random_uuid(), t.id, 'agent ' || g, '', "
    "CASE WHEN mod(g, 3) = 0 THEN 'workflow_only' ELSE 'roster' END, 'workflow' "
    "FROM generate_series(1, 1000) g CROSS JOIN tenants t",
    "INSERT INTO agent_config_snapshots (id, tenant_id, agent_id, version, config_snapshot) "
    "SELECT gen_random_uuid(), a.tenant_id, a.id, v, '{\"prompt\":{\"system_prompt\":\"' || repeat('x', 300) || '\"}}' "
    "FROM agents a CROSS JOIN generate_series(1, 2) v",
    "UPDATE agents a SET active_config_snapshot_id = s.id FROM agent_config_snapshots s "
    "WHERE s.agent_id = a.id AND s.version = 2",
    "INSERT INTO agent_config_revisions (id, tenant_id, agent_id, current_snapshot_id, revision, operation) "
    "SELECT gen_random_uuid(), s.tenant_id, s.agent_id, s.id, s.version, 'save_new_version' "
    "FROM agent_config_snapshots s",
    "INSERT INTO workflow_agent_node_bindings (id, tenant_id, app_id, workflow_id, workflow_version, node_id, "
    "binding_type, agent_id, current_snapshot_id, node_job_config) "
    "SELECT gen_random_uuid(), a.tenant_id, a.tenant_id, a.tenant_id, 'draft', a.id::text, "
    "CASE WHEN a.scope = 'roster' THEN 'roster_agent' ELSE 'inline_agent' END, a.id, a.active_config_snapshot_id, "
    '\'{"mode":"tell_agent_what_to_do"}\' FROM agents a',
    "INSERT INTO agent_runtime_sessions (id, tenant_id, app_id, owner_type, agent_id, session_snapshot, "
    "composition_layer_specs, workflow_run_id, node_id, binding_id, agent_config_snapshot_id) "
    "SELECT gen_random_uuid(), b.tenant_id, b.app_id, 'workflow_run', b.agent_id, '{\"layers\":[]}', '[]', "
    "gen_random_uuid(), b.node_id, b.id, b.current_snapshot_id FROM workflow_agent_node_bindings b",
]


def _first(table: str, n: int) -> str:
    return f"(SELECT id FROM {table} WHERE tenant_id = (SELECT id FROM tenants ORDER BY id LIMIT 1) ORDER BY id LIMIT 1 OFFSET {n})"


PLANT = [
    f"UPDATE workflow_agent_node_bindings SET agent_id = gen_random_uuid() WHERE id = {_first('workflow_agent_node_bindings', 1)}",
    f"UPDATE workflow_agent_node_bindings SET current_snapshot_id = gen_random_uuid() WHERE id = {_first('workflow_agent_node_bindings', 2)}",
    f"UPDATE agents SET active_config_snapshot_id = gen_random_uuid() WHERE id = {_first('agents', 1)}",
    f"UPDATE agents SET status = 'archived', source = 'weird' WHERE id = {_first('agents', 2)}",
    f"UPDATE agent_config_revisions SET previous_snapshot_id = gen_random_uuid(), revision = 9 WHERE id = {_first('agent_config_revisions', 1)}",
    f"UPDATE agent_config_snapshots SET agent_id = gen_random_uuid() WHERE id = {_first('agent_config_snapshots', 1)}",
    f"UPDATE agent_runtime_sessions SET conversation_id = gen_random_uuid(), binding_id = gen_random_uuid(), "
    f"agent_config_snapshot_id = gen_random_uuid(), agent_id = gen_random_uuid(), session_snapshot = 'oops' "
    f"WHERE id = {_first('agent_runtime_sessions', 1)}",
    f"UPDATE workflow_agent_node_bindings SET agent_id = (SELECT id FROM agents WHERE scope = 'workflow_only' "
    f"AND tenant_id = (SELECT id FROM tenants ORDER BY id LIMIT 1) ORDER BY id LIMIT 1 OFFSET 5) WHERE id = {_first('workflow_agent_node_bindings', 3)}",
]


@pytest.fixture(scope="module")
def big_pg(postgres) -> Iterator[tuple[sa.Engine, str]]:
    url = postgres.create_database("big")
    engine = sa.create_engine(url)
    migrate.upgrade_mirror(engine, "sessions")
    with engine.begin() as conn:
        for statement in [*BIG, *PLANT]:
            conn.exec_driver_sql(statement)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
        tenant = conn.exec_driver_sql("SELECT id::text FROM tenants ORDER BY id LIMIT 1").scalar()
    yield engine, tenant
    engine.dispose()


def plans(engine: sa.Engine, **kwargs: object) -> tuple[integrity.CheckResult, list[str]]:
    """Run one check and EXPLAIN every query it sent (the real statements, with their parameters)."""
    sent: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")) and "pg_catalog" not in statement:
            sent.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        with engine.connect() as conn:
            result = integrity.run_checks(conn, **kwargs).results[0]
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    with engine.connect() as conn:
        conn.exec_driver_sql("SET jit = off")
        explained = ["\n".join(conn.exec_driver_sql(f"EXPLAIN {s}", p).scalars()) for s, p in sent]
    return result, explained


AGENT_TABLES = (
    "agents",
    "agent_config_snapshots",
    "agent_config_revisions",
    "workflow_agent_node_bindings",
    "agent_runtime_sessions",
)


@pytest.mark.parametrize("check", integrity.CHECK_NAMES)
def test_one_workspace_is_read_through_indexes(big_pg: tuple[sa.Engine, str], check: str) -> None:
    """For one workspace no check scans a big table: the driving read seeks a tenant-leading index and
    every reference is an index probe per row (index-backed checks stop there; the others are marked
    bounded full scans because they must read every row of the workspace)."""
    engine, tenant = big_pg
    result, explained = plans(engine, tenant_id=tenant, names=[check])
    assert result.error is None
    assert explained
    for plan in explained:
        # A bounded read (Limit), or a lookup of a few sample rows by primary key.
        assert "Index" in plan and ("Limit" in plan or "_pkey" in plan), plan
        assert not any(f"Seq Scan on {table}" in plan for table in AGENT_TABLES), plan
        assert "hashed SubPlan" not in plan, plan


@pytest.mark.parametrize("check", integrity.CHECK_NAMES)
def test_all_workspaces_read_is_bounded(big_pg: tuple[sa.Engine, str], check: str) -> None:
    """Without a workspace a check may scan its driving table, but only under its Limit, never by
    sorting everything first, and never a referenced table (probes stay index lookups)."""
    engine, _ = big_pg
    result, explained = plans(engine, names=[check], scan_limit=500)
    assert result.error is None and result.bounded
    for plan in explained:
        lines = plan.splitlines()
        for i, line in enumerate(lines):
            if "Seq Scan" in line:
                assert "Limit" in lines[i - 1], plan  # the scan feeds the bound directly
        assert "hashed SubPlan" not in plan, plan


def test_index_backed_flags_match_the_checks() -> None:
    """Checks that test every row's content are declared bounded full scans, the others index-backed."""
    scans = {c.name for c in integrity.CHECKS if not c.index_backed}
    assert scans == {"session-owner-mismatch", "unknown-enum-values", "invalid-json"}
