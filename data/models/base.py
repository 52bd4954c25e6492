"""Declarative base with Dify's naming convention, and the column helpers shared by the mirrors."""

from __future__ import annotations

import random
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, MappedColumn, mapped_column

from data.types import StringUUID

# Dify's models/engine.py naming convention: unnamed constraints get the same names as in Dify.
NAMING_CONVENTION = {
    "ix": "%(column_0_label)s_idx",
    "uq": "%(table_name)s_%(column_0_name)s_key",
    "ck": "%(table_name)s_%(constraint_name)s_check",
    "fk": "%(table_name)s_%(column_0_name)s_fkey",
    "pk": "%(table_name)s_pkey",
}


class DifyBase(DeclarativeBase):
    """Base of the mirror of Dify's tables. Agent Desk only ever writes the session cleanup columns."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

    if TYPE_CHECKING:
        # Narrower than DeclarativeBase's (a FromClause, `Any`): every mirror maps one declared Table,
        # never a join or a select, and names it with a plain string.
        __table__: ClassVar[sa.Table]
        __tablename__: str


def naive_utc_now() -> datetime:
    """Dify stores naive UTC timestamps."""
    return datetime.now(UTC).replace(tzinfo=None)


def uuidv7(timestamp_ms: int | None = None, rng: random.Random | None = None) -> str:
    """An RFC 9562 version-7 UUID (creation millisecond first, so ids sort by creation time).

    `rng` makes the random bits deterministic (demo data); by default they come from `secrets`.
    """
    ms = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    rand = rng.getrandbits(80) if rng is not None else int.from_bytes(secrets.token_bytes(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return str(uuid.UUID(int=value))


def uuidv7_time(value: str) -> datetime | None:
    """The creation time carried by a version-7 UUID, or None for other versions."""
    try:
        parsed = uuid.UUID(value)
    except (ValueError, TypeError):
        return None
    if parsed.version != 7:
        return None
    return datetime.fromtimestamp((parsed.int >> 80) / 1000, UTC).replace(tzinfo=None)


class DefaultFieldsMixin:
    """`id`, `created_at`, `updated_at` as in Dify's DefaultFieldsMixin."""

    id: Mapped[str] = mapped_column(StringUUID, primary_key=True, default=uuidv7, sort_order=-100)
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime, nullable=False, default=naive_utc_now, server_default=sa.func.current_timestamp()
    )
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime, nullable=False, default=naive_utc_now, server_default=sa.func.current_timestamp()
    )


def newer_column(*args: Any, since: str, **kwargs: Any) -> MappedColumn[Any]:
    """A column Dify added after the seed (release `since`): optional at runtime, never required.

    Deferred, so `select(Model)` never names it: the same query runs on a seed-era database that
    lacks it. Stores read it explicitly, only when the schema report says it is present
    (`SchemaReport.has_column`). `info["since"]` also tells the demo sink and the schema check which
    generation has it (`data.models.generations`).
    """
    info = {"since": since, **kwargs.pop("info", {})}
    return mapped_column(*args, deferred=True, info=info, **kwargs)


def is_newer_column(column: sa.Column[Any]) -> bool:
    """Added after the seed (see `newer_column`), or mapped for the mirror only (`info["optional"]`)."""
    return bool(column.info.get("since") or column.info.get("optional"))
