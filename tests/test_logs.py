"""Structured logs: one record per write and per refusal, with the right fields, and never a secret,
an email or a typed reason (data/logs.py). Real databases (SQLite copies of the demo, PostgreSQL for
the lock timeout), real formatters."""

from __future__ import annotations

import io
import json
import logging
import shutil
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from data import logs
from data.actor import Actor, NotAllowed, Role, WritesDisabled
from data.commands import sessions as commands
from data.db import create_engine
from data.demo import DemoIds
from data.errors import AgentDeskError, InvalidCursor, NotPermitted
from data.guard import require_write
from data.models import AgentRuntimeSession
from data.schema_check import check_schema
from data.services import check_jobs, integrity
from data.services.collector import Collector, plan_collection, send_and_record
from data.settings import Settings
from tests.conftest import NOW, _seed

S = AgentRuntimeSession
EMAIL = "ops.person@example.org"
OPERATOR = Actor(EMAIL, Role.OPERATOR)
ADMIN = Actor("the.admin@example.org", Role.ADMIN)
SECRET = "sk-live-PLANTEDa1b2c3d4e5f6a7b8c9d0"  # planted in a prompt, a reason and a broker URL
REASON = f"ticket 4711, pasted key {SECRET}"
IDS = [DemoIds.FINISHED_RUN_SESSION, DemoIds.IDLE_SESSION]


@pytest.fixture
def db_url(seeded_sqlite_file: Path, tmp_path: Path) -> str:
    target = tmp_path / "logs.sqlite"
    shutil.copy(seeded_sqlite_file, target)
    url = f"sqlite:///{target}"
    raw = sa.create_engine(url)  # the test's own hand: plant a secret in a session's prompt
    with raw.begin() as conn:
        conn.execute(
            sa.update(S)
            .where(S.id.in_(IDS))
            .values(session_snapshot=json.dumps({"messages": [{"role": "user", "content": f"use {SECRET}"}]}))
        )
    raw.dispose()
    return url


@pytest.fixture
def guarded(db_url: str) -> Iterator[sa.Engine]:
    engine = create_engine(db_url, Settings())
    yield engine
    engine.dispose()


@pytest.fixture
def captured(
    caplog: pytest.LogCaptureFixture,
) -> Iterator[tuple[pytest.LogCaptureFixture, io.StringIO, io.StringIO]]:
    """caplog, plus what the key=value and the JSON formatters print for the same records."""
    caplog.set_level(logging.INFO, logger=logs.ROOT)
    kv, js = io.StringIO(), io.StringIO()
    handlers = []
    for stream, formatter in ((kv, logs.KeyValueFormatter()), (js, logs.JsonFormatter())):
        handler = logging.StreamHandler(stream)
        handler.setFormatter(formatter)
        logging.getLogger(logs.ROOT).addHandler(handler)
        handlers.append(handler)
    yield caplog, kv, js
    for handler in handlers:
        logging.getLogger(logs.ROOT).removeHandler(handler)


def records(
    caplog: pytest.LogCaptureFixture, operation: str, outcome: str | None = None
) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if getattr(r, "operation", None) == operation and (outcome is None or r.outcome == outcome)
    ]


def assert_clean(caplog: pytest.LogCaptureFixture, *streams: io.StringIO) -> None:
    """No secret, no email, no typed reason anywhere in the output, records included."""
    texts = [s.getvalue() for s in streams] + [caplog.text] + [repr(vars(r)) for r in caplog.records]
    for text in texts:
        assert SECRET not in text and "example.org" not in text and "ticket 4711" not in text
    for record in caplog.records:
        assert record.name.startswith("agent_desk.")


def ctx_of(engine: sa.Engine):
    with engine.connect() as conn:
        return commands.rule_context(check_schema(conn), Settings(), NOW)


def test_a_cleanup_logs_its_action_each_batch_and_its_end(guarded: sa.Engine, captured) -> None:
    caplog, kv, js = captured
    preview = commands.preview_cleanup(guarded, IDS, ctx_of(guarded))
    result = commands.apply_cleanup(
        guarded, Settings(AGENT_DESK_CLEANUP_BATCH=1), OPERATOR, preview, reason=REASON
    )
    assert result.ok and len(result.transitioned) == 2
    (done,) = records(caplog, "sessions.clean", "done")
    assert (done.rows, done.skipped, done.batches, done.action_id) == (2, 0, "2/2", result.action_id)
    assert done.role == "operator" and done.actor == logs.actor_ref(EMAIL) and done.actor.startswith("oidc:")
    assert [(r.batch, r.rows) for r in records(caplog, "sessions.clean.batch", "applied")] == [(1, 1), (2, 1)]
    (audited,) = records(caplog, "audit.action", "recorded")
    assert (audited.audit_action, audited.action_id, audited.rows) == ("sessions.clean", result.action_id, 2)
    assert not records(caplog, "write.gate")
    lines = [json.loads(line) for line in js.getvalue().splitlines()]
    assert {"operation": "sessions.clean", "outcome": "done", "rows": 2}.items() <= lines[-1].items()
    assert f"action_id={result.action_id}" in kv.getvalue().splitlines()[-1]
    assert_clean(caplog, kv, js)


def test_every_refusal_of_the_gate_is_one_warning(guarded: sa.Engine, db_url: str, captured) -> None:
    caplog, kv, js = captured
    preview = commands.preview_cleanup(guarded, IDS, ctx_of(guarded))
    with pytest.raises(NotAllowed):
        commands.apply_cleanup(
            guarded, Settings(), Actor("viewer@example.org", Role.VIEWER), preview, reason=REASON
        )
    read_only = create_engine(db_url, Settings(AGENT_DESK_READ_ONLY=True))
    with pytest.raises(WritesDisabled):
        commands.reveal_history(read_only, ADMIN, DemoIds.IDLE_SESSION, reason=REASON)
    with pytest.raises(WritesDisabled):  # the bookkeeping gate of the check jobs
        check_jobs.start_background(read_only, ["binding-missing-agent"], actor=OPERATOR)
    read_only.dispose()
    with pytest.raises(WritesDisabled):
        require_write(
            guarded, Actor("local:someone", Role.ADMIN, local_mode=True), Role.OPERATOR, tenant_id=None
        )
    refused = records(caplog, "write.gate", "refused")
    assert [(r.refusal, r.role, r.needed, r.grant) for r in refused] == [
        ("not_allowed", "viewer", "operator", "dify"),
        ("writes_disabled", "admin", "admin", "dify"),
        ("writes_disabled", "operator", "operator", "own"),
        ("writes_disabled", "admin", "operator", "dify"),
    ]
    assert all(r.levelno == logging.WARNING for r in refused)
    assert refused[1].tenant_id is not None  # the revealed session's workspace
    assert refused[3].actor.startswith("local:") and "someone" not in refused[3].actor
    assert len(caplog.records) == 4  # a refusal writes nothing, so nothing else is logged
    assert_clean(caplog, kv, js)


def test_a_row_changed_since_the_preview_is_logged_stale(guarded: sa.Engine, db_url: str, captured) -> None:
    caplog, kv, js = captured
    preview = commands.preview_cleanup(guarded, IDS, ctx_of(guarded))
    raw = sa.create_engine(db_url)  # Dify saves one of the sessions after the preview
    with raw.begin() as conn:
        conn.execute(
            sa.update(S).where(S.id == DemoIds.IDLE_SESSION).values(updated_at=NOW + timedelta(seconds=1))
        )
    raw.dispose()
    result = commands.apply_cleanup(guarded, Settings(), OPERATOR, preview, reason=REASON)
    assert result.transitioned == (DemoIds.FINISHED_RUN_SESSION,)
    (stale,) = records(caplog, "sessions.clean", "stale")
    assert (stale.rows, stale.batch, stale.levelno) == (1, 1, logging.WARNING)
    (batch,) = records(caplog, "sessions.clean.batch")
    assert (batch.rows, batch.skipped, batch.skipped_changed, batch.skipped_locked) == (1, 1, 1, 0)
    assert_clean(caplog, kv, js)


def test_a_lock_timeout_is_logged_as_such(pg_url: str, captured) -> None:
    """A Dify writer holding a table lock: the batch's lock wait hits the 200 ms timeout and rolls back."""
    caplog, kv, js = captured
    url = _seed(pg_url)
    engine = create_engine(url, Settings())
    preview = commands.preview_cleanup(engine, IDS, ctx_of(engine))
    dify = sa.create_engine(url)
    try:
        with dify.connect() as holder:
            holder.execute(sa.text("LOCK TABLE agent_runtime_sessions IN ACCESS EXCLUSIVE MODE"))
            result = commands.apply_cleanup(engine, Settings(), OPERATOR, preview, reason=REASON)
            holder.rollback()
    finally:
        dify.dispose()
        engine.dispose()
    assert not result.ok and result.transitioned == ()
    (timeout,) = records(caplog, "sessions.clean.batch", "lock_timeout")
    assert (timeout.batch, timeout.error_type, timeout.action_id) == (1, "OperationalError", result.action_id)
    (failed,) = records(caplog, "sessions.clean", "failed")
    assert failed.rows == 0 and failed.levelno == logging.ERROR
    assert_clean(caplog, kv, js)


def test_the_audited_reveal_logs_its_audit_row_not_the_history(guarded: sa.Engine, captured) -> None:
    caplog, kv, js = captured
    revealed = commands.reveal_history(guarded, ADMIN, DemoIds.IDLE_SESSION, reason=REASON)
    assert SECRET not in json.dumps(revealed.snapshot)  # masked even when revealed
    (audited,) = records(caplog, "audit.action", "recorded")
    assert (audited.audit_action, audited.role) == ("session.reveal_history", "admin")
    assert audited.tenant_id and audited.action_id == revealed.action_id
    assert_clean(caplog, kv, js)


def test_check_jobs_log_their_claim_and_their_end(guarded: sa.Engine, captured) -> None:
    caplog, kv, js = captured
    with guarded.connect() as conn:
        present = integrity.present_names(conn)
    name = check_jobs.whole_table_checks(None, present)[0].name
    outcome = check_jobs.run_now(guarded, name, actor=OPERATOR)
    (claim,) = records(caplog, "checks.claim", "claimed")
    (finish,) = records(caplog, "checks.finish")
    assert claim.run_id == finish.run_id == outcome.run_id and claim.check == finish.check == name
    assert (finish.outcome, finish.rows, finish.found) == (outcome.status, outcome.rows_read, outcome.found)
    assert claim.role == "operator" and claim.tenant_id is None
    assert_clean(caplog, kv, js)


def test_a_failed_hand_off_is_logged_without_the_broker_password(guarded: sa.Engine, captured) -> None:
    caplog, kv, js = captured
    collector = Collector(
        broker_url=f"redis://:{SECRET}@127.0.0.1:1/0", connect_timeout=0.5, read_timeout=0.5
    )
    grant = require_write(guarded, OPERATOR, Role.OPERATOR, tenant_id=DemoIds.TENANT_ACME)
    plans = plan_collection(
        tenant_id=DemoIds.TENANT_ACME,
        retired_workspaces={str(uuid.uuid4()): [str(uuid.uuid4()), str(uuid.uuid4())]},
    )
    (sent,) = send_and_record(guarded, grant=grant, batches=plans, reason=REASON, collector=collector)
    assert not sent.outcome.sent
    (record,) = records(caplog, "collect.enqueue")
    assert (record.outcome, record.rows, record.trigger, record.tenant_id) == (
        "failed",
        3,
        "retire",
        DemoIds.TENANT_ACME,
    )
    assert record.action_id == sent.audit_action_id
    assert_clean(caplog, kv, js)


def test_the_event_helper_refuses_fields_that_could_leak() -> None:
    log = logs.get_logger("test")
    with pytest.raises(ValueError, match="unknown log field"):
        logs.event(log, "x", "y", prompt="hello")
    with pytest.raises(ValueError, match="short token"):
        logs.event(log, "x", "y", tenant_id=EMAIL)
    assert logs.actor_ref("cli:alice").startswith("cli:") and "alice" not in logs.actor_ref("cli:alice")
    assert logs.actor_ref(EMAIL) == logs.actor_ref(EMAIL) != logs.actor_ref("other@example.org")


def test_configure_prints_one_line_per_record_in_either_format() -> None:
    for fmt in ("kv", "json"):
        stream = io.StringIO()
        try:
            assert logs.configure("INFO", fmt, stream=stream)
            logs.configure("INFO", fmt, stream=stream)  # idempotent: still one handler
            logs.event(logs.get_logger("test"), "demo.op", "done", rows=3, tenant_id="t-1")
        finally:
            root = logging.getLogger(logs.ROOT)
            for handler in list(root.handlers):
                if handler.get_name() == "agent_desk.configured":
                    root.removeHandler(handler)
            root.setLevel(logging.NOTSET)
        (line,) = stream.getvalue().splitlines()
        if fmt == "json":
            assert {"logger": "agent_desk.test", "operation": "demo.op", "rows": 3}.items() <= json.loads(
                line
            ).items()
        else:
            assert line.endswith(
                "agent_desk.test demo.op done operation=demo.op outcome=done rows=3 tenant_id=t-1"
            )
    assert logs.configure(None) is False and logs.configure("") is False


def test_one_exception_hierarchy() -> None:
    from data.services.audit import AuditUnavailable
    from data.services.collector import CollectorUnavailable
    from data.stores import roster, sessions, workspaces

    assert roster.InvalidCursor is sessions.InvalidCursor is workspaces.InvalidCursor is InvalidCursor
    assert issubclass(InvalidCursor, ValueError) and issubclass(InvalidCursor, AgentDeskError)
    for cls in (NotAllowed, WritesDisabled):
        assert issubclass(cls, NotPermitted) and issubclass(cls, PermissionError)
    for cls in (AuditUnavailable, CollectorUnavailable, check_jobs.JobsUnavailable):
        assert issubclass(cls, AgentDeskError) and issubclass(cls, RuntimeError)
