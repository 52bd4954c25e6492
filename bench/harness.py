"""Benchmark plumbing: timed samples (min/median/max), the SQL an operation sends, EXPLAIN of it.

Timings are wall-clock on whatever machine runs them; they are reported, never asserted.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa


@dataclass(frozen=True)
class Timing:
    label: str
    samples_ms: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def spread(self) -> str:
        s = self.samples_ms
        return f"{min(s):.1f} / {self.median:.1f} / {max(s):.1f}"


def timed(label: str, fn: Callable[[], Any], runs: int) -> Timing:
    """One warm-up, then `runs` timed calls."""
    fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return Timing(label, tuple(samples))


@contextmanager
def captured(engine: sa.Engine) -> Iterator[list[tuple[str, Any]]]:
    """The (SQL, parameters) of every cursor statement `engine` sends inside the block."""
    seen: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


SEQ_SCAN = re.compile(r"Seq Scan on (\w+)")


@dataclass(frozen=True)
class Plan:
    label: str
    sql: str
    text: str
    seq_scans_of_large: tuple[str, ...]


def explain(
    raw: sa.Engine, label: str, statements: list[tuple[str, Any]], large: frozenset[str]
) -> list[Plan]:
    """EXPLAIN (ANALYZE, BUFFERS) of each captured SELECT on an unguarded engine (a read: rolled back)."""
    plans = []
    for sql, params in statements:
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            continue
        with raw.connect() as conn:
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql, params or {}).scalars().all()
            conn.rollback()
        text = "\n".join(rows)
        scans = tuple(sorted({t for t in SEQ_SCAN.findall(text) if t in large}))
        plans.append(Plan(label, sql, text, scans))
    return plans


def large_tables(raw: sa.Engine, threshold: int = 10_000) -> frozenset[str]:
    """Tables the planner estimates at `threshold` rows or more."""
    with raw.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND reltuples >= %(t)s "
            "AND relnamespace = 'public'::regnamespace",
            {"t": threshold},
        ).scalars()
        return frozenset(rows)
