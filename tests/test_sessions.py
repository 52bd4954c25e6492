"""Leak rules (Python predicate and SQL agree; rows that must and must not match), the sessions store
(keyset pages, bounded scans, index-served filters, index suggestions) and the /sessions page."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from data.demo import DemoIds
from data.models import (
    AgentRuntimeSession,
    AuditAction,
    AuditTarget,
    Conversation,
    WorkflowPause,
    WorkflowRun,
)
from data.read_context import ReadContext
from data.schema_check import check_schema
from data.services.leaks import (
    RULE_NAMES,
    RuleContext,
    any_rule_condition,
    classify,
    first_match_condition,
    load_facts,
)
from data.stores import sessions as store
from tests.apptest_helpers import PAGES, all_text, open_page
from tests.conftest import NOW, PostgresServer, _seed
from tests.test_access import signed_in_app

S = AgentRuntimeSession
ACME = DemoIds.TENANT_ACME
CHAT_APP = DemoIds.APP_SUPPORT_ASSISTANT
FLOW_APP = DemoIds.APP_TICKET_TRIAGE
AGENT = DemoIds.SHOWCASE_AGENT
HISTORY_SECRET = "PLANTED-HISTORY-MESSAGE-zz99"
USER_PROMPT_SECRET = "PLANTED-USER-PROMPT-yy88"


def sid(n: int) -> str:
    """A planted session id (UUIDv7 layout, millisecond of 2024-06: older than every threshold)."""
    return f"01900000-0000-7000-8000-{n:012x}"


def rid(n: int) -> str:
    return f"b1000000-0000-4000-8000-{n:012x}"


def cid(n: int) -> str:
    return f"c1000000-0000-4000-8000-{n:012x}"


# id -> (the rule it must be labelled with, or None), with why.
EXPECTED: dict[str, str | None] = {}
MUST_NOT_MATCH_ANY = set()


def plant(url: str) -> None:
    """Rows each rule must and must not match, next to the demo's own."""
    engine = sa.create_engine(url)
    snapshot = json.dumps(
        {
            "schema_version": 1,
            "layers": [
                {"name": "execution_context", "lifecycle_state": "suspended", "runtime_state": {}},
                {
                    "name": "history",
                    "lifecycle_state": "suspended",
                    "runtime_state": {"messages": [HISTORY_SECRET]},
                },
                {"name": "llm", "state": "suspended", "runtime_state": {}},
            ],
        }
    )
    specs = json.dumps(
        [
            {
                "name": "workflow_user_prompt",
                "type": "plain.prompt",
                "deps": {},
                "metadata": {},
                "config": {"user": USER_PROMPT_SECRET},
            },
            {
                "name": "history",
                "type": "pydantic_ai.history",
                "deps": {},
                "metadata": {"origin": "agent_session_history"},
                "config": None,
            },
        ]
    )

    with engine.begin() as conn:

        def run(n: int, status: str, *, open_pause: bool = False) -> str:
            conn.execute(
                sa.insert(WorkflowRun).values(
                    id=rid(n),
                    tenant_id=ACME,
                    app_id=FLOW_APP,
                    workflow_id=FLOW_APP,
                    type="chat",
                    triggered_from="app-run",
                    version="v1",
                    status=status,
                    created_by_role="end_user",
                    created_by=FLOW_APP,
                    created_at=NOW - timedelta(days=20),
                    finished_at=None if status in ("running", "paused") else NOW - timedelta(days=20),
                )
            )
            if open_pause:
                conn.execute(
                    sa.insert(WorkflowPause).values(
                        id=rid(1000 + n),
                        workflow_id=FLOW_APP,
                        workflow_run_id=rid(n),
                        resumed_at=None,
                        state_object_key="k",
                        created_at=NOW - timedelta(days=20),
                        updated_at=NOW - timedelta(days=20),
                    )
                )
            return rid(n)

        def conversation(n: int, *, deleted: bool = False) -> str:
            conn.execute(
                sa.insert(Conversation).values(
                    id=cid(n),
                    app_id=CHAT_APP,
                    mode="agent",
                    name=f"Planted conversation {n}",
                    inputs={},
                    status="normal",
                    from_source="api",
                    is_deleted=deleted,
                    created_at=NOW - timedelta(days=30),
                    updated_at=NOW - timedelta(days=1),
                )
            )
            return cid(n)

        def session(n: int, expected: str | None, **values: object) -> None:
            row = {
                "id": sid(n),
                "tenant_id": ACME,
                "app_id": CHAT_APP,
                "owner_type": "conversation",
                "agent_id": AGENT,
                "backend_run_id": f"backend-{n}",
                "session_snapshot": snapshot,
                "composition_layer_specs": specs,
                "agent_config_snapshot_id": DemoIds.SHOWCASE_SNAPSHOTS[n % 6],
                "status": "active",
                "created_at": NOW - timedelta(days=20),
                "updated_at": NOW - timedelta(hours=1),
            }
            if values.get("workflow_run_id"):
                row.update(owner_type="workflow_run", app_id=FLOW_APP, node_id=f"node-{n}")
            row.update(values)
            conn.execute(sa.insert(AgentRuntimeSession).values(**row))
            EXPECTED[sid(n)] = expected

        # finished-run: every ended status; and it wins over orphaned (agent missing too).
        for n, status in enumerate(("succeeded", "failed", "stopped", "partial-succeeded"), start=1):
            session(n, "finished-run", workflow_run_id=run(n, status))
        session(5, "finished-run", workflow_run_id=run(5, "succeeded"), agent_id=DemoIds.MISSING_AGENT)
        # In flight: never any rule, however leaky they look otherwise.
        session(10, None, workflow_run_id=run(10, "running"))
        session(11, None, workflow_run_id=run(11, "paused", open_pause=True))
        session(12, None, workflow_run_id=run(12, "scheduled"))
        session(13, None, workflow_run_id=run(13, "queued"))  # a status this code does not know
        session(14, None, workflow_run_id=run(14, "succeeded", open_pause=True))  # unresumed pause
        session(15, None, workflow_run_id=run(15, "running"), agent_id=DemoIds.MISSING_AGENT)
        session(
            16, None, workflow_run_id=run(16, "paused", open_pause=True), updated_at=NOW - timedelta(days=30)
        )
        session(17, None, workflow_run_id=run(17, "running"), app_id=DemoIds.MISSING_CONVERSATION)
        MUST_NOT_MATCH_ANY.update(sid(n) for n in range(10, 18))
        session(
            18, None, workflow_run_id=run(18, "succeeded"), status="cleaned", cleaned_at=NOW
        )  # not active
        MUST_NOT_MATCH_ANY.add(sid(18))
        # orphaned
        session(20, "orphaned", conversation_id=cid(20))  # conversation row missing
        session(21, "orphaned", conversation_id=conversation(21, deleted=True))
        session(22, "orphaned", conversation_id=conversation(22), agent_id=DemoIds.ARCHIVED_BOUND_AGENT)
        session(23, "orphaned", conversation_id=conversation(23), app_id=DemoIds.MISSING_CONVERSATION)
        session(24, "orphaned", workflow_run_id=rid(24))  # run row missing
        session(25, "orphaned", conversation_id=conversation(25), agent_id=DemoIds.MISSING_AGENT)
        session(26, None, conversation_id=conversation(26))  # everything exists, used an hour ago
        # superseded: 30 older than 31 (same conversation and agent, other snapshot); 32 has a newer
        # session of another agent only; 33's newer session is cleaned.
        conversation(30)
        session(30, "superseded", conversation_id=cid(30), created_at=NOW - timedelta(days=3))
        session(31, None, conversation_id=cid(30), created_at=NOW - timedelta(days=2))
        session(
            32,
            None,
            conversation_id=cid(30),
            agent_id=DemoIds.SAVED_TO_ROSTER_AGENT,
            created_at=NOW - timedelta(days=4),
        )
        conversation(33)
        session(33, None, conversation_id=cid(33), created_at=NOW - timedelta(days=3))
        session(
            34,
            None,
            conversation_id=cid(33),
            created_at=NOW - timedelta(days=2),
            status="cleaned",
            cleaned_at=NOW,
        )
        # superseded wins over idle
        conversation(35)
        session(
            35,
            "superseded",
            conversation_id=cid(35),
            created_at=NOW - timedelta(days=40),
            updated_at=NOW - timedelta(days=39),
        )
        session(36, None, conversation_id=cid(35), created_at=NOW - timedelta(days=2))
        # idle (threshold 7 days)
        session(40, "idle", conversation_id=conversation(40), updated_at=NOW - timedelta(days=10))
        session(41, None, conversation_id=conversation(41), updated_at=NOW - timedelta(days=6))
    engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def rules_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo plus the planted rows; read-only for the tests using it."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("rules") / "rules.sqlite"
        shutil.copy(request.getfixturevalue("seeded_sqlite_file"), path)
        url = f"sqlite:///{path}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        url = _seed(server.create_database("rules"))
    plant(url)
    yield url


@pytest.fixture
def conn(rules_url: str) -> Iterator[sa.Connection]:
    engine = sa.create_engine(rules_url)
    with engine.connect() as connection:
        yield connection
    engine.dispose()


def context_of(conn: sa.Connection, **changes: object) -> RuleContext:
    ctx = RuleContext.from_report(check_schema(conn), now=NOW, idle_days=7)
    return replace(ctx, **changes)


def all_ids(conn: sa.Connection) -> list[str]:
    return list(conn.execute(sa.select(S.id)).scalars())


def sql_rule(conn: sa.Connection, rule: str, ctx: RuleContext) -> set[str]:
    return set(conn.execute(sa.select(S.id).where(first_match_condition(rule, ctx))).scalars())


# --- the rules --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", RULE_NAMES)
def test_each_rule_matches_its_rows_and_no_others(conn: sa.Connection, rule: str) -> None:
    ctx = context_of(conn)
    facts = load_facts(conn, list(EXPECTED), ctx)
    selected = sql_rule(conn, rule, ctx)
    must = {i for i, expected in EXPECTED.items() if expected == rule}
    must_not = {i for i, expected in EXPECTED.items() if expected != rule}
    assert must, "the fixture plants rows for every rule"
    assert must <= selected
    assert not (must_not & selected)
    assert {i for i in EXPECTED if classify(facts[i], ctx) == rule} == must


def test_python_predicates_and_sql_agree_on_every_session(conn: sa.Connection) -> None:
    ctx = context_of(conn)
    facts = load_facts(conn, all_ids(conn), ctx)
    for rule in RULE_NAMES:
        assert sql_rule(conn, rule, ctx) == {i for i, f in facts.items() if classify(f, ctx) == rule}, rule
    any_rule = set(conn.execute(sa.select(S.id).where(any_rule_condition(ctx))).scalars())
    assert any_rule == {i for i, f in facts.items() if classify(f, ctx)}


def test_running_and_paused_runs_never_match(conn: sa.Connection) -> None:
    ctx = context_of(conn)
    protected = MUST_NOT_MATCH_ANY | {DemoIds.RUNNING_RUN_SESSION, DemoIds.PAUSED_RUN_SESSION}
    any_rule = set(conn.execute(sa.select(S.id).where(any_rule_condition(ctx))).scalars())
    assert not (protected & any_rule)
    facts = load_facts(conn, sorted(protected), ctx)
    assert all(classify(facts[i], ctx) is None for i in protected)
    # Every demo session of a paused or running run is protected, including the Globex run paused for weeks.
    in_flight_runs = select_runs(conn, ("running", "paused"))
    sessions = set(conn.execute(sa.select(S.id).where(S.workflow_run_id.in_(in_flight_runs))).scalars())
    assert sessions and not (sessions & any_rule)


def select_runs(conn: sa.Connection, statuses: tuple[str, ...]) -> list[str]:
    return list(conn.execute(sa.select(WorkflowRun.id).where(WorkflowRun.status.in_(statuses))).scalars())


def test_demo_sessions_get_the_story_rules(conn: sa.Connection) -> None:
    ctx = context_of(conn)
    facts = load_facts(conn, all_ids(conn), ctx)
    assert classify(facts[DemoIds.FINISHED_RUN_SESSION], ctx) == "finished-run"
    assert classify(facts[DemoIds.SUPERSEDED_SESSION], ctx) == "superseded"
    assert classify(facts[DemoIds.SUPERSEDING_SESSION], ctx) is None
    for orphan in (
        DemoIds.MISSING_RUN_SESSION,
        DemoIds.MISSING_CONVERSATION_SESSION,
        DemoIds.DELETED_CONVERSATION_SESSION,
    ):
        assert classify(facts[orphan], ctx) == "orphaned"
    # Its agent is missing too, but its run finished: first match wins.
    assert classify(facts[DemoIds.ORPHANED_SESSION], ctx) == "finished-run"
    assert classify(facts[DemoIds.IDLE_SESSION], ctx) == "idle"


def test_idle_threshold_follows_the_setting(conn: sa.Connection) -> None:
    assert sid(40) in sql_rule(conn, "idle", context_of(conn, idle_days=7))
    assert sid(40) not in sql_rule(conn, "idle", context_of(conn, idle_days=11))
    assert sid(41) in sql_rule(conn, "idle", context_of(conn, idle_days=5))


def test_without_run_table_no_session_with_a_run_matches(conn: sa.Connection) -> None:
    ctx = context_of(conn)
    blind = replace(ctx, core_tables=ctx.core_tables - {"workflow_runs", "workflow_pauses"})
    facts = load_facts(conn, all_ids(conn), blind)
    with_run = {i for i, f in facts.items() if f.workflow_run_id}
    for rule in RULE_NAMES:
        matched = sql_rule(conn, rule, blind)
        assert not (matched & with_run)
        assert matched == {i for i, f in facts.items() if classify(f, blind) == rule}
    # Conversation rows are still judged.
    assert sid(20) in sql_rule(conn, "orphaned", blind)


# --- the store --------------------------------------------------------------------------------------------


def test_unfiltered_pages_walk_id_order_and_come_back(conn: sa.Connection) -> None:
    ctx = context_of(conn)
    expected = sorted(all_ids(conn), reverse=True)
    seen: list[str] = []
    pages = []
    after = None
    while True:
        page = store.list_sessions(conn, store.SessionFilter(), ctx, after=after, page_size=40)
        assert page.access.served_by == store.PRIMARY_KEY and not page.access.bounded
        pages.append(page)
        seen.extend(r.id for r in page.rows)
        if not page.next_cursor:
            break
        after = page.next_cursor
    assert seen == expected
    back = store.list_sessions(conn, store.SessionFilter(), ctx, before=pages[-1].prev_cursor, page_size=40)
    assert [r.id for r in back.rows] == [r.id for r in pages[-2].rows]


@pytest.mark.parametrize("rule", RULE_NAMES)
def test_bounded_scan_pages_cover_every_match(conn: sa.Connection, rule: str) -> None:
    ctx = context_of(conn)
    flt = store.SessionFilter(rule=rule)
    found: list[str] = []
    cut = 0
    after = None
    for _ in range(200):
        page = store.list_sessions(conn, flt, ctx, after=after, page_size=3, scan_limit=25)
        assert page.access.bounded and page.access.scan_limit == 25
        assert page.access.suggestion and page.access.suggestion.startswith("CREATE INDEX CONCURRENTLY")
        assert all(r.rule == rule for r in page.rows)
        found.extend(r.id for r in page.rows)
        cut += page.access.window_cut
        if not page.next_cursor:
            break
        after = page.next_cursor
    assert found == sorted(found, reverse=True) and len(found) == len(set(found))
    assert set(found) == sql_rule(conn, rule, ctx)
    assert cut, "some pages stopped at the scan bound"


def test_filters_combine_with_the_rule(conn: sa.Connection) -> None:
    ctx = context_of(conn)
    page = store.list_sessions(
        conn, store.SessionFilter(tenant_id=ACME, owner="conversation", rule="orphaned", app_id=CHAT_APP), ctx
    )
    ids = {r.id for r in page.rows}
    assert {sid(20), sid(21), sid(22), sid(25)} <= ids and sid(24) not in ids and sid(23) not in ids
    assert all(r.owner_type == "conversation" and r.tenant_id == ACME for r in page.rows)
    suggestion = page.access.suggestion or ""
    assert "(tenant_id, app_id, owner_type, id) WHERE status = 'active'" in suggestion


def test_run_and_conversation_filters_seek_dify_lookup_indexes(conn: sa.Connection) -> None:
    ctx = context_of(conn)
    page = store.list_sessions(conn, store.SessionFilter(run_id=DemoIds.RUN_PAUSED), ctx)
    assert page.access.served_by == store.WORKFLOW_LOOKUP_INDEX and not page.access.bounded
    assert DemoIds.PAUSED_RUN_SESSION in {r.id for r in page.rows}
    assert all(r.workflow_run_id == DemoIds.RUN_PAUSED and r.in_flight and r.rule is None for r in page.rows)
    # No workflow_runs row: the workspace cannot come from the run; every workspace is probed.
    page = store.list_sessions(conn, store.SessionFilter(run_id=DemoIds.MISSING_RUN), ctx)
    assert page.access.served_by == store.WORKFLOW_LOOKUP_INDEX
    assert [r.id for r in page.rows] == [DemoIds.MISSING_RUN_SESSION]
    page = store.list_sessions(
        conn, store.SessionFilter(conversation_id=DemoIds.CONVERSATION_SUPERSEDED), ctx
    )
    assert page.access.served_by == store.CONVERSATION_LOOKUP_INDEX
    assert {r.id for r in page.rows} == {DemoIds.SUPERSEDED_SESSION, DemoIds.SUPERSEDING_SESSION}


def test_idle_and_updated_filters_start_below_the_implied_id(conn: sa.Connection) -> None:
    ctx = context_of(conn)
    ceiling = store.id_ceiling(store.SessionFilter(rule="idle"), ctx)
    assert ceiling == store.uuidv7_floor(ctx.idle_before + store.ID_CLOCK_MARGIN)
    assert store.uuidv7_floor(NOW) < store.uuidv7_floor(NOW + timedelta(milliseconds=1))
    newest_possible = sa.select(sa.func.count()).where(S.id >= ceiling, S.updated_at < ctx.idle_before)
    assert conn.execute(newest_possible).scalar() == 0  # nothing the ceiling skips could have matched


def test_rows_carry_names_layers_and_sizes(conn: sa.Connection) -> None:
    ctx = context_of(conn)
    page = store.list_sessions(
        conn, store.SessionFilter(conversation_id=DemoIds.CONVERSATION_SUPERSEDED), ctx
    )
    row = next(r for r in page.rows if r.id == DemoIds.SUPERSEDED_SESSION)
    assert (row.workspace, row.app_name, row.agent_name) == (
        "Acme Robotics",
        "Acme Support Assistant",
        "Acme Support Assistant",
    )
    assert row.snapshot_version == 5 and row.snapshot_chars > 100
    assert ("history", "suspended") in {(layer.name, layer.state) for layer in row.layers.layers}
    assert row.owner_label == f"conversation {DemoIds.CONVERSATION_SUPERSEDED}"


def test_layer_parsing_is_tolerant() -> None:
    assert store.parse_layers("{not json").error.startswith("invalid JSON")
    assert store.parse_layers("[]").error
    assert store.parse_layers('{"layers": 3}').error == "no `layers` list in the snapshot"
    older = store.parse_layers('{"layers": [{"name": "history", "state": "closed"}, 7]}')
    assert older.layers == (store.Layer("history", "closed"),) and "not objects" in (older.error or "")


def test_session_detail_is_masked(conn: sa.Connection) -> None:
    ctx = context_of(conn)
    detail = store.get_session(conn, sid(20), ctx, read=ReadContext.unscoped())
    assert detail is not None and detail.has_history and detail.row.rule == "orphaned"
    text = json.dumps([detail.snapshot_masked, detail.specs_masked])
    assert HISTORY_SECRET not in text and USER_PROMPT_SECRET not in text and "[masked" in text
    assert [s.name for s in detail.specs] == ["workflow_user_prompt", "history"]
    assert detail.conversation is not None and not detail.conversation.exists
    run = store.get_session(conn, sid(11), ctx, read=ReadContext.unscoped())
    assert run is not None and run.run is not None and run.run.status == "paused" and run.run.open_pause_since


def test_collect_ids_states_its_bounds(conn: sa.Connection) -> None:
    ctx = context_of(conn)
    everything = store.collect_ids(conn, store.SessionFilter(rule="finished-run"), ctx, cap=10_000, window=30)
    assert everything.complete and set(everything.ids) == sql_rule(conn, "finished-run", ctx)
    capped = store.collect_ids(conn, store.SessionFilter(rule="finished-run"), ctx, cap=3, window=30)
    assert not capped.complete and capped.ids == everything.ids[:3]
    short = store.collect_ids(conn, store.SessionFilter(), ctx, cap=10_000, window=20, max_scan=40)
    assert not short.complete and short.scanned == 40
    active = set(conn.execute(sa.select(S.id).where(S.status == "active")).scalars())
    assert set(short.ids) <= active


def test_suggested_index_is_valid_and_then_serves_the_filter(postgres: PostgresServer) -> None:
    url = _seed(postgres.create_database("index"))
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    flt = store.SessionFilter(tenant_id=ACME, rule="finished-run")
    with engine.connect() as conn:
        ctx = context_of(conn)
        before = store.list_sessions(conn, flt, ctx, indexes=store.session_indexes(conn))
        assert before.access.served_by is None and before.access.suggestion
        conn.exec_driver_sql(before.access.suggestion)  # CONCURRENTLY: outside a transaction
        indexes = store.session_indexes(conn)
        first = store.list_sessions(conn, flt, ctx, indexes=indexes)
        assert first.access.served_by == "agent_desk_sessions_active_tenant_id_idx"
        assert first.access.suggestion is None
        assert {r.id for r in first.rows} == {r.id for r in before.rows}
        # The window now counts candidate rows (this workspace's active ones), not every session.
        candidates = conn.execute(
            sa.select(sa.func.count()).where(S.tenant_id == ACME, S.status == "active")
        ).scalar_one()
        found, pages, after = [], 0, None
        while True:
            page = store.list_sessions(conn, flt, ctx, indexes=indexes, scan_limit=5, after=after)
            found.extend(r.id for r in page.rows)
            pages += 1
            if not page.next_cursor:
                break
            after = page.next_cursor
        assert sorted(found) == sorted(r.id for r in before.rows)
        assert pages <= candidates // 5 + 1
        conn.exec_driver_sql("SET enable_seqscan = off")
        plan = store.explain_page(conn, flt, ctx, indexes=indexes, scan_limit=5)
        assert "agent_desk_sessions_active_tenant_id_idx" in plan
    engine.dispose()


# --- the page -----------------------------------------------------------------------------------------------


@pytest.fixture
def planted_demo(demo_app_env: Path) -> Path:
    plant(f"sqlite:///{demo_app_env / 'demo.sqlite'}")
    return demo_app_env


def no_exception(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def db(demo_dir: Path) -> sa.Engine:
    return sa.create_engine(f"sqlite:///{demo_dir / 'demo.sqlite'}")


def test_page_filters_by_rule_and_says_it_is_a_bounded_scan(planted_demo: Path) -> None:
    at = open_page("sessions", rule="finished-run", tenant=ACME)
    no_exception(at)
    frame = at.dataframe[0].value
    assert DemoIds.FINISHED_RUN_SESSION in set(frame["id"])
    assert set(frame["leak rule"]) == {"finished-run"}
    assert not ({DemoIds.RUNNING_RUN_SESSION, DemoIds.PAUSED_RUN_SESSION} & set(frame["id"]))
    assert any("Bounded scan" in i.value for i in at.info)
    assert any(c.value.startswith("CREATE INDEX CONCURRENTLY") for c in at.code)
    assert {
        "owner",
        "app",
        "agent",
        "version",
        "backend run",
        "status",
        "age",
        "updated",
        "cleaned",
        "size",
        "layers",
    } <= set(frame.columns)


def test_page_run_deep_link_is_served_by_the_lookup_index(planted_demo: Path) -> None:
    at = open_page("sessions", run=DemoIds.RUN_PAUSED)
    no_exception(at)
    assert any(store.WORKFLOW_LOOKUP_INDEX in c.value.replace("\\", "") for c in at.caption)
    assert set(at.dataframe[0].value["leak rule"]) == {"(run in flight)"}


def test_page_ignores_invalid_parameters_with_a_notice(planted_demo: Path) -> None:
    at = open_page("sessions", rule="everything", tenant="nope", after="garbage")
    no_exception(at)
    warnings = " ".join(w.value for w in at.warning)
    assert "rule" in warnings and "tenant" in warnings
    assert len(at.dataframe[0].value) > 0


def test_page_session_detail_masks_history_and_shows_its_audit(planted_demo: Path) -> None:
    at = open_page("sessions", session=sid(21))
    no_exception(at)
    text = all_text(at)
    assert HISTORY_SECRET not in text and USER_PROMPT_SECRET not in text
    assert "orphaned" in text and "Planted conversation 21" in text
    layers = at.dataframe[0].value
    assert ("llm", "suspended") in set(zip(layers["layer"], layers["lifecycle state"], strict=True))
    assert any(f"/sessions?session={sid(21)}" in c.value for c in at.code)


def selection_key(at) -> str:
    keys = list(at.session_state.keys())
    return next(k for k in keys if str(k).startswith("sessions-table-"))


def test_page_selection_preview_and_confirm_clean_and_audit(planted_demo: Path) -> None:
    at = open_page("sessions", rule="orphaned", tenant=ACME, owner="conversation")
    no_exception(at)
    ids = list(at.dataframe[0].value["id"])
    at.session_state[selection_key(at)] = {"selection": {"rows": [0, 1], "columns": [], "cells": []}}
    at.run()
    chosen = ids[:2]
    at.button(key="cleanup_selected").click().run()
    no_exception(at)
    assert [m.value for m in at.metric][:1] == ["2"]
    shown = "\n".join(c.value for c in at.code)
    assert all(i in shown for i in chosen)  # the confirmation names the ids
    assert any("cannot be undone" in e.value for e in at.error)
    assert at.button(key="cleanup_confirm").disabled  # no reason yet
    at.text_input(key="cleanup_reason").set_value("orphaned after app deletion").run()
    at.button(key="cleanup_confirm").click().run()
    no_exception(at)
    assert any("2 transitioned" in s.value for s in at.success)
    engine = db(planted_demo)
    with engine.connect() as conn:
        statuses = dict(conn.execute(sa.select(S.id, S.status).where(S.id.in_(chosen))).all())
        targets = set(conn.execute(sa.select(AuditTarget.target_id)).scalars())
        action = conn.execute(sa.select(AuditAction)).one()
    engine.dispose()
    assert {str(v) for v in statuses.values()} == {"cleaned"}
    assert targets == set(chosen)
    assert action.reason == "orphaned after app deletion" and action.actor.startswith("local:")


def test_page_asks_to_type_the_count_above_the_threshold(
    planted_demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENT_DESK_CLEANUP_CONFIRM_ABOVE", "1")
    at = open_page("sessions", rule="finished-run")
    at.button(key="cleanup_filter").click().run()
    no_exception(at)
    count = int(at.metric[0].value.replace(",", ""))
    assert count > 1
    at.text_input(key="cleanup_reason").set_value("runs ended").run()
    assert at.button(key="cleanup_confirm").disabled
    at.text_input(key="cleanup_typed").set_value(str(count + 1)).run()
    assert at.button(key="cleanup_confirm").disabled
    at.text_input(key="cleanup_typed").set_value(str(count)).run()
    assert not at.button(key="cleanup_confirm").disabled
    at.button(key="cleanup_confirm").click().run()
    assert any(f"{count} transitioned" in s.value for s in at.success)


def test_page_reveals_history_only_through_the_audit(planted_demo: Path) -> None:
    at = open_page("sessions", session=sid(26))
    no_exception(at)
    assert HISTORY_SECRET not in all_text(at)
    at.text_input(key="reveal_reason").set_value("customer asked for a transcript (ticket 4711)").run()
    at.button(key="reveal").click().run()
    no_exception(at)
    assert HISTORY_SECRET in "\n".join(c.value for c in at.code)
    engine = db(planted_demo)
    with engine.connect() as conn:
        action = conn.execute(sa.select(AuditAction)).one()
    engine.dispose()
    assert action.action == "session.reveal_history" and action.target_id == sid(26)


def test_page_controls_are_disabled_in_read_only_mode(
    planted_demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENT_DESK_READ_ONLY", "true")
    at = open_page("sessions", rule="finished-run")
    no_exception(at)
    assert at.button(key="cleanup_filter").disabled and at.button(key="cleanup_selected").disabled
    assert any("read-only mode" in c.value.replace("\\", "") for c in at.caption)
    at = open_page("sessions", session=sid(26))
    assert at.button(key="reveal").disabled and at.button(key="cleanup_one").disabled


def test_page_viewer_sees_but_cannot_clean(planted_demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = signed_in_app(monkeypatch, "viewer@example.org", AGENT_DESK_VIEWERS="viewer@example.org")
    at.run()
    at.query_params["rule"] = "finished-run"
    at.switch_page(PAGES["sessions"])
    at.run()
    no_exception(at)
    assert len(at.dataframe[0].value) > 0
    assert not {"cleanup_filter", "cleanup_selected"} & {b.key for b in at.button}  # no cleanup control
    assert any("may not clean sessions" in c.value.replace("\\", "") for c in at.caption)
