"""Masking text that is not valid JSON "like JSON, as far as it can".

Stored configs that fail to parse are mostly *almost* JSON: truncated, a stray token, a missing comma.
A tolerant tokenizer walks the text keeping a stack of objects and arrays and the current key, so a
value after `"db_pass":` or inside `"sandbox": {"config": {...}}` is masked by the same path rules as
valid JSON (`is_sensitive_path`, secret name/value pairs). Then every free-text detector runs over the
whole result (`mask_text`), which also covers text that is not JSON-like at all.

Invariants:
* the output has exactly as many lines as the input (a masked value keeps its newlines), so a diff
  can show masked lines next to raw line numbers;
* it never raises, whatever the input (unbalanced brackets, unterminated strings, binary junk);
* it is linear in the input: one regex pass, a bounded stack (deeper nesting is treated as flat).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from data.masking.keys import PAIR_NAME_KEYS, PAIR_VALUE_KEYS, is_secret_key, is_sensitive_path
from data.masking.text import MASK_TOKEN, mask_text

MASK_SET = "[masked: set]"
MASK_EMPTY = "[masked: empty]"
_MAX_STACK = 200

_TOKEN = re.compile(
    r"""(?P<str>"(?:[^"\\\n]|\\.)*(?:"|(?=\n)|$))"""  # a string; unterminated ones end at the line
    r"""|(?P<punct>[{}\[\]:,])"""
    r"""|(?P<ws>\s+)"""
    r"""|(?P<bare>[^\s{}\[\]:,"]+)""",
    re.DOTALL,
)


@dataclass(slots=True)
class _Frame:
    """One open object or array: where it sits, and where inside it the tokenizer is."""

    path: tuple[str | int, ...]
    is_object: bool
    key: str | None = None
    index: int = 0
    expect_key: bool = True
    secret_pair: bool = False
    names: dict[str, str] = field(default_factory=dict)


def _decode(token: str) -> str:
    if len(token) >= 2 and token.endswith('"'):
        try:
            value = json.loads(token)
            if isinstance(value, str):
                return value
        except ValueError:
            pass
    return token.strip('"')


def _masked(token: str) -> str:
    """A masked value in the token's own syntax: quoted when it was a string, newlines kept."""
    empty = token in ('""', "null", "[]", "{}")
    marker = MASK_EMPTY if empty else MASK_SET
    newlines = "\n" * token.count("\n")
    return (f'"{marker}"' if token.startswith('"') else marker) + newlines


def mask_lenient_json(text: str) -> str:
    """Mask a text that failed to parse as JSON (see module doc)."""
    if not text:
        return text
    out: list[str] = []
    stack: list[_Frame] = []
    for m in _TOKEN.finditer(text):
        token = m.group(0)
        kind = m.lastgroup
        frame = stack[-1] if stack else None
        if kind == "ws":
            out.append(token)
            continue
        if kind == "punct":
            out.append(token)
            if token in "{[":
                parent = frame.path if frame else ()
                here = _child_path(frame) if frame else parent
                if len(stack) < _MAX_STACK:
                    stack.append(_Frame(here, token == "{"))
            elif token in "}]" and stack:
                stack.pop()
                _after_value(stack[-1] if stack else None)
            elif token == ":" and frame and frame.is_object:
                frame.expect_key = False
            elif token == "," and frame:
                if frame.is_object:
                    frame.expect_key, frame.key = True, None
                else:
                    frame.index += 1
            continue
        # A string or a bare word: a key, or a value.
        if frame and frame.is_object and frame.expect_key:
            frame.key = _decode(token) if kind == "str" else token
            out.append(token)
            continue
        path = _child_path(frame) if frame else ()
        if frame and frame.is_object and frame.key is not None and kind == "str":
            name_key = frame.key.lower()
            if name_key in PAIR_NAME_KEYS and is_secret_key(_decode(token)):
                frame.secret_pair = True
        if path and (
            is_sensitive_path(path)
            or (
                frame is not None
                and frame.secret_pair
                and frame.key is not None
                and frame.key.lower() in PAIR_VALUE_KEYS
            )
        ):
            out.append(_masked(token))
        else:
            out.append(token)
        _after_value(frame)
    # Free-text detectors over the whole text: secrets inside strings, and text that is not JSON-like.
    return mask_text("".join(out))


def _child_path(frame: _Frame | None) -> tuple[str | int, ...]:
    if frame is None:
        return ()
    if frame.is_object:
        return (*frame.path, frame.key if frame.key is not None else "")
    return (*frame.path, frame.index)


def _after_value(frame: _Frame | None) -> None:
    """After a value inside an object, the next string is a key even if the comma is missing."""
    if frame is not None and frame.is_object:
        frame.expect_key = True


__all__ = ["MASK_TOKEN", "mask_lenient_json"]
