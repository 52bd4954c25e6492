"""A real Celery worker process running `tests.fake_dify_collector` (Dify's task name, queue `retention`).

Readiness is the worker's own `worker_ready` signal (a sentinel pushed to Redis and awaited with BLPOP),
not a sleep. What the task received is read back from a Redis list with BLPOP, so a test waits exactly
as long as delivery takes and fails, naming the worker's log, when nothing arrives.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.fake_dify_collector import QUEUE
from tests.redis_server import RedisServer

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 60  # seconds; a cold start on a busy 2-core machine takes a few


class WorkerUnavailable(RuntimeError):
    pass


@dataclass
class CeleryWorker:
    process: subprocess.Popen
    redis: RedisServer
    record_key: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def received(self, timeout: float = 30) -> dict[str, Any]:
        """The next message the task received (blocks until it arrives, fails after `timeout`)."""
        client = self.redis.client(db=1)
        try:
            item = client.blpop([self.record_key], timeout=timeout)
        finally:
            client.close()
        if item is None:
            raise AssertionError(f"the worker received nothing within {timeout}s; its log:\n{self.log()}")
        return json.loads(item[1])

    def pending(self) -> int:
        """Messages recorded and not yet read (0 proves nothing extra was delivered, once drained)."""
        client = self.redis.client(db=1)
        try:
            return int(client.llen(self.record_key))
        finally:
            client.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # warm shutdown
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_worker(server: RedisServer) -> CeleryWorker:
    """Broker on db 0 (what Agent Desk sends to), records on db 1."""
    tag = uuid.uuid4().hex[:8]
    record_key, ready_key = f"fake_dify:received:{tag}", f"fake_dify:ready:{tag}"
    log_path = Path(tempfile.mkdtemp(prefix="celery-")) / "worker.log"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "FAKE_DIFY_BROKER_URL": server.url(0),
        "FAKE_DIFY_RECORD_URL": server.url(1),
        "FAKE_DIFY_RECORD_KEY": record_key,
        "FAKE_DIFY_READY_KEY": ready_key,
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "tests.fake_dify_collector", "worker",
                "-Q", QUEUE, "--pool", "solo", "--concurrency", "1",
                "--without-mingle", "--without-gossip", "--without-heartbeat",
                "--loglevel", "INFO", "--hostname", f"fake-dify-{tag}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    worker = CeleryWorker(process, server, record_key, log_path)
    client = server.client(db=1)
    ready = None
    try:
        # BLPOP in 1 s slices so a worker that crashes at start fails the test at once.
        for _ in range(READY_TIMEOUT):
            ready = client.blpop([ready_key], timeout=1)
            if ready is not None or process.poll() is not None:
                break
    finally:
        client.close()
    if ready is None or process.poll() is not None:
        worker.stop()
        raise WorkerUnavailable(f"the Celery worker did not become ready; its log:\n{worker.log()}")
    return worker
