"""In chromium: the diff viewer of /compare with hostile text planted in a version's prompt and note.

Asserts that no planted value becomes an element, an event handler or a link (the only links of the
viewer are its own `#change-N` anchors), that the hostile text is shown as text, that the changed word
has a coloured background in the split and unified views, and that nothing scrolls sideways at 1400 px.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from data.demo import DemoIds
from data.models import AgentConfigSnapshot
from tests.streamlit_server import streamlit_server
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.browser

HOSTILE = (
    "Hostile <script>alert(1)</script> <img src=x onerror=alert(1)> </div></table> "
    '<a href=\'https://evil-html.example\'>a</a> " onmouseover="alert(2)" https://evil.example/p '
    "**bold** \u05e9\u05dc\u05d5\u05dd"
)
#: One long unbroken run: it must wrap inside the pane, not push the page sideways.
LONG = "wrap-me-" * 80
OLD_WORD, NEW_WORD = "cautious", "fearless"


def plant(path: Path) -> None:
    """v5 and v6 of the showcase agent get the same hostile prompt line but for one word; v6 a hostile note."""
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        for version, word in ((5, OLD_WORD), (6, NEW_WORD)):
            row = conn.execute(
                sa.select(AgentConfigSnapshot.id, AgentConfigSnapshot.config_snapshot).where(
                    AgentConfigSnapshot.agent_id == DemoIds.SHOWCASE_AGENT,
                    AgentConfigSnapshot.version == version,
                )
            ).one()
            doc = json.loads(row.config_snapshot)
            doc.setdefault("prompt", {})["system_prompt"] = (
                f"Intro line.\n{HOSTILE} be {word} now.\n{LONG}\nEnd."
            )
            values: dict[str, str] = {"config_snapshot": json.dumps(doc)}
            if version == 6:
                values["version_note"] = f"note {HOSTILE}"
            conn.execute(
                sa.update(AgentConfigSnapshot).where(AgentConfigSnapshot.id == row.id).values(**values)
            )
    engine.dispose()


@pytest.fixture(scope="module")
def diff_server(tmp_path_factory: pytest.TempPathFactory, seeded_sqlite_file: Path) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("diffview") / "agent-desk"
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


CHECKS = """() => {
  const dv = document.querySelector('.dv');
  const all = [...document.querySelectorAll('body *')];
  const styleOf = sel => { const e = dv.querySelector(sel); return e && [e.textContent, getComputedStyle(e).backgroundColor]; };
  return {
    scripts: dv.querySelectorAll('script, img, iframe, object, embed, form, input').length,
    bodyScripts: [...document.querySelectorAll('body script')].filter(s => /alert/.test(s.textContent)).length,
    handlers: all.filter(e => [...e.attributes].some(a => a.name.toLowerCase().startsWith('on'))).map(e => e.tagName),
    dvLinks: [...dv.querySelectorAll('a')].map(a => a.getAttribute('href')),
    evilLinks: [...document.querySelectorAll('a')].filter(a => /evil/i.test(a.href + a.textContent)).length,
    text: dv.innerText,
    added: styleOf('.dv-wadd'),
    removed: styleOf('.dv-wdel'),
    overflow: [dv.scrollWidth - dv.clientWidth, document.documentElement.scrollWidth - document.documentElement.clientWidth],
  };
}"""


@pytest.mark.parametrize("view", ["split", "unified"])
def test_hostile_diff_is_text_with_coloured_word_highlights(diff_server: str, browser, view: str) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{diff_server}/compare?agent={DemoIds.SHOWCASE_AGENT}&left=5&right=6&view={view}")
        page.locator(".dv .dv-wadd").first.wait_for(timeout=30_000)
        page.get_by_text("Link to this view").first.wait_for(timeout=30_000)
        found = page.evaluate(CHECKS)
        assert found["scripts"] == 0 and found["bodyScripts"] == 0
        assert found["handlers"] == []
        assert found["evilLinks"] == 0
        assert found["dvLinks"] and all(
            h.startswith("#change-") and h[8:].isdigit() for h in found["dvLinks"]
        )
        # Positive control: the hostile markup is on the screen as characters.
        assert (
            "<script>alert(1)</script>" in found["text"] and "<img src=x onerror=alert(1)>" in found["text"]
        )
        assert (
            "Snapshot v5" in found["text"]
            and "Active v6" in found["text"]
            and "note Hostile" in found["text"]
        )
        # The changed word, and only it, is highlighted in colour on each side.
        added_text, added_bg = found["added"]
        removed_text, removed_bg = found["removed"]
        assert NEW_WORD in added_text and OLD_WORD in removed_text
        for colour in (added_bg, removed_bg):
            assert colour not in ("rgba(0, 0, 0, 0)", "transparent"), colour
        assert added_bg != removed_bg
        assert found["overflow"][0] <= 0 and found["overflow"][1] <= 0, found["overflow"]
    finally:
        context.close()
