"""The audit log: its migration (portable, matches the models), the append-only write helpers, the
queries behind /audit and per-session history, and the /audit page."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from data import __version__, migrate
from data.actor import Actor, Role
from data.db import create_engine
from data.demo import DemoIds
from data.models import AppBase, naive_utc_now
from data.schema_check import check_schema
from data.services import audit as audit_service
from data.services.cleanup import apply_cleanup, preview_cleanup
from data.services.export import to_csv
from data.services.leaks import RuleContext
from data.settings import Settings
from data.stores import audit as audit_store
from tests.apptest_helpers import all_text, open_page
from tests.conftest import NOW

OPS = Actor("ops@example.org", Role.OPERATOR)
CRON = Actor("cli:cron", Role.OPERATOR, local_mode=True)


def test_app_branch_creates_exactly_the_audit_models(empty_url: str) -> None:
    engine = sa.create_engine(empty_url)
    migrate.upgrade(engine, "app")
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = [
            d
            for d in compare_metadata(context, AppBase.metadata)
            if "agent_desk_alembic_version" not in str(d)
        ]
        tables = set(sa.inspect(conn).get_table_names()) - {"agent_desk_alembic_version"}
        target_indexes = {i["name"] for i in sa.inspect(conn).get_indexes("agent_desk_audit_targets")}
    assert diff == []
    own = ("agent_desk_audit", "agent_desk_check_")  # the audit log and the check jobs (a0003)
    assert tables == set(AppBase.metadata.tables) and all(t.startswith(own) for t in tables)
    assert "agent_desk_audit_targets_target_idx" in target_indexes  # per-session history by id
    migrate.downgrade(engine, "app")
    assert not {t for t in sa.inspect(engine).get_table_names() if t.startswith("agent_desk_audit")}
    migrate.upgrade(engine, "app")
    assert migrate.current(engine, "app") == "a0003_check_runs"
    engine.dispose()


@pytest.fixture
def audit_db(tmp_path: Path, seeded_sqlite_file: Path) -> Iterator[sa.Engine]:
    path = tmp_path / "audit.sqlite"
    shutil.copy(seeded_sqlite_file, path)
    engine = sa.create_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


def record(
    engine: sa.Engine,
    actor: Actor,
    action: str,
    *,
    tenant: str | None,
    targets: list[str],
    days_ago: int,
    close: bool = True,
    rule: str | None = None,
) -> str:
    with engine.begin() as conn:
        action_id = audit_service.start_action(
            conn,
            actor=actor,
            action=action,
            reason=f"{action} by {actor.identity}",
            tenant_id=tenant,
            rule=rule,
            filter={"rule": rule} if rule else None,
            requested=len(targets) + 1,
            now=NOW - timedelta(days=days_ago),
        )
        audit_service.record_targets(
            conn, action_id, [{"target_id": t, "tenant_id": tenant} for t in targets]
        )
        audit_service.record_batch(
            conn, action_id, batch_no=1, applied=len(targets), skipped=1, outcome="applied"
        )
        if close:
            audit_service.record_batch(
                conn, action_id, batch_no=None, applied=len(targets), skipped=1, outcome="done"
            )
    return action_id


def test_list_actions_filters_and_derives_counts(audit_db: sa.Engine) -> None:
    acme, northwind = DemoIds.TENANT_ACME, DemoIds.TENANT_NORTHWIND
    first = record(
        audit_db,
        OPS,
        "sessions.clean",
        tenant=acme,
        targets=[DemoIds.IDLE_SESSION, DemoIds.FINISHED_RUN_SESSION],
        days_ago=10,
        rule="idle",
    )
    second = record(
        audit_db,
        CRON,
        "sessions.clean",
        tenant=northwind,
        targets=[DemoIds.SUPERSEDED_SESSION],
        days_ago=2,
        close=False,
    )
    third = record(
        audit_db, OPS, "session.reveal_history", tenant=acme, targets=[DemoIds.IDLE_SESSION], days_ago=1
    )
    with audit_db.connect() as conn:

        def ids(**kwargs) -> list[str]:
            return [e.id for e in audit_store.list_actions(conn, audit_store.AuditFilter(**kwargs))]

        assert ids() == [third, second, first]  # newest first
        assert ids(actor="CRON") == [second]  # case-insensitive substring
        assert ids(action="session.reveal_history") == [third]
        assert ids(tenant_id=acme) == [third, first]
        assert ids(target=DemoIds.IDLE_SESSION) == [third, first]  # an affected id
        assert ids(target=first) == [first]  # the action's own id
        assert ids(date_from=(NOW - timedelta(days=3)).date()) == [third, second]
        assert ids(date_to=(NOW - timedelta(days=5)).date()) == [first]
        entries = {e.id: e for e in audit_store.list_actions(conn, audit_store.AuditFilter())}
        history = audit_store.session_history(conn, DemoIds.IDLE_SESSION)
    assert (entries[first].requested, entries[first].applied, entries[first].skipped) == (3, 2, 1)
    assert entries[first].outcome == "done" and entries[second].outcome == "interrupted"
    assert entries[first].app_version == __version__ and entries[first].rule == "idle"
    assert [h.action.id for h in history] == [third, first]


def test_reason_is_required(audit_db: sa.Engine) -> None:
    with audit_db.begin() as conn, pytest.raises(ValueError, match="reason"):
        audit_service.start_action(conn, actor=OPS, action="sessions.clean", reason="  ")


def test_export_of_the_log_is_spreadsheet_safe(audit_db: sa.Engine) -> None:
    with audit_db.begin() as conn:
        audit_service.start_action(
            conn, actor=OPS, action="sessions.clean", reason='=HYPERLINK("x") token=abc123secret'
        )
    with audit_db.connect() as conn:
        entries = audit_store.list_actions(conn, audit_store.AuditFilter())
    text = to_csv(["reason"], [[e.reason] for e in entries])
    cell = list(csv.reader(io.StringIO(text)))[1][0]
    assert cell.startswith("'=") and "abc123secret" not in cell


# --- the page ----------------------------------------------------------------------------------------------


def clean_two(demo_dir: Path) -> str:
    engine = create_engine(f"sqlite:///{demo_dir / 'demo.sqlite'}", Settings())  # the app's guarded engine
    with engine.connect() as conn:
        ctx = RuleContext.from_report(check_schema(conn), now=NOW, idle_days=7)
        plan = preview_cleanup(
            conn, [DemoIds.FINISHED_RUN_SESSION, DemoIds.IDLE_SESSION], ctx, source={"selection": 2}
        )
    result = apply_cleanup(engine, OPS, plan, reason="weekly sweep")
    engine.dispose()
    return result.action_id


def test_audit_page_lists_filters_and_exports(demo_app_env: Path) -> None:
    action_id = clean_two(demo_app_env)
    at = open_page("audit")
    assert not at.exception, [e.value for e in at.exception]
    frame = at.dataframe[0].value
    assert list(frame["action id"]) == [action_id]
    row = frame.iloc[0]
    assert (row["actor"], row["action"], row["requested"], row["applied"], row["outcome"]) == (
        "ops@example.org",
        "sessions.clean",
        2,
        2,
        "done",
    )
    assert row["workspace"] == "Acme Robotics"
    assert at.get("download_button"), "CSV export offered"
    at = open_page("audit", target=DemoIds.IDLE_SESSION, actor="ops", action="sessions.clean")
    assert list(at.dataframe[0].value["action id"]) == [action_id]
    at = open_page("audit", actor="nobody")
    assert at.dataframe[0].value.empty and any("No audited actions" in i.value for i in at.info)
    tomorrow = (naive_utc_now() + timedelta(days=1)).date().isoformat()
    at = open_page("audit", **{"from": tomorrow})
    assert at.dataframe[0].value.empty


def test_audit_page_ignores_invalid_parameters(demo_app_env: Path) -> None:
    at = open_page("audit", target="not-an-id", **{"from": "yesterday"})
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "target" in warnings and "from" in warnings


def test_session_detail_shows_its_audit_history(demo_app_env: Path) -> None:
    action_id = clean_two(demo_app_env)
    at = open_page("sessions", session=DemoIds.IDLE_SESSION)
    assert not at.exception
    history = at.dataframe[-1].value
    assert list(history["action id"]) == [action_id] and list(history["reason"]) == ["weekly sweep"]
    assert "active → cleaned" in all_text(at)
