"""A throwaway PostgreSQL cluster for tests and benchmarks (Debian's server binaries, socket only).

Facts this relies on (shared/notes/postgres-testing.md): initdb refuses root, so server commands run
as the `postgres` OS user; the socket path must be short; fsync off is fine for throwaway data.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = (
    "PostgreSQL server binaries not found. Install them (Debian: `apt-get install -y postgresql`) "
    "or set TEST_DATABASE_URL to a PostgreSQL database the tests may use."
)


class PostgresUnavailable(RuntimeError):
    pass


def find_bindir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    for candidate in reversed(candidates):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    which = shutil.which("initdb")
    if which:
        return Path(which).parent
    raise PostgresUnavailable(INSTALL_HINT)


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@dataclass
class Cluster:
    base: Path
    bindir: Path

    @property
    def datadir(self) -> Path:
        return self.base / "data"

    def url(self, database: str = "postgres", user: str = "postgres") -> str:
        return f"postgresql+psycopg://{user}@/{database}?host={self.base}&port=5432"

    def start(self) -> None:
        self._own_base()
        run = subprocess.run(
            _as_postgres(
                [
                    str(self.bindir / "initdb"),
                    "-D",
                    str(self.datadir),
                    "-U",
                    "postgres",
                    "--no-sync",
                    "-A",
                    "trust",
                ]
            ),
            capture_output=True,
            text=True,
        )
        if run.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {run.stderr.strip()}")
        self._launch()

    def _own_base(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
        os.chmod(self.base, 0o755)

    def _launch(self) -> None:
        # initdb's pg_hba (trust) already has `local replication all trust`, and PostgreSQL 15's defaults
        # (wal_level=replica, max_wal_senders=10, hot_standby=on) are what a streaming replica needs; they
        # are spelled out so a replica can always follow this cluster.
        options = (
            f"-c listen_addresses='' -k {self.base} -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=60 -c wal_level=replica -c max_wal_senders=5 "
            "-c hot_standby=on"
        )
        run = subprocess.run(
            _as_postgres(
                [
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(self.datadir),
                    "-o",
                    options,
                    "-l",
                    str(self.base / "log"),
                    "-w",
                    "-t",
                    "30",
                    "start",
                ]
            ),
            capture_output=True,
            text=True,
        )
        if run.returncode != 0:
            log = (self.base / "log").read_text() if (self.base / "log").exists() else ""
            raise PostgresUnavailable(f"PostgreSQL did not start: {run.stderr.strip()} {log[-2000:]}")

    def start_replica(self) -> Cluster:
        """A second throwaway cluster streaming from this one: `pg_basebackup -R` (standby.signal and
        primary_conninfo over this cluster's socket) into its own short /tmp dir, started on its own
        socket dir. It is a hot standby: read-only, replaying this cluster's WAL."""
        replica = Cluster(base=Path(tempfile.mkdtemp(prefix="pgr-", dir="/tmp")), bindir=self.bindir)
        try:
            replica._own_base()
            run = subprocess.run(
                _as_postgres(
                    [
                        str(self.bindir / "pg_basebackup"),
                        "-D",
                        str(replica.datadir),
                        "-h",
                        str(self.base),
                        "-p",
                        "5432",
                        "-U",
                        "postgres",
                        "-R",
                        "-X",
                        "stream",
                        "-c",
                        "fast",
                        "--no-sync",
                    ]
                ),
                capture_output=True,
                text=True,
            )
            if run.returncode != 0:
                raise PostgresUnavailable(f"pg_basebackup failed: {run.stderr.strip()}")
            replica._launch()
        except Exception:
            replica.stop()
            raise
        return replica

    def stop(self) -> None:
        pid_file = self.datadir / "postmaster.pid"
        pid = int(pid_file.read_text().split()[0]) if pid_file.exists() else None
        subprocess.run(
            _as_postgres(
                [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "-w", "stop"]
            ),
            capture_output=True,
        )
        cmdline = Path(f"/proc/{pid}/cmdline")
        # Never leave a server behind, even if pg_ctl could not stop it (and never kill another process).
        if pid is not None and cmdline.exists() and b"postgres" in cmdline.read_bytes():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.base, ignore_errors=True)


def start_cluster() -> Cluster:
    """initdb + start a socket-only cluster in a short /tmp path (about 0.7 s)."""
    bindir = find_bindir()
    base = Path(tempfile.mkdtemp(prefix="pg-", dir="/tmp"))
    cluster = Cluster(base=base, bindir=bindir)
    started = time.monotonic()
    try:
        cluster.start()
    except Exception:
        shutil.rmtree(base, ignore_errors=True)
        raise
    cluster.startup_seconds = time.monotonic() - started  # type: ignore[attr-defined]
    return cluster
