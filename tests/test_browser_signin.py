"""Real sign-in, end to end: chromium signs in through `st.login` against a real OpenID Connect provider.

One provider (`tests/oidc/provider.mjs`, node-oidc-provider on a free loopback port over plain http:
neither Streamlit nor Authlib's client insists on https) and one `streamlit run app.py` with AGENT_DESK_AUTH=true serve the whole
module. The `[auth]` section lives in a temporary secrets file passed with `--secrets.files`, so the
repository's `.streamlit/` is never touched. Roles come from the ID token's `email` and `email_verified`
claims through the role lists below; nothing about the identity is injected by the test.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from data.demo import DemoIds
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, ROOT, free_port

pytestmark = pytest.mark.browser

OIDC_DIR = ROOT / "tests" / "oidc"
CLIENT_ID = "agent-desk"  # static client of provider.mjs
CLIENT_SECRET = "agent-desk-test-secret"
ROLE_ENV = {
    "AGENT_DESK_VIEWERS": "vera@viewers.test",
    # A domain entry: matches only an email the provider marked verified (olga yes, uma no).
    "AGENT_DESK_OPERATORS": "@ops.test",
    "AGENT_DESK_ADMINS": "ada@admins.test",
}
SIGN_IN_TEXT = "Sign in with your organization's account to continue."
# Every page of the app, as a cold deep link (the agent page with a real demo agent).
DEEP_LINKS = [
    "/roster",
    f"/agent?agent={DemoIds.SHOWCASE_AGENT}",
    "/compare",
    "/bindings",
    "/health",
    "/sessions",
    "/audit",
    "/",
]
# Text that only a rendered page (data or app frame) shows; none of it may appear before sign-in.
DATA_MARKERS = ["Acme Support Assistant", "Northwind Health", "Demo database", "Agent roster", "Data as of"]
CLEAN_FILTER = "Preview cleanup of everything matching this filter"


@dataclass(frozen=True)
class Servers:
    app: str
    issuer: str


def shown(text: str) -> re.Pattern[str]:
    """`text` as the page shows it: identities carry an invisible word joiner after "@" (ui/render.py
    neutralizes e-mail autolinks that way), which a person never sees."""
    return re.compile(re.escape(text).replace("@", "@\u2060?"))


def _start_provider(redirect_uri: str) -> tuple[subprocess.Popen[str], str]:
    node = shutil.which("node")
    if node is None or not (OIDC_DIR / "node_modules" / "oidc-provider").exists():
        pytest.fail(
            "the test OIDC provider needs Node.js and `npm ci` in tests/oidc (./scripts/test does it)"
        )
    proc = subprocess.Popen(
        [node, "provider.mjs"],
        cwd=OIDC_DIR,
        env={**os.environ, "REDIRECT_URI": redirect_uri},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    # The provider prints warnings, then `issuer <url>` once it listens.
    for line in proc.stdout:
        if line.startswith("issuer "):
            return proc, line.split()[1]
    proc.kill()
    pytest.fail("the OIDC provider exited before it listened")


def _wait_healthy(proc: subprocess.Popen[bytes], base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{base}/_stcore/health", timeout=1).read() == b"ok":
                return
        except OSError:
            time.sleep(0.2)
    proc.kill()
    pytest.fail("streamlit did not become healthy: " + (proc.stdout.read() or b"").decode()[-2000:])


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory, seeded_sqlite_file: Path) -> Iterator[Servers]:
    tmp = tmp_path_factory.mktemp("signin")
    port = free_port()
    app = f"http://127.0.0.1:{port}"
    redirect_uri = f"{app}/oauth2callback"
    provider, issuer = _start_provider(redirect_uri)

    secrets_file = tmp / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        f'redirect_uri = "{redirect_uri}"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        f'client_id = "{CLIENT_ID}"\n'
        f'client_secret = "{CLIENT_SECRET}"\n'
        f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n'
    )
    data_dir = tmp / "agent-desk"
    data_dir.mkdir()
    shutil.copy(seeded_sqlite_file, data_dir / "demo.sqlite")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENT_DESK_") and k != "DATABASE_URL"}
    env.update(ROLE_ENV, AGENT_DESK_AUTH="true", AGENT_DESK_DATA_DIR=str(data_dir))
    # Authlib's httpx client must reach the provider directly, never through a configured proxy.
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    streamlit = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
            # The [auth] section comes from this file only, not from the repository's .streamlit/.
            "--secrets.files",
            str(secrets_file),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_healthy(streamlit, app)
        yield Servers(app=app, issuer=issuer)
    finally:
        for proc in (streamlit, provider):
            proc.terminate()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is required for browser tests: apt-get install -y chromium")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser context per test: its own cookie jar, so no sign-in leaks between tests."""
    context = browser.new_context()
    yield context.new_page()
    context.close()


def body_text(page) -> str:
    return page.locator("body").inner_text()


def wait_for_sign_in_only(page) -> None:
    page.get_by_text(SIGN_IN_TEXT).wait_for(timeout=30_000)
    page.get_by_role("button", name="Sign in").wait_for(timeout=10_000)


def sign_in(page, servers: Servers, account: str) -> None:
    """Sign in from the app's gate through the provider's login form; ends back on the app."""
    page.goto(servers.app + "/")
    wait_for_sign_in_only(page)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{servers.issuer}/interaction/**", timeout=30_000)
    page.get_by_label("Account").fill(account)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(servers.app + "/", timeout=30_000)


def sidebar(page):
    return page.locator('[data-testid="stSidebar"]')


def test_every_cold_deep_link_shows_only_the_sign_in(servers: Servers, page) -> None:
    # First in the module: the very first request after the server start is a deep link.
    for link in DEEP_LINKS:
        page.goto(servers.app + link)
        wait_for_sign_in_only(page)
        text = body_text(page)
        assert [m for m in DATA_MARKERS if m in text] == [], link
        assert page.locator('[data-testid="stSidebarNav"]').count() == 0, link
        assert [b.inner_text() for b in page.get_by_role("button").all() if b.is_visible()] == ["Sign in"]


@pytest.mark.parametrize(
    ("account", "email", "role"),
    [
        ("vera", "vera@viewers.test", "viewer"),
        ("olga", "olga@ops.test", "operator"),
    ],
)
def test_role_from_the_email_claim(servers: Servers, page, account: str, email: str, role: str) -> None:
    sign_in(page, servers, account)
    sidebar(page).get_by_text(shown(f"Signed in: {email} ({role})")).wait_for(timeout=30_000)
    assert "Roster" in page.locator('[data-testid="stSidebarNav"]').inner_text()

    # The same browser now opens a deep link directly: the identity cookie carries the sign-in.
    page.goto(servers.app + "/sessions")
    clean = page.get_by_role("button", name=CLEAN_FILTER)
    if role == "viewer":
        # A viewer sees no cleanup control at all, only the sentence saying why.
        page.get_by_text("your role (viewer) may not clean sessions here").first.wait_for(timeout=30_000)
        assert page.get_by_role("button", name="Preview cleanup").count() == 0
    else:
        clean.wait_for(timeout=30_000)
        assert clean.is_enabled()
        assert "may not clean sessions" not in body_text(page)


@pytest.mark.parametrize(
    ("account", "email"),
    [
        ("eve", "eve@outside.test"),  # on no list
        ("uma", "uma@ops.test"),  # @ops.test is listed, but the provider did not verify this email
    ],
)
def test_unlisted_identity_is_denied(servers: Servers, page, account: str, email: str) -> None:
    sign_in(page, servers, account)
    page.get_by_text("Access denied").first.wait_for(timeout=30_000)
    page.get_by_text(shown(f"{email} is signed in but has no Agent Desk role.")).wait_for(timeout=10_000)
    assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    # A deep link does not get past the gate either.
    page.goto(servers.app + "/roster")
    page.get_by_text("Access denied").first.wait_for(timeout=30_000)
    text = body_text(page)
    assert [m for m in DATA_MARKERS if m in text] == []


def test_admin_signs_in_and_out(servers: Servers, page) -> None:
    sign_in(page, servers, "ada")
    sidebar(page).get_by_text(shown("Signed in: ada@admins.test (admin)")).wait_for(timeout=30_000)
    assert "Audit" in page.locator('[data-testid="stSidebarNav"]').inner_text()
    sidebar(page).get_by_role("button", name="Sign out").click()
    # Streamlit clears its identity cookie and sends the browser to the provider's end-session page.
    page.wait_for_url(f"{servers.issuer}/session/end**", timeout=30_000)
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(servers.app + "/", timeout=30_000)
    wait_for_sign_in_only(page)
    # Signed out for good: a deep link shows the sign-in again, and no data.
    page.goto(servers.app + "/audit")
    wait_for_sign_in_only(page)
    text = body_text(page)
    assert [m for m in DATA_MARKERS if m in text] == []
