"""In chromium: planted hostile names, notes, URLs and e-mail addresses in the demo database, and hostile
URL parameters, never become a link or an element. Counts the `<a>` elements whose target or text came
from data (zero) and checks, as a positive control, that the hostile text itself is on the page."""

from __future__ import annotations

import shutil
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from data.demo import DemoIds
from data.models import Agent, AgentConfigSnapshot
from data.models.core import App, Conversation, Tenant
from tests.streamlit_server import streamlit_server
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser

#: Every planted value carries "evil" so a link made from it is recognisable by href or text.
URL = "https://evil.example/p?x=1"
HOSTILE = (
    f"Hostile {URL} www.evil-www.example mail bob@evil-mail.example "
    "[x](https://evil-md.example/p) <a href='https://evil-html.example'>a</a> "
    "<img src=x onerror=alert(1)> **bold** :red[evil-directive]"
)
TOKEN = "sk-PLANTEDbrowserToken1234567890"
#: One planted value of each masked class (issue 12): none may reach the browser, on any view.
SECRETS = {
    "provider key": "sk_live_PLANTEDbrowser51Hx9q2LmZ",
    "private key": "MIIEvQIBADANBgkqhkiG9w0PLANTEDbrowserPEMbody",
    "aws secret": "wJalrXUtnFEMI/K7MDENG/bPxRfiPLANTEDbrowser",
    "basic-auth password": "PLANTEDbrowserPw77",
    "e-mail": "planted.browser@customer-mail.example",
    "phone": "+1 415 555 0199",
}
PLANTED_TEXT = (
    f" key {SECRETS['provider key']} pem -----BEGIN PRIVATE KEY-----\n{SECRETS['private key']}\n"
    f"-----END PRIVATE KEY----- aws_secret_access_key={SECRETS['aws secret']} "
    f"db https://admin:{SECRETS['basic-auth password']}@db.internal.example/x "
    f"mail {SECRETS['e-mail']} call {SECRETS['phone']}"
)
NUL = "a\x00b"


def plant(path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(sa.update(Tenant).where(Tenant.id == DemoIds.TENANT_ACME).values(name=f"Acme {HOSTILE}"))
        conn.execute(sa.update(App).where(App.tenant_id == DemoIds.TENANT_ACME).values(name=f"App {HOSTILE}"))
        conn.execute(
            sa.update(Agent)
            .where(Agent.id == DemoIds.SHOWCASE_AGENT)
            .values(name=f"Agent {HOSTILE} {TOKEN}", description=HOSTILE + PLANTED_TEXT)
        )
        conn.execute(
            sa.update(AgentConfigSnapshot)
            .where(AgentConfigSnapshot.agent_id == DemoIds.SHOWCASE_AGENT)
            .values(version_note=f"note {HOSTILE}{PLANTED_TEXT}")
        )
        conn.execute(sa.update(Conversation).values(name=f"Conversation {HOSTILE}{PLANTED_TEXT}"))
    engine.dispose()


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory, seeded_sqlite_file: Path) -> Iterator[str]:
    """One server for the module (the views only read): the demo with the hostile values planted."""
    data_dir = tmp_path_factory.mktemp("hostile") / "agent-desk"
    data_dir.mkdir()
    shutil.copy(seeded_sqlite_file, data_dir / "demo.sqlite")
    plant(data_dir / "demo.sqlite")
    with streamlit_server(data_dir) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is required for browser tests: apt-get install -y chromium")
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def tab(browser) -> Iterator[object]:
    context = browser.new_context()  # a fresh profile per view: no session state carries over
    yield context.new_page()
    context.close()


def q(**params: str) -> str:
    return urllib.parse.urlencode(params)


# (path with query, text that proves the hostile value was rendered, text that says the page finished).
# The proofs avoid the planted e-mail addresses: those are masked (personal data), so never shown at all.
VIEWS = [
    (f"/agent?agent={DemoIds.SHOWCASE_AGENT}", "evil-www.example", "Link to this view"),
    (f"/compare?agent={DemoIds.SHOWCASE_AGENT}", "evil-www.example", "Link to this view"),
    (f"/roster?{q(tenant=DemoIds.TENANT_ACME, q='Hostile')}", "evil-www.example", "Link to this view"),
    (f"/sessions?session={DemoIds.SUPERSEDED_SESSION}", "evil-www.example", "Link to this view"),
    (f"/bindings?tenant={DemoIds.TENANT_ACME}", "evil-www.example", "Link to this view"),
    # Hostile URL parameters, echoed in "ignored invalid value" notices.
    (f"/agent?{q(agent='[x](https://evil.example/p)')}", "evil.example", "No agent chosen"),
    (f"/roster?{q(tenant='bob@evil-mail.example', sort=URL, q='https://evil.example/p')}", "evil", "Link to"),
    (f"/audit?{q(actor=NUL, action='www.evil-www.example', to='9999-12-31')}", "NUL byte", "Link to"),
    (f"/compare?{q(agent=DemoIds.SHOWCASE_AGENT, left='https://evil.example/p')}", "evil.example", "Link to"),
    (f"/sessions?{q(status='www.evil-www.example', updated_to='9999-12-31', after=URL)}", "evil", "Link to"),
]

DATA_LINKS = """() => [...document.querySelectorAll('a')]
  .map(a => [a.getAttribute('href') || '', a.textContent || ''])
  .filter(([href, text]) => /evil|mailto:/i.test(href) || /evil/i.test(text))"""


@pytest.mark.parametrize(("path", "proof", "done"), VIEWS, ids=[v[0][:60] for v in VIEWS])
def test_no_link_or_element_from_user_text(
    hostile_server: str, tab, path: str, proof: str, done: str
) -> None:
    page = tab
    page.goto(hostile_server + path)
    page.get_by_text(done).first.wait_for(timeout=30_000)
    # Positive control: the hostile value is shown (in the DOM, where table cells are the grid's accessible
    # cells, or in an input's value). Waiting for it also waits for the run's last deltas.
    shown = """proof => (document.body.innerHTML
        + [...document.querySelectorAll('input')].map(i => i.value).join(' ')).includes(proof)"""
    try:
        page.wait_for_function(shown, arg=proof, timeout=15_000)
    except Exception:
        pytest.fail(f"positive control: {proof!r} not shown on {path}: {page.inner_text('body')[-1500:]}")
    html = page.evaluate("() => document.body.innerHTML")
    assert TOKEN not in html
    leaked = [kind for kind, value in SECRETS.items() if value in html]
    assert not leaked, f"{leaked} reached the browser on {path}"
    assert page.evaluate(DATA_LINKS) == []
    # `strong`/`em` only ever come from our own labels ("**Workspace:**"): none may hold planted text.
    bold = page.evaluate("() => [...document.querySelectorAll('strong, em')].map(e => e.textContent)")
    assert not [b for b in bold if "evil" in b or "bold" in b], bold
    assert page.evaluate("""() => document.querySelectorAll('img[src="x"], [onerror]').length""") == 0
