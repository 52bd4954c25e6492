"""Portable column types mirroring Dify's `models/types.py`, made tolerant for reading.

* `StringUUID`: native `uuid` on PostgreSQL, `CHAR(36)` on MySQL, text elsewhere; always bound and
  read as a lowercase dashed string.
* `LongText`: `TEXT` / MySQL `LONGTEXT`; used for every JSON-bearing column (Dify stores JSON as text).
* `TolerantEnum`: a `VARCHAR(n)` that loads into `EnumValue` and never raises on unknown values,
  unlike Dify's `EnumText` (a newer Dify writes values the seed enums do not know).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.types import TypeDecorator

from data.tolerant import EnumValue, normalize_uuid


class StringUUID(TypeDecorator[str]):
    """UUID stored natively where the database has the type; always a lowercase dashed `str` in Python."""

    impl = sa.CHAR(36)
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            return postgresql.UUID(as_uuid=False)
        return sa.CHAR(36)

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        if value is None:
            return None
        normalized = normalize_uuid(value)
        if normalized is None:
            # Binding a non-UUID would raise on PostgreSQL's uuid type; refuse here with a clear message.
            raise ValueError(f"not a UUID: {value!r}")
        return normalized

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> str | None:
        if value is None:
            return None
        return str(value).lower()


class LongText(TypeDecorator[str]):
    """Unbounded text: `LONGTEXT` on MySQL, `TEXT` elsewhere."""

    impl = sa.Text
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        return mysql.LONGTEXT() if dialect.name == "mysql" else sa.Text()


class TolerantEnum(TypeDecorator[EnumValue]):
    """`VARCHAR(length)` holding a `StrEnum` value; loads as `EnumValue` (known member or raw string)."""

    impl = sa.String
    cache_ok = True

    def __init__(self, enum_class: type[StrEnum], length: int) -> None:
        super().__init__(length)
        self.enum_class = enum_class
        # Kept for `copy` (the impl's `length` is typed optional); private, so not in the cache key.
        self._length = length

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        if value is None:
            return None
        if isinstance(value, EnumValue):
            return value.raw
        if isinstance(value, StrEnum):
            return value.value
        return str(value)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> EnumValue | None:
        if value is None:
            return None
        return EnumValue.parse(self.enum_class, value)

    def copy(self, **kw: Any) -> TolerantEnum:
        return TolerantEnum(self.enum_class, self._length)
