"""Bindings store on SQLite and PostgreSQL (versions, what runs, drift, draft vs published, node-job view),
its PostgreSQL plans, and the /bindings page through its URLs (demo and planted databases)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from data import migrate
from data.demo import DemoIds
from data.masking import MASK_SET
from data.read_context import ReadContext
from data.stores import bindings as store
from tests.apptest_helpers import all_text, markdown_sources, open_page
from tests.test_integrity import BIG, PLANT, Ids, build_planted, job

ALL = ReadContext.unscoped()

CORE = {"has_workflows": True, "has_marked_name": True, "has_apps": True}
NO_CORE = {"has_workflows": False, "has_marked_name": False, "has_apps": False}


@pytest.fixture
def planted_engine(empty_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(empty_url)
    build_planted(engine)
    yield engine
    engine.dispose()


def view(conn: sa.Connection, workflow_id: str, has_workflows: bool = True) -> store.WorkflowBindings:
    return store.workflow_bindings(
        conn, tenant_id=Ids.T, workflow_id=workflow_id, has_workflows=has_workflows
    )


def by_node(bindings: store.WorkflowBindings) -> dict[str, store.NodeBinding]:
    return {b.node_id: b for b in bindings.bindings}


# --- workspace -> app -> versions ----------------------------------------------------------------


def test_apps_of_a_workspace_with_and_without_the_apps_table(planted_engine: sa.Engine) -> None:
    with planted_engine.connect() as conn:
        apps = store.list_apps(conn, tenant_id=Ids.T, has_apps=True)
        bare = store.list_apps(conn, tenant_id=Ids.T, has_apps=False)
        other = store.list_apps(conn, tenant_id=Ids.OTHER, has_apps=True)
    assert apps == [store.BoundApp(Ids.APP, "Planted Flow", "advanced-chat", bindings=21)]
    assert bare == [store.BoundApp(Ids.APP, None, None, bindings=21)]
    assert bare[0].label == f"{Ids.APP} (no app row)"
    assert other == []


def test_versions_are_draft_first_then_published_newest_first(planted_engine: sa.Engine) -> None:
    with planted_engine.connect() as conn:
        versions = store.list_versions(conn, tenant_id=Ids.T, app_id=Ids.APP, **CORE)
    assert [v.id for v in versions] == [Ids.DRAFT, Ids.P2, Ids.P1, Ids.ORPHAN_WORKFLOW]
    assert [v.label for v in versions] == ["Draft", "Spring release", Ids.P1_VERSION, Ids.ORPHAN_VERSION]
    assert [v.is_live for v in versions] == [False, True, False, False]
    assert [v.has_row for v in versions] == [True, True, True, False]  # the orphan id comes from bindings
    assert [v.bindings for v in versions] == [11, 7, 2, 1]
    assert versions[3].created_at is None and not any(v.version_mismatch for v in versions)


def test_versions_without_the_core_tables_come_from_the_bindings(planted_engine: sa.Engine) -> None:
    with planted_engine.connect() as conn:
        versions = store.list_versions(conn, tenant_id=Ids.T, app_id=Ids.APP, **NO_CORE)
    assert [v.id for v in versions] == [Ids.DRAFT, Ids.P2, Ids.P1, Ids.ORPHAN_WORKFLOW]
    assert [v.label for v in versions] == ["Draft", Ids.P2_VERSION, Ids.P1_VERSION, Ids.ORPHAN_VERSION]
    assert not any(v.has_row or v.is_live for v in versions)


def test_pasted_ids_are_located_by_primary_key(planted_engine: sa.Engine) -> None:
    core = frozenset({"apps", "workflows"})
    with planted_engine.connect() as conn:
        assert store.locate(conn, workflow_id=Ids.P1, has_core=core, read=ALL) == store.Location(
            Ids.T, Ids.APP
        )
        assert store.locate(conn, app_id=Ids.APP, has_core=core, read=ALL) == store.Location(Ids.T, Ids.APP)
        assert store.locate(conn, workflow_id=Ids.P1, read=ALL) is None  # no core tables: cannot place it
        assert store.locate(conn, workflow_id=Ids.ORPHAN_WORKFLOW, has_core=core, read=ALL) is None
        assert store.app_of_workflow(conn, tenant_id=Ids.T, workflow_id=Ids.ORPHAN_WORKFLOW) == Ids.APP


# --- version -> node bindings --------------------------------------------------------------------


def test_bindings_resolve_agents_snapshots_and_what_runs(planted_engine: sa.Engine) -> None:
    with planted_engine.connect() as conn:
        draft = view(conn, Ids.DRAFT)
    nodes = by_node(draft)
    assert [b.node_id for b in draft.bindings] == [f"n{n}" for n in range(1, 12)]  # graph order
    inline, roster = nodes["n1"], nodes["n2"]
    assert (inline.node_title, inline.pinned.version, inline.runs.version, inline.drifts) == (
        "Classify",
        1,
        1,
        False,
    )
    assert roster.node_title == Ids.N2_TITLE and roster.agent.name == Ids.R_NAME
    # A roster binding runs the agent's active snapshot (v2), not the pinned one (v1): drift.
    assert (roster.pinned.id, roster.runs.id, roster.drifts) == (Ids.R1, Ids.R2, True)
    assert not nodes["n8"].drifts and nodes["n8"].problems == ()
    assert draft.unbound_agent_nodes == () and draft.graph_error is None


def test_broken_bindings_say_so_plainly(planted_engine: sa.Engine) -> None:
    with planted_engine.connect() as conn:
        nodes = by_node(view(conn, Ids.DRAFT))
        p1 = view(conn, Ids.P1)
        orphan = view(conn, Ids.ORPHAN_WORKFLOW)
    missing_agent = nodes["n3"]
    assert missing_agent.agent is None and missing_agent.runs is None and not missing_agent.drifts
    assert missing_agent.problems == (f"Agent {Ids.MISSING[0]} does not exist in this workspace (deleted?).",)
    assert nodes["n4"].problems == (f"The pinned snapshot {Ids.MISSING[5]} does not exist.",)
    assert nodes["n4"].pinned.label() == f"missing ({Ids.MISSING[5]})"
    assert nodes["n5"].problems == (f"The pinned snapshot {Ids.R1} belongs to another agent ({Ids.R}).",)
    assert nodes["n6"].problems == ("The agent is archived: Dify refuses to run it.",)
    assert [n.problems for k, n in nodes.items() if k in ("n1", "n2", "n7", "n8", "n9", "n10", "n11")] == [
        ()
    ] * 7
    gone = by_node(p1)["n_gone"]
    assert gone.problems == ("Node n_gone is not in this workflow's graph (a left-over binding).",)
    assert [n.id for n in p1.unbound_agent_nodes] == ["n_unbound"]
    assert by_node(orphan)["n1"].problems == ()  # no workflows row: the graph is unknown, not wrong


def test_bindings_work_without_the_core_tables(planted_engine: sa.Engine) -> None:
    with planted_engine.connect() as conn:
        bare = view(conn, Ids.DRAFT, has_workflows=False)
    assert len(bare.bindings) == 11 and all(b.node_title is None for b in bare.bindings)
    assert [b.node_id for b in bare.bindings][:3] == ["n1", "n10", "n11"]  # by node id without a graph
    assert by_node(bare)["n2"].drifts


# --- draft vs published --------------------------------------------------------------------------


def test_draft_against_published_lists_every_kind_of_change(planted_engine: sa.Engine) -> None:
    with planted_engine.connect() as conn:
        comparison = store.compare_bindings(view(conn, Ids.P2), view(conn, Ids.DRAFT))
    changes = {c.node_id: c.changes for c in comparison.changes}
    assert changes == {
        "n2": ("pinned snapshot changed",),
        **{f"n{n}": ("added",) for n in range(3, 8)},
        "n8": ("re-bound to another agent",),
        "n9": ("binding type changed",),
        "n10": ("node-job config changed",),
        "n_old": ("removed",),
    }
    assert comparison.unchanged == 2  # n1, and n11 whose text differs only in key order and spacing
    n10 = next(c for c in comparison.changes if c.node_id == "n10")
    assert n10.config_changed and n10.before.id == "01930000-0000-7000-8000-000000003110"
    assert n10.after.id == Ids.D_N10
    removed = next(c for c in comparison.changes if c.node_id == "n_old")
    assert removed.after is None and removed.before.agent_id == Ids.R


# --- node-job config -----------------------------------------------------------------------------


def test_node_job_view_masks_prompt_contacts_and_raw_json() -> None:
    view_ = store.node_job_view(job())
    assert view_.error is None and view_.mode == "tell_agent_what_to_do"
    assert Ids.PLANTED_KEY not in view_.workflow_prompt and "[masked token]" in view_.workflow_prompt
    assert view_.previous_refs == ("start.query",)
    assert [(o.name, o.type, o.required, o.failure_strategy) for o in view_.outputs] == [
        ("answer", "string", "yes", 'default_value ("n/a"), retry 2× every 1000 ms'),
        ("tags", "array", "no", "stop (default)"),
    ]
    assert MASK_SET in view_.human_contacts
    for text in (view_.human_contacts, view_.raw, view_.workflow_prompt):
        assert Ids.PLANTED_EMAIL not in text and Ids.PLANTED_KEY not in text and "Planted Person" not in text
    assert not view_.uses_default_outputs


def test_node_job_view_of_empty_invalid_and_non_object_configs() -> None:
    assert store.node_job_view('{"declared_outputs":[]}').uses_default_outputs
    broken = store.node_job_view(f'{{"workflow_prompt": "{Ids.PLANTED_KEY}", ')
    assert broken.error and broken.error.startswith("invalid JSON") and broken.outputs == ()
    assert Ids.PLANTED_KEY not in broken.raw and not broken.uses_default_outputs
    assert store.node_job_view("[]").error == "JSON is a list, not an object"


# --- PostgreSQL plans --------------------------------------------------------------------------

WORKFLOWS = [
    "INSERT INTO apps (id, tenant_id, name, mode) SELECT t.id, t.id, 'app ' || t.name, 'workflow' FROM tenants t",
    "INSERT INTO workflows (id, tenant_id, app_id, type, version, graph, created_by, updated_at) "
    "SELECT gen_random_uuid(), t.id, t.id, 'workflow', "
    "CASE WHEN g = 1 THEN 'draft' ELSE '2026-01-01 00:00:00.' || g END, '{\"nodes\":[]}', t.id, now() "
    "FROM tenants t CROSS JOIN generate_series(1, 50) g",
]


def test_bindings_queries_use_indexes(pg_url: str) -> None:
    """40 workspaces x 1,000 bindings and 50 workflow rows each, analyzed: no query scans a big table."""
    engine = sa.create_engine(pg_url)
    migrate.upgrade_mirror(engine, "sessions")
    with engine.begin() as conn:
        for statement in [*BIG, *PLANT, *WORKFLOWS]:
            conn.exec_driver_sql(statement)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
        tenant = conn.exec_driver_sql("SELECT id::text FROM tenants ORDER BY id LIMIT 1").scalar()
    sent: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:
        sent.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", capture)
    with engine.connect() as conn:
        assert store.list_apps(conn, tenant_id=tenant, has_apps=True)[0].bindings == 1000
        versions = store.list_versions(conn, tenant_id=tenant, app_id=tenant, **CORE)
        assert len(versions) == 51 and versions[0].is_draft  # 50 rows + the bindings' own workflow id
        assert len(
            store.workflow_bindings(conn, tenant_id=tenant, workflow_id=tenant, has_workflows=True).bindings
        )
    sa.event.remove(engine, "before_cursor_execute", capture)
    with engine.connect() as conn:
        plans = ["\n".join(conn.exec_driver_sql(f"EXPLAIN {s}", p).scalars()) for s, p in sent]
    engine.dispose()
    assert len(plans) >= 6
    big = ("agents", "agent_config_snapshots", "workflow_agent_node_bindings", "workflows")  # apps: 40 rows
    for plan in plans:
        assert not any(f"Seq Scan on {table}" in plan for table in big), plan
    joined = "\n".join(plans)
    assert "workflow_version_idx" in joined  # workflows of the app
    assert "workflow_agent_node_binding_" in joined


# --- the page, on the demo -----------------------------------------------------------------------


def no_exception(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def demo_versions(data_dir: Path, app_id: str) -> list[store.WorkflowVersion]:
    engine = sa.create_engine(f"sqlite:///{data_dir / 'demo.sqlite'}")
    with engine.connect() as conn:
        versions = store.list_versions(conn, tenant_id=DemoIds.TENANT_ACME, app_id=app_id, **CORE)
    engine.dispose()
    return versions


def demo_bindings(data_dir: Path, workflow_id: str) -> tuple[store.NodeBinding, ...]:
    engine = sa.create_engine(f"sqlite:///{data_dir / 'demo.sqlite'}")
    with engine.connect() as conn:
        found = store.workflow_bindings(
            conn, tenant_id=DemoIds.TENANT_ACME, workflow_id=workflow_id, has_workflows=True
        )
    engine.dispose()
    return found.bindings


def frame_with(at, column: str):
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_deep_link_to_a_workspace_lists_its_apps(demo_app_env: Path) -> None:
    at = open_page("bindings", tenant=DemoIds.TENANT_ACME)
    no_exception(at)
    apps = frame_with(at, "app").set_index("app")
    assert apps.loc["Support Ticket Triage", "open"] == (
        f"/bindings?tenant={DemoIds.TENANT_ACME}&app={DemoIds.APP_TICKET_TRIAGE}"
    )
    assert "Employee Onboarding Flow" in apps.index


def test_deep_link_to_an_app_lists_versions_draft_first(demo_app_env: Path) -> None:
    at = open_page("bindings", app=DemoIds.APP_TICKET_TRIAGE)  # the workspace is found from the app
    no_exception(at)
    assert at.selectbox[0].value == DemoIds.TENANT_ACME
    versions = frame_with(at, "stored version")
    assert versions["version"].iloc[0] == "Draft"
    published = list(versions["stored version"])[1:]
    assert len(published) == 3 and published == sorted(published, reverse=True)
    assert list(versions["live"]) == ["", "● live", "", ""]


def test_deep_link_to_a_workflow_shows_the_drift_badge(demo_app_env: Path) -> None:
    draft = demo_versions(demo_app_env, DemoIds.APP_TICKET_TRIAGE)[0]
    at = open_page("bindings", tenant=DemoIds.TENANT_ACME, app=DemoIds.APP_TICKET_TRIAGE, workflow=draft.id)
    no_exception(at)
    frame = frame_with(at, "drift")
    assert list(frame["title"]) == ["Classify ticket", "Answer customer", "Escalate to a human"]
    answer = frame.set_index("title").loc["Answer customer"]
    assert (answer["agent"], answer["pinned"], answer["runs"], answer["drift"]) == (
        "Acme Support Assistant",
        "v4",
        "v6",
        "⚠ drift",
    )
    assert answer["compare"] == (
        f"/compare?left_snapshot={DemoIds.SHOWCASE_SNAPSHOTS[3]}&right_snapshot={DemoIds.SHOWCASE_SNAPSHOTS[5]}"
        f"&binding={DemoIds.DRIFT_BINDING}"  # issue 13: the compare page titles the sides Pinned / Runs
    )
    assert frame.set_index("title").loc["Classify ticket", "drift"] == ""  # inline: runs what it pins


def test_a_workflow_id_alone_finds_its_workspace_and_app(demo_app_env: Path) -> None:
    published = demo_versions(demo_app_env, DemoIds.APP_TICKET_TRIAGE)[1]
    at = open_page("bindings", workflow=published.id)
    no_exception(at)
    assert [s.value for s in at.selectbox[:3]] == [
        DemoIds.TENANT_ACME,
        DemoIds.APP_TICKET_TRIAGE,
        published.id,
    ]
    assert len(frame_with(at, "drift")) == published.bindings
    assert any(
        f"/bindings?tenant={DemoIds.TENANT_ACME}&app={DemoIds.APP_TICKET_TRIAGE}&workflow={published.id}"
        == c.value
        for c in at.code
    )


def test_deep_link_to_a_node_shows_its_job_config_masked(demo_app_env: Path) -> None:
    draft = demo_versions(demo_app_env, DemoIds.APP_TICKET_TRIAGE)[0]
    base = {"tenant": DemoIds.TENANT_ACME, "app": DemoIds.APP_TICKET_TRIAGE, "workflow": draft.id}
    nodes = {b.node_title: b for b in demo_bindings(demo_app_env, draft.id)}
    at = open_page("bindings", **base, node=nodes["Answer customer"].node_id)
    no_exception(at)
    assert any(t.value.endswith("Answer customer") for t in at.text)
    assert any("Drift" in m.value for m in at.markdown)  # the badge
    assert list(frame_with(at, "failure strategy")["name"]) == ["answer", "needs_human"]
    at = open_page("bindings", **base, node=nodes["Escalate to a human"].node_id)
    no_exception(at)
    contacts = next(c.value for c in at.code if "channel" in c.value and c.language == "json")
    assert MASK_SET in contacts and "@" not in contacts
    assert "@" not in "".join(c.value for c in at.code if c.language == "json")  # raw JSON masked too


def test_draft_versus_published_comparison(demo_app_env: Path) -> None:
    versions = demo_versions(demo_app_env, DemoIds.APP_RESEARCH_DIGEST)
    draft, oldest = versions[0], versions[-1]
    at = open_page(
        "bindings",
        tenant=DemoIds.TENANT_ACME,
        app=DemoIds.APP_RESEARCH_DIGEST,
        workflow=draft.id,
        against=oldest.id,
    )
    no_exception(at)
    changes = frame_with(at, "changes").set_index("title")["changes"].to_dict()
    assert changes == {
        "Write the digest": "re-bound to another agent, binding type changed",
        "Compliance review": "added",
        "Research the week": "pinned snapshot changed",
    }
    assert at.selectbox[3].value == oldest.id


def test_invalid_parameters_are_ignored_with_a_notice(demo_app_env: Path) -> None:
    at = open_page("bindings", tenant="not-a-uuid", workflow="nope", against="x")
    no_exception(at)
    warnings = " ".join(w.value for w in at.warning)
    assert "tenant" in warnings and "workflow" in warnings and "against" in warnings


# --- the page, on a planted (non-demo) database ------------------------------------------------


@pytest.fixture
def planted_app(sqlite_url: str, app_env_for) -> str:
    engine = sa.create_engine(sqlite_url)
    build_planted(engine)
    engine.dispose()
    app_env_for(sqlite_url)
    return sqlite_url


def test_config_change_links_to_the_binding_config_diff(planted_app: str) -> None:
    at = open_page("bindings", tenant=Ids.T, app=Ids.APP, workflow=Ids.DRAFT, against=Ids.P2)
    no_exception(at)
    changes = frame_with(at, "changes").set_index("node id")
    assert changes.loc["n10", "changes"] == "node-job config changed"
    assert changes.loc["n10", "config diff"] == (
        f"/compare?left_binding=01930000-0000-7000-8000-000000003110&right_binding={Ids.D_N10}"
    )
    assert changes.loc["n_old", "changes"] == "removed"


def test_user_text_is_shown_literally(planted_app: str) -> None:
    at = open_page("bindings", tenant=Ids.T, app=Ids.APP, workflow=Ids.DRAFT, node="n2")
    no_exception(at)
    assert any(Ids.N2_TITLE in t.value for t in at.text)
    frame = frame_with(at, "drift")
    assert Ids.R_NAME in set(frame["agent"]) and Ids.N2_TITLE in set(frame["title"])
    for body in markdown_sources(at):
        assert not re.search(r"(?<!\\)<(img|b)\b", body), body
        assert not re.search(r"(?<!\\)\[x(?<!\\)\]\(javascript", body), body
    assert Ids.PLANTED_EMAIL not in all_text(at) and Ids.PLANTED_KEY not in all_text(at)


def test_the_page_works_without_the_core_tables(planted_app: str) -> None:
    engine = sa.create_engine(planted_app)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE workflows")
        conn.exec_driver_sql("DROP TABLE apps")
    engine.dispose()
    at = open_page("bindings", tenant=Ids.T, app=Ids.APP)
    no_exception(at)
    assert list(frame_with(at, "stored version")["version"]) == [
        "Draft",
        Ids.P2_VERSION,
        Ids.P1_VERSION,
        Ids.ORPHAN_VERSION,
    ]
    at = open_page("bindings", tenant=Ids.T, workflow=Ids.DRAFT)  # the app comes from the bindings
    no_exception(at)
    assert at.selectbox[1].value == Ids.APP
    assert "⚠ drift" in set(frame_with(at, "drift")["drift"])
