"""Tolerant reading of Dify's loosely typed columns.

Dify stores enums as plain VARCHAR and JSON as TEXT, with no constraints. A newer Dify writes enum
values this code does not know, and rows can hold malformed JSON. Reading a row must never raise:
these two result types carry either the good value or a description of what was wrong with it.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

E = TypeVar("E", bound=StrEnum)

#: JSON texts longer than this are not parsed for display (a 200 KB prompt parses fine; 20 MB would not).
MAX_PARSE_CHARS = 5_000_000
#: Deeper documents are reported, not returned: every consumer (masking, diff) walks them recursively.
MAX_DEPTH = 100


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether a parsed document nests more than `limit` containers (iterative: no recursion limit)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > limit:
                return True
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


@dataclass(frozen=True, slots=True)
class EnumValue(Generic[E]):
    """A stored enum value: `member` is the known enum member, or None when `raw` is unknown."""

    raw: str
    member: E | None

    @classmethod
    def parse(cls, enum_class: type[E], raw: Any) -> EnumValue[E]:
        text = "" if raw is None else str(raw)
        try:
            return cls(text, enum_class(text))
        except ValueError:
            return cls(text, None)

    @property
    def known(self) -> bool:
        return self.member is not None

    def __str__(self) -> str:
        return self.raw

    def label(self) -> str:
        """The stored value, flagged when this code does not know it."""
        return self.raw if self.known else f"{self.raw} (unknown value)"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, EnumValue):
            return self.raw == other.raw
        if isinstance(other, str):  # StrEnum members are str too
            return self.raw == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.raw)


@dataclass(frozen=True, slots=True)
class JsonResult:
    """A JSON column read tolerantly: `value` when `error` is None, otherwise `raw` with the reason."""

    raw: str | None
    value: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def is_object(self) -> bool:
        return self.ok and isinstance(self.value, dict)

    def as_object(self) -> dict[str, Any]:
        """The parsed object, or an empty dict when the text is invalid or not an object."""
        return self.value if self.is_object else {}


def parse_json(raw: str | bytes | None, *, expect_object: bool = False) -> JsonResult:
    """Parse a JSON text column; never raises.

    With `expect_object`, valid JSON that is not an object (e.g. `[]` or `"x"`) is reported as an
    error too, while `value` still carries what was parsed.
    """
    if raw is None:
        return JsonResult(raw=None, error="no value (NULL)")
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
    if text.strip() == "":
        return JsonResult(raw=text, error="empty text")
    if len(text) > MAX_PARSE_CHARS:
        return JsonResult(raw=text, error=f"too large to parse ({len(text):,} characters)")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return JsonResult(raw=text, error=f"invalid JSON: {exc}")
    if _deeper_than(value, MAX_DEPTH):
        return JsonResult(raw=text, error=f"JSON nested deeper than {MAX_DEPTH} levels")
    if expect_object and not isinstance(value, dict):
        return JsonResult(raw=text, value=value, error=f"JSON is a {type(value).__name__}, not an object")
    return JsonResult(raw=text, value=value)


def normalize_uuid(value: Any) -> str | None:
    """Return `value` as a lowercase dashed UUID string, or None when it is not a UUID."""
    if value is None:
        return None
    if isinstance(value, uuid.UUID):
        return str(value)
    try:
        return str(uuid.UUID(str(value).strip()))
    except (ValueError, AttributeError, TypeError):
        return None
