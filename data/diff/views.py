"""Plain-text views of a `DiffResult`: diff -u-like lines and side-by-side rows (the HTML viewer is
`ui/diff_view.py`)."""

from __future__ import annotations

import json
from typing import Any

from data.diff.results import MASKED_CHANGE, Change, DiffResult, SplitRow, TextDiff
from data.masking import MASK_EMPTY, MASK_SET

_MARKERS = frozenset({MASKED_CHANGE, MASK_SET, MASK_EMPTY})


def format_value(value: Any) -> str:
    """A shown (already masked) value as text: JSON, indented for non-empty containers; the masking
    markers bare, so "changed (masked)" reads as a note rather than a string value."""
    if isinstance(value, str) and value in _MARKERS:
        return value
    if isinstance(value, dict | list) and value:
        return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _prefixed(prefix: str, text: str) -> list[str]:
    """Every line of `text` with a diff prefix."""
    return [f"{prefix} {line}" for line in text.split("\n")]


def unified_lines(result: DiffResult) -> list[str]:
    """The "unified" view: diff -u-like lines. Prefixes: "#" note, "@@" change or hunk header, "-" old,
    "+" new, " " context, "~" move. Everything shown is already masked."""
    lines = ["--- left", "+++ right"]
    for label, error in (("left", result.left_error), ("right", result.right_error)):
        if error:
            lines.append(f"# {label}: {error}")
    lines += [f"# {note}" for note in result.notes]
    if result.equal:
        lines.append("# no changes")
        return lines
    for change in result.changes:
        lines.append(f"@@ {change.display} ({change.kind}) @@")
        if change.text is not None:
            lines += _unified_text(change.text)
        elif change.kind == "moved":
            lines.append(f"~ moved from index {change.old} to index {change.new}")
        else:
            if change.kind != "added":
                lines += _prefixed("-", format_value(change.old))
            if change.kind != "removed":
                lines += _prefixed("+", format_value(change.new))
    return lines


def _unified_text(text: TextDiff) -> list[str]:
    """Hunk lines of a text change in unified form."""
    out: list[str] = []
    if text.compared_masked and not text.hunks:
        out.append("# changed inside masked content only")
    for hunk in text.hunks:
        out.append(hunk.header())
        removed: list[str] = []
        added: list[str] = []
        for line in hunk.lines:
            if line.op == "equal":
                out += [f"- {r}" for r in removed] + [f"+ {a}" for a in added]
                removed, added = [], []
                out.append(f"  {line.old_text}")
                continue
            # Group a run's old lines before its new lines, as diff -u does.
            if line.old_text is not None:
                removed.append(line.old_text)
            if line.new_text is not None:
                added.append(line.new_text)
        out += [f"- {r}" for r in removed] + [f"+ {a}" for a in added]
    return out


def split_rows(result: DiffResult) -> list[SplitRow]:
    """The "split" (side-by-side) view as rows; see `SplitRow`. Everything shown is already masked."""
    rows: list[SplitRow] = []
    for label, error in (("left", result.left_error), ("right", result.right_error)):
        if error:
            rows.append(SplitRow("info", "error", "", "", f"{label}: {error}", None))
    rows += [SplitRow("info", "note", "", "", note, None) for note in result.notes]
    if result.equal:
        rows.append(SplitRow("info", "equal", "", "", "no changes", None))
        return rows
    for c in result.changes:
        if c.text is not None:
            rows.append(SplitRow("header", c.kind, c.display, c.section, c.old, c.new))
            rows += _split_text(c)
        elif c.kind == "moved":
            rows.append(SplitRow("moved", c.kind, c.display, c.section, f"index {c.old}", f"index {c.new}"))
        else:
            left = None if c.kind == "added" else format_value(c.old)
            right = None if c.kind == "removed" else format_value(c.new)
            rows.append(SplitRow("change", c.kind, c.display, c.section, left, right))
    return rows


def _split_text(change: Change) -> list[SplitRow]:
    """Rows of one text change: a "gap" row per hunk, then one row per line."""
    assert change.text is not None
    rows: list[SplitRow] = []
    for hunk in change.text.hunks:
        rows.append(SplitRow("gap", "gap", change.display, change.section, hunk.header(), hunk.header()))
        for line in hunk.lines:
            left_segments = tuple(s for s in line.segments if s.op != "insert")
            right_segments = tuple(s for s in line.segments if s.op != "delete")
            rows.append(
                SplitRow(
                    "line",
                    line.op,
                    change.display,
                    change.section,
                    line.old_text,
                    line.new_text,
                    line.old_no,
                    line.new_no,
                    left_segments,
                    right_segments,
                )
            )
    return rows
