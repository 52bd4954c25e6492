"""How far the read replica (`DATABASE_READ_URL`) is behind the primary (`DATABASE_URL`).

PostgreSQL only (streaming replication): the replica's replayed WAL position against the primary's
current WAL write position, both read with read-only functions on `data.guard.SAFE_FUNCTIONS`.

Invariants:
* Measuring never fails a page: any database error becomes state `unknown` with the error's class.
* `bytes_behind` is never negative (the primary is read after the replica, so it can only be ahead).
* The write position is what a replica can receive at most (the primary streams written and flushed
  WAL), so a caught-up replica measures exactly 0 bytes. An asynchronous commit the WAL writer has not
  written yet (at most `wal_writer_delay`, 200 ms by default) is not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

CAUGHT_UP = "caught-up"
BEHIND = "behind"
NOT_A_REPLICA = "not-a-replica"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class ReplicaLag:
    """One measurement. `replay_age_s`: seconds since the newest commit the replica has replayed was
    made on the primary (when behind, the replica's data is at least this old)."""

    state: str
    bytes_behind: int | None = None
    replay_age_s: float | None = None
    detail: str = ""

    @property
    def lagging(self) -> bool:
        """True unless the replica is known to be caught up (unknown counts as lagging)."""
        return self.state != CAUGHT_UP

    def summary(self) -> str:
        if self.state == CAUGHT_UP:
            return "Read replica: caught up with the primary."
        if self.state == BEHIND:
            age = (
                f", newest replayed commit {self.replay_age_s:.0f} s old"
                if self.replay_age_s is not None
                else ""
            )
            return f"Read replica: {_size(self.bytes_behind or 0)} of WAL behind the primary{age}."
        if self.state == NOT_A_REPLICA:
            return "Read URL is not a streaming replica (not in recovery): no lag to measure."
        return f"Read replica lag unknown: {self.detail}."


def _size(n: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def parse_lsn(text: str) -> int:
    """PostgreSQL's `pg_lsn` text form `HI/LO` (hex) as a byte position."""
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) | int(low, 16)


def measure(replica: sa.Connection, primary: sa.Connection) -> ReplicaLag:
    """Lag of the server behind `replica` relative to `primary` (read in that order)."""
    if replica.dialect.name != "postgresql" or primary.dialect.name != "postgresql":
        return ReplicaLag(UNKNOWN, detail=f"lag is measured on PostgreSQL only, not {replica.dialect.name}")
    f = sa.func
    try:
        in_recovery, replayed, replayed_at, now = replica.execute(
            sa.select(
                f.pg_is_in_recovery(), f.pg_last_wal_replay_lsn(), f.pg_last_xact_replay_timestamp(), f.now()
            )
        ).one()
        if not in_recovery:
            return ReplicaLag(NOT_A_REPLICA)
        primary_in_recovery = primary.execute(sa.select(f.pg_is_in_recovery())).scalar_one()
        if primary_in_recovery:
            return ReplicaLag(UNKNOWN, detail="DATABASE_URL is itself a replica")
        current = primary.execute(sa.select(f.pg_current_wal_lsn())).scalar_one()
    except sa.exc.DBAPIError as exc:
        return ReplicaLag(UNKNOWN, detail=type(exc.orig).__name__)
    finally:
        for conn in (replica, primary):
            if conn.in_transaction():
                conn.rollback()
    if replayed is None:
        return ReplicaLag(UNKNOWN, detail="the replica has not replayed any WAL yet")
    behind = max(0, parse_lsn(str(current)) - parse_lsn(str(replayed)))
    age = _age(now, replayed_at)
    return ReplicaLag(CAUGHT_UP if behind == 0 else BEHIND, bytes_behind=behind, replay_age_s=age)


def _age(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else max(0.0, (now - then).total_seconds())
