"""Small helpers: time, ids, JSON text (every random draw comes from a seeded RNG)."""

from __future__ import annotations

import json
import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from data.models.base import uuidv7

_EPOCH = datetime(1970, 1, 1)


def _ms(at: datetime) -> int:
    return (at - _EPOCH) // timedelta(milliseconds=1)


def _v7(at: datetime, rng: random.Random) -> str:
    """Agent-table id: UUIDv7 of the row's creation millisecond, random bits from the seeded RNG."""
    return uuidv7(_ms(at), rng)


def _v4(rng: random.Random) -> str:
    """Core-table id: a UUIDv4 drawn from the seeded RNG."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A random instant in [start, end] (microsecond resolution); `end` when the range is empty."""
    span = (end - start) // timedelta(microseconds=1)
    if span <= 0:
        return end
    return start + timedelta(microseconds=rng.randrange(span + 1))


def _spread(rng: random.Random, start: datetime, end: datetime, n: int) -> list[datetime]:
    """n sorted random instants in [start, end]."""
    return sorted(_between(rng, start, end) for _ in range(n))


def _hex(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def _orm_json(doc: Any) -> str:
    """How Dify's JSONModelColumn stores a document: compact, sorted at every level, UTF-8 kept."""
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _migrated_json(doc: Any) -> str:
    """How data migration 89919253ca7a rewrote snapshots: compact, NOT sorted, ASCII escapes."""
    return json.dumps(doc, separators=(",", ":"))


def _compact_json(doc: Any) -> str:
    """pydantic `model_dump_json()` / plain json.dumps: compact, declaration order, UTF-8 kept."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="microseconds") + "Z"
