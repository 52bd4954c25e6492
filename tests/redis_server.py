"""A throwaway Redis server (Dify's Celery broker in its docker-compose): Debian's `redis-server`, on a
free loopback port, no persistence, its files in a temp dir. Missing binary: the run fails with an
install hint (never a skip)."""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import redis

INSTALL_HINT = "redis-server is required for the collector tests: apt-get install -y redis-server"
START_TIMEOUT = 20.0


class RedisUnavailable(RuntimeError):
    pass


def free_port() -> int:
    """A loopback TCP port nobody listens on right now (also used for "a broker that is down")."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RedisServer:
    base: Path
    port: int
    process: subprocess.Popen

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, db=db, socket_timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.base, ignore_errors=True)


def _wait_ready(server: RedisServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    client = redis.Redis(host="127.0.0.1", port=server.port, socket_connect_timeout=1, socket_timeout=1)
    try:
        while True:
            if server.process.poll() is not None:
                logfile = server.base / "redis.log"
                log = logfile.read_text(errors="replace") if logfile.exists() else ""
                raise RedisUnavailable(f"redis-server exited: {log[-2000:]}")
            with contextlib.suppress(redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError):
                if client.ping():
                    return
            if time.monotonic() > deadline:
                raise RedisUnavailable("redis-server did not answer PING in time")
            time.sleep(0.05)  # polling a condition (PING), not waiting a fixed time
    finally:
        client.close()


def start_redis() -> RedisServer:
    binary = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if binary is None:
        raise RedisUnavailable(INSTALL_HINT)
    last_error: Exception | None = None
    for _ in range(3):  # the free port can be taken between probing and binding: try another
        base = Path(tempfile.mkdtemp(prefix="redis-", dir="/tmp"))
        port = free_port()
        process = subprocess.Popen(
            [
                binary,
                "--bind", "127.0.0.1",
                "--port", str(port),
                "--dir", str(base),
                "--save", "",
                "--appendonly", "no",
                "--daemonize", "no",
                "--protected-mode", "yes",
                "--logfile", str(base / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        server = RedisServer(base, port, process)
        try:
            _wait_ready(server)
            return server
        except RedisUnavailable as exc:
            last_error = exc
            server.stop()
    raise RedisUnavailable(str(last_error))
