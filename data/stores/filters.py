"""Filter pieces shared by the stores: substring search, inclusive day ranges (UTC dates), and a filter's
plain-text description for the audit log and messages."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa


def contains(column: sa.SQLColumnExpression[str], text: str) -> sa.ColumnElement[bool]:
    """Case-insensitive substring match; `%`, `_` and `\\` in `text` are literal."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min)


#: Every timestamp a backend stores is below this (MySQL's DATETIME ends here; PostgreSQL goes further,
#: Python's datetime does not): the exclusive end of a range that reaches the last representable day.
LAST_MOMENT = datetime(9999, 12, 31, 23, 59, 59)


def day_after(day: date) -> datetime:
    """The first moment after `day` (the exclusive end of an inclusive day range).

    Total on every `date`: for `date.max` (no next day exists) it is `LAST_MOMENT`, never an overflow.
    `data.params` keeps URL dates at or below `MAX_DATE` so callers that add a margin also stay in range.
    """
    if day >= date.max:
        return LAST_MOMENT
    return datetime.combine(day + timedelta(days=1), time.min)


def day_range(
    column: sa.SQLColumnExpression[datetime], first: date | None, last: date | None
) -> list[sa.ColumnElement[bool]]:
    """`first` <= column's day <= `last`, either bound optional (naive-UTC timestamps)."""
    conditions: list[sa.ColumnElement[bool]] = []
    if first:
        conditions.append(column >= day_start(first))
    if last:
        conditions.append(column < day_after(last))
    return conditions


def described(values: dict[str, str | date | datetime | None]) -> dict[str, str]:
    """A filter's non-empty values as plain strings (ISO dates; a datetime with a space), in given order."""
    out: dict[str, str] = {}
    for name, value in values.items():
        if isinstance(value, datetime):
            out[name] = value.isoformat(sep=" ")
        elif isinstance(value, date):
            out[name] = value.isoformat()
        elif value:
            out[name] = value
    return out
