"""Readiness before action (data/readiness.py): every precondition at once, each with its fix."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from data.actor import Actor, Role
from data.readiness import FAIL, PASS, WARN, ReadinessFacts, preconditions, ready
from tests.test_workspaces import seeded_workspaces_url, workspaces_app  # noqa: F401 (fixtures)

OPERATOR = Actor(identity="op@example.com", role=Role.OPERATOR)
BASE = ReadinessFacts(
    action="cleanup",
    actor=OPERATOR,
    tenant_id=None,
    audit_tables=True,
    read_only=False,
    allow_writes=False,
    is_demo=False,
    broker_configured=False,
    has_replica=False,
)


def states(facts: ReadinessFacts) -> dict[str, str]:
    return {c.name: c.state for c in preconditions(facts)}


def test_all_pass_for_an_operator_with_audit_tables() -> None:
    checks = preconditions(BASE)
    assert [c.name for c in checks] == [
        "Audit tables migrated",
        "Read-only mode off",
        "Write permission",
        "Role: operator or admin",
        "Replica lag",
    ]
    assert all(c.state == PASS for c in checks) and ready(checks)


def test_every_failure_is_listed_at_once_with_its_fix() -> None:
    viewer = Actor(identity="v@example.com", role=Role.VIEWER)
    checks = preconditions(replace(BASE, actor=viewer, audit_tables=False, read_only=True))
    failing = {c.name: c.fix for c in checks if c.state == FAIL}
    assert failing == {
        "Audit tables migrated": "python -m data migrate",
        "Read-only mode off": "AGENT_DESK_READ_ONLY=false",
        "Role: operator or admin": "AGENT_DESK_OPERATORS=v@example.com",
    }
    assert not ready(checks)


def test_local_mode_needs_allow_writes_outside_the_demo() -> None:
    local = Actor(identity="local", role=Role.ADMIN, local_mode=True)
    assert states(replace(BASE, actor=local))["Write permission"] == FAIL
    assert states(replace(BASE, actor=local, is_demo=True))["Write permission"] == PASS
    fix = next(c.fix for c in preconditions(replace(BASE, actor=local)) if c.name == "Write permission")
    assert fix == "AGENT_DESK_ALLOW_WRITES=true"


def test_workspace_scope_must_match() -> None:
    scoped = Actor(identity="op@example.com", role=Role.OPERATOR, tenant_id="t1")
    assert states(replace(BASE, actor=scoped))["Role: operator or admin"] == FAIL
    assert states(replace(BASE, actor=scoped, tenant_id="t1"))["Role: operator or admin"] == PASS


def test_retire_asks_for_the_broker_and_replica_lag_warns_without_blocking() -> None:
    retire = replace(BASE, action="retire", has_replica=True, replica_lagging=True, replica_summary="behind.")
    checks = preconditions(retire)
    assert states(retire)["Broker configured for collection"] == WARN
    assert states(retire)["Replica lag"] == WARN and ready(checks)  # warnings never block
    lag = next(c for c in checks if c.name == "Replica lag")
    assert lag.language == "sql" and "pg_last_xact_replay_timestamp" in lag.fix
    assert states(replace(retire, broker_configured=True))["Broker configured for collection"] == PASS
    assert "Broker configured for collection" not in states(BASE)  # cleanup (1.15-1.16) has no collector


def test_sessions_page_lists_the_preconditions_as_code(demo_app_env: Path) -> None:
    from tests.apptest_helpers import open_page

    at = open_page("sessions")
    assert not at.exception
    codes = [c.value for c in at.code]
    assert "python -m data migrate" in codes and "AGENT_DESK_READ_ONLY=false" in codes
    assert any("Ready to clean" in e.label.replace("\\", "") for e in at.expander)


def test_working_environments_page_asks_for_the_broker(workspaces_app) -> None:  # noqa: F811
    from tests.apptest_helpers import open_page

    at = open_page("sessions")
    assert not at.exception
    assert [t.value for t in at.title] == ["Working environments"]
    codes = [c.value for c in at.code]
    assert "AGENT_DESK_CELERY_BROKER_URL=redis://<dify-redis-host>:6379/1" in codes
    assert any("Ready to retire" in e.label.replace("\\", "") for e in at.expander)
