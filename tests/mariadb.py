"""A throwaway MariaDB server (Dify's other backend is MySQL), socket only; see shared/notes/mariadb-testing.md."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = "MariaDB is required for the MySQL portability tests: apt-get install -y mariadb-server"


@dataclass
class MariaDB:
    base: Path
    process: subprocess.Popen

    @property
    def socket(self) -> Path:
        return self.base / "sock"

    def url(self, database: str) -> str:
        return f"mysql+pymysql://root@localhost/{database}?unix_socket={self.socket}&charset=utf8mb4"

    def create_database(self, name: str) -> str:
        subprocess.run(
            ["mariadb", "-uroot", f"--socket={self.socket}", "-e", f"CREATE DATABASE {name}"], check=True
        )
        return self.url(name)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.base, ignore_errors=True)


def start_mariadb() -> MariaDB:
    if not shutil.which("mariadbd") and not Path("/usr/sbin/mariadbd").exists():
        raise RuntimeError(INSTALL_HINT)
    base = Path(tempfile.mkdtemp(prefix="mdb-", dir="/tmp"))
    os.chmod(base, 0o755)
    user = ["--user=mysql"] if os.geteuid() == 0 else []
    if os.geteuid() == 0:
        shutil.chown(base, "mysql", "mysql")
    subprocess.run(
        [
            "mariadb-install-db",
            f"--datadir={base / 'data'}",
            *user,
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
        ],
        check=True,
        capture_output=True,
    )
    process = subprocess.Popen(
        [
            shutil.which("mariadbd") or "/usr/sbin/mariadbd",
            f"--datadir={base / 'data'}",
            f"--socket={base / 'sock'}",
            "--skip-networking",
            *user,
            f"--pid-file={base / 'pid'}",
            f"--log-error={base / 'err'}",
        ],
    )
    deadline = time.monotonic() + 30
    while not (base / "sock").exists():
        if time.monotonic() > deadline or process.poll() is not None:
            log = (base / "err").read_text() if (base / "err").exists() else ""
            process.kill()
            raise RuntimeError(f"MariaDB did not start: {log[-2000:]}")
        time.sleep(0.1)
    return MariaDB(base, process)
