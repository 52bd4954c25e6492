"""Dify 1.17+ working environments: leak rules (Python predicate == SQL, on planted rows and the demo),
the store, the audited retire (write guard, exact columns, rules 2-3), real concurrency on PostgreSQL
(two retires and a Dify writer), MariaDB's SQL, the CLI and the sessions view."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import aliased

from data.actor import Actor, NotAllowed, Role, WritesDisabled
from data.db import create_engine
from data.demo import DemoIds as D
from data.demo import WorkspaceIds as I
from data.guard import INSERT_ALLOWED, WriteGrant, WriteRefused, check_statement
from data.models import AuditBatch, AuditTarget, Conversation, naive_utc_now
from data.models.workspaces import AgentHomeSnapshot, AgentWorkspace, AgentWorkspaceBinding
from data.read_context import ReadContext
from data.rules.workspace_leaks import (
    RULE_NAMES,
    WorkspaceRuleContext,
    classify_binding,
    classify_home,
    classify_workspace,
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
from data.stores.workspace_leaks import (
    first_match_binding_condition,
    first_match_home_condition,
    first_match_workspace_condition,
    workspace_join,
)
from tests.workspace_plant import NOW, Planted, create_tables, plant, v7
from ui.render import safe_md

W, B, H = AgentWorkspace, AgentWorkspaceBinding, AgentHomeSnapshot
OPERATOR = Actor("ops@example.org", Role.OPERATOR)
ALLOWED_W = {"status", "retired_at", "active_guard", "updated_at"}
ALLOWED_B = {"status", "retired_at", "updated_at"}
#: Writes allowed on a non-demo database (local mode), as an operator would configure it.
WRITABLE = Settings(_env_file=None, AGENT_DESK_ALLOW_WRITES=True)


def ctx_of(conn: sa.Connection) -> WorkspaceRuleContext:
    return WorkspaceRuleContext.from_report(check_schema(conn), now=NOW, idle_days=7, uncollected_hours=24)


def planted_db(url: str, now: datetime = NOW) -> tuple[sa.Engine, Planted]:
    engine = sa.create_engine(url)
    create_tables(engine)
    with engine.begin() as conn:
        planted = plant(conn, now=now)
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
    # The demo plants leaks of every kind (data/demo/stories/workspaces.py): each rule finds some.
    found = {*ws.values(), *bs.values(), *hs.values()}
    assert set(RULE_NAMES) <= found, found
    labels = {**ws, **bs, **hs}
    expected = {
        I.MISSING_DRAFT_WORKSPACE: "orphaned",
        I.MISSING_DRAFT_BINDING: "orphaned",
        I.ARCHIVED_AGENT_BINDING: "orphaned",
        I.MISSING_APP_WORKSPACE: "orphaned",
        I.MISSING_WORKSPACE_BINDING: "orphaned",
        # Active, its owner conversation exists, but no active binding: `inconsistent`.
        I.EMPTY_WORKSPACE: "inconsistent",
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


def retire_rule(engine: sa.Engine, rule: str, *, exact: bool = True, **kwargs) -> RetireResult:
    with engine.connect() as conn:
        ctx = ctx_of(conn)
        targets = store.collect_rule_targets(conn, rule, ctx)
        plan = preview_retire(
            conn, ctx, workspace_ids=targets.workspace_ids, binding_ids=targets.binding_ids, rule=rule
        )
    result = apply_retire(engine, OPERATOR, plan, ctx, reason=f"retire {rule}", **kwargs)
    assert result.ok, result.error
    if exact:  # nothing changed under us: exactly the previewed rows
        assert len(result.transitioned) == plan.count
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
    guarded = create_engine(url, WRITABLE)  # the app's engine: the write guard sees every statement
    seen: list[str] = []
    sa.event.listen(guarded, "before_cursor_execute", lambda c, cur, stmt, *a: seen.append(stmt))
    approved: list[tuple[object, bool, list]] = []  # what the guard classified: (statement, writing, params)

    def log(conn, clauseelement, multiparams, params, execution_options) -> None:
        writing = bool(conn.info.get("agent_desk.writing"))
        approved.append((clauseelement, writing, [*(multiparams or ()), *([params] if params else [])]))

    sa.event.listen(guarded, "before_execute", log)
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
    # The write guard saw (and let through) exactly these writes: the UPDATEs of the two tables' allowed
    # columns, the audit INSERTs and the SKIP LOCKED reads of the two tables, all inside write_transaction.
    writes = [s for s in seen if s.lstrip().lower().startswith(("update", "delete", "insert"))]
    assert writes and not [s for s in seen if s.lstrip().lower().startswith(("set ", "delete"))]
    kinds: set[tuple[str, str]] = set()
    for statement, writing, params in approved:
        assert not isinstance(statement, sa.Delete | sa.TextClause), statement
        if isinstance(statement, sa.Update | sa.Insert):
            assert writing, statement
            check_statement(statement, writing=True, parameters=params)
            with pytest.raises(WriteRefused):  # never outside the write transaction
                check_statement(statement, writing=False, parameters=params)
            kinds.add((type(statement).__name__, statement.table.name))
        elif isinstance(statement, sa.Select) and statement._for_update_arg is not None:
            assert writing and statement._for_update_arg.skip_locked, statement
            kinds |= {("lock", t.name) for t in statement.get_final_froms()}
    locks = (
        set()
        if url.startswith("sqlite")
        else {("lock", "agent_workspaces"), ("lock", "agent_workspace_bindings")}
    )
    assert {k for k in kinds if not k[1].startswith("agent_desk_audit")} == {
        ("Update", "agent_workspaces"),
        ("Update", "agent_workspace_bindings"),
        *locks,
    }, kinds
    assert {k for k in kinds if k[1].startswith("agent_desk_audit")} <= {
        ("Insert", t) for t in INSERT_ALLOWED
    }, kinds
    for statement in writes:
        lowered = statement.lower()
        assert lowered.startswith(
            ("update agent_workspaces ", "update agent_workspace_bindings ", "insert into agent_desk_audit")
        ), statement
    assert not any("delete" in s.lower().split("where")[0] for s in writes)


def test_guard_refuses_other_columns_and_deletes() -> None:
    """The structural guard (data/guard.py) on the retire's statement objects, in and out of the write
    transaction; any raw SQL text (even the allowed UPDATE spelled as text) is refused."""
    now = naive_utc_now()
    allowed = [
        sa.update(W)
        .where(W.id == "a", W.status == "active")
        .values(status="retired", retired_at=now, active_guard=None, updated_at=now)
        .returning(W.id),
        sa.update(B).where(B.id == "a").values(status="retired", retired_at=now, updated_at=now),
        sa.update(W)
        .where(W.id == "a", W.active_guard.is_not(None))
        .values(active_guard=None, updated_at=now),
        sa.select(B.id).where(B.id == "a").with_for_update(skip_locked=True),
        sa.select(W.id, W.status).where(W.id.in_(["a"])).with_for_update(skip_locked=True),
    ]
    for statement in allowed:
        check_statement(statement, writing=True)
        with pytest.raises(WriteRefused):
            check_statement(statement, writing=False)
    for bad in (
        sa.update(B).where(B.id == "a").values(session_snapshot=""),
        sa.update(B).values(active_guard=1),
        sa.update(W).values(backend_workspace_ref="x"),
        sa.update(B).values(pending_form_id=None),
        sa.update(B).values(status="retired", backend_binding_ref="x"),
        sa.delete(W),
        sa.delete(B).where(B.id == "a"),
        sa.update(H).values(snapshot_ref="x"),
        sa.update(Conversation.__table__).values(agent_workspace_binding_id=None),
        sa.select(Conversation.id).with_for_update(skip_locked=True),
    ):
        with pytest.raises(WriteRefused):
            check_statement(bad, writing=True)
    for text in (
        "UPDATE agent_workspaces SET status='retired', retired_at='x', active_guard=NULL, updated_at='x' WHERE id='a'",
        "UPDATE agent_workspace_bindings SET session_snapshot = '' WHERE id = 'a'",
        "DELETE FROM agent_workspaces",
        "UPDATE agent_home_snapshots SET status = 'retired'",
        "UPDATE conversations SET agent_workspace_binding_id = NULL",
        "SET LOCAL lock_timeout = '200ms'",
    ):
        with pytest.raises(WriteRefused):
            check_statement(text)
        with pytest.raises(WriteRefused):
            check_statement(sa.text(text), writing=True)


def test_retire_refusals_and_protected_rows(planted: tuple[str, Planted]) -> None:
    url, p = planted
    engine = create_engine(url, WRITABLE)
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
        apply_retire(engine, viewer, plan, ctx, reason="x")
    with pytest.raises(NotAllowed):
        apply_retire(engine, other, plan, ctx, reason="x")
    read_only = create_engine(url, Settings(_env_file=None, AGENT_DESK_READ_ONLY=True))
    local = create_engine(url, Settings(_env_file=None))  # local mode, not the demo, writes not allowed
    local_actor = Actor("cli:cron", Role.OPERATOR, local_mode=True)
    for blocked, actor in ((read_only, OPERATOR), (local, local_actor)):
        with pytest.raises(WritesDisabled):
            apply_retire(blocked, actor, plan, ctx, reason="x")
        blocked.dispose()
    with pytest.raises(ValueError):
        apply_retire(engine, OPERATOR, plan, ctx, reason="  ")
    with engine.connect() as conn:
        statuses = {str(s) for s in conn.execute(sa.select(B.status).where(B.id == p.id("b:live"))).scalars()}
    assert statuses == {"active"}
    # A Dify writer sets a pending form after the preview: the statement's re-check skips the row.
    dify = sa.create_engine(url)
    with dify.begin() as conn:
        conn.execute(sa.update(B).where(B.id == p.id("b:live")).values(pending_form_id=str(uuid.uuid4())))
    result = apply_retire(engine, OPERATOR, plan, ctx, reason="late form")
    assert result.ok and result.transitioned == ()
    assert p.id("b:live") in dict(result.skipped)[SKIP_PROTECTED]
    dify.dispose()
    engine.dispose()


# --- real concurrency on PostgreSQL ----------------------------------------------------------------------


def _bulk_workspaces(conn: sa.Connection, p: Planted, count: int) -> list[tuple[str, str, list[str]]]:
    """`count` orphaned workspaces (deleted conversations), one or two bindings each: (id, owner, bindings)."""
    from data.models import Conversation

    rows_c, rows_w, rows_b, result = [], [], [], []
    base = NOW - timedelta(days=20)
    for i in range(count):
        owner = str(uuid.uuid4())
        rows_c.append(
            dict(
                id=owner,
                app_id=p.app,
                mode="agent-chat",
                name="c",
                inputs={},
                status="normal",
                from_source="api",
                is_deleted=True,
            )
        )
        wid = v7(base + timedelta(seconds=i))
        rows_w.append(
            dict(
                id=wid,
                tenant_id=p.tenant,
                app_id=p.app,
                owner_type="conversation",
                owner_id=owner,
                owner_scope_key="root",
                backend_workspace_ref=f"sb-{i}",
                status="active",
                active_guard=1,
                retired_at=None,
                created_at=base,
                updated_at=base,
            )
        )
        bids = []
        for k in range(1 + i % 2):
            bid = v7(base + timedelta(seconds=i, milliseconds=k + 1))
            bids.append(bid)
            rows_b.append(
                dict(
                    id=bid,
                    tenant_id=p.tenant,
                    app_id=p.app,
                    workspace_id=wid,
                    agent_id=p.agent,
                    base_home_snapshot_id=None,
                    agent_config_version_id=str(uuid.uuid4()),
                    agent_config_version_kind="snapshot",
                    backend_binding_ref=f"bb-{i}-{k}",
                    session_snapshot="{}",
                    status="active",
                    retired_at=None,
                    pending_form_id=str(uuid.uuid4()) if i % 50 == 7 else None,
                    pending_tool_call_id=None,
                    created_at=base,
                    updated_at=base,
                )
            )
        result.append((wid, owner, bids))
    conn.execute(sa.insert(Conversation.__table__), rows_c)
    conn.execute(sa.insert(W.__table__), rows_w)
    conn.execute(sa.insert(B.__table__), rows_b)
    return result


def test_two_retires_and_dify_writers_race_on_postgresql(pg_url: str) -> None:  # noqa: C901 (known debt, ARCHITECTURE.md)
    dify, p = planted_db(pg_url)  # an unguarded engine standing in for Dify
    dify.dispose()
    dify = sa.create_engine(pg_url, pool_size=8)
    with dify.begin() as conn:
        units = _bulk_workspaces(conn, p, 300)
    ws_a = [w for w, _, _ in units[:200]]
    bindings_b = [b for _, _, bs in units[100:] for b in bs]
    with dify.connect() as conn:
        pending_at_start = set(
            conn.execute(
                sa.select(B.id).where(B.pending_form_id.is_not(None), B.tenant_id == p.tenant)
            ).scalars()
        )
        ctx = ctx_of(conn)
        plan_a = preview_retire(conn, ctx, workspace_ids=ws_a)
        plan_b = preview_retire(conn, ctx, binding_ids=bindings_b)
    overlap = units[100:200]
    saved_targets = [bs[0] for _, _, bs in overlap[::3]]  # Dify re-saves these bindings' session state
    late_forms = [bs[0] for _, _, bs in units[150:260:11]]  # Dify pauses these for a human (a form)
    new_owner_of = {
        w: owner for w, owner, _ in units[120:180:6]
    }  # Dify opens a new workspace for these owners
    held = [w for w, _, _ in units[60:70]] + [
        w for w, _, _ in units[230:240]
    ]  # a slow Dify writer holds these
    results: dict[str, RetireResult] = {}
    errors: list[BaseException] = []
    saved_ok: list[str] = []
    forms_ok: list[str] = []
    created: dict[str, str] = {}
    locks_taken = threading.Event()
    start = threading.Barrier(4)
    retires_over = threading.Event()  # set once both retires returned: the creator makes one last pass

    def retire(name: str, plan) -> None:
        engine = create_engine(pg_url, WRITABLE)
        try:
            locks_taken.wait(10)
            start.wait(10)
            results[name] = apply_retire(engine, OPERATOR, plan, ctx, reason=name, batch_size=25)
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    def saver() -> None:
        """Dify's session save: overwrites session_snapshot of an ACTIVE binding only."""
        try:
            with dify.connect() as conn:
                for number, bid in enumerate(saved_targets):
                    if number == 5:
                        locks_taken.wait(10)
                        start.wait(10)
                    done = conn.execute(
                        sa.text(
                            "UPDATE agent_workspace_bindings SET session_snapshot = :s, updated_at = clock_timestamp() "
                            "WHERE id = :id AND status = 'active'"
                        ),
                        {"id": bid, "s": f'{{"dify": "{bid}"}}'},
                    ).rowcount
                    conn.commit()
                    if done:
                        saved_ok.append(bid)
                for bid in late_forms:
                    done = conn.execute(
                        sa.text(
                            "UPDATE agent_workspace_bindings SET pending_form_id = :f, updated_at = clock_timestamp() "
                            "WHERE id = :id AND status = 'active'"
                        ),
                        {"id": bid, "f": str(uuid.uuid4())},
                    ).rowcount
                    conn.commit()
                    if done:
                        forms_ok.append(bid)
        except BaseException as exc:
            errors.append(exc)

    def creator() -> None:
        """Dify opening the owner's next workspace: the unique index admits it once the old one is retired."""
        try:
            locks_taken.wait(10)
            start.wait(10)
            pending = dict(new_owner_of)
            last_pass = False
            while pending:
                last_pass = retires_over.is_set()
                for old, owner in list(pending.items()):
                    new_id = v7(NOW + timedelta(seconds=len(created)))
                    with dify.connect() as conn:
                        try:
                            conn.execute(
                                sa.insert(W.__table__).values(
                                    id=new_id,
                                    tenant_id=p.tenant,
                                    app_id=p.app,
                                    owner_type="conversation",
                                    owner_id=owner,
                                    owner_scope_key="root",
                                    backend_workspace_ref="sb-new",
                                    status="active",
                                    active_guard=1,
                                    created_at=NOW,
                                    updated_at=NOW,
                                )
                            )
                            conn.commit()
                        except sa.exc.IntegrityError:
                            conn.rollback()  # the old one is still active: Dify would reuse it
                            continue
                    created[old] = new_id
                    del pending[old]
                if last_pass:
                    break
                time.sleep(0.02)
        except BaseException as exc:
            errors.append(exc)

    def slow_writer() -> None:
        try:
            with dify.connect() as conn:
                conn.execute(sa.select(W.id).where(W.id.in_(held)).with_for_update())
                locks_taken.set()
                time.sleep(2)
                conn.commit()
        except BaseException as exc:
            locks_taken.set()
            errors.append(exc)

    threads = [
        threading.Thread(target=t, args=a)
        for t, a in (
            (retire, ("A", plan_a)),
            (retire, ("B", plan_b)),
            (saver, ()),
            (creator, ()),
            (slow_writer, ()),
        )
    ]
    for t in threads:
        t.start()
    for t in threads[:2]:
        t.join(90)
    retires_over.set()
    for t in threads[2:]:
        t.join(90)
    assert not errors, errors
    a, b = results["A"], results["B"]
    with dify.connect() as conn:
        final_w = {r.id: r for r in conn.execute(sa.select(W).where(W.tenant_id == p.tenant))}
        final_b = {r.id: r for r in conn.execute(sa.select(B).where(B.tenant_id == p.tenant))}
        for result in (a, b):
            assert result.ok, result.error
            targets, applied = audit_of(conn, result.action_id)
            assert (
                sorted(targets) == sorted(result.transitioned)
                and len(set(targets)) == len(targets) == applied
            )
    # Every row retired at most once, across both retires.
    assert not set(a.transitioned) & set(b.transitioned)
    mine = {w for w, _, _ in units} | {x for _, _, bs in units for x in bs}
    retired_now = {i for i, r in {**final_w, **final_b}.items() if str(r.status) == "retired" and i in mine}
    assert retired_now == set(a.transitioned) | set(b.transitioned)
    # Held rows were skipped, never waited for (the batch's lock timeout would have failed the batch).
    assert set(held) & {w for w, _, _ in units[:200]} <= set(dict(a.skipped).get(SKIP_LOCKED, ()))
    assert all(str(final_w[w].status) == "active" for w in held)
    # No lost Dify update: every save and every form Dify made is on an active binding, as Dify wrote it.
    for bid in saved_ok:
        assert (
            str(final_b[bid].status) == "active" and final_b[bid].session_snapshot == f'{{"dify": "{bid}"}}'
        )
    for bid in forms_ok:
        assert str(final_b[bid].status) == "active" and final_b[bid].pending_form_id is not None
    assert saved_ok and (SKIP_CHANGED in dict(a.skipped) or SKIP_CHANGED in dict(b.skipped))
    # Rows waiting for a form (from the start) were never touched.
    assert all(str(final_b[i].status) == "active" and final_b[i].retired_at is None for i in pending_at_start)
    # Dify's new workspaces: created once the old ones were retired, untouched by the retires.
    assert created, "Dify never got to open a new workspace"
    for old, new in created.items():
        assert str(final_w[old].status) == "retired" and final_w[old].active_guard is None
        assert str(final_w[new].status) == "active" and final_w[new].active_guard == 1
    # Consistent end state: retired workspaces hold no active binding; guards match status.
    for wid, w in final_w.items():
        if wid in mine:
            assert (w.active_guard == 1) == (str(w.status) == "active"), wid
            if str(w.status) == "retired":
                assert not [
                    x for x in final_b.values() if x.workspace_id == wid and str(x.status) == "active"
                ], wid
    dify.dispose()


# --- MariaDB (Dify's MySQL backend): the same SQL ---------------------------------------------------------


@pytest.fixture(scope="module")
def mariadb_server():
    import subprocess

    from tests.mariadb import start_mariadb

    try:
        server = start_mariadb()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        pytest.fail(f"MariaDB is required for the MySQL portability tests: {exc}", pytrace=False)
    yield server
    server.stop()


def test_rules_and_retire_on_mariadb(mariadb_server) -> None:
    url = mariadb_server.create_database("workspaces")
    engine, p = planted_db(url)
    with engine.connect() as conn:
        ws, bs, hs = assert_parity(conn, ctx_of(conn))
    assert (ws, bs, hs) == (p.workspaces, p.bindings, p.homes)
    # A Dify transaction holds one workspace: SKIP LOCKED skips it, the rest is retired, no row count drift.
    guarded = create_engine(url, WRITABLE)
    with engine.connect() as holder:
        holder.execute(sa.select(W.id).where(W.id == p.id("w:conv_deleted")).with_for_update())
        result = retire_rule(guarded, "orphaned", exact=False)
        holder.rollback()
    skipped = dict(result.skipped)
    assert p.id("w:conv_deleted") in skipped[SKIP_LOCKED] and p.id("b:conv_deleted") in skipped[SKIP_LOCKED]
    assert p.id("w:conv_missing") in result.retired_workspaces
    again = retire_rule(guarded, "orphaned")
    assert set(again.retired_workspaces) == {p.id("w:conv_deleted")}
    assert set(again.retired_bindings) == {p.id("b:conv_deleted")}
    for rule in ("finished-run", "inconsistent", "idle"):
        retire_rule(guarded, rule)
    with engine.connect() as conn:
        assert assert_parity(conn, ctx_of(conn))[0].get(p.id("w:run_done")) is None
        left = {r for r in RULE_NAMES if sql_matches(conn, ctx_of(conn), r) != (set(), set(), set())}
    assert left == {"uncollected"}  # only rows that were already retired before remain to be collected
    guarded.dispose()
    engine.dispose()


# --- CLI ------------------------------------------------------------------------------------------------


@pytest.fixture
def planted_file(tmp_path: Path) -> tuple[str, Planted]:
    url = f"sqlite:///{tmp_path / 'planted.sqlite'}"
    engine, p = planted_db(url, naive_utc_now())  # the CLI runs on the real clock
    engine.dispose()
    return url, p


def test_cli_clean_and_collect_on_dify_117(
    planted_file: tuple[str, Planted], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """In-process (`data.cli.main`, exactly what `python -m data` runs), with a real broker and worker."""
    import os
    import subprocess

    from data.cli import main
    from tests.celery_worker import start_worker
    from tests.redis_server import start_redis

    def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        for name in list(os.environ):
            if name.startswith("AGENT_DESK_") or name == "DATABASE_URL":
                monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
        out = capsys.readouterr()
        return subprocess.CompletedProcess(list(args), code, out.out, out.err)

    url, p = planted_file
    env = {"DATABASE_URL": url, "AGENT_DESK_DATA_DIR": str(tmp_path / "d"), "AGENT_DESK_IDLE_DAYS": "7"}
    common = ("sessions", "clean", "--reason", "ticket 11", "--actor", "cron")
    dry = run_cli(*common, "--rule", "finished-run", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert "requested: 4" in dry.stdout and "finished-run: 2" in dry.stdout
    assert (
        f"would retire workspace {p.id('w:run_done')}" in dry.stdout
        and "dry run: nothing changed" in dry.stdout
    )
    refused = run_cli(*common, "--rule", "finished-run", "--yes", env=env)
    assert refused.returncode == 3 and "AGENT_DESK_ALLOW_WRITES" in refused.stderr
    assert run_cli(*common, "--rule", "superseded", "--dry-run", env=env).returncode == 2
    assert run_cli(*common, "--rule", "uncollected", "--dry-run", env=env).returncode == 2
    collect = ("sessions", "collect", "--rule", "uncollected", "--reason", "stuck sandboxes")
    preview = run_cli(*collect, "--dry-run", env=env)
    assert preview.returncode == 0, preview.stderr
    assert "workspaces: 1, bindings: 1, home snapshots: 1" in preview.stdout
    assert "collect_agent_resources" in preview.stdout and "purge_agent_ids" not in preview.stdout
    writes = {**env, "AGENT_DESK_ALLOW_WRITES": "true"}
    no_broker = run_cli(*collect, "--yes", env=writes)
    assert no_broker.returncode == 3 and "AGENT_DESK_CELERY_BROKER_URL" in no_broker.stderr
    redis_server = start_redis()
    worker = start_worker(redis_server)
    try:
        broker = {**writes, "AGENT_DESK_CELERY_BROKER_URL": redis_server.url(0)}
        done = run_cli(*common, "--rule", "finished-run", "--yes", "--collect", env=broker)
        assert done.returncode == 0, done.stderr
        assert "transitioned: 4" in done.stdout and "collection: 2 sent, 0 failed" in done.stdout
        got = sorted((worker.received()["kwargs"] for _ in range(2)), key=lambda k: k["workspace_ids"])
        expected = sorted(
            (
                {
                    "tenant_id": p.tenant,
                    "workspace_ids": [p.id(f"w:{k}")],
                    "binding_ids": [p.id(f"b:{k}")],
                    "home_snapshot_ids": [],
                }
                for k in ("run_done", "run_failed")
            ),
            key=lambda k: k["workspace_ids"],
        )
        assert got == expected
        again = run_cli(*collect, "--yes", env=broker)
        assert again.returncode == 0, again.stderr
        assert "sent: 2" in again.stdout  # the uncollected workspace with its binding; the home snapshot
        kwargs = [worker.received()["kwargs"] for _ in range(2)]
        assert {
            i for k in kwargs for i in k["workspace_ids"] + k["binding_ids"] + k["home_snapshot_ids"]
        } == {p.id("w:uncollected"), p.id("b:uncollected"), p.id("h:home_old")}
        assert worker.pending() == 0
    finally:
        worker.stop()
        redis_server.stop()
    with sa.create_engine(url).connect() as conn:
        status = conn.execute(sa.select(W.status).where(W.id == p.id("w:run_done"))).scalar()
    assert str(status) == "retired"


# --- the sessions view on a 1.17+ database (AppTest) ----------------------------------------------------


@pytest.fixture
def workspaces_app(
    seeded_workspaces_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Planted]:
    """The embedded demo (workspaces generation) with the planted rows added, as the app's database."""
    import os
    import shutil

    data_dir = tmp_path / "agent-desk"
    data_dir.mkdir()
    shutil.copy(sa.make_url(seeded_workspaces_url).database, data_dir / "demo.sqlite")
    engine = sa.create_engine(f"sqlite:///{data_dir / 'demo.sqlite'}")
    with engine.begin() as conn:
        p = plant(conn)
    engine.dispose()
    for name in list(os.environ):
        if name.startswith("AGENT_DESK_") or name in ("DATABASE_URL", "DATABASE_READ_URL"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AGENT_DESK_DATA_DIR", str(data_dir))
    return data_dir, p


def no_exception(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def test_view_lists_bindings_with_rules_and_retires_a_selection(workspaces_app: tuple[Path, Planted]) -> None:
    from tests.apptest_helpers import open_page

    data_dir, p = workspaces_app
    at = open_page("sessions", rule="finished-run", tenant=p.tenant)
    no_exception(at)
    assert [t.value for t in at.title] == ["Working environments"]
    # counts per rule at the top (labels are safe markdown: escapes and word joiners dropped to compare)
    assert {m.label.replace("\\", "").replace("\u2060", "") for m in at.metric} >= set(RULE_NAMES)
    frame = at.dataframe[0].value
    assert set(frame["id"]) == {p.id("b:run_done"), p.id("b:run_failed")}
    assert set(frame["rule"]) == {"finished-run"}
    assert {"owner", "agent", "version", "status", "pending", "layers", "retired", "age", "updated"} <= set(
        frame.columns
    )
    assert any("Bounded scan" in i.value for i in at.info)
    key = next(k for k in at.session_state if str(k).startswith("bindings-table-"))
    at.session_state[key] = {"selection": {"rows": [0, 1], "columns": [], "cells": []}}
    at.run()
    at.button(key="ws_retire_selected").click().run()
    no_exception(at)
    assert [m.value for m in at.metric][-3:] == ["4", "2", "0"]  # 2 bindings + their 2 workspaces
    assert at.button(key="ws_retire_confirm").disabled  # no reason yet
    at.text_input(key="ws_retire_reason").set_value("runs ended (ticket 11)").run()
    at.button(key="ws_retire_confirm").click().run()
    no_exception(at)
    assert any("2 workspaces and 2 bindings retired" in s.value for s in at.success)
    engine = sa.create_engine(f"sqlite:///{data_dir / 'demo.sqlite'}")
    with engine.connect() as conn:
        ids = [p.id(k) for k in ("w:run_done", "w:run_failed", "b:run_done", "b:run_failed")]
        statuses = {str(s) for s in conn.execute(sa.select(W.status).where(W.id.in_(ids))).scalars()}
        statuses |= {str(s) for s in conn.execute(sa.select(B.status).where(B.id.in_(ids))).scalars()}
        targets = set(conn.execute(sa.select(AuditTarget.target_id)).scalars())
    engine.dispose()
    assert statuses == {"retired"} and targets == set(ids)


def test_view_binding_and_workspace_details_are_masked_and_read_only(
    workspaces_app: tuple[Path, Planted],
) -> None:
    from tests.apptest_helpers import all_text, open_page

    _, p = workspaces_app
    at = open_page("sessions", session=p.id("b:conv_deleted"))
    no_exception(at)
    text = all_text(at)
    assert "planted private chat" not in text and "sk-planted-secret-0001" not in text
    assert "orphaned" in text and "sandbox-conv_deleted" not in text  # that is the workspace's ref
    assert safe_md("binding-conv_deleted") in text  # the backend ref, shown (safe markdown)
    layers = at.dataframe[1].value
    assert ("history", "suspended") in set(zip(layers["layer"], layers["lifecycle state"], strict=True))
    assert not [t for t in at.text_input if "ref" in t.label.lower()]  # refs are never editable
    at = open_page("sessions", workspace=p.id("w:dup"))
    no_exception(at)
    assert [t.value for t in at.title] == ["Working environment (workspace)"]
    frame = at.dataframe[0].value
    assert set(frame["id"]) == {p.id("b:dup_old"), p.id("b:dup_new")}
    assert dict(zip(frame["id"], frame["rule"], strict=True))[p.id("b:dup_old")] == "inconsistent"
    assert safe_md("sandbox-dup") in all_text(at)  # the backend ref, shown (safe markdown)
    at = open_page("sessions", session=p.id("b:run_paused"))
    no_exception(at)
    assert any("Protected" in w.value for w in at.warning)


# --- least privilege ---------------------------------------------------------------------------------------


def test_retire_runs_under_the_least_privilege_role_and_nothing_more(pg_url: str) -> None:
    engine, p = planted_db(pg_url)
    database = sa.make_url(pg_url).database
    root = Path(__file__).resolve().parent.parent
    script = (
        (root / "docs" / "least-privilege.sql").read_text().replace("DATABASE dify", f'DATABASE "{database}"')
    )
    with engine.connect() as conn:
        if conn.exec_driver_sql("SELECT 1 FROM pg_roles WHERE rolname = 'agent_desk'").scalar():
            script = script.replace("CREATE ROLE agent_desk LOGIN PASSWORD 'change-me';", "")
    raw = engine.raw_connection()
    try:
        raw.driver_connection.autocommit = True
        raw.driver_connection.execute(script)
    finally:
        raw.close()
    engine.dispose()
    url = (
        sa.make_url(pg_url)
        .set(username="agent_desk", password="change-me")
        .render_as_string(hide_password=False)
    )
    limited = create_engine(url, WRITABLE)
    for rule in ("finished-run", "orphaned", "inconsistent", "idle"):
        retire_rule(limited, rule)
    with limited.connect() as conn:
        assert str(conn.execute(sa.select(W.status).where(W.id == p.id("w:run_done"))).scalar()) == "retired"
        store.list_bindings(conn, store.WorkspaceFilter(rule="uncollected"), ctx_of(conn))
        store.get_binding(conn, p.id("b:conv_deleted"), ctx_of(conn), read=ReadContext.unscoped())
    limited.dispose()
    raw_limited = sa.create_engine(url)  # unguarded: the database itself refuses the rest
    with raw_limited.connect() as conn:
        for statement in (
            "UPDATE agent_workspace_bindings SET session_snapshot = ''",
            "UPDATE agent_workspace_bindings SET pending_form_id = NULL",
            "UPDATE agent_workspaces SET backend_workspace_ref = ''",
            "DELETE FROM agent_workspaces",
            "DELETE FROM agent_workspace_bindings",
            "UPDATE agent_home_snapshots SET status = 'retired'",
            "UPDATE conversations SET agent_workspace_binding_id = NULL",
        ):
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                conn.exec_driver_sql(statement)
            conn.rollback()
    raw_limited.dispose()


# --- the store -----------------------------------------------------------------------------------------------


def walk(
    conn: sa.Connection, flt: store.WorkspaceFilter, ctx, **kwargs
) -> tuple[list[str], store.Access, int]:
    ids: list[str] = []
    after = None
    pages = 0
    while True:
        page = store.list_bindings(conn, flt, ctx, after=after, **kwargs)
        ids += [r.id for r in page.rows]
        pages += 1
        if not page.next_cursor:
            return ids, page.access, pages
        after = page.next_cursor


def test_store_pages_counts_and_index_served_filters(planted: tuple[str, Planted]) -> None:
    url, p = planted
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        ctx = ctx_of(conn)
        every, access, pages = walk(conn, store.WorkspaceFilter(), ctx, page_size=7)
        assert every == sorted(p.bindings, reverse=True) and access.mode == "primary key" and pages > 3
        second = store.list_bindings(
            conn,
            store.WorkspaceFilter(),
            ctx,
            page_size=7,
            after=store.list_bindings(conn, store.WorkspaceFilter(), ctx, page_size=7).next_cursor,
        )
        back = store.list_bindings(conn, store.WorkspaceFilter(), ctx, page_size=7, before=second.prev_cursor)
        assert [r.id for r in back.rows] == every[:7]
        for rule in RULE_NAMES:
            flt = store.WorkspaceFilter(rule=rule, tenant_id=p.tenant)
            found, access, _ = walk(conn, flt, ctx, page_size=3, scan_limit=5)
            assert found == sorted((i for i, r in p.bindings.items() if r == rule), reverse=True), rule
            assert access.bounded == (rule != "uncollected"), rule
        dup = store.list_bindings(conn, store.WorkspaceFilter(workspace_id=p.id("w:dup")), ctx)
        assert {r.id for r in dup.rows} == {p.id("b:dup_old"), p.id("b:dup_new")}
        assert dup.access.mode == "index" and dup.access.served_by == store.BINDING_WORKSPACE_INDEX
        with_run = conn.execute(sa.select(W.owner_id).where(W.id == p.id("w:run_done"))).scalar()
        run = store.list_bindings(conn, store.WorkspaceFilter(run_id=with_run), ctx)
        assert [r.id for r in run.rows] == [p.id("b:run_done")] and not run.access.bounded
        counts = {c.rule: c for c in store.rule_counts(conn, ctx, tenant_id=p.tenant).counts}
        for rule in RULE_NAMES:
            c = counts[rule]
            assert c.exact
            assert (c.workspaces, c.bindings, c.homes) == (
                sum(r == rule for r in p.workspaces.values()),
                sum(r == rule for r in p.bindings.values()),
                sum(r == rule for r in p.homes.values()),
            ), rule
        targets = store.collect_rule_targets(conn, "finished-run", ctx, tenant_id=p.tenant)
        # Bindings of a selected workspace are left out: retiring the workspace retires them.
        assert (
            set(targets.workspace_ids) == {p.id("w:run_done"), p.id("w:run_failed")}
            and not targets.binding_ids
        )
    engine.dispose()


def test_a_failed_batch_rolls_back_whole_and_a_failed_hand_off_keeps_the_retire(
    planted: tuple[str, Planted],
) -> None:
    url, _ = planted
    engine = create_engine(url, WRITABLE)
    with engine.connect() as conn:
        ctx = ctx_of(conn)
        targets = store.collect_rule_targets(conn, "orphaned", ctx)
        plan = preview_retire(conn, ctx, workspace_ids=targets.workspace_ids, binding_ids=targets.binding_ids)

    def boom(number: int, conn: sa.Connection) -> None:
        if number == 2:
            raise RuntimeError("boom in batch 2")

    handed: list[object] = []

    def failing_collect(batch, grant: WriteGrant) -> None:
        assert grant.actor == OPERATOR and grant.needed == Role.OPERATOR  # the retire's own grant
        handed.append(batch)
        raise ConnectionError("broker down")

    first = apply_retire(
        engine,
        OPERATOR,
        plan,
        ctx,
        reason="x",
        batch_size=2,
        on_batch=boom,
        collect=failing_collect,
    )
    assert not first.ok and "batch 2 of" in (first.error or "") and first.batches_done == 1
    assert len(handed) == 1 and first.collection_errors and "broker down" in first.collection_errors[0]
    with engine.connect() as conn:
        targets_1, applied = audit_of(conn, first.action_id)
        retired = set(
            conn.execute(sa.select(W.id).where(W.status == "retired", W.id.in_(plan.workspace_ids))).scalars()
        )
        retired |= set(
            conn.execute(sa.select(B.id).where(B.status == "retired", B.id.in_(plan.binding_ids))).scalars()
        )
    assert sorted(targets_1) == sorted(first.transitioned) and applied == len(targets_1) > 0
    units_1 = {u.workspace_id for u in plan.units[:2]}
    assert (
        retired == set(first.transitioned)
        and {u.workspace_id for u in plan.units if u.workspace_id in retired} <= units_1
    )
    # The retire stayed although the hand-off failed; running again finishes the rest, nothing twice.
    with engine.connect() as conn:
        again = preview_retire(
            conn, ctx, workspace_ids=targets.workspace_ids, binding_ids=targets.binding_ids
        )
    rerun = apply_retire(engine, OPERATOR, again, ctx, reason="again")
    assert rerun.ok and not set(rerun.transitioned) & set(first.transitioned)
    assert len(rerun.transitioned) + len(first.transitioned) == plan.count
    engine.dispose()
