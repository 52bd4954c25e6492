"""The audited cleanup: exact transitions, the write guard, server-side refusals, real concurrency on
PostgreSQL (two cleanups, a Dify upsert, a Dify writer holding locks), failures mid-batch, the CLI."""

from __future__ import annotations

import dataclasses
import random
import shutil
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from data.actor import Actor, NotAllowed, Role, WritesDisabled
from data.db import WriteRefused, check_statement, create_engine
from data.demo import DemoIds
from data.models import AgentRuntimeSession, AuditAction, AuditBatch, AuditTarget, naive_utc_now
from data.schema_check import check_schema
from data.services import audit as audit_service
from data.services.cleanup import (
    SKIP_ALREADY_CLEANED,
    SKIP_CHANGED,
    SKIP_GONE,
    SKIP_LOCKED,
    CleanupResult,
    apply_cleanup,
    preview_cleanup,
)
from data.services.leaks import RuleContext
from data.settings import Settings
from data.stores import audit as audit_store
from tests.conftest import NOW, PostgresServer, _seed
from tests.test_foundation import run_cli
from tests.test_least_privilege import least_privilege_url  # noqa: F401  (fixture)

S = AgentRuntimeSession
OPERATOR = Actor("ops@example.org", Role.OPERATOR)
ADMIN = Actor("admin@example.org", Role.ADMIN)
A_CLEANED_SESSION_QUERY = sa.select(S.id).where(S.status == "cleaned").order_by(S.id).limit(1)
MISSING_ID = "01900000-0000-7000-8000-00000000dead"


@pytest.fixture(params=["sqlite", "postgresql"])
def writable_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A private seeded demo database (the shared PostgreSQL one is read-only)."""
    if request.param == "sqlite":
        target = tmp_path / "seeded.sqlite"
        shutil.copy(request.getfixturevalue("seeded_sqlite_file"), target)
        return f"sqlite:///{target}"
    return _seed(request.getfixturevalue("pg_url"))


@pytest.fixture
def guarded(writable_url: str) -> Iterator[sa.Engine]:
    """The app's own engine: write guard and timeouts, exactly as the pages and the CLI use it."""
    engine = create_engine(writable_url, Settings())
    yield engine
    engine.dispose()


def ctx_of(engine: sa.Engine) -> RuleContext:
    with engine.connect() as conn:
        return RuleContext.from_report(check_schema(conn), now=NOW, idle_days=7)


def preview(engine: sa.Engine, ids: list[str], **kwargs) -> object:
    with engine.connect() as conn:
        return preview_cleanup(conn, ids, ctx_of(engine), **kwargs)


def rows(engine: sa.Engine, ids: list[str]) -> dict[str, sa.Row]:
    with engine.connect() as conn:
        return {r.id: r for r in conn.execute(sa.select(S).where(S.id.in_(ids)))}


def audit_counts(engine: sa.Engine, action_id: str) -> tuple[list[str], int, list[sa.Row]]:
    """(affected ids, sum of the batch rows' applied, batch rows) of one action."""
    with engine.connect() as conn:
        targets = list(
            conn.execute(sa.select(AuditTarget.target_id).where(AuditTarget.action_id == action_id)).scalars()
        )
        batches = list(conn.execute(sa.select(AuditBatch).where(AuditBatch.action_id == action_id)))
    applied = sum(b.applied for b in batches if b.batch_no is not None)
    return targets, applied, batches


# --- one cleanup, both backends --------------------------------------------------------------------------


def test_cleanup_transitions_active_rows_exactly_and_audits_each(guarded: sa.Engine) -> None:
    with guarded.connect() as conn:
        cleaned = conn.execute(A_CLEANED_SESSION_QUERY).scalar()
    ids = [DemoIds.FINISHED_RUN_SESSION, DemoIds.IDLE_SESSION, cleaned, MISSING_ID]
    before = rows(guarded, ids)
    plan = preview(guarded, ids, source={"selection": 4}, rule=None)
    assert plan.count == 2 and plan.not_active == (cleaned,) and plan.missing == (MISSING_ID,)
    assert dict(plan.per_rule) == {"finished-run": 1, "idle": 1}
    started = naive_utc_now()
    result = apply_cleanup(guarded, OPERATOR, plan, reason="leaked after the run")
    assert result.ok and set(result.transitioned) == {DemoIds.FINISHED_RUN_SESSION, DemoIds.IDLE_SESSION}
    assert dict(result.skipped) == {SKIP_ALREADY_CLEANED: (cleaned,), SKIP_GONE: (MISSING_ID,)}
    after = rows(guarded, ids)
    for session_id in result.transitioned:
        row, old = after[session_id], before[session_id]
        assert str(row.status) == "cleaned" and row.cleaned_at == row.updated_at
        assert (
            row.cleaned_at.tzinfo is None
            and started - timedelta(seconds=1) <= row.cleaned_at <= naive_utc_now()
        )
        # Nothing else changes: never the backend run id, the snapshot, the specs or the owner.
        for column in (
            "backend_run_id",
            "session_snapshot",
            "composition_layer_specs",
            "created_at",
            "agent_id",
        ):
            assert getattr(row, column) == getattr(old, column), column
    assert after[cleaned].updated_at == before[cleaned].updated_at
    targets, applied, batches = audit_counts(guarded, result.action_id)
    assert sorted(targets) == sorted(result.transitioned) and applied == 2
    assert [b.outcome for b in batches if b.batch_no is None] == ["done"]
    with guarded.connect() as conn:
        entry = audit_store.list_actions(conn, audit_store.AuditFilter(target=DemoIds.IDLE_SESSION))[0]
        history = audit_store.session_history(conn, DemoIds.FINISHED_RUN_SESSION)
    assert (entry.requested, entry.applied, entry.skipped, entry.outcome) == (4, 2, 2, "done")
    assert entry.actor == "ops@example.org" and entry.reason == "leaked after the run"
    assert history[0].action.id == result.action_id and history[0].to_status == "cleaned"
    assert history[0].prior_updated_at == before[DemoIds.FINISHED_RUN_SESSION].updated_at


def test_preview_warns_about_running_runs_chat_memory_and_unmatched_rows(guarded: sa.Engine) -> None:
    plan = preview(
        guarded,
        [
            DemoIds.RUNNING_RUN_SESSION,
            DemoIds.IDLE_SESSION,
            DemoIds.SUPERSEDING_SESSION,
            DemoIds.SUPERSEDED_SESSION,
        ],
    )
    text = " ".join(plan.warnings)
    assert "still running or paused" in text
    assert "2 conversation sessions hold a chat's agent memory" in text  # idle + the live superseding one
    assert "match no leak rule" in text
    assert dict(plan.per_rule) == {"superseded": 1, "idle": 1, "no rule": 2}


def test_the_write_guard_sees_and_accepts_exactly_the_cleanup_statements(guarded: sa.Engine) -> None:
    seen: list[str] = []
    executed: list[object] = []
    sa.event.listen(guarded, "before_cursor_execute", lambda c, cur, statement, *a: seen.append(statement))
    sa.event.listen(guarded, "before_execute", lambda c, element, *a: executed.append(element))
    plan = preview(guarded, [DemoIds.FINISHED_RUN_SESSION])
    result = apply_cleanup(guarded, OPERATOR, plan, reason="guard")
    assert result.ok and len(result.transitioned) == 1
    writes = [
        s for s in seen if not s.lstrip().upper().startswith(("SELECT", "SET", "BEGIN", "COMMIT", "PRAGMA"))
    ]
    kinds = {" ".join(s.split()[:3]).upper() for s in writes}
    assert kinds == {
        "UPDATE AGENT_RUNTIME_SESSIONS SET",
        "INSERT INTO AGENT_DESK_AUDIT_ACTIONS",
        "INSERT INTO AGENT_DESK_AUDIT_TARGETS",
        "INSERT INTO AGENT_DESK_AUDIT_BATCHES",
    }
    # The guard checks statement objects: each write accepted inside the write transaction only.
    write_objects = [e for e in executed if isinstance(e, (sa.Update, sa.Insert))]
    assert len(write_objects) == len(writes)
    for statement in write_objects:
        check_statement(statement, writing=True)  # accepted (the engine already ran it through the guard)
        with pytest.raises(WriteRefused):
            check_statement(statement)  # outside the write transaction
    update = next(e for e in write_objects if isinstance(e, sa.Update))
    assert "FOR UPDATE" in " ".join(seen).upper() or guarded.dialect.name == "sqlite"
    with pytest.raises(WriteRefused):
        check_statement(update.values(backend_run_id="x"), writing=True)
    with pytest.raises(WriteRefused):
        check_statement(update.values(session_snapshot="{}"), writing=True)


# --- refusals, checked in `data` ----------------------------------------------------------------------------


def action_count(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(AuditAction)).scalar_one()


def test_server_side_refusals_write_nothing(guarded: sa.Engine, writable_url: str) -> None:
    plan = preview(guarded, [DemoIds.FINISHED_RUN_SESSION, DemoIds.IDLE_SESSION])
    viewer = Actor("viewer@example.org", Role.VIEWER)
    with pytest.raises(NotAllowed):
        apply_cleanup(guarded, viewer, plan, reason="x")
    # The gate reads the policy its engine was built with; no caller passes a reason in.
    read_only = create_engine(writable_url, Settings(AGENT_DESK_READ_ONLY=True, AGENT_DESK_ALLOW_WRITES=True))
    with pytest.raises(WritesDisabled, match="read-only"):
        apply_cleanup(read_only, ADMIN, plan, reason="x")
    local = Actor("local:someone", Role.ADMIN, local_mode=True)
    with pytest.raises(WritesDisabled, match="AGENT_DESK_ALLOW_WRITES"):  # not the demo file
        apply_cleanup(guarded, local, plan, reason="x")
    other_workspace = Actor("scoped@example.org", Role.OPERATOR, tenant_id=DemoIds.TENANT_NORTHWIND)
    with pytest.raises(NotAllowed):
        apply_cleanup(guarded, other_workspace, plan, reason="x")
    with pytest.raises(ValueError, match="reason"):
        apply_cleanup(guarded, OPERATOR, plan, reason="   ")
    with pytest.raises(NotAllowed):
        audit_service.reveal_history(guarded, OPERATOR, DemoIds.IDLE_SESSION, reason="look")
    with pytest.raises(WritesDisabled):
        audit_service.reveal_history(read_only, ADMIN, DemoIds.IDLE_SESSION, reason="look")
    read_only.dispose()
    # A workspace-scoped operator naming another workspace's rows is refused before any audit row:
    # a not-active row of Northwind next to its own active one, and a preview crafted to look like its own.
    with guarded.connect() as conn:
        northwind = (
            conn.execute(
                sa.select(S.id).where(S.tenant_id == DemoIds.TENANT_NORTHWIND).order_by(S.id).limit(2)
            )
            .scalars()
            .all()
        )
    assert len(northwind) == 2
    acme = Actor("scoped@example.org", Role.OPERATOR, tenant_id=DemoIds.TENANT_ACME)
    mixed = preview(guarded, [DemoIds.FINISHED_RUN_SESSION, *northwind])
    crafted = dataclasses.replace(preview(guarded, list(northwind)), tenant_ids=(DemoIds.TENANT_ACME,))
    for foreign in (mixed, crafted):
        with pytest.raises(NotAllowed):
            apply_cleanup(guarded, acme, foreign, reason="not mine")
    assert action_count(guarded) == 0
    assert {str(r.status) for r in rows(guarded, list(plan.requested)).values()} == {"active"}
    # The workspace-scoped operator may clean its own workspace.
    own = Actor("scoped@example.org", Role.OPERATOR, tenant_id=DemoIds.TENANT_ACME)
    assert apply_cleanup(guarded, own, plan, reason="mine").ok


def test_revealing_history_is_audited_before_it_is_returned(guarded: sa.Engine) -> None:
    revealed = audit_service.reveal_history(guarded, ADMIN, DemoIds.IDLE_SESSION, reason="ticket 4711")
    layers = {layer["name"]: layer for layer in revealed.snapshot["layers"]}
    assert layers["history"]["runtime_state"]["messages"]  # shown, not "[masked: set]"
    with guarded.connect() as conn:
        history = audit_store.session_history(conn, DemoIds.IDLE_SESSION)
    assert [(h.action.action, h.action.reason, h.action.outcome) for h in history] == [
        ("session.reveal_history", "ticket 4711", "done")
    ]


# --- PostgreSQL: real concurrent connections ---------------------------------------------------------------


def insert_sessions(engine: sa.Engine, n: int) -> list[str]:
    """`n` active sessions of one workspace (their own runs, none in flight), newest id last."""
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO agent_runtime_sessions (id, tenant_id, app_id, owner_type, agent_id, backend_run_id, "
            "session_snapshot, workflow_run_id, node_id, composition_layer_specs, status, created_at, updated_at) "
            f"SELECT uuidv7(), '{DemoIds.TENANT_ACME}', '{DemoIds.APP_TICKET_TRIAGE}', 'workflow_run', "
            f"'{DemoIds.SHOWCASE_AGENT}', 'backend-' || g, '{{\"schema_version\": 1, \"layers\": []}}', "
            "gen_random_uuid(), 'node', '[]', 'active', now() - interval '30 days', now() - interval '30 days' "
            f"FROM generate_series(1, {n}) g"
        )
        return list(
            conn.execute(
                sa.text("SELECT id::text FROM agent_runtime_sessions WHERE node_id = 'node' ORDER BY id")
            ).scalars()
        )


@pytest.fixture
def pg(postgres: PostgresServer) -> Iterator[tuple[str, sa.Engine]]:
    """A private seeded PostgreSQL database and an unguarded engine standing in for Dify."""
    url = _seed(postgres.create_database("clean"))
    dify = sa.create_engine(url, pool_size=8)
    yield url, dify
    dify.dispose()


def test_two_cleanups_and_a_dify_upsert_race_without_lost_updates(pg: tuple[str, sa.Engine]) -> None:
    url, dify = pg
    ids = insert_sessions(dify, 2_000)
    ctx = ctx_of(dify)
    first_ids, second_ids = ids[:1_500], ids[500:]
    reactivated = ids[700:1_300]
    held = ids[1_400:1_450]  # locked by a slow Dify writer during the cleanups
    with dify.connect() as conn:
        plan_a = preview_cleanup(conn, first_ids, ctx)
        plan_b = preview_cleanup(conn, second_ids, ctx)
    results: dict[str, CleanupResult] = {}
    errors: list[BaseException] = []
    locks_taken = threading.Event()
    cleanups_done = threading.Semaphore(0)
    held_through: list[bool] = []  # the writer still held its locks when both cleanups had finished
    start = threading.Barrier(3)

    def cleanup(name: str, plan) -> None:
        engine = create_engine(url, Settings())  # its own pool: its own connections
        try:
            locks_taken.wait(10)
            start.wait(10)
            results[name] = apply_cleanup(engine, OPERATOR, plan, reason=name, batch_size=50)
        except BaseException as exc:
            errors.append(exc)
        finally:
            cleanups_done.release()
            engine.dispose()

    def upserter() -> None:
        """Dify's save_active_snapshot: an upsert with no status filter (re-activates a cleaned row).

        Its first ten saves happen before the cleanups start (so both see rows changed since their
        preview), the rest race with them in random order."""
        try:
            order = list(reactivated)
            random.Random(7).shuffle(order)
            with dify.connect() as conn:
                for number, session_id in enumerate(order):
                    if number == 10:
                        locks_taken.wait(10)
                        start.wait(10)
                    conn.execute(
                        sa.text(
                            "UPDATE agent_runtime_sessions SET status = 'active', cleaned_at = NULL, "
                            "updated_at = clock_timestamp(), backend_run_id = 'dify-upsert', session_snapshot = '{}' "
                            "WHERE id = :id"
                        ),
                        {"id": session_id},
                    )
                    conn.commit()
        except BaseException as exc:
            errors.append(exc)

    def slow_writer() -> None:
        """A Dify transaction holding row locks until both cleanups have finished, then saving: a
        cleanup that waited for those locks instead of skipping them would never finish first."""
        try:
            with dify.connect() as conn:
                conn.execute(
                    sa.text("SELECT id FROM agent_runtime_sessions WHERE id = ANY(:ids) FOR UPDATE"),
                    {"ids": held},
                )
                locks_taken.set()
                held_through.append(all(cleanups_done.acquire(timeout=60) for _ in range(2)))
                conn.execute(
                    sa.text(
                        "UPDATE agent_runtime_sessions SET updated_at = clock_timestamp(), backend_run_id = 'dify-slow' "
                        "WHERE id = ANY(:ids)"
                    ),
                    {"ids": held},
                )
                conn.commit()
        except BaseException as exc:
            locks_taken.set()
            errors.append(exc)

    threads = [
        threading.Thread(target=cleanup, args=("A", plan_a)),
        threading.Thread(target=cleanup, args=("B", plan_b)),
        threading.Thread(target=upserter),
        threading.Thread(target=slow_writer),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    a, b = results["A"], results["B"]
    for result, plan in ((a, plan_a), (b, plan_b)):
        assert result.ok, result.error
        accounted = len(result.transitioned) + result.skipped_count
        assert accounted == len(plan.requested)
        targets, applied, _ = audit_counts(dify, result.action_id)
        assert sorted(targets) == sorted(result.transitioned)  # audit rows == transitions
        assert len(targets) == len(set(targets)) == applied  # at most once per cleanup
        skipped = dict(result.skipped)
        assert set(held) <= set(skipped.get(SKIP_LOCKED, ()))  # skipped, not waited for
    assert held_through == [True]  # both cleanups finished while the Dify writer held its row locks
    assert not (set(a.transitioned) & set(b.transitioned))  # never twice across cleanups either
    final = rows(dify, ids)
    upserted = {i for i, r in final.items() if r.backend_run_id == "dify-upsert"}
    assert upserted == set(reactivated)
    # No lost update: every row Dify saved after the previews is active, whatever the cleanups did.
    assert all(str(final[i].status) == "active" and final[i].cleaned_at is None for i in upserted)
    assert all(str(final[i].status) == "active" for i in held)
    cleaned_now = {i for i, r in final.items() if str(r.status) == "cleaned"}
    assert cleaned_now == (set(a.transitioned) | set(b.transitioned)) - upserted
    # Dify's re-saves made some rows "changed since the preview": reported, not overwritten.
    assert SKIP_CHANGED in dict(a.skipped) or SKIP_CHANGED in dict(b.skipped)
    for session_id in cleaned_now:
        assert final[session_id].cleaned_at == final[session_id].updated_at


@pytest.mark.parametrize("failure", ["exception", "connection killed"])
def test_a_failed_batch_is_all_or_nothing_and_a_rerun_completes(
    pg: tuple[str, sa.Engine], failure: str
) -> None:
    url, dify = pg
    ids = insert_sessions(dify, 250)
    ctx = ctx_of(dify)
    engine = create_engine(url, Settings())
    with dify.connect() as conn:
        plan = preview_cleanup(conn, ids, ctx)

    def fail_in_batch_two(number: int, conn: sa.Connection) -> None:
        if number != 2:
            return
        if failure == "exception":
            raise RuntimeError("boom in the middle of batch 2")
        pid = conn.connection.driver_connection.info.backend_pid  # the guard refuses pg_backend_pid()
        with dify.connect() as killer:
            killer.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            killer.commit()

    result = apply_cleanup(engine, OPERATOR, plan, reason="first", batch_size=100, on_batch=fail_in_batch_two)
    assert not result.ok and "batch 2 of 3" in (result.error or "")
    assert result.batches_done == 1 and len(result.transitioned) == 100
    assert list(result.not_processed) == ids[100:]
    state = rows(dify, ids)
    cleaned = {i for i, r in state.items() if str(r.status) == "cleaned"}
    assert cleaned == set(ids[:100])  # batch 2 entirely not applied, batch 3 never started
    targets, applied, batches = audit_counts(dify, result.action_id)
    assert sorted(targets) == sorted(cleaned) and applied == 100
    assert sorted((b.batch_no, b.outcome) for b in batches if b.batch_no) == [(1, "applied"), (2, "failed")]
    assert [b.outcome for b in batches if b.batch_no is None] == ["failed"]
    # Re-running the cleanup over the same ids completes the rest; nothing is transitioned twice.
    with dify.connect() as conn:
        again = preview_cleanup(conn, ids, ctx)
    rerun = apply_cleanup(engine, OPERATOR, again, reason="rerun", batch_size=100)
    engine.dispose()
    assert rerun.ok and sorted(rerun.transitioned) == sorted(ids[100:])
    assert dict(rerun.skipped) == {SKIP_ALREADY_CLEANED: tuple(ids[:100])}
    assert {str(r.status) for r in rows(dify, ids).values()} == {"cleaned"}
    with dify.connect() as conn:
        all_targets = list(
            conn.execute(sa.select(AuditTarget.target_id).where(AuditTarget.target_id.in_(ids))).scalars()
        )
    assert sorted(all_targets) == sorted(ids)


def test_cleanup_runs_under_the_least_privilege_role(least_privilege_url: str) -> None:  # noqa: F811
    engine = create_engine(least_privilege_url, Settings())
    plan = preview(engine, [DemoIds.FINISHED_RUN_SESSION, DemoIds.IDLE_SESSION])
    result = apply_cleanup(engine, OPERATOR, plan, reason="least privilege")
    assert (
        result.ok and len(result.transitioned) == 2
    )  # SELECT ... FOR UPDATE, UPDATE 3 columns, INSERTs only
    revealed = audit_service.reveal_history(engine, ADMIN, DemoIds.SUPERSEDED_SESSION, reason="r")
    assert revealed.action_id
    engine.dispose()


# --- the CLI --------------------------------------------------------------------------------------------------


@pytest.fixture
def demo_dir(tmp_path: Path, seeded_sqlite_file: Path) -> Path:
    shutil.copy(seeded_sqlite_file, tmp_path / "demo.sqlite")
    return tmp_path


def test_cli_dry_run_then_yes_on_the_demo(demo_dir: Path) -> None:
    env = {"AGENT_DESK_DATA_DIR": str(demo_dir)}
    dry = run_cli("sessions", "clean", "--rule", "orphaned", "--reason", "weekly sweep", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert "dry run: nothing changed" in dry.stdout and DemoIds.MISSING_RUN_SESSION in dry.stdout
    requested = int(
        next(line for line in dry.stdout.splitlines() if line.startswith("requested:")).split()[1]
    )
    applied = run_cli(
        "sessions",
        "clean",
        "--rule",
        "orphaned",
        "--reason",
        "weekly sweep",
        "--actor",
        "cron",
        "--yes",
        env=env,
    )
    assert applied.returncode == 0, applied.stderr
    assert f"transitioned: {requested}" in applied.stdout and "skipped: 0" in applied.stdout
    engine = sa.create_engine(f"sqlite:///{demo_dir / 'demo.sqlite'}")
    with engine.connect() as conn:
        action = conn.execute(sa.select(AuditAction)).one()
        status = conn.execute(sa.select(S.status).where(S.id == DemoIds.MISSING_RUN_SESSION)).scalar()
    engine.dispose()
    assert action.actor == "cli:cron" and action.rule == "orphaned" and action.requested == requested
    assert str(status) == "cleaned"
    again = run_cli("sessions", "clean", "--rule", "orphaned", "--reason", "again", "--yes", env=env)
    assert again.returncode == 0 and "transitioned: 0" in again.stdout


def test_cli_older_than_limit_and_usage_errors(demo_dir: Path) -> None:
    env = {"AGENT_DESK_DATA_DIR": str(demo_dir)}
    limited = run_cli(
        "sessions",
        "clean",
        "--rule",
        "finished-run",
        "--older-than",
        "2d",
        "--limit",
        "2",
        "--reason",
        "r",
        "--dry-run",
        env=env,
    )
    assert limited.returncode == 0 and "limit 2 reached" in limited.stdout
    for bad in (
        ["--rule", "finished-run", "--reason", "r"],  # neither --dry-run nor --yes
        ["--rule", "finished-run", "--reason", "r", "--dry-run", "--yes"],
        ["--rule", "everything", "--reason", "r", "--dry-run"],
        ["--rule", "idle", "--older-than", "7 days", "--reason", "r", "--dry-run"],
        ["--rule", "idle", "--tenant", "acme", "--reason", "r", "--dry-run"],
        ["--rule", "idle", "--reason", " ", "--dry-run"],
    ):
        assert run_cli("sessions", "clean", *bad, env=env).returncode == 2, bad


def test_cli_refuses_writes_on_a_real_database_without_allow_writes(
    pg: tuple[str, sa.Engine], tmp_path: Path
) -> None:
    url, dify = pg
    env = {"DATABASE_URL": url, "AGENT_DESK_DATA_DIR": str(tmp_path)}
    args = ("sessions", "clean", "--rule", "finished-run", "--reason", "r")
    refused = run_cli(*args, "--yes", env=env)
    assert refused.returncode == 3 and "AGENT_DESK_ALLOW_WRITES" in refused.stderr
    assert run_cli(*args, "--dry-run", env=env).returncode == 0  # reading is always fine
    read_only = run_cli(
        *args, "--yes", env={**env, "AGENT_DESK_ALLOW_WRITES": "true", "AGENT_DESK_READ_ONLY": "true"}
    )
    assert read_only.returncode == 3 and "read-only" in read_only.stderr
    with dify.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(AuditAction)).scalar() == 0
    allowed = run_cli(
        *args, "--tenant", DemoIds.TENANT_ACME, "--yes", env={**env, "AGENT_DESK_ALLOW_WRITES": "true"}
    )
    assert allowed.returncode == 0, allowed.stderr
    with dify.connect() as conn:
        status = conn.execute(sa.select(S.status).where(S.id == DemoIds.FINISHED_RUN_SESSION)).scalar()
    assert str(status) == "cleaned"
