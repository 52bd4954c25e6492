"""Sign-in and roles: identity -> role resolution, the access-denied page, scoped roles, local mode."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data.access import resolve_actor
from data.actor import Role
from data.demo import DemoIds
from data.settings import Settings
from tests.apptest_helpers import APP, PAGES

AUTH_SECRETS = {
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
    "cookie_secret": "test-only-cookie-secret",
    "client_id": "agent-desk-test",
    "client_secret": "test-only",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}


def settings(**env: str) -> Settings:
    return Settings(**{k: v for k, v in env.items()})


def test_role_resolution() -> None:
    config = settings(
        AGENT_DESK_VIEWERS="@example.org",
        AGENT_DESK_OPERATORS=f"ops@example.org, scoped@example.org:{DemoIds.TENANT_ACME}",
        AGENT_DESK_ADMINS="boss@example.org",
    )
    assert resolve_actor(config, email="Boss@Example.org", email_verified=False).role == Role.ADMIN
    assert resolve_actor(config, email="ops@example.org", email_verified=True).role == Role.OPERATOR
    # Domain entries need a verified email claim; exact emails do not.
    assert resolve_actor(config, email="someone@example.org", email_verified=True).role == Role.VIEWER
    assert resolve_actor(config, email="someone@example.org", email_verified=False).role == Role.NONE
    scoped = resolve_actor(config, email="scoped@example.org", email_verified=True)
    assert scoped.role == Role.OPERATOR and scoped.tenant_id == DemoIds.TENANT_ACME
    assert resolve_actor(config, email="x@evil.example.org.attacker", email_verified=True).role == Role.NONE
    assert resolve_actor(config, email=None, email_verified=True).role == Role.NONE


def signed_in_app(monkeypatch: pytest.MonkeyPatch, email: str | None, **env: str) -> AppTest:
    monkeypatch.setenv("AGENT_DESK_AUTH", "true")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = AUTH_SECRETS
    at.user = {"is_logged_in": email is not None, "email": email or "", "email_verified": True}
    return at


def test_signed_out_sees_only_the_sign_in_button(demo_app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = signed_in_app(monkeypatch, None, AGENT_DESK_VIEWERS="viewer@example.org")
    at.run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.dataframe and not at.metric


def test_unknown_identity_is_denied_by_name(demo_app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = signed_in_app(monkeypatch, "stranger@else.example", AGENT_DESK_VIEWERS="viewer@example.org")
    at.run()
    assert not at.exception
    assert at.title[0].value == "Access denied"
    assert any("stranger@else.example" in e.value.replace("\\", "").replace("\u2060", "") for e in at.error)
    assert not at.metric


@pytest.mark.parametrize("page", sorted(PAGES))
def test_viewer_sees_every_page(demo_app_env: Path, monkeypatch: pytest.MonkeyPatch, page: str) -> None:
    at = signed_in_app(monkeypatch, "viewer@example.org", AGENT_DESK_VIEWERS="viewer@example.org")
    at.run()
    at.switch_page(PAGES[page])
    at.run()
    assert not at.exception
    assert any(
        "Signed in: viewer@example.org (viewer)" in c.value.replace("\\", "").replace("\u2060", "")
        for c in at.caption
    )


def test_scoped_role_sees_only_its_workspace(demo_app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = signed_in_app(
        monkeypatch, "scoped@example.org", AGENT_DESK_VIEWERS=f"scoped@example.org:{DemoIds.TENANT_NORTHWIND}"
    )
    at.run()
    at.switch_page(PAGES["roster"])
    at.run()
    assert set(at.dataframe[0].value["workspace"]) == {"Northwind Health"}
    at.query_params["agent"] = DemoIds.SHOWCASE_AGENT  # an Acme agent
    at.switch_page(PAGES["agent"])
    at.run()
    assert any("does not cover" in e.value for e in at.error)
    assert not at.dataframe


@pytest.mark.parametrize(
    ("page", "params", "not_found"),
    [
        ("sessions", {"session": DemoIds.FINISHED_RUN_SESSION}, "No runtime session has id"),
        ("compare", {"agent": DemoIds.SHOWCASE_AGENT}, "No agent has id"),
        (
            "compare",
            {"left_snapshot": DemoIds.SHOWCASE_SNAPSHOTS[0], "right_snapshot": DemoIds.SHOWCASE_SNAPSHOTS[1]},
            None,
        ),
        ("compare", {"left_binding": DemoIds.DRIFT_BINDING, "right_binding": DemoIds.DRIFT_BINDING}, None),
        ("bindings", {"tenant": DemoIds.TENANT_ACME}, "is visible here"),
    ],
)
def test_scoped_role_gets_not_found_for_another_workspaces_record(
    demo_app_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    page: str,
    params: dict[str, str],
    not_found: str | None,
) -> None:
    """The store lookup answers "not found" (the scope is in its SQL): the page says so, shows nothing."""
    at = signed_in_app(
        monkeypatch, "scoped@example.org", AGENT_DESK_VIEWERS=f"scoped@example.org:{DemoIds.TENANT_NORTHWIND}"
    )
    at.run()
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(PAGES[page])
    at.run()
    assert not at.exception
    if not_found:
        assert any(not_found in w.value for w in at.warning), [w.value for w in at.warning]
    else:
        assert any("does not exist" in e.value for e in at.error)
    assert any("does not cover other workspaces" in e.value for e in at.error)
    assert not at.dataframe


def test_local_mode_banner(demo_app_env: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert any("Local mode" in c.value for c in at.caption)


ROLE_ENV = {
    "AGENT_DESK_VIEWERS": "viewer@example.org",
    "AGENT_DESK_OPERATORS": "operator@example.org",
    "AGENT_DESK_ADMINS": "admin@example.org",
}


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
@pytest.mark.parametrize("page", sorted(PAGES))
def test_each_role_on_each_page(
    demo_app_env: Path, monkeypatch: pytest.MonkeyPatch, role: str, page: str
) -> None:
    at = signed_in_app(monkeypatch, f"{role}@example.org", **ROLE_ENV)
    at.run()
    at.switch_page(PAGES[page])
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(f"({role})" in c.value.replace("\\", "").replace("\u2060", "") for c in at.caption)


@pytest.mark.parametrize(
    ("role", "can_clean", "can_reveal"),
    [("viewer", False, False), ("operator", True, False), ("admin", True, True)],
)
def test_session_controls_follow_the_role(
    demo_app_env: Path, monkeypatch: pytest.MonkeyPatch, role: str, can_clean: bool, can_reveal: bool
) -> None:
    at = signed_in_app(monkeypatch, f"{role}@example.org", **ROLE_ENV)
    at.run()
    at.query_params["rule"] = "finished-run"
    at.switch_page(PAGES["sessions"])
    at.run()
    assert not at.exception
    keys = {b.key for b in at.button}
    # Issue 12: a viewer sees no cleanup control at all; operators and admins get it, enabled here.
    assert ("cleanup_filter" in keys) is can_clean
    if can_clean:
        assert at.button(key="cleanup_filter").disabled is False
    at.query_params.clear()
    at.query_params["session"] = DemoIds.FINISHED_RUN_SESSION
    at.switch_page(PAGES["sessions"])
    at.run()
    assert not at.exception
    assert ("cleanup_one" in {b.key for b in at.button}) is can_clean
    if can_clean:
        assert at.button(key="cleanup_one").disabled is False
    assert at.text_input(key="reveal_reason").disabled is (not can_reveal)
    if can_reveal:
        at.text_input(key="reveal_reason").set_value("ticket 4711").run()  # a reason is required first
    assert at.button(key="reveal").disabled is (not can_reveal)
