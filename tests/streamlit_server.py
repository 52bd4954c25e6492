"""A real `streamlit run app.py` on a free loopback port for browser tests, on a copy of a demo file."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def streamlit_server(
    data_dir: Path, env: Mapping[str, str] | None = None, *, script: str = "app.py", start_seconds: float = 30
) -> Iterator[str]:
    """Serve the app on the embedded demo in `data_dir` (no AGENT_DESK_* or DATABASE_URL from the
    caller's environment leaks in); yields the base URL once `/_stcore/health` answers. `script`:
    `serve.py` is what ./scripts/run serves (its warm-up runs before the server answers)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("AGENT_DESK_") and k != "DATABASE_URL"}
    environ.update({"AGENT_DESK_DATA_DIR": str(data_dir), **(env or {})})
    port = free_port()
    args = ["--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port)]
    log = open(data_dir / "streamlit.log", "wb")  # noqa: SIM115  (a file, not a pipe: a full pipe stalls the server)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, *args, "--browser.gatherUsageStats", "false"],
        cwd=ROOT,
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + start_seconds
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{base}/_stcore/health", timeout=1).read() == b"ok":
                break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        log.close()
        output = (data_dir / "streamlit.log").read_text(errors="replace")
        pytest.fail("streamlit did not become healthy: " + output[-2000:])
    try:
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
