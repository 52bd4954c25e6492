"""Two Agent Desk servers (two `streamlit run` processes, as behind a load balancer: same settings, same
database, nothing shared but PostgreSQL) clean the same rows at once, each driven by its own chromium.

Both operators preview the same sessions before either confirms, then both confirm back to back, so both
servers run their batches over the same rows concurrently. What must hold whatever the interleaving:
every previewed row is cleaned exactly once, by one server; the two servers' transitions are disjoint
and together are the preview; each server's audit records exactly its own transitions; what one server
did, the other reports as skipped (already cleaned or locked), never as an error. docs/scaling.md.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from data.demo import DemoIds
from data.models import AgentRuntimeSession, AuditAction, AuditTarget
from tests.conftest import PostgresServer, _seed
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, ROOT, free_port
from tests.test_cleanup import insert_sessions

S = AgentRuntimeSession
pytestmark = pytest.mark.browser
# safe_md puts an invisible word joiner (U+2060) after colons: allow anything but digits there.
FINISHED = re.compile(r"Cleanup finished:\D*([\d,]+) transitioned, ([\d,]+) skipped.*? of ([\d,]+) requested")


def start_server(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return proc, f"http://127.0.0.1:{port}"


def wait_healthy(base: str) -> None:
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{base}/_stcore/health", timeout=1).read() == b"ok":
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"streamlit at {base} did not become healthy")


@pytest.fixture
def two_servers(postgres: PostgresServer, tmp_path: Path) -> Iterator[tuple[str, sa.Engine, list[str]]]:
    url = _seed(postgres.create_database("twosrv"))
    dify = sa.create_engine(url)
    insert_sessions(dify, 600)
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("AGENT_DESK_") and k != "DATABASE_READ_URL"
    }
    # The same settings on every server (docs/scaling.md); small batches so the two runs interleave.
    env |= {
        "DATABASE_URL": url,
        "AGENT_DESK_ALLOW_WRITES": "true",
        "AGENT_DESK_CLEANUP_CONFIRM_ABOVE": "100000",
        "AGENT_DESK_CLEANUP_BATCH": "25",
        "AGENT_DESK_DATA_DIR": str(tmp_path / "agent-desk"),
    }
    servers = [start_server(env) for _ in range(2)]
    try:
        for _, base in servers:
            wait_healthy(base)
        yield url, dify, [base for _, base in servers]
    finally:
        for proc, _ in servers:
            proc.terminate()
        for proc, _ in servers:
            proc.wait(timeout=15)
        dify.dispose()


LIST = f"/sessions?app={DemoIds.APP_TICKET_TRIAGE}&status=active"


def open_dialog(page) -> int:
    """On the sessions list of the test app's active sessions (already loading), preview "everything
    matching this filter", give a reason; return the count on the (now enabled) confirm button."""
    page.get_by_role("button", name="Preview cleanup of everything matching this filter").click(
        timeout=60_000
    )
    reason = page.get_by_label("Reason (required; recorded in the audit log)")
    reason.fill("two servers at once")
    reason.press("Enter")
    confirm = page.get_by_role("button", name=re.compile(r"^Clean [\d,]+ sessions$"))
    confirm.wait_for(timeout=30_000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('button')].some(b => /^Clean [\\d,]+ sessions$/.test(b.innerText)"
        " && !b.disabled)",
        timeout=30_000,
    )
    return int(re.sub(r"\D", "", confirm.inner_text()))


def test_two_servers_clean_the_same_rows_at_once_each_row_exactly_once(two_servers) -> None:
    from playwright.sync_api import sync_playwright

    _url, dify, bases = two_servers
    with dify.connect() as conn:
        active = set(
            conn.execute(
                sa.select(S.id).where(S.app_id == DemoIds.APP_TICKET_TRIAGE, S.status == "active")
            ).scalars()
        )
    assert len(active) >= 600
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pages = [browser.new_context().new_page() for _ in bases]  # two operators, two servers
        for page, base in zip(pages, bases, strict=True):  # both servers render their first page at once
            page.goto(base + LIST, wait_until="commit")
        counts = [open_dialog(page) for page in pages]
        assert counts == [len(active), len(active)]  # both previewed the same rows
        for page in pages:  # confirm on both servers back to back: their batches run concurrently
            page.get_by_role("button", name=re.compile(r"^Clean [\d,]+ sessions$")).click()
        summaries = []
        for page in pages:
            done = page.get_by_text(FINISHED).first
            try:
                done.wait_for(timeout=120_000)
            except Exception:
                pytest.fail("no cleanup summary; the page shows:\n" + page.inner_text("body")[-3000:])
            summaries.append(FINISHED.search(done.inner_text()))
        browser.close()
    transitioned = [int(m.group(1).replace(",", "")) for m in summaries]
    skipped = [int(m.group(2).replace(",", "")) for m in summaries]
    assert all(int(m.group(3).replace(",", "")) == len(active) for m in summaries)
    assert sum(transitioned) == len(active)  # every row once, by one of the two servers
    assert [t + s for t, s in zip(transitioned, skipped, strict=True)] == [len(active)] * 2

    with dify.connect() as conn:
        cleaned = set(conn.execute(sa.select(S.id).where(S.id.in_(active), S.status == "cleaned")).scalars())
        actions = list(conn.execute(sa.select(AuditAction.id)).scalars())
        per_action = {
            action: list(
                conn.execute(
                    sa.select(AuditTarget.target_id).where(AuditTarget.action_id == action)
                ).scalars()
            )
            for action in actions
        }
    assert cleaned == active
    assert len(actions) == 2  # one audited action per server
    first, second = (per_action[a] for a in actions)
    assert len(first) == len(set(first)) and len(second) == len(set(second))
    assert not set(first) & set(second)  # never cleaned twice across servers
    assert set(first) | set(second) == active  # the audit equals the transitions
    assert sorted(len(v) for v in per_action.values()) == sorted(transitioned)
