"""End to end in Debian's chromium: a cold deep link after a server start renders the page inside the app
frame (the entrypoint runs: banner and navigation), which is why pages live in app_pages/, not pages/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from data.demo import DemoIds
from tests.browser_helpers import CHROMIUM, CHROMIUM_ARGS
from tests.streamlit_server import ROOT, free_port, streamlit_server  # noqa: F401  (re-exported)

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path: Path, seeded_sqlite_file: Path) -> Iterator[str]:
    data_dir = tmp_path / "agent-desk"
    data_dir.mkdir()
    shutil.copy(seeded_sqlite_file, data_dir / "demo.sqlite")
    with streamlit_server(data_dir) as base:
        yield base


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is required for browser tests: apt-get install -y chromium")
    with sync_playwright() as pw:
        # Playwright gives each launch a fresh temporary profile (the --user-data-dir the notes ask for).
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser.new_page()
        browser.close()


def test_cold_deep_link_runs_the_app_frame(server: str, page) -> None:
    # The very first request after the server start is a deep link to a page.
    page.goto(f"{server}/agent?agent={DemoIds.SHOWCASE_AGENT}")
    page.get_by_text("Acme Support Assistant").first.wait_for(timeout=30_000)
    # The entrypoint ran: its banner and the st.navigation sidebar (with page titles, not file names).
    page.get_by_text("Demo database").first.wait_for(timeout=10_000)
    nav = page.locator('[data-testid="stSidebarNav"]')
    assert "Roster" in nav.inner_text() and "Compare" in nav.inner_text()
    assert f"agent={DemoIds.SHOWCASE_AGENT}" in page.url
    # The menu comes from the page registry: its sections, and without the hidden detail page that this
    # deep link just opened.
    entries = [line.strip() for line in nav.inner_text().splitlines() if line.strip()]
    assert {"Agents", "Operations"} <= set(entries), entries
    assert "Agent" not in entries, entries


def test_scripts_run_entry_serves_the_app_warmed_up(tmp_path: Path, seeded_sqlite_file: Path, page) -> None:
    """`./scripts/run` serves serve.py (app.py behind a warm-up lifespan): the first request, a deep link,
    renders the page inside the app frame, and the warm-up ran before the server answered."""
    data_dir = tmp_path / "agent-desk"
    data_dir.mkdir()
    shutil.copy(seeded_sqlite_file, data_dir / "demo.sqlite")
    with streamlit_server(data_dir, script="serve.py", start_seconds=120) as base:
        page.goto(f"{base}/agent?agent={DemoIds.SHOWCASE_AGENT}")
        page.get_by_text("What actually runs").first.wait_for(timeout=30_000)
        page.get_by_text("Demo database").first.wait_for(timeout=10_000)
    log = (data_dir / "streamlit.log").read_text(errors="replace")
    assert "agent-desk warm-up:" not in log, log[-2000:]  # the warm-up reports problems this way


def test_roster_deep_link_with_filters(server: str, page) -> None:
    page.goto(f"{server}/roster?tenant={DemoIds.TENANT_NORTHWIND}&sort=name")
    page.get_by_text("Agent roster").first.wait_for(timeout=30_000)
    # The table draws on a canvas; its accessible grid cells carry the text.
    page.get_by_text("Northwind Health").first.wait_for(state="attached", timeout=10_000)
    assert "sort=name" in page.url
