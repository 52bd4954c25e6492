"""What a person sees, in chromium: shared checks of the ticket suite (tests/test_browser_tickets.py) and the
README screenshots (tests/screenshots.py).

* `VIEWPORT`: the 1400 x 1000 window the issue's tickets were walked in.
* `on_first_screen`: an element's box lies inside the viewport as the page opened (no container of the app
  scrolled, vertically or sideways) and inside the 1400 px width; the document needs no horizontal scroll.
* `grid_cell_box`: Streamlit's tables draw on a canvas (glide-data-grid); their DOM cells carry the text
  but no layout, so a cell's on-screen box is computed from the grid's own column widths, row height and
  scroll offsets, and clipped to the grid (a column scrolled off inside the grid is not on screen).
* `Steps`: counts what a person does (a navigation, a click, a pasted id) and asserts that every link it
  follows stays in the same tab (no popup, no new page, no `target=_blank`).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 1000}
#: Streamlit's main scroll container (the document itself never scrolls vertically in a Streamlit app).
MAIN = '[data-testid="stMain"]'
LOAD_TIMEOUT = 30_000


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's chromium through Playwright (fails, never skips, when it is missing)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is required for browser tests: apt-get install -y chromium")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# --- boxes ------------------------------------------------------------------------------------------------

Box = dict[str, float]

_SCROLLS = """() => {
  const doc = document.scrollingElement;
  const scrolled = [...document.querySelectorAll('*')]
    .filter(e => (e.scrollTop || e.scrollLeft) && !e.closest('[data-testid="stDataFrame"]')
                 && !e.closest('[data-testid="stSidebar"]') && !e.closest('[role="dialog"]'))
    .map(e => (e.getAttribute('data-testid') || e.tagName) + ' ' + e.scrollTop + '/' + e.scrollLeft);
  return {scrollWidth: doc.scrollWidth, innerWidth: window.innerWidth, scrolled,
          docScroll: [doc.scrollTop, doc.scrollLeft]};
}"""


def page_state(page: Any) -> dict:
    """The document's scroll width against the window, and every app container scrolled away from 0."""
    return page.evaluate(_SCROLLS)


def box_problems(box: Box | None, what: str) -> list[str]:
    """Why `box` is not on the first screen of a 1400 x 1000 window (empty when it is)."""
    if box is None:
        return [f"{what}: not rendered (no box)"]
    width, height = VIEWPORT["width"], VIEWPORT["height"]
    problems = []
    if box["width"] <= 0 or box["height"] <= 0:
        problems.append(f"{what}: empty box {box}")
    if box["x"] < 0 or box["x"] + box["width"] > width + 0.5:
        problems.append(
            f"{what}: x {box['x']:.0f}..{box['x'] + box['width']:.0f} is outside 0..{width} (sideways)"
        )
    if box["y"] < 0 or box["y"] + box["height"] > height + 0.5:
        problems.append(
            f"{what}: y {box['y']:.0f}..{box['y'] + box['height']:.0f} is below the first screen (0..{height})"
        )
    return problems


def assert_on_first_screen(page: Any, boxes: dict[str, Box | None]) -> None:
    """Every named box is inside the first screen, nothing was scrolled, and the page needs no
    horizontal scroll at 1400 px."""
    problems = first_screen_problems(page, boxes)
    assert not problems, "; ".join(problems)


def first_screen_problems(page: Any, boxes: dict[str, Box | None]) -> list[str]:
    """What `assert_on_first_screen` would fail on (empty when everything is on the first screen)."""
    state = page_state(page)
    problems = [p for what, box in boxes.items() for p in box_problems(box, what)]
    if state["scrollWidth"] > state["innerWidth"]:
        problems.append(
            f"the page scrolls sideways: scrollWidth {state['scrollWidth']} > {state['innerWidth']}"
        )
    if state["scrolled"] or any(state["docScroll"]):
        problems.append(f"something was scrolled away from the first screen: {state['scrolled']}")
    return problems


def text_box(page: Any, text: str | re.Pattern[str], *, within: str = MAIN) -> Box | None:
    """The box of the first visible element of the main area showing `text` (waits for it)."""
    locator = page.locator(within).get_by_text(text).first
    locator.wait_for(state="visible", timeout=LOAD_TIMEOUT)
    return locator.bounding_box()


def first_screen_text(page: Any, *texts: str | re.Pattern[str], within: str = MAIN) -> None:
    """Each text is visible on the first screen (see `assert_on_first_screen`)."""
    assert_on_first_screen(page, {str(t): text_box(page, t, within=within) for t in texts})


# --- Streamlit's canvas tables ------------------------------------------------------------------------------

_GRID_GEOMETRY = """(grid) => {
  const canvas = grid.querySelector('canvas');
  if (!canvas) return null;
  const key = Object.keys(canvas).find(k => k.startsWith('__reactFiber$'));
  let fiber = key && canvas[key];
  let props = null;
  for (let i = 0; fiber && i < 40; i++, fiber = fiber.return) {
    const p = fiber.memoizedProps;
    if (p && Array.isArray(p.columns) && p.columns.length && typeof p.columns[0].width === 'number'
        && p.getCellContent && p.headerHeight !== undefined) { props = p; break; }
  }
  if (!props) return null;
  const texts = [];
  for (let row = 0; row < Math.min(props.rows, 200); row++) {
    const cells = [];
    for (let col = 0; col < props.columns.length; col++) {
      let text = '';
      try { const c = props.getCellContent([col, row]); text = c.displayData ?? (c.data == null ? '' : String(c.data)); }
      catch (e) { text = ''; }
      cells.push(String(text));
    }
    texts.push(cells);
  }
  const scroller = grid.querySelector('.dvn-scroller');
  const r = canvas.getBoundingClientRect();
  return {
    x: r.x, y: r.y, width: r.width, height: r.height,
    columns: props.columns.map(c => [c.title, c.width]),
    freeze: props.freezeColumns || 0,
    rowHeight: typeof props.rowHeight === 'number' ? props.rowHeight : 35,
    headerHeight: props.headerHeight,
    scrollLeft: scroller ? scroller.scrollLeft : 0,
    scrollTop: scroller ? scroller.scrollTop : 0,
    texts,
  };
}"""


@dataclass(frozen=True)
class Grid:
    """One Streamlit table as drawn: its canvas box, column widths (row-marker column first) and scroll."""

    x: float
    y: float
    width: float
    height: float
    columns: list[tuple[str, float]]
    freeze: int
    row_height: float
    header_height: float
    scroll_left: float
    scroll_top: float
    texts: list[list[str]]

    def column(self, title: str) -> int:
        titles = [t for t, _ in self.columns]
        assert title in titles, f"no column {title!r} in {titles}"
        return titles.index(title)

    def rows_with(self, title: str, text: str) -> list[int]:
        """0-based data rows whose cell in column `title` contains `text` (read from the grid's data, so
        also for rows and columns not drawn on screen)."""
        col = self.column(title)
        return [i for i, cells in enumerate(self.texts) if text in cells[col]]

    def text(self, row: int, title: str) -> str:
        return self.texts[row][self.column(title)]

    def cell_box(self, row: int, title: str) -> Box:
        """The on-screen box of data row `row` (0-based) in column `title`, clipped to the grid's canvas
        (a cell scrolled off inside the grid gets a box outside the viewport or an empty one)."""
        col = self.column(title)
        left = sum(w for _, w in self.columns[:col]) - (0 if col < self.freeze else self.scroll_left)
        x0 = self.x + left
        y0 = self.y + self.header_height + row * self.row_height - self.scroll_top
        x1, y1 = x0 + self.columns[col][1], y0 + self.row_height
        # What the canvas does not show is not on screen: report the hidden part as outside the window.
        if x1 > self.x + self.width:
            x0, x1 = max(x0, self.x + self.width), max(x1, 10_000)
        if y1 > self.y + self.height:
            y0, y1 = max(y0, self.y + self.height), max(y1, 10_000)
        return {"x": x0, "y": y0, "width": x1 - x0, "height": y1 - y0}

    def marker_point(self, row: int) -> tuple[float, float]:
        """Where a person clicks to select data row `row` (its row-marker checkbox)."""
        return (
            self.x + self.columns[0][1] / 2,
            self.y + self.header_height + row * self.row_height - self.scroll_top + self.row_height / 2,
        )


def grids(page: Any, *, within: str = MAIN) -> Any:
    return page.locator(f'{within} [data-testid="stDataFrame"]')


def grid(page: Any, index: int = 0, *, within: str = MAIN, until: Any = None) -> Grid:
    """The `index`-th table of the area, once drawn with its rows (and, with `until`, once
    `until(grid)` holds: a rerun replaces the rows a moment after the page looks done)."""
    handle = grids(page, within=within).nth(index)
    handle.locator("td").first.wait_for(state="attached", timeout=LOAD_TIMEOUT)
    found = None
    for _ in range(LOAD_TIMEOUT // 100):  # the canvas and its props exist a moment after the cells
        geometry = handle.evaluate(_GRID_GEOMETRY)
        if geometry and geometry["width"] > 0:
            found = _grid(geometry)
            if until is None or until(found):
                return found
        page.wait_for_timeout(100)
    assert found, "the table never drew"
    assert until is None, f"the table never showed what was expected: {found.texts[:5]}"
    return found


def _grid(geometry: dict) -> Grid:
    return Grid(
        x=geometry["x"],
        y=geometry["y"],
        width=geometry["width"],
        height=geometry["height"],
        columns=[(t, w) for t, w in geometry["columns"]],
        freeze=geometry["freeze"],
        row_height=geometry["rowHeight"],
        header_height=geometry["headerHeight"],
        scroll_left=geometry["scrollLeft"],
        scroll_top=geometry["scrollTop"],
        texts=geometry["texts"],
    )


# --- steps and tabs -----------------------------------------------------------------------------------------


@dataclass
class Steps:
    """What a person does, counted: each navigation, click or pasted id is one step. Every link followed
    must stay in the same tab: no `target=_blank`, and no page other than the first ever opens."""

    page: Any
    log: list[str] = field(default_factory=list)
    popups: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.context.on("page", lambda new: self.popups.append(new.url or "(new page)"))

    @property
    def count(self) -> int:
        return len(self.log)

    def _same_tab(self, what: str) -> None:
        self.page.wait_for_timeout(0)
        assert not self.popups, f"{what} opened a new tab or window: {self.popups}"
        assert len(self.page.context.pages) == 1, f"{what} left more than one page open"

    def click(self, locator: Any, what: str) -> None:
        """Click a button or link (a link must not open a new tab)."""
        locator.wait_for(state="visible", timeout=LOAD_TIMEOUT)
        target = locator.evaluate("e => (e.closest('a') || e).getAttribute('target')")
        assert target in (None, "", "_self"), f"{what}: the link has target={target!r} (opens another tab)"
        self.log.append(what)
        locator.click()
        self._same_tab(what)

    def click_at(self, x: float, y: float, what: str) -> None:
        """Click a point (a table cell drawn on a canvas)."""
        self.log.append(what)
        self.page.mouse.click(x, y)
        self._same_tab(what)

    def paste_id(self, value: str) -> None:
        """Paste an id into the sidebar's "Open any id" box and open it: one step."""
        sidebar = self.page.locator('[data-testid="stSidebar"]')
        box = sidebar.get_by_label("Open any id")
        box.wait_for(state="visible", timeout=LOAD_TIMEOUT)
        box.fill(value)
        self.log.append(f"paste {value}")
        sidebar.get_by_role("button", name="Open").click()
        self._same_tab("the id box")

    def assert_at_most(self, limit: int = 3) -> None:
        assert self.count <= limit, f"{self.count} steps (at most {limit}): {self.log}"
        self._same_tab("the flow")
