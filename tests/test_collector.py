"""Hand-off to Dify's collector: planning the messages, sending them to a real Redis broker where a real
Celery worker (registered under Dify's task name, on queue `retention`) receives them, a broker that is
down, and the audit of every attempt."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from data import migrate
from data.actor import Actor, NotAllowed, Role, WritesDisabled
from data.db import create_engine
from data.models import AuditAction, AuditBatch, AuditTarget, DifyBase
from data.models.workspaces import WORKSPACE_TABLES, AgentHomeSnapshot, AgentWorkspace, AgentWorkspaceBinding
from data.services.collector import (
    COLLECT_ACTION,
    NO_BROKER_NOTICE,
    TASK_NAME,
    CollectionBatch,
    Collector,
    CollectorUnavailable,
    collect_again,
    mask_broker_url,
    plan_collection,
    record_enqueue,
    send_and_record,
)
from data.settings import Settings
from tests.celery_worker import CeleryWorker, start_worker
from tests.redis_server import RedisServer, RedisUnavailable, free_port, start_redis

T1 = "0190a000-0000-7000-8000-00000000aaaa"
T2 = "0190a000-0000-7000-8000-00000000bbbb"
W1 = "0190a000-0000-7000-8000-000000000001"
W2 = "0190a000-0000-7000-8000-000000000002"
B1 = "0190a000-0000-7000-8000-000000000011"
B2 = "0190a000-0000-7000-8000-000000000012"
B3 = "0190a000-0000-7000-8000-000000000013"
H1 = "0190a000-0000-7000-8000-000000000021"
H2 = "0190a000-0000-7000-8000-000000000022"
OPS = Actor("ops@example.org", Role.OPERATOR)
KWARG_NAMES = {"tenant_id", "workspace_ids", "binding_ids", "home_snapshot_ids"}


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True)


# --- planning ---------------------------------------------------------------------------------------


def test_kwargs_are_sorted_deduplicated_and_never_purge() -> None:
    batch = CollectionBatch(
        T1, workspace_ids=(W2, W1, W2), binding_ids=[B2, B1, B2, ""], home_snapshot_ids=()
    )
    assert batch.kwargs() == {
        "tenant_id": T1,
        "workspace_ids": [W1, W2],
        "binding_ids": [B1, B2],
        "home_snapshot_ids": [],
    }
    assert set(batch.kwargs()) == KWARG_NAMES  # no purge_agent_ids, ever
    assert json.loads(json.dumps(batch.kwargs())) == batch.kwargs()  # JSON as is
    with pytest.raises(ValueError, match="tenant_id"):
        CollectionBatch(" ")


def test_plan_one_message_per_workspace_and_one_for_home_snapshots() -> None:
    batches = plan_collection(
        tenant_id=T1,
        retired_workspaces={W2: [B3, B3], W1: [B2, B1]},
        home_snapshot_ids=[H2, H1, H2],
    )
    assert [b.kwargs() for b in batches] == [
        {"tenant_id": T1, "workspace_ids": [W1], "binding_ids": [B1, B2], "home_snapshot_ids": []},
        {"tenant_id": T1, "workspace_ids": [W2], "binding_ids": [B3], "home_snapshot_ids": []},
        {"tenant_id": T1, "workspace_ids": [], "binding_ids": [], "home_snapshot_ids": [H1, H2]},
    ]


def test_plan_bindings_of_an_active_workspace_go_without_it_and_nothing_empty_is_sent() -> None:
    # B1 retired alone (W1 stays active): W1 is not sent. W2 named in both mappings: one message.
    batches = plan_collection(
        tenant_id=T1, retired_workspaces=[W2], retired_bindings={W1: [B1], W2: [B3]}, home_snapshot_ids=[]
    )
    assert [b.kwargs() for b in batches] == [
        {"tenant_id": T1, "workspace_ids": [], "binding_ids": [B1], "home_snapshot_ids": []},
        {"tenant_id": T1, "workspace_ids": [W2], "binding_ids": [B3], "home_snapshot_ids": []},
    ]
    assert plan_collection(tenant_id=T1, retired_bindings={W1: []}, home_snapshot_ids=["", " "]) == []
    with pytest.raises(TypeError):
        plan_collection(tenant_id=T1, retired_workspaces=W1)  # one string is not a list of ids


def test_preview_without_a_broker_and_settings() -> None:
    settings = Settings(_env_file=None)
    assert settings.celery_broker_url is None and settings.collect_queue == "retention"
    assert settings.uncollected_hours == 24
    collector = Collector.from_settings(settings)
    assert not collector.enabled and collector.broker_label is None
    batch = CollectionBatch(T1, workspace_ids=[W1], binding_ids=[B1])
    assert collector.preview(batch) == {"task": TASK_NAME, "queue": "retention", "kwargs": batch.kwargs()}
    outcome = collector.send(batch)
    assert not outcome.sent and "AGENT_DESK_CELERY_BROKER_URL" in (outcome.error or "")
    assert "stay retired" in NO_BROKER_NOTICE
    with pytest.raises(ValueError, match="empty"):
        collector.send(CollectionBatch(T1))
    configured = Collector.from_settings(
        Settings(AGENT_DESK_CELERY_BROKER_URL="redis://:hunter2@redis:6379/1", AGENT_DESK_COLLECT_QUEUE="q2")
    )
    assert configured.enabled and configured.queue == "q2"
    assert configured.broker_label == "redis://:***@redis:6379/1"
    assert mask_broker_url("sentinel://:pw@a:26379;sentinel://:pw@b:26379") == (
        "sentinel://:***@a:26379;sentinel://:***@b:26379"
    )


# --- a real broker and a real worker -----------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    try:
        server = start_redis()
    except RedisUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def worker(redis_server: RedisServer) -> Iterator[CeleryWorker]:
    started = start_worker(redis_server)
    yield started
    started.stop()


@pytest.fixture
def audit_engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    migrate.upgrade(engine, "app")
    yield engine
    engine.dispose()


def test_the_real_worker_receives_exactly_the_retired_ids_with_the_tenant(
    worker: CeleryWorker, redis_server: RedisServer, audit_engine: sa.Engine
) -> None:
    collector = Collector(broker_url=redis_server.url(0), queue="retention")
    batches = [
        *plan_collection(tenant_id=T1, retired_workspaces={W1: [B2, B1, B1]}, home_snapshot_ids=[H1]),
        *plan_collection(tenant_id=T2, retired_bindings={W2: [B3]}),
    ]
    results = send_and_record(
        audit_engine,
        actor=OPS,
        batches=batches,
        reason="ticket 42",
        collector=collector,
        related_action_id=None,
    )
    assert [r.outcome.sent for r in results] == [True, True, True]
    received = [worker.received() for _ in batches]
    assert worker.pending() == 0  # nothing more than one message per batch
    assert {r["task"] for r in received} == {TASK_NAME}
    assert {r["routing_key"] for r in received} == {"retention"}
    assert all(r["args"] == [] for r in received)  # keyword arguments only
    assert sorted((r["kwargs"] for r in received), key=_canonical) == sorted(
        [
            {"tenant_id": T1, "workspace_ids": [W1], "binding_ids": [B1, B2], "home_snapshot_ids": []},
            {"tenant_id": T1, "workspace_ids": [], "binding_ids": [], "home_snapshot_ids": [H1]},
            {"tenant_id": T2, "workspace_ids": [], "binding_ids": [B3], "home_snapshot_ids": []},
        ],
        key=_canonical,
    )
    with audit_engine.connect() as conn:
        actions = conn.execute(sa.select(AuditAction).order_by(AuditAction.created_at, AuditAction.id)).all()
        closing = conn.execute(sa.select(AuditBatch.outcome, AuditBatch.detail)).all()
        targets = set(conn.execute(sa.select(AuditTarget.target_id, AuditTarget.tenant_id)).all())
    assert [(a.action, a.tenant_id, a.actor, a.reason) for a in actions] == [
        (COLLECT_ACTION, T1, OPS.identity, "ticket 42"),
        (COLLECT_ACTION, T1, OPS.identity, "ticket 42"),
        (COLLECT_ACTION, T2, OPS.identity, "ticket 42"),
    ]
    assert {o for o, _ in closing} == {"sent"}
    assert {json.loads(d)["task_id"] for _, d in closing} == {r.outcome.task_id for r in results}
    assert targets == {(W1, T1), (B1, T1), (B2, T1), (H1, T1), (B3, T2)}


def test_a_down_broker_fails_fast_with_a_clear_audited_error(audit_engine: sa.Engine) -> None:
    port = free_port()  # nothing listens there
    collector = Collector(broker_url=f"redis://:s3cret-pw@127.0.0.1:{port}/0")
    batch = CollectionBatch(T1, workspace_ids=[W1], binding_ids=[B1])
    outcome = collector.send(batch)
    assert not outcome.sent and outcome.task_id is None
    assert outcome.error and outcome.error.startswith("enqueue failed")
    assert f"127.0.0.1:{port}" in outcome.error and "s3cret-pw" not in outcome.error
    with audit_engine.begin() as conn:
        action_id = record_enqueue(
            conn, actor=OPS, outcome=outcome, reason="ticket 43", broker_label=collector.broker_label
        )
    with audit_engine.connect() as conn:
        action = conn.execute(sa.select(AuditAction).where(AuditAction.id == action_id)).one()
        closing = conn.execute(sa.select(AuditBatch).where(AuditBatch.action_id == action_id)).one()
        targets = conn.execute(sa.select(AuditTarget.target_id).where(AuditTarget.action_id == action_id))
        assert sorted(targets.scalars()) == sorted([W1, B1])  # one row per id: its history shows it
    assert closing.outcome == "failed" and closing.skipped == 2 and closing.applied == 0
    detail = json.loads(closing.detail)
    assert detail["error"] == outcome.error and detail["kwargs"] == batch.kwargs()
    assert "s3cret-pw" not in action.filter and json.loads(action.filter)["broker"].startswith(
        "redis://:***@"
    )


def test_a_silent_broker_times_out_instead_of_hanging() -> None:
    """A port that accepts connections and never answers (a hung broker): bounded by the read timeout."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        collector = Collector(broker_url=f"redis://127.0.0.1:{port}/0", connect_timeout=0.5, read_timeout=0.5)
        done: list = []
        sender = threading.Thread(
            target=lambda: done.append(collector.send(CollectionBatch(T1, binding_ids=[B1])))
        )
        sender.start()
        sender.join(timeout=60)  # a bound on a hang, not a speed assertion
    assert done, "send() did not return: a silent broker hung it"
    assert not done[0].sent and "enqueue failed" in done[0].error


# --- collect again: re-read, gate, send only what is still retired ------------------------------------

W3 = "0190a000-0000-7000-8000-000000000003"
W5 = "0190a000-0000-7000-8000-000000000005"
B4 = "0190a000-0000-7000-8000-000000000014"
MISSING = "0190a000-0000-7000-8000-0000000000ff"
APP = "0190a000-0000-7000-8000-0000000000a1"
AGENT = "0190a000-0000-7000-8000-0000000000a2"


def _working_environments(url: str) -> sa.Engine:
    """The three 1.17 tables and the audit tables; T1: W1 retired (B1, B2 retired), W3 active (B3 retired,
    B4 active), H1 retired, H2 active; T2: W5 retired."""
    engine = sa.create_engine(url)
    DifyBase.metadata.create_all(engine, tables=[m.__table__ for m in WORKSPACE_TABLES])
    migrate.upgrade(engine, "app")
    then = datetime(2026, 11, 1, 8, 0, 0)

    def workspace(wid: str, tenant: str, retired: bool) -> dict:
        return {
            "id": wid, "tenant_id": tenant, "app_id": APP, "owner_type": "conversation", "owner_id": wid,
            "owner_scope_key": "root", "backend_workspace_ref": f"ref-{wid}",
            "status": "retired" if retired else "active", "active_guard": None if retired else 1,
            "retired_at": then if retired else None, "created_at": then, "updated_at": then,
        }  # fmt: skip

    def binding(bid: str, wid: str, retired: bool) -> dict:
        return {
            "id": bid, "tenant_id": T1, "app_id": APP, "workspace_id": wid, "agent_id": AGENT,
            "agent_config_version_id": AGENT, "agent_config_version_kind": "snapshot",
            "backend_binding_ref": f"ref-{bid}", "status": "retired" if retired else "active",
            "retired_at": then if retired else None, "created_at": then, "updated_at": then,
        }  # fmt: skip

    def home(hid: str, retired: bool) -> dict:
        return {
            "id": hid, "tenant_id": T1, "agent_id": AGENT, "snapshot_ref": f"ref-{hid}", "created_at": then,
            "status": "retired" if retired else "active", "retired_at": then if retired else None,
        }  # fmt: skip

    with engine.begin() as conn:
        conn.execute(
            sa.insert(AgentWorkspace),
            [workspace(W1, T1, True), workspace(W3, T1, False), workspace(W5, T2, True)],
        )
        conn.execute(
            sa.insert(AgentWorkspaceBinding),
            [binding(B1, W1, True), binding(B2, W1, True), binding(B3, W3, True), binding(B4, W3, False)],
        )
        conn.execute(sa.insert(AgentHomeSnapshot), [home(H1, True), home(H2, False)])
    return engine


ASKED = {
    "workspace_ids": [W1, W3, W5, MISSING],
    "binding_ids": [B1, B2, B3, B4],
    "home_snapshot_ids": [H1, H2],
}


def test_collect_again_sends_only_rows_still_retired_to_the_real_worker(
    worker: CeleryWorker, redis_server: RedisServer, pg_url: str
) -> None:
    engine = _working_environments(pg_url)
    guarded = create_engine(pg_url, Settings(_env_file=None))  # the app's engine: its write guard passes this
    collector = Collector(broker_url=redis_server.url(0))
    result = collect_again(
        guarded, actor=OPS, tenant_id=T1, **ASKED, reason="uncollected for 3 days", collector=collector,
        block_reason=None,
    )  # fmt: skip
    expected = [
        {"tenant_id": T1, "workspace_ids": [W1], "binding_ids": [B1, B2], "home_snapshot_ids": []},
        {"tenant_id": T1, "workspace_ids": [], "binding_ids": [B3], "home_snapshot_ids": []},  # W3 is active
        {"tenant_id": T1, "workspace_ids": [], "binding_ids": [], "home_snapshot_ids": [H1]},
    ]
    assert [b.kwargs() for b in result.plan.batches] == expected
    assert sorted(result.plan.skipped) == sorted([W3, W5, MISSING, B4, H2])  # active, other tenant, gone
    assert len(result.sent) == 3 and not result.failed
    received = [worker.received() for _ in expected]
    assert worker.pending() == 0
    assert sorted((r["kwargs"] for r in received), key=_canonical) == sorted(expected, key=_canonical)
    with engine.connect() as conn:
        filters = conn.execute(sa.select(AuditAction.filter).where(AuditAction.action == COLLECT_ACTION))
        assert {json.loads(f)["trigger"] for f in filters.scalars()} == {"collect_again"}
        still = conn.execute(sa.select(sa.func.count()).select_from(AgentWorkspaceBinding)).scalar_one()
    assert still == 4  # Agent Desk never deletes: only the collector does
    guarded.dispose()
    engine.dispose()


def test_collect_again_is_gated_before_anything_is_read_or_sent(tmp_path: Path) -> None:
    engine = _working_environments(f"sqlite:///{tmp_path / 'w.sqlite'}")
    down = Collector(broker_url=f"redis://127.0.0.1:{free_port()}/0")
    common = {"tenant_id": T1, **ASKED, "collector": down}
    with pytest.raises(ValueError, match="reason"):
        collect_again(engine, actor=OPS, reason=" ", block_reason=None, **common)
    with pytest.raises(NotAllowed):
        collect_again(
            engine, actor=Actor("v@example.org", Role.VIEWER), reason="r", block_reason=None, **common
        )
    with pytest.raises(NotAllowed):  # an operator scoped to another workspace
        collect_again(
            engine, actor=Actor("o@x.org", Role.OPERATOR, T2), reason="r", block_reason=None, **common
        )
    with pytest.raises(WritesDisabled):
        collect_again(engine, actor=OPS, reason="r", block_reason="read-only mode", **common)
    with pytest.raises(CollectorUnavailable):
        collect_again(
            engine, actor=OPS, reason="r", block_reason=None, **{**common, "collector": Collector()}
        )
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(AuditAction)).scalar_one() == 0
    # A broker that is down: each message audited as failed, the rows stay retired.
    result = collect_again(engine, actor=OPS, reason="r", block_reason=None, **common)
    assert len(result.failed) == 3 and not result.sent
    with engine.connect() as conn:
        outcomes = conn.execute(sa.select(AuditBatch.outcome)).scalars().all()
        statuses = set(
            conn.execute(sa.select(AgentWorkspace.status).where(AgentWorkspace.id == W1)).scalars()
        )
    assert outcomes == ["failed"] * 3 and {str(s) for s in statuses} == {"retired"}
    engine.dispose()
