"""Browser timings in chromium (Playwright, /usr/bin/chromium): what a user waits for.

* The Streamlit floor, measured in the same run: a trivial app (bench/floor_app.py) showing a 50-row
  dataframe; a new tab (navigation to the dataframe drawn and the script idle) and a rerun (a button).
* Agent Desk: a new tab on the roster / sessions page, "Next page", a name filter (type + Apply).
* The first page after a server start (from the server answering /_stcore/health), with the entry
  point given (`app.py`: nothing before the first visitor; `serve.py`: the warm-up hook).
* 25 concurrent browser sessions (one chromium, 25 contexts) doing the support flows: p95 of
  interaction-to-data, errors, the Streamlit server's RSS after.

"Data visible" = the page's `stDataFrame` is drawn, the marker of the step is present, and Streamlit's
script state (`stApp[data-test-script-state]`) is `notRunning`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import Timing

ROOT = Path(__file__).resolve().parent.parent
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
TIMEOUT_MS = 90_000
IDLE = 'document.querySelector(\'[data-testid="stApp"]\')?.dataset.testScriptState === "notRunning"'
DRAWN = 'document.querySelector(\'[data-testid="stMain"] [data-testid="stDataFrame"] canvas\') !== null'


def available() -> str | None:
    """Why browser timings cannot run here, or None."""
    if not Path(CHROMIUM).exists():
        return f"no chromium at {CHROMIUM} (Debian: apt-get install -y chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return None


@dataclass
class Server:
    base: str
    proc: subprocess.Popen
    start_to_health_s: float
    log: Path

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(script: str, env: dict[str, str]) -> Iterator[Server]:
    """`python -m streamlit run <script>` on a free loopback port (the environment's AGENT_DESK_* and
    DATABASE_* replaced by `env`); yields once /_stcore/health answers."""
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AGENT_DESK_", "DATABASE_URL", "DATABASE_READ"))
    }
    environ.update(env)
    port = _free_port()
    logdir = Path(tempfile.mkdtemp(prefix="bench-st-"))
    log = logdir / "streamlit.log"
    out = open(log, "wb")  # noqa: SIM115  (a file, not a pipe)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            script,
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=ROOT,
        env=environ,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "streamlit did not become healthy: " + log.read_text(errors="replace")[-2000:]
                )
            try:
                if urllib.request.urlopen(f"{base}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.05)
        yield Server(base, proc, time.perf_counter() - started, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        out.close()
        shutil.rmtree(logdir, ignore_errors=True)


async def _until(page, js: str) -> None:
    await page.wait_for_function(js, timeout=TIMEOUT_MS, polling=20)


async def _ready(page, marker_js: str = "true") -> None:
    await _until(page, f"({DRAWN}) && ({IDLE}) && ({marker_js})")


def _text_js(text: str) -> str:
    return f"document.querySelector('[data-testid=\"stMain\"]')?.innerText.includes({text!r})"


async def new_tab(context, url: str, marker_js: str = "true") -> float:
    """Seconds from opening a tab on `url` to data visible; the tab stays open (returned via context)."""
    page = await context.new_page()
    started = time.perf_counter()
    await page.goto(url)
    await _ready(page, marker_js)
    elapsed = time.perf_counter() - started
    await page.close()
    return elapsed


async def _open(context, url: str, marker_js: str = "true"):
    page = await context.new_page()
    started = time.perf_counter()
    await page.goto(url)
    await _ready(page, marker_js)
    return page, time.perf_counter() - started


async def _click(page, name: str, marker_js: str) -> float:
    started = time.perf_counter()
    await page.get_by_role("button", name=name).first.click()
    await _ready(page, marker_js)
    return time.perf_counter() - started


async def _caption(page) -> str:
    return await page.evaluate(
        '[...document.querySelectorAll(\'[data-testid="stMain"] [data-testid="stCaptionContainer"]\')]'
        ".map(e => e.innerText).find(t => t.includes('match')) || ''"
    )


async def _filter(page, label: str, text: str) -> float:
    before = await _caption(page)
    box = page.get_by_label(label).first
    await box.fill(text)
    started = time.perf_counter()
    await page.get_by_role("button", name="Apply").first.click()
    changed = (
        '[...document.querySelectorAll(\'[data-testid="stMain"] [data-testid="stCaptionContainer"]\')]'
        f".map(e => e.innerText).some(t => t.includes('match') && t !== {before!r})"
    )
    await _ready(page, f"location.search.includes('q=') && ({changed})")
    return time.perf_counter() - started


# ------------------------------------------------------------------------------------------------
# The measurements
# ------------------------------------------------------------------------------------------------


@dataclass
class BrowserResult:
    rows: list[tuple[str, str, Timing]] = field(default_factory=list)  # (group, label, timing)
    lines: list[str] = field(default_factory=list)


async def _browser(pw):
    return await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def _timing(label: str, seconds: list[float]) -> Timing:
    return Timing(label, tuple(s * 1000 for s in seconds))


async def _floor(browser, base: str, runs: int) -> tuple[Timing, Timing]:
    context = await browser.new_context()
    tabs = [await new_tab(context, base, _text_js("runs 0")) for _ in range(runs + 1)][1:]
    page, _ = await _open(context, base, _text_js("runs 0"))
    reruns = []
    for i in range(runs + 1):
        reruns.append(await _click(page, "Rerun", _text_js(f"runs {i + 1}")))
    await context.close()
    return _timing("floor: new tab, 50-row dataframe", tabs), _timing("floor: rerun (button)", reruns[1:])


async def _agent_desk(browser, base: str, runs: int, sessions: bool, notes: list[str]) -> list[Timing]:
    """Each measurement on its own: one that times out is reported in `notes`, the others still run."""
    context = await browser.new_context()
    out = []
    roster_marker = _text_js("agents match")
    next_marker = "location.search.includes('after=') && " + _text_js("Previous page")

    async def step(label: str, fn) -> None:
        samples = []
        try:
            for _ in range(runs + 1):
                samples.append(await fn())
        except Exception as exc:
            notes.append(
                f"{label}: {type(exc).__name__} after {len(samples)} samples: {str(exc).splitlines()[0][:100]}"
            )
        if len(samples) > 1:
            out.append(_timing(label, samples[1:]))

    async def roster_tab() -> float:
        return await new_tab(context, f"{base}/roster", roster_marker)

    async def roster_next() -> float:
        page, _ = await _open(context, f"{base}/roster", roster_marker)
        try:
            return await _click(page, "Next page →", next_marker)
        finally:
            await page.close()

    async def roster_filter() -> float:
        page, _ = await _open(context, f"{base}/roster", roster_marker)
        try:
            return await _filter(page, "Search name or paste any id", "assist")
        finally:
            await page.close()

    await step("roster: new tab", roster_tab)
    await step("roster: Next page", roster_next)
    await step("roster: name filter (type + Apply)", roster_filter)
    if sessions:
        marker = _text_js("Runtime sessions")

        async def sessions_tab() -> float:
            return await new_tab(context, f"{base}/sessions", marker)

        async def sessions_next() -> float:
            page, _ = await _open(context, f"{base}/sessions", marker)
            try:
                return await _click(page, "Next page →", next_marker)
            finally:
                await page.close()

        await step("sessions: new tab", sessions_tab)
        await step("sessions: Next page", sessions_next)
    await context.close()
    return out


def _run(coro_fn: Callable[..., Awaitable]):
    async def main():
        from playwright.async_api import async_playwright

        async with async_playwright() as pw:
            browser = await _browser(pw)
            try:
                return await coro_fn(browser)
            finally:
                await browser.close()

    return asyncio.run(main())


def measure(env: dict[str, str], runs: int, sessions: bool, entry: str = "app.py") -> BrowserResult:
    """Floor and Agent Desk pages, one chromium, one after the other (each server already warm)."""
    result = BrowserResult()
    with serve("bench/floor_app.py", {}) as floor:
        tab, rerun = _run(lambda b: _floor(b, floor.base, runs))
    result.rows += [("floor", "new tab", tab), ("floor", "rerun", rerun)]
    with serve(entry, env) as server:
        timings = _run(lambda b: _agent_desk(b, server.base, runs, sessions, result.lines))
        result.lines.append(f"Agent Desk server RSS after the page timings: {server.rss_mb():.0f} MB")
    for t in timings:
        result.rows.append(("agent desk", "new tab" if "new tab" in t.label else "interaction", t))
    return result


def first_page(env: dict[str, str], entry: str, starts: int) -> list[tuple[float, float]]:
    """(start to healthy s, first roster page s) for `starts` fresh server starts with `entry`."""
    out = []
    for _ in range(starts):
        with serve(entry, env) as server:

            async def one(browser, server=server):
                context = await browser.new_context()
                seconds = await new_tab(context, f"{server.base}/roster", _text_js("agents match"))
                await context.close()
                return seconds

            out.append((server.start_to_health_s, _run(one)))
    return out


async def _support_flow(browser, base: str, sessions: bool, samples: list[float], errors: list[str]) -> None:
    context = await browser.new_context()
    context.set_default_navigation_timeout(TIMEOUT_MS)  # 25 tabs opening at once on 2 cores: not 30 s
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page, _ = await _open(context, f"{base}/roster", _text_js("agents match"))
        samples.append(await _click(page, "Next page →", _text_js("Previous page")))
        samples.append(await _filter(page, "Search name or paste any id", "assist"))
        if await page.locator('[data-testid="stException"]').count():
            errors.append("exception on the roster")
        if sessions:
            await page.close()
            page, _ = await _open(context, f"{base}/sessions", _text_js("Runtime sessions"))
            samples.append(await _click(page, "Next page →", _text_js("Previous page")))
            if await page.locator('[data-testid="stException"]').count():
                errors.append("exception on the sessions page")
    except Exception as exc:  # a timeout or a crash is an error of the run, counted, not raised
        errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
    finally:
        await context.close()


def concurrency(env: dict[str, str], users: int, sessions: bool, entry: str = "serve.py") -> list[str]:
    """`users` browser contexts in one chromium doing the support flow at once."""
    with serve(entry, env) as server:
        rss_before = server.rss_mb()
        samples: list[float] = []
        errors: list[str] = []

        async def all_users(browser):
            started = time.perf_counter()
            await asyncio.gather(
                *[_support_flow(browser, server.base, sessions, samples, errors) for _ in range(users)]
            )
            return time.perf_counter() - started

        wall = _run(all_users)
        rss_after = server.rss_mb()
    ms = sorted(s * 1000 for s in samples)
    if not ms:
        return [f"{users} concurrent browser sessions: no interaction completed; errors: {errors[:3]}"]
    p95 = ms[max(0, int(len(ms) * 0.95 + 0.5) - 1)]
    return [
        f"{users} concurrent browser sessions (one chromium, {users} contexts; roster: Next page, name filter"
        + ("; sessions: Next page" if sessions else "")
        + f"): {len(ms)} interactions in {wall:.1f} s wall; interaction-to-data min / median / p95 / max "
        f"{ms[0]:.0f} / {statistics.median(ms):.0f} / {p95:.0f} / {ms[-1]:.0f} ms "
        f"(target p95 < 1,000 ms: {'met' if p95 < 1000 else '**not met**'}); errors: {len(errors)}"
        + (f" ({'; '.join(sorted(set(errors))[:3])})" if errors else ""),
        f"Streamlit server RSS: {rss_before:.0f} MB before, {rss_after:.0f} MB after "
        f"(target < 400 MB: {'met' if rss_after < 400 else '**not met**'})",
    ]
