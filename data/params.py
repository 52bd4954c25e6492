"""Parsing URL query parameters against the contract: invalid values are dropped with a notice.

Invariants (every page relies on them, `tests/test_params_fuzz.py` checks them on every page):

* parsing never raises on any input: NUL bytes, control characters, lone surrogates, huge values,
  out-of-range dates and integers all become a notice and the parameter is ignored;
* a parsed value is safe to hand to any backend: no string carries a control character (PostgreSQL
  refuses NUL in text: psycopg's DataError), no date is outside `MIN_DATE..MAX_DATE` (so the exclusive
  end of an inclusive day range, and the sessions id bound one hour after it, still exist), no integer
  is outside PostgreSQL's `integer` range;
* notices quote the offending value shortened and with every non-printable character escaped
  (`repr`), and pages render them through `ui.render` (never as markdown or a link).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from data.tolerant import normalize_uuid

_SLUG = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_INT = re.compile(r"^[+-]?[0-9]{1,10}$")
_CURSOR = re.compile(r"^[A-Za-z0-9_\-]+={0,2}$")

#: Longest search text kept (longer text is refused with a notice, never silently cut).
MAX_TEXT = 500
#: Longest opaque cursor (a roster cursor by name carries the JSON-escaped name of a row).
MAX_CURSOR = 4096
#: Any raw value longer than this is refused before it is looked at.
MAX_RAW = 8192
#: Dates the contract accepts: MySQL's DATETIME range, ending one day early so that the day after the
#: last day (the exclusive end of a day range) plus the sessions id margin stays representable.
MIN_DATE = date(1000, 1, 1)
MAX_DATE = date(9999, 12, 30)
#: Integers the contract accepts: PostgreSQL's `integer` (Dify's `version` columns).
MIN_INT = -(2**31)
MAX_INT = 2**31 - 1
NOTICE_QUOTE = 80


@dataclass(frozen=True)
class Params:
    values: dict[str, object] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)


def parse_params(raw: Mapping[str, str | list[str]], spec: Mapping[str, object]) -> Params:
    """`spec` maps a parameter name to "uuid", "date", "int", "slug", "text", "cursor" or a tuple of
    allowed values. Unknown names are not looked at; a repeated name uses its last value."""
    values: dict[str, object] = {}
    notices: list[str] = []
    for name, kind in spec.items():
        text, notice = given_text(raw, name)
        if notice is not None:
            notices.append(notice)
        if text is None:
            continue
        parsed, problem = parse_value(text.strip(), kind)
        if problem is None:
            values[name] = parsed
        else:
            notices.append(invalid_notice(name, problem, text))
    return Params(values, notices)


def given_text(raw: Mapping[str, str | list[str]], name: str) -> tuple[str | None, str | None]:
    """The raw value of parameter `name` (a repeated name: its last value) as `(text, None)`, ready for
    its kind; `(None, None)` when it is absent or blank; `(None, notice)` when it is refused before its
    kind is looked at (too long, a control character)."""
    given = raw.get(name)
    if isinstance(given, list):
        given = given[-1] if given else None
    if given is None:
        return None, None
    text = str(given)
    if len(text) > MAX_RAW:
        return None, f"Ignored `{name}`: its value is {len(text):,} characters long."
    problem = text_problem(text)  # before strip(): it would drop some control characters
    if problem is not None:
        return None, invalid_notice(name, problem, text)
    if text.strip() == "":
        return None, None
    return text, None


def invalid_notice(name: str, problem: str, text: str) -> str:
    """The notice of a refused value: which parameter, why, and the value quoted safely."""
    return f"Ignored invalid value for `{name}` ({problem}): {quote(text)}"


def text_problem(text: str) -> str | None:
    """Why a string may not reach a query or a page (control characters, lone surrogates), or None.

    Format characters (bidi marks, zero-width joiners) are allowed: real names carry them.
    """
    for char in text:
        category = unicodedata.category(char)
        if category == "Cc":
            return "control character" if char != "\0" else "NUL byte"
        if category == "Cs":
            return "invalid character"
    return None


def quote(text: str) -> str:
    """The value as a notice shows it: shortened, every non-printable character escaped."""
    shown = text if len(text) <= NOTICE_QUOTE else text[:NOTICE_QUOTE] + "…"
    return repr(shown)


def parse_value(text: str, kind: object) -> tuple[object, str | None]:
    """`text` (stripped, already free of control characters) read as `kind`: `(value, None)` or
    `(None, problem)`."""
    if kind == "uuid":
        value = normalize_uuid(text) if len(text) <= 64 else None
        return value, None if value else "not an id"
    if kind == "date":
        return _parse_date(text)
    if kind == "int":
        if not _INT.match(text):
            return None, "not a whole number"
        number = int(text)
        if not MIN_INT <= number <= MAX_INT:
            return None, "out of range"
        return number, None
    if kind == "slug":  # enum-like values, known or not (a newer Dify writes new ones)
        return (text, None) if _SLUG.match(text) else (None, "not a known kind of value")
    if kind == "text":
        return (text, None) if len(text) <= MAX_TEXT else (None, f"longer than {MAX_TEXT} characters")
    if kind == "cursor":
        return (text, None) if _cursor_ok(text) else (None, "not a page cursor")
    if isinstance(kind, tuple | list | frozenset | set):
        return (text, None) if text in kind else (None, "not one of the allowed values")
    raise ValueError(f"unknown parameter kind {kind!r}")


def _parse_date(text: str) -> tuple[date | None, str | None]:
    if not _DATE.match(text):
        return None, "not a YYYY-MM-DD date"
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None, "not a calendar date"
    if not MIN_DATE <= day <= MAX_DATE:
        return None, f"outside {MIN_DATE.isoformat()}..{MAX_DATE.isoformat()}"
    return day, None


def _cursor_ok(text: str) -> bool:
    """An opaque cursor is unpadded base64url of JSON whose strings carry no control characters.

    The stores decode cursors themselves (and reject foreign ones); this only guarantees that nothing a
    crafted cursor smuggles in can reach a query (e.g. a NUL inside a JSON string `\\u0000`).
    """
    if len(text) > MAX_CURSOR or not _CURSOR.match(text):
        return False
    try:
        payload = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, binascii.Error, RecursionError):
        return False
    return _strings_clean(payload, depth=0)


def _strings_clean(value: Any, depth: int) -> bool:
    if depth > 8:
        return False
    if isinstance(value, str):
        return text_problem(value) is None
    if isinstance(value, list):
        return all(_strings_clean(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(_strings_clean(k, depth + 1) and _strings_clean(v, depth + 1) for k, v in value.items())
    return True
