"""Dify 1.17+ working environments: leak rules (Python predicate == SQL, on planted rows and the demo),
the store, the audited retire (write guard, exact columns, rules 2-3), real concurrency on PostgreSQL
(two retires and a Dify writer), MariaDB's SQL, the CLI and the sessions view."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import aliased

from data.actor import Actor, NotAllowed, Role, WritesDisabled
from data.db import WriteRefused, check_statement, create_engine
from data.models import AuditBatch, AuditTarget
from data.models.workspaces import AgentHomeSnapshot, AgentWorkspace, AgentWorkspaceBinding
from data.rules.workspace_leaks import (
    RULE_NAMES,
    WorkspaceRuleContext,
    classify_binding,
    classify_home,
    classify_workspace,
    first_match_binding_condition,
    first_match_home_condition,
    first_match_workspace_condition,
    workspace_join,
)
from data.schema_check import check_schema
from data.services.retire import (
    SKIP_CHANGED,
    SKIP_LOCKED,
    SKIP_PROTECTED,
    RetireResult,
    apply_retire,
    preview_retire,
)
from data.settings import Settings
from data.stores import workspaces as store
from data.demo import DemoIds as D
from data.demo_workspaces import WorkspaceIds as I
from tests.workspace_plant import NOW, Planted, create_tables, insert, plant, v7

W, B, H = AgentWorkspace, AgentWorkspaceBinding, AgentHomeSnapshot
OPERATOR = Actor("ops@example.org", Role.OPERATOR)
ALLOWED_W = {"status", "retired_at", "active_guard", "updated_at"}
ALLOWED_B = {"status", "retired_at", "updated_at"}


def ctx_of(conn: sa.Connection) -> WorkspaceRuleContext:
    return WorkspaceRuleContext.from_report(check_schema(conn), now=NOW, idle_days=7, uncollected_hours=24)


def planted_db(url: str) -> tuple[sa.Engine, Planted]:
    engine = sa.create_engine(url)
    create_tables(engine)
    with engine.begin() as conn:
        planted = plant(conn)
    return engine, planted


@pytest.fixture(params=["sqlite", "postgresql"])
def planted(request: pytest.FixtureRequest) -> Iterator[tuple[str, Planted]]:
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
    engine, p = planted_db(url)
    engine.dispose()
    yield url, p


@pytest.fixture(scope="module")
def seeded_workspaces_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The workspaces-generation demo (SQLite), seeded once for the module."""
    from data.db import seed_database

    path = tmp_path_factory.mktemp("wsdemo") / "demo.sqlite"
    engine = sa.create_engine(f"sqlite:///{path}")
    seed_database(engine, now=NOW, scale="S", generation="workspaces")
    engine.dispose()
    return f"sqlite:///{path}"


def sql_matches(conn: sa.Connection, ctx: WorkspaceRuleContext, rule: str) -> tuple[set, set, set]:
    w = aliased(W, name="ws")
    ws = set(conn.execute(sa.select(W.id).where(first_match_workspace_condition(rule, ctx, W))).scalars())
    bs = set(
        conn.execute(
            sa.select(B.id)
            .select_from(B)
            .outerjoin(w, workspace_join(B, w))
            .where(first_match_binding_condition(rule, ctx, B, w))
        ).scalars()
    )
    hs = set(conn.execute(sa.select(H.id).where(first_match_home_condition(rule, ctx, H))).scalars())
    return ws, bs, hs


def python_labels(conn: sa.Connection, ctx: WorkspaceRuleContext) -> tuple[dict, dict, dict]:
    wids = list(conn.execute(sa.select(W.id)).scalars())
    bids = list(conn.execute(sa.select(B.id)).scalars())
    hids = list(conn.execute(sa.select(H.id)).scalars())
    return (
        {i: classify_workspace(f, ctx) for i, f in store.load_workspace_facts(conn, wids, ctx).items()},
        {i: classify_binding(f, ctx) for i, f in store.load_binding_facts(conn, bids, ctx).items()},
        {i: classify_home(f, ctx) for i, f in store.load_home_facts(conn, hids, ctx).items()},
    )


def assert_parity(conn: sa.Connection, ctx: WorkspaceRuleContext) -> tuple[dict, dict, dict]:
    """Python predicates and SQL conditions select the same rows, rule by rule."""
    labels = python_labels(conn, ctx)
    for rule in RULE_NAMES:
        ws, bs, hs = sql_matches(conn, ctx, rule)
        assert ws == {i for i, r in labels[0].items() if r == rule}, rule
        assert bs == {i for i, r in labels[1].items() if r == rule}, rule
        assert hs == {i for i, r in labels[2].items() if r == rule}, rule
    return labels


# --- rules ------------------------------------------------------------------------------------------------


def test_rules_match_exactly_the_planted_rows_python_and_sql(planted: tuple[str, Planted]) -> None:
    url, p = planted
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        ws, bs, hs = assert_parity(conn, ctx_of(conn))
    engine.dispose()
    assert ws == p.workspaces
    assert bs == p.bindings
    assert hs == p.homes
    assert set(RULE_NAMES) <= {*ws.values(), *bs.values(), *hs.values()}  # every rule has a planted row


def test_rules_match_the_workspaces_demo_and_parity_holds(seeded_workspaces_url: str) -> None:
    engine = sa.create_engine(seeded_workspaces_url)
    with engine.connect() as conn:
        ws, bs, hs = assert_parity(conn, ctx_of(conn))
    engine.dispose()
    # The demo plants leaks of every kind (data/demo_workspaces.py): each rule finds some.
    found = {*ws.values(), *bs.values(), *hs.values()}
    assert set(RULE_NAMES) <= found, found
    labels = {**ws, **bs, **hs}
    expected = {
        I.MISSING_DRAFT_WORKSPACE: "orphaned",
        I.MISSING_DRAFT_BINDING: "orphaned",
        I.ARCHIVED_AGENT_BINDING: "orphaned",
        I.MISSING_APP_WORKSPACE: "orphaned",
        I.MISSING_WORKSPACE_BINDING: "orphaned",
        # Its owner conversation has no row either: `orphaned` comes first.
        I.EMPTY_WORKSPACE: "orphaned",
        I.GUARD_MISMATCH_WORKSPACE: "inconsistent",
        I.ACTIVE_IN_RETIRED_BINDING: "inconsistent",
        D.SUPERSEDED_SESSION: "inconsistent",  # the older of two active bindings for one agent
        D.SUPERSEDING_SESSION: None,
        I.UNCOLLECTED_WORKSPACE: "uncollected",
        I.UNCOLLECTED_BINDING: "uncollected",
        I.HOME_RETIRED_UNCOLLECTED: "uncollected",
        I.HOME_RETIRED_REFERENCED: None,  # still named by a draft: never
        I.HOME_UNREFERENCED: None,  # active
        I.PENDING_FORM_WORKSPACE: None,
        I.PENDING_FORM_BINDING: None,
        I.BUILD_DRAFT_WORKSPACE: None,
        I.BUILD_DRAFT_BINDING: None,
        D.FINISHED_RUN_SESSION: "finished-run",
        D.IDLE_SESSION: "idle",
        D.PAUSED_RUN_SESSION: None,
        D.RUNNING_RUN_SESSION: None,
        D.DELETED_CONVERSATION_SESSION: "orphaned",
        D.MISSING_CONVERSATION_SESSION: "orphaned",
        D.MISSING_RUN_SESSION: "orphaned",
    }
    assert {k: labels.get(k, "(absent)") for k in expected} == expected


# --- retire --------------------------------------------------------------------------------------------------


def snapshot_rows(conn: sa.Connection) -> tuple[dict, dict, dict]:
    return tuple(  # type: ignore[return-value]
        {r.id: dict(r._mapping) for r in conn.execute(sa.select(model.__table__))} for model in (W, B, H)
    )


def retire_rule(engine: sa.Engine, rule: str, **kwargs) -> RetireResult:
    with engine.connect() as conn:
        ctx = ctx_of(conn)
        targets = store.collect_rule_targets(conn, rule, ctx)
        plan = preview_retire(
            conn, ctx, workspace_ids=targets.workspace_ids, binding_ids=targets.binding_ids, rule=rule
        )
    result = apply_retire(engine, OPERATOR, plan, ctx, reason=f"retire {rule}", block_reason=None, **kwargs)
    assert result.ok, result.error
    assert len(result.transitioned) == plan.count  # nothing changed under us: exactly the previewed rows
    return result


def audit_of(conn: sa.Connection, action_id: str) -> tuple[list[str], int]:
    targets = list(
        conn.execute(sa.select(AuditTarget.target_id).where(AuditTarget.action_id == action_id)).scalars()
    )
    batches = conn.execute(sa.select(AuditBatch).where(AuditBatch.action_id == action_id)).all()
    return targets, sum(b.applied for b in batches if b.batch_no is not None)


def test_retire_each_rule_changes_exactly_the_allowed_columns_of_the_right_rows(
    planted: tuple[str, Planted],
) -> None:
    url, p = planted
    guarded = create_engine(url, Settings())  # the app's engine: the write guard sees every statement
    seen: list[str] = []
    sa.event.listen(guarded, "before_cursor_execute", lambda c, cur, stmt, *a: seen.append(stmt))
    with guarded.connect() as conn:
        before = snapshot_rows(conn)
    results = {
        rule: retire_rule(guarded, rule, batch_size=3)
        for rule in ("finished-run", "orphaned", "inconsistent", "idle")
    }
    with guarded.connect() as conn:
        after = snapshot_rows(conn)
        for result in results.values():
            targets, applied = audit_of(conn, result.action_id)
            assert sorted(targets) == sorted(result.transitioned) and applied == len(targets)
    guarded.dispose()
    n = p.id
    retired_w = {
        n(f"w:{k}")
        for k in (
            "run_done",
            "run_failed",
            "conv_deleted",
            "conv_missing",
            "draft_missing",
            "run_missing",
            "app_missing",
            "empty",
            "guard_null",
            "idle",
        )
    }
    retired_b = {
        n(f"b:{k}")
        for k in (
            "run_done",
            "run_failed",
            "conv_deleted",
            "conv_missing",
            "draft_missing",
            "run_missing",
            "app_missing",
            "archived_agent",
            "missing_agent",
            "no_workspace",
            "in_guard_null",
            "active_in_retired",
            "dup_old",
            "idle",
        )
    }
    guard_cleared = {n("w:retired_guard")}
    for table, allowed, was, now_ in (
        (W, ALLOWED_W, before[0], after[0]),
        (B, ALLOWED_B, before[1], after[1]),
    ):
        assert set(was) == set(now_), "never a DELETE, never an INSERT"
        for row_id, old in was.items():
            new = now_[row_id]
            changed = {c for c in old if old[c] != new[c]}
            assert changed <= allowed, (table.__tablename__, row_id, changed)
            expected = retired_w if table is W else retired_b
            if row_id in expected:
                assert str(old["status"]) == "active" and str(new["status"]) == "retired", row_id
                assert new["retired_at"] == new["updated_at"] and new["retired_at"] is not None
                if table is W:
                    assert new["active_guard"] is None
            elif row_id in guard_cleared:
                assert (
                    old["active_guard"] == 1
                    and new["active_guard"] is None
                    and str(new["status"]) == "retired"
                )
                assert new["retired_at"] == old["retired_at"]  # never re-dated
            else:
                assert not changed, (table.__tablename__, row_id, changed)
    assert before[2] == after[2]  # home snapshots: read only
    # Rule 3: the idle binding was its workspace's last: the workspace followed; the archived agent's was not.
    assert str(after[0][n("w:live_archived_agent")]["status"]) == "active"
    assert str(after[0][n("w:dup")]["status"]) == "active"
    # The write guard saw (and let through) exactly these writes.
    writes = [s for s in seen if s.lstrip().lower().startswith(("update", "delete", "insert"))]
    for statement in writes:
        check_statement(statement)
        lowered = statement.lower()
        assert lowered.startswith(
            ("update agent_workspaces ", "update agent_workspace_bindings ", "insert into agent_desk_audit")
        ), statement
    assert not any("delete" in s.lower().split("where")[0] for s in writes)


def test_guard_refuses_other_columns_and_deletes() -> None:
    check_statement(
        "UPDATE agent_workspaces SET status='retired', retired_at='x', active_guard=NULL, updated_at='x' WHERE id='a'"
    )
    check_statement(
        "UPDATE agent_workspace_bindings SET status='retired', retired_at='x', updated_at='x' WHERE id='a'"
    )
    check_statement("SELECT id FROM agent_workspace_bindings WHERE id = 'a' FOR UPDATE SKIP LOCKED")
    for bad in (
        "UPDATE agent_workspace_bindings SET session_snapshot = '' WHERE id = 'a'",
        "UPDATE agent_workspace_bindings SET active_guard = 1",
        "UPDATE agent_workspaces SET backend_workspace_ref = 'x'",
        "UPDATE agent_workspace_bindings SET pending_form_id = NULL",
        "DELETE FROM agent_workspaces",
        "DELETE FROM agent_workspace_bindings WHERE id = 'a'",
        "UPDATE agent_home_snapshots SET status = 'retired'",
        "UPDATE conversations SET agent_workspace_binding_id = NULL",
    ):
        with pytest.raises(WriteRefused):
            check_statement(bad)


def test_retire_refusals_and_protected_rows(planted: tuple[str, Planted]) -> None:
    url, p = planted
    engine = create_engine(url, Settings())
    with engine.connect() as conn:
        ctx = ctx_of(conn)
        plan = preview_retire(
            conn,
            ctx,
            workspace_ids=[p.id("w:run_paused"), p.id("w:run_open_pause"), p.id("w:conv_deleted_pending")],
            binding_ids=[p.id("b:idle_pending"), p.id("b:run_running_idle"), p.id("b:live")],
        )
    assert plan.count == 2  # only the live chat (its binding and, as its last one, its workspace)
    assert set(dict(plan.skipped)[SKIP_PROTECTED]) == {
        p.id("w:run_paused"),
        p.id("w:run_open_pause"),
        p.id("w:conv_deleted_pending"),
        p.id("b:idle_pending"),
        p.id("b:run_running_idle"),
    }
    assert any("match no leak rule" in w for w in plan.warnings)
    viewer = Actor("v@example.org", Role.VIEWER)
    other = Actor("o@example.org", Role.OPERATOR, tenant_id=str(uuid.uuid4()))
    with pytest.raises(NotAllowed):
        apply_retire(engine, viewer, plan, ctx, reason="x", block_reason=None)
    with pytest.raises(NotAllowed):
        apply_retire(engine, other, plan, ctx, reason="x", block_reason=None)
    with pytest.raises(WritesDisabled):
        apply_retire(engine, OPERATOR, plan, ctx, reason="x", block_reason="read-only mode")
    with pytest.raises(ValueError):
        apply_retire(engine, OPERATOR, plan, ctx, reason="  ", block_reason=None)
    with engine.connect() as conn:
        statuses = {str(s) for s in conn.execute(sa.select(B.status).where(B.id == p.id("b:live"))).scalars()}
    assert statuses == {"active"}
    # A Dify writer sets a pending form after the preview: the statement's re-check skips the row.
    dify = sa.create_engine(url)
    with dify.begin() as conn:
        conn.execute(sa.update(B).where(B.id == p.id("b:live")).values(pending_form_id=str(uuid.uuid4())))
    result = apply_retire(engine, OPERATOR, plan, ctx, reason="late form", block_reason=None)
    assert result.ok and result.transitioned == ()
    assert p.id("b:live") in dict(result.skipped)[SKIP_PROTECTED]
    dify.dispose()
    engine.dispose()
