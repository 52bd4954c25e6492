"""Issue 13's eight ticket shapes, walked in Debian's chromium at 1400 x 1000 as support staff walk them.

Each test starts where a person starts (the overview with an id to paste into the sidebar's "Open any id"
box, or the roster), counts the steps (navigations, clicks, pasted ids: at most three to the answer),
follows only links that stay in the same tab, and asserts that the answer is on the first screen: its box
inside the window as the page opened (nothing scrolled), within 1400 px, and the page needs no horizontal
scroll. Table cells are located on the grid's canvas (tests/browser_helpers.py), so a column scrolled off
to the right inside a table is "not on screen", as it is for the person.

Both schema generations run on the embedded demo (`sessions`: Dify 1.15-1.16, `workspaces`: 1.17+), one
server per generation for the module. Ticket 3 writes: it runs on PostgreSQL (one seeded database and
server per generation), selects rows by clicking them, confirms in the dialog by typing the count, and
finds the audit entry on /audit.

Nothing here is marked xfail or skipped: each ticket's answer is on the first screen on both generations.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from data.db import seed_database
from data.demo import DemoIds
from tests import browser_helpers as h
from tests import screenshots
from tests.conftest import NOW
from tests.streamlit_server import streamlit_server

pytestmark = pytest.mark.browser

GENERATIONS = ("sessions", "workspaces")
REASON = "ticket 3: finished runs left sessions active"


class Servers:
    """Streamlit servers started on first use and kept for the module: the demo of each generation
    (read-only views) and a PostgreSQL database of each generation (the write flow)."""

    def __init__(self, tmp: pytest.TempPathFactory, request: pytest.FixtureRequest) -> None:
        self.tmp, self.request, self.stack, self.urls = tmp, request, ExitStack(), {}

    def _start(self, key: str, data_dir: Path, env: dict[str, str] | None = None) -> str:
        self.urls[key] = self.stack.enter_context(streamlit_server(data_dir, env))
        return self.urls[key]

    def demo(self, generation: str) -> str:
        if f"demo-{generation}" in self.urls:
            return self.urls[f"demo-{generation}"]
        data_dir = self.tmp.mktemp(f"tickets-{generation}") / "agent-desk"
        data_dir.mkdir()
        if generation == "sessions":
            shutil.copy(self.request.getfixturevalue("seeded_sqlite_file"), data_dir / "demo.sqlite")
        else:
            engine = sa.create_engine(f"sqlite:///{data_dir / 'demo.sqlite'}")
            seed_database(engine, now=NOW, scale="S", generation=generation)
            engine.dispose()
        return self._start(f"demo-{generation}", data_dir)

    def postgres(self, generation: str) -> str:
        """A seeded PostgreSQL database as DATABASE_URL, writes allowed in local mode, and every cleanup
        asking to type its count (AGENT_DESK_CLEANUP_CONFIRM_ABOVE=0)."""
        if f"pg-{generation}" in self.urls:
            return self.urls[f"pg-{generation}"]
        url = self.request.getfixturevalue("postgres").create_database(f"tickets_{generation}")
        engine = sa.create_engine(url)
        seed_database(engine, now=NOW, scale="S", generation=generation)
        engine.dispose()
        env = {
            "DATABASE_URL": url,
            "AGENT_DESK_ALLOW_WRITES": "true",
            "AGENT_DESK_CLEANUP_CONFIRM_ABOVE": "0",
        }
        return self._start(f"pg-{generation}", self.tmp.mktemp(f"tickets-pg-{generation}"), env)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Servers]:
    pool = Servers(tmp_path_factory, request)
    with pool.stack:
        yield pool


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with h.chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=h.VIEWPORT)  # a fresh profile per test
    yield context.new_page()
    context.close()


def start(page: Any, base: str, path: str = "/roster") -> h.Steps:
    """Open where a person starts (not a step): the roster, whose sidebar has the "Open any id" box like
    every page (lighter than the overview's charts, which keeps the suite quick)."""
    page.goto(base + path)
    page.get_by_text("Link to this view").first.wait_for(timeout=h.LOAD_TIMEOUT)
    return h.Steps(page)


def loaded(page: Any, *texts: str | re.Pattern[str]) -> None:
    """Wait until the page after a step shows these texts (and its "link to this view", its last line)."""
    for text in texts:
        page.locator(h.MAIN).get_by_text(text).first.wait_for(timeout=h.LOAD_TIMEOUT)
    page.locator(h.MAIN).get_by_text("Link to this view").first.wait_for(timeout=h.LOAD_TIMEOUT)


def no_exception(page: Any) -> None:
    shown = page.locator('[data-testid="stException"]').all_inner_texts()
    assert not shown, f"the page shows an exception: {shown[:1]}"


def select_option(steps: h.Steps, label: str, option: str) -> None:
    """A Streamlit selectbox: open it (one step) and choose `option` (one step)."""
    box = steps.page.locator(h.MAIN).get_by_role("combobox", name=label)
    steps.click(box.first, f"open {label}")
    steps.click(steps.page.get_by_role("option", name=option).first, f"choose {option}")


# --- ticket 1 ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("generation", GENERATIONS)
def test_ticket1_saved_version_but_old_behaviour(servers: Servers, page: Any, generation: str) -> None:
    """Ticket: “We saved a new version but the published workflow still behaves the old way”: paste the agent's
    id; the "what actually runs" card says the node pins v4 while Dify runs v6 (drift)."""
    steps = start(page, servers.demo(generation))
    steps.paste_id(DemoIds.SHOWCASE_AGENT)
    loaded(page, "What actually runs")
    h.first_screen_text(
        page,
        re.compile(r"^Pinned by the node:\s*v4$"),
        re.compile(r"^Running:\s*v6$"),
        "Drift: the node pinned one snapshot, Dify runs another.",
        "Compare pinned vs running",
    )
    steps.assert_at_most(3)


# --- ticket 2 ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("generation", GENERATIONS)
def test_ticket2_what_changed_between_v3_and_v5(servers: Servers, page: Any, generation: str) -> None:
    """Ticket: “What changed between v3 and v5, someone broke the tool config”: paste the agent's id, pick v3
    and v5 in "Pick two versions to compare" (the compare page opens in this tab); the changed sections with
    the tools' changes and both sides' titles are on the first screen."""
    steps = start(page, servers.demo(generation))
    steps.paste_id(DemoIds.SHOWCASE_AGENT)
    loaded(page, "What actually runs")
    pills = page.locator(h.MAIN).get_by_role("button", name=re.compile(r"^v\d+"))
    steps.click(pills.filter(has_text=re.compile(r"^v3$")).first, "pick v3")
    pills.filter(has_text=re.compile(r"^v3$")).and_(page.locator('[aria-pressed="true"]')).first.wait_for(
        timeout=h.LOAD_TIMEOUT
    )
    steps.click(pills.filter(has_text=re.compile(r"^v5$")).first, "pick v5")
    page.wait_for_url(re.compile(r"/compare\?.*left=3.*right=5"), timeout=h.LOAD_TIMEOUT)
    # The page's safe text puts a word joiner after ":" (no autolink, no shortcode): \W* allows it.
    loaded(page, re.compile(r"tools:\W*\d+ changes?"))
    h.first_screen_text(page, re.compile(r"tools:\W*\d+ changes?"), re.compile(r"^v3$"), re.compile(r"^v5$"))
    steps.assert_at_most(3)


# --- ticket 3 (writes: PostgreSQL) -------------------------------------------------------------------------

FLOW = {
    "sessions": {
        "rule": "leak rule",
        "preview": "Preview cleanup of 1 selected",
        "count": "sessions to clean",
    },
    # Retiring a workspace's last active binding retires the workspace too: the count may exceed 1.
    "workspaces": {"rule": "rule", "preview": "Preview retiring 1 selected", "count": "rows to retire"},
}


@pytest.mark.parametrize("generation", GENERATIONS)
def test_ticket3_finished_runs_left_sessions_active(servers: Servers, page: Any, generation: str) -> None:
    """Ticket: “Finished runs left sessions active, storage keeps growing”: paste the finished run's id; its
    leaked row shows `finished-run`; select it by clicking its row, preview, confirm in the dialog with a
    reason and the typed count; the result links to the audit entry, on the first screen of /audit."""
    flow = FLOW[generation]
    steps = start(page, servers.postgres(generation))
    steps.paste_id(DemoIds.RUN_SUCCEEDED_LEAKED)
    loaded(page, flow["preview"].replace("1", "0"))
    table = h.grid(page, 0)
    leaked = table.rows_with(flow["rule"], "finished-run")
    assert len(leaked) == 1, table.texts
    answer = table.cell_box(leaked[0], flow["rule"])
    # The answer is checked at the end: the write flow runs either way (a missing answer must not hide a
    # broken cleanup, nor the reverse).
    answer_problems = h.first_screen_problems(page, {f"{flow['rule']} = finished-run": answer})
    answer_steps = steps.count

    steps.click_at(*table.marker_point(leaked[0]), "select the leaked row")
    steps.click(page.get_by_role("button", name=flow["preview"]), flow["preview"])
    dialog = page.get_by_role("dialog")
    dialog.get_by_label(re.compile("^Reason")).fill(REASON)
    metric = dialog.locator('[data-testid="stMetric"]').filter(has_text=flow["count"])
    count = metric.locator('[data-testid="stMetricValue"]').inner_text().strip()
    assert count.isdigit() and int(count) >= 1, count
    typed = dialog.get_by_label(re.compile(r"^Type the number of"))
    typed.fill(count)
    typed.press("Tab")
    confirm = dialog.get_by_role("button", name=re.compile(rf"^(Clean|Retire) {count} "))
    page.wait_for_function("b => !b.disabled", arg=confirm.element_handle(), timeout=h.LOAD_TIMEOUT)
    steps.click(confirm, "confirm")
    page.get_by_text(re.compile(r"^(Cleanup|Retire) finished:")).first.wait_for(timeout=h.LOAD_TIMEOUT)
    steps.click(page.get_by_role("link", name="Open this action in the audit log"), "open the audit entry")
    page.wait_for_url(re.compile(r"/audit\?target="), timeout=h.LOAD_TIMEOUT)
    loaded(page, "Audit log")
    audit = h.grid(page, 0, until=lambda g: len(g.texts) == 1)  # target=<action id>: this action only
    assert audit.text(0, "reason") == REASON and audit.text(0, "applied") == count, audit.texts[0]
    h.assert_on_first_screen(
        page,
        {
            "audit action": audit.cell_box(0, "action"),
            "audit reason": audit.cell_box(0, "reason"),
            "audit applied": audit.cell_box(0, "applied"),
        },
    )
    assert not answer_problems, "; ".join(answer_problems)
    assert answer_steps <= 3, steps.log


# --- ticket 4 ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("generation", GENERATIONS)
def test_ticket4_roster_shows_a_deleted_agent(servers: Servers, page: Any, generation: str) -> None:
    """Ticket: “The roster shows an agent we deleted / the name is taken”: search the roster for the name; its row
    says `archived` (Dify archives, never deletes, and an archived agent keeps its roster row)."""
    steps = start(page, servers.demo(generation), "/roster")
    page.locator(h.MAIN).get_by_label("Search name or paste any id").fill("Legacy Compliance Reviewer")
    steps.click(page.locator(h.MAIN).get_by_role("button", name="Apply"), "Apply")
    page.wait_for_url(re.compile(r"q=Legacy"), timeout=h.LOAD_TIMEOUT)
    loaded(page, re.compile(r"^1 agents match$"))
    roster = h.grid(page, 0, until=lambda g: len(g.texts) == 1)
    assert roster.text(0, "name") == "Legacy Compliance Reviewer", roster.texts
    assert roster.text(0, "status") == "archived"
    h.assert_on_first_screen(
        page,
        {
            "name": roster.cell_box(0, "name"),
            "status archived": roster.cell_box(0, "status"),
            "workspace": roster.cell_box(0, "workspace"),
        },
    )
    steps.assert_at_most(3)


# --- ticket 5 ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "generation",
    GENERATIONS,
)
def test_ticket5_agent_page_crashes_for_one_customer(servers: Servers, page: Any, generation: str) -> None:
    """Ticket: “The agent page crashes for one customer”: an agent whose active version is invalid JSON, one with
    a 200 KB prompt, one with a hostile name. Each opens from its pasted id without an exception; the
    hostile name is shown as text, the 200 KB one's name is there, and the broken version is flagged."""
    steps = start(page, servers.demo(generation))
    for agent_id, answer in (
        (DemoIds.HOSTILE_NAME_AGENT, DemoIds.HOSTILE_NAME),
        (DemoIds.HUGE_PROMPT_AGENT, "Compliance Handbook Expert"),
        (DemoIds.INVALID_JSON_AGENT, re.compile(r"invalid JSON v\d+: Dify cannot run these versions")),
    ):
        steps.log.clear()  # one count per agent: each is pasted from the page the previous one left open
        steps.paste_id(agent_id)
        page.wait_for_url(re.compile(agent_id), timeout=h.LOAD_TIMEOUT)
        loaded(page, "What actually runs")
        no_exception(page)
        assert page.locator('img[src="x"], [onerror]').count() == 0
        h.first_screen_text(page, answer)
        steps.assert_at_most(3)


# --- ticket 6 ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("generation", GENERATIONS)
def test_ticket6_which_nodes_use_agent_x(servers: Servers, page: Any, generation: str) -> None:
    """Ticket: “Which nodes use agent X, in draft and in production”: paste the agent's id; its cards name the
    node with a `draft` badge and a `live` badge (the published workflow the app serves)."""
    steps = start(page, servers.demo(generation))
    steps.paste_id(DemoIds.SHOWCASE_AGENT)
    loaded(page, "What actually runs")
    h.first_screen_text(
        page,
        re.compile(r"Support Ticket Triage · Draft · node \d+"),
        re.compile(r"Support Ticket Triage · Published .* · node \d+"),
    )
    main = page.locator(h.MAIN)
    h.assert_on_first_screen(
        page,
        {
            "draft badge": main.get_by_text("draft", exact=True).first.bounding_box(),
            "live badge": main.get_by_text("live", exact=True).first.bounding_box(),
        },
    )
    steps.assert_at_most(3)


# --- ticket 7 ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("generation", GENERATIONS)
def test_ticket7_integrity_report_for_a_workspace(servers: Servers, page: Any, generation: str) -> None:
    """Ticket: “Send the integrity report for workspace W to engineering”: from the roster open Health, pick the
    workspace; the checks with their findings and the view's link (with the workspace) are on the first
    screen."""
    steps = start(page, servers.demo(generation), "/roster")
    steps.click(page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Health"), "Health")
    loaded(page, "Health")
    select_option(steps, "Workspace", "Acme Robotics")
    page.wait_for_url(re.compile(f"tenant={DemoIds.TENANT_ACME}"), timeout=h.LOAD_TIMEOUT)
    loaded(page, "error checks with findings")
    checks = h.grid(page, 0)
    found = [i for i, _ in enumerate(checks.texts) if checks.text(i, "found") not in ("0", "")]
    assert found, checks.texts
    link = page.locator(h.MAIN).locator("code", has_text=f"/health?tenant={DemoIds.TENANT_ACME}").first
    link.wait_for(timeout=h.LOAD_TIMEOUT)
    h.assert_on_first_screen(
        page,
        {
            "first check": checks.cell_box(0, "check"),
            "its findings": checks.cell_box(0, "found"),
            "link to this view": link.bounding_box(),
        },
    )
    steps.assert_at_most(3)


# --- ticket 8 ---------------------------------------------------------------------------------------------

FORGOT = {
    # (rule column, the older row's version, its rule, the newer row's version)
    "sessions": ("leak rule", "v5", "superseded", "v6"),
    "workspaces": ("rule", "snapshot v5", "inconsistent", "snapshot v6"),
}


@pytest.mark.parametrize("generation", GENERATIONS)
def test_ticket8_agent_forgot_the_conversation(servers: Servers, page: Any, generation: str) -> None:
    """Ticket: “A chat user says the agent forgot the conversation”: paste the conversation's id; its two rows
    show the conversation moved from v5 to v6 (a new session or binding, so a fresh memory) and the rule
    that flags the old one."""
    rule, old_version, old_rule, new_version = FORGOT[generation]
    steps = start(page, servers.demo(generation))
    steps.paste_id(DemoIds.CONVERSATION_SUPERSEDED)
    page.wait_for_url(re.compile(f"conversation={DemoIds.CONVERSATION_SUPERSEDED}"), timeout=h.LOAD_TIMEOUT)
    loaded(page, FLOW[generation]["preview"].replace("1", "0"))  # the sessions page, not the previous one
    table = h.grid(page, 0)
    old = table.rows_with("version", old_version)
    new = table.rows_with("version", new_version)
    assert len(old) == 1 and len(new) == 1, table.texts
    assert table.text(old[0], rule) == old_rule, table.texts
    h.assert_on_first_screen(
        page,
        {
            "old version": table.cell_box(old[0], "version"),
            "new version": table.cell_box(new[0], "version"),
            f"{rule} {old_rule}": table.cell_box(old[0], rule),
        },
    )
    steps.assert_at_most(3)


# --- the README's screenshots --------------------------------------------------------------------------


def test_screenshot_command_photographs_the_first_screen(
    servers: Servers, browser: Any, tmp_path: Path
) -> None:
    """`python -m tests.screenshots` (docs/screenshots/) photographs each page's 1400 x 1000 first screen
    once it has drawn: here one page, on the module's 1.17+ demo server."""
    name, generation, path = next(s for s in screenshots.SHOTS if s[0] == "sessions-1.17")
    target = screenshots.shoot(browser, servers.demo(generation), path, tmp_path / f"{name}.png")
    header = target.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")) == (1400, 1000)
