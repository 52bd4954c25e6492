"""Parsing URL query parameters against the contract: invalid values are dropped with a notice."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from data.types import normalize_uuid

_SLUG = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")

MAX_TEXT = 500


@dataclass(frozen=True)
class Params:
    values: dict[str, object] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)


def parse_params(raw: Mapping[str, str | list[str]], spec: Mapping[str, object]) -> Params:
    """`spec` maps a parameter name to "uuid", "date", "int", "slug", "text" or a tuple of allowed values."""
    values: dict[str, object] = {}
    notices: list[str] = []
    for name, kind in spec.items():
        given = raw.get(name)
        if isinstance(given, list):
            given = given[-1] if given else None
        if given is None or str(given).strip() == "":
            continue
        text = str(given).strip()
        parsed = _parse(text, kind)
        if parsed is None:
            notices.append(f"Ignored invalid value for `{name}`: {text[:80]!r}")
        else:
            values[name] = parsed
    return Params(values, notices)


def _parse(text: str, kind: object) -> object | None:
    if kind == "uuid":
        return normalize_uuid(text)
    if kind == "date":
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            return None
    if kind == "slug":  # enum-like values, known or not (a newer Dify writes new ones)
        return text if _SLUG.match(text) else None
    if kind == "text":
        return text[:MAX_TEXT]
    if isinstance(kind, tuple | list | frozenset | set):
        return text if text in kind else None
    raise ValueError(f"unknown parameter kind {kind!r}")
