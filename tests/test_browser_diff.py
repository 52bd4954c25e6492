"""In chromium: the diff viewer of /compare with hostile text planted in a version's prompt, note and
author.

Asserts that no planted value becomes an element, an event handler or a link (the only links of the
viewer are its own `#change-N` anchors), that the hostile text is shown as text, that the changed word
has a coloured background in the split and unified views, that nothing scrolls sideways at 1400 px,
that sides are titled by meaning ("v5" / "Active v6", "Pinned v4" / "Runs v6" from a binding's link),
and that the unchanged text between hunks unfolds on a click.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from data.demo import DemoIds
from data.models import Account, AgentConfigSnapshot
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
#: Planted in v6's note and as its author's name: must show as these very characters.
LABEL_HOSTILE = "<img src=x onerror=alert(1)> **bold** [link](http://x)"
HOSTILE_AUTHOR = "0197d1f0-0000-7000-8000-00000000ee01"
#: Twelve unchanged lines between the two changed lines of the prompt: one run folded between hunks.
GAP = [f"Rule {k}: keep going." for k in range(1, 13)]
GAP[5] = f"Rule 6: gap {HOSTILE}"


def plant(path: Path) -> None:
    """v4, v5 and v6 of the showcase agent get the same hostile prompt but for two words (v4 and v5 say
    OLD_WORD, v6 NEW_WORD); v6 a hostile note and a hostile author."""
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(sa.insert(Account).values(id=HOSTILE_AUTHOR, name=LABEL_HOSTILE, email="h@x.example"))
        for version, word in ((4, OLD_WORD), (5, OLD_WORD), (6, NEW_WORD)):
            row = conn.execute(
                sa.select(AgentConfigSnapshot.id, AgentConfigSnapshot.config_snapshot).where(
                    AgentConfigSnapshot.agent_id == DemoIds.SHOWCASE_AGENT,
                    AgentConfigSnapshot.version == version,
                )
            ).one()
            doc = json.loads(row.config_snapshot)
            gap = "\n".join(GAP)
            doc.setdefault("prompt", {})["system_prompt"] = (
                f"Intro line.\n{HOSTILE} be {word} now.\n{LONG}\nEnd.\n{gap}\nClosing: stay {word}."
            )
            values: dict[str, str] = {"config_snapshot": json.dumps(doc)}
            if version == 6:
                values["version_note"] = f"note {HOSTILE} {LABEL_HOSTILE}"
                values["created_by"] = HOSTILE_AUTHOR
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
    titles: [...dv.querySelectorAll('.dv-side-title')].map(e => e.textContent),
    meta: [...dv.querySelectorAll('.dv-side-meta')].map(e => e.textContent),
    headers: [...document.querySelectorAll('h3')].map(e => e.innerText.trim()),
    boldOrLinks: [...document.querySelectorAll('strong, b, a')].filter(e => /bold|link/.test(e.textContent)).length,
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
        assert found["titles"] == ["v5", "Active v6"]
        assert "note Hostile" in found["text"]
        # Note and author of the hostile kind: literal characters, no element, no bold, no link.
        assert f"Note: note {HOSTILE} {LABEL_HOSTILE}" in found["meta"]
        assert f"Author: {LABEL_HOSTILE}" in found["meta"]
        assert found["boldOrLinks"] == 0
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


OPEN_GAP = """() => {
  const fold = document.querySelector('.dv .dv-unfold');
  const line = [...fold.querySelectorAll('.dv-ctx')].find(e => e.textContent.startsWith('Rule 6: gap'));
  return {open: fold.open, summary: fold.querySelector('summary').textContent,
          visible: !!line && line.checkVisibility() && line.getBoundingClientRect().height > 0, text: line ? line.textContent : null,
          elements: fold.querySelectorAll('script, img, iframe, strong, a').length};
}"""


@pytest.mark.parametrize("view", ["split", "unified"])
def test_pinned_vs_running_titles_and_the_unchanged_text_unfolds(
    diff_server: str, browser, view: str
) -> None:
    """Opened as the agent page's "compare pinned vs running" link does (the drift binding pins v4 and
    runs the active v6): the titles say so, and the unchanged rules between hunks unfold."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        pinned, runs = DemoIds.SHOWCASE_SNAPSHOTS[3], DemoIds.SHOWCASE_SNAPSHOTS[5]
        page.goto(
            f"{diff_server}/compare?left_snapshot={pinned}&right_snapshot={runs}"
            f"&binding={DemoIds.DRIFT_BINDING}&view={view}"
        )
        page.locator(".dv .dv-wadd").first.wait_for(timeout=30_000)
        page.get_by_text("Link to this view").first.wait_for(timeout=30_000)
        found = page.evaluate(CHECKS)
        assert found["titles"] == ["Pinned v4", "Runs v6"]
        assert "Pinned v4" in found["headers"] and "Runs v6" in found["headers"]
        assert found["scripts"] == 0 and found["handlers"] == [] and found["boldOrLinks"] == 0
        assert f"Author: {LABEL_HOSTILE}" in found["meta"]
        added_text, added_bg = found["added"]
        assert NEW_WORD in added_text and added_bg not in ("rgba(0, 0, 0, 0)", "transparent")
        closed = page.evaluate(OPEN_GAP)
        assert not closed["open"] and not closed["visible"]
        assert closed["summary"] == "⋯ 8 lines unchanged · show"  # Rules 2-9 (the rest is hunk context)
        page.locator(".dv .dv-unfold summary").first.click()
        opened = page.evaluate(OPEN_GAP)
        assert opened["open"] and opened["visible"]
        assert opened["text"] == f"Rule 6: gap {HOSTILE}" and opened["elements"] == 0
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
    finally:
        context.close()
