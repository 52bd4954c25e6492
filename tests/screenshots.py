"""The README's screenshots: one PNG per page at 1400 x 1000 (the first screen), into docs/screenshots/.

    uv run python -m tests.screenshots            # every page, both demo generations
    uv run python -m tests.screenshots --out DIR  # somewhere else

Starts `streamlit run app.py` on a fresh demo of each schema generation (seeded at the tests' frozen
clock, so the pictures change only when the pages do; the audit entry's time is the real one), runs one
audited cleanup through the CLI so the audit page has an entry, and photographs each page in Debian's
chromium once it has drawn.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from data.db import seed_database
from data.demo import DemoIds
from tests import browser_helpers as h
from tests.conftest import NOW
from tests.streamlit_server import ROOT, streamlit_server

OUT = ROOT / "docs" / "screenshots"
SHOWCASE = DemoIds.SHOWCASE_AGENT
PUBLIC_URL = "http://127.0.0.1:8501"
#: (file name, generation, path). The 1.17+ demo is the embedded default; sessions differ per generation.
SHOTS: list[tuple[str, str, str]] = [
    ("overview", "workspaces", "/"),
    ("roster", "workspaces", "/roster"),
    ("agent", "workspaces", f"/agent?agent={SHOWCASE}"),
    ("compare", "workspaces", f"/compare?agent={SHOWCASE}&left=3&right=5&view=split"),
    ("bindings", "workspaces", f"/bindings?tenant={DemoIds.TENANT_ACME}&app={DemoIds.APP_TICKET_TRIAGE}"),
    ("sessions-1.15-1.16", "sessions", "/sessions?rule=finished-run"),
    ("sessions-1.17", "workspaces", "/sessions?rule=finished-run"),
    ("health", "workspaces", f"/health?tenant={DemoIds.TENANT_ACME}"),
    ("audit", "workspaces", "/audit"),
]


def seed_demo(data_dir: Path, generation: str) -> None:
    """A demo database of `generation` in `data_dir`, with one audited cleanup (retire on 1.17+)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(f"sqlite:///{data_dir / 'demo.sqlite'}")
    seed_database(engine, now=NOW, scale="S", generation=generation)
    engine.dispose()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AGENT_DESK_") and k != "DATABASE_URL"}
    clean = [sys.executable, "-m", "data", "sessions", "clean", "--rule", "finished-run", "--limit", "3"]
    subprocess.run(
        [*clean, "--reason", "finished runs left sessions active", "--actor", "maya", "--yes"],
        cwd=ROOT,
        env={**environ, "AGENT_DESK_DATA_DIR": str(data_dir)},
        check=True,
        capture_output=True,
    )


def settle(page: Any) -> None:
    """Wait until the page has drawn: its last line, every table's canvas, every chart."""
    page.get_by_text("Link to this view").first.wait_for(timeout=h.LOAD_TIMEOUT)
    for i in range(h.grids(page).count()):
        h.grid(page, i)
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    for i in range(charts.count()):
        charts.nth(i).locator("canvas, svg").first.wait_for(timeout=h.LOAD_TIMEOUT)
    page.wait_for_function(
        '() => !document.querySelector(\'[data-testid="stSkeleton"], [data-stale="true"]\')',
        timeout=h.LOAD_TIMEOUT,
    )


def shoot(browser: Any, base: str, path: str, target: Path) -> Path:
    """One page's first screen at 1400 x 1000 into `target`."""
    context = browser.new_context(viewport=h.VIEWPORT)
    try:
        page = context.new_page()
        page.goto(base + path)
        settle(page)
        page.screenshot(path=str(target))
    finally:
        context.close()
    return target


@contextmanager
def demo_servers(root: Path, generations: set[str]) -> Iterator[dict[str, str]]:
    with ExitStack() as stack:
        bases = {}
        for generation in sorted(generations):
            data_dir = root / generation / "agent-desk"
            seed_demo(data_dir, generation)
            # The "link to this view" boxes show ./scripts/run's address, not the random test port.
            env = {"AGENT_DESK_PUBLIC_URL": PUBLIC_URL}
            bases[generation] = stack.enter_context(streamlit_server(data_dir, env))
        yield bases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.screenshots", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="agent-desk-shots-") as tmp,
        demo_servers(Path(tmp), {g for _, g, _ in SHOTS}) as bases,
        h.chromium() as browser,
    ):
        for name, generation, path in SHOTS:
            print(shoot(browser, bases[generation], path, args.out / f"{name}.png"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
