"""Rendering-neutral result types of the config diff: what `diff_configs` and `diff_text` return
and what the views are built from. Texts in them are already masked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

ConfigKind = Literal["soul", "node_job"]
ChangeKind = Literal["added", "removed", "changed", "moved"]
SegmentOp = Literal["equal", "delete", "insert"]
LineOp = Literal["equal", "added", "removed", "changed"]
PathKey = str | int
Path = tuple[PathKey, ...]

KINDS: tuple[ConfigKind, ...] = ("soul", "node_job")
CHANGE_KINDS: tuple[ChangeKind, ...] = ("added", "removed", "changed", "moved")

#: What a changed secret shows on both sides: not the values, not a hash, not a length.
MASKED_CHANGE = "changed (masked)"
#: Section name of the whole-document text diff used when a side is not a JSON object.
DOCUMENT_SECTION = "(document)"


class Segment(NamedTuple):
    """A run of words inside a changed line: `op` is "equal", "delete" (old only) or "insert" (new only)."""

    op: SegmentOp
    text: str


@dataclass(frozen=True, slots=True)
class TextLine:
    """One line of a text diff; texts are masked. Line numbers are 1-based, None on the missing side.

    `segments` is set only for "changed" lines: the old line is the concatenation of its "equal" and
    "delete" segments, the new line of its "equal" and "insert" segments.
    """

    op: LineOp
    old_no: int | None
    new_no: int | None
    old_text: str | None
    new_text: str | None
    segments: tuple[Segment, ...] = ()


@dataclass(frozen=True, slots=True)
class TextHunk:
    """A run of changed lines with up to CONTEXT_LINES unchanged lines around it (like `@@` in diff -u)."""

    old_start: int
    old_count: int
    new_start: int
    new_count: int
    lines: tuple[TextLine, ...]

    def header(self) -> str:
        """The unified-diff hunk header, e.g. `@@ -10,7 +10,8 @@`."""
        return f"@@ -{self.old_start},{self.old_count} +{self.new_start},{self.new_count} @@"


@dataclass(frozen=True, slots=True)
class TextDiff:
    """Line diff of two texts, masked. Only hunks are kept, not the unchanged bulk of a long text: that is
    masked on demand, for the lines a viewer unfolds (`unchanged_lines`).

    `compared_masked` is True when a token spans lines, so lines could not be masked one by one and the
    masked texts were compared instead; then a change hidden inside a masked token shows no hunk.
    `masked` tells whether any shown line differs from its raw text because of masking.
    `unchanged_source` masks old lines on demand (it holds the text to mask, so it is left out of
    repr and equality; only masked lines ever come out of it).
    """

    hunks: tuple[TextHunk, ...]
    old_line_count: int
    new_line_count: int
    added: int
    removed: int
    changed: int
    word_diff_capped: bool = False
    compared_masked: bool = False
    masked: bool = False
    unchanged_source: Callable[[int, int], tuple[str, ...] | None] | None = field(
        default=None, repr=False, compare=False
    )

    def unchanged_lines(self, start: int, stop: int) -> tuple[str, ...] | None:
        """The old text's lines `start`..`stop`-1 (0-based), masked: the unchanged text between or around
        hunks, for a viewer to unfold. None when this diff cannot show them line for line."""
        if self.unchanged_source is None or not 0 <= start <= stop <= self.old_line_count:
            return None
        return self.unchanged_source(start, stop)


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between the normalized documents; `old` and `new` are already masked.

    * `path`: keys and list indexes into the normalized right document, or the left one for "removed";
      `old_path` / `new_path` are the same location on each side (None where it does not exist).
    * `display`: the path for people, list items named by identity: `tools.dify_tools[p/t].enabled`.
    * "moved": `old` and `new` are the old and new list indexes (ints).
    * text changes (`text` set): `old` / `new` are short masked previews; the lines are in `text`.
    * `masked`: some shown value hides what it holds (secret path, or token-looking text).
    """

    path: Path
    display: str
    kind: ChangeKind
    old: Any
    new: Any
    section: str
    old_path: Path | None = None
    new_path: Path | None = None
    text: TextDiff | None = None
    masked: bool = False


@dataclass(frozen=True)
class DiffResult:
    """Everything the diff found. `counts_by_section` lists every section of the kind plus any other
    section present in either document, in display order, zeros included; `counts_by_kind` has all
    four change kinds. `notes` says which defaults were filled in (and on which side)."""

    kind: ConfigKind
    changes: tuple[Change, ...]
    equal: bool
    summary: str
    counts_by_section: dict[str, int]
    counts_by_kind: dict[str, int]
    left_error: str | None = None
    right_error: str | None = None
    notes: tuple[str, ...] = ()
    text_mode: bool = False

    @property
    def total(self) -> int:
        """Number of changes."""
        return len(self.changes)

    def changes_in(self, section: str) -> tuple[Change, ...]:
        """The changes of one top-level section, in document order."""
        return tuple(c for c in self.changes if c.section == section)


@dataclass(frozen=True, slots=True)
class SplitRow:
    """One row of the side-by-side ("split") view.

    `row` is "change" (a value change: `left`/`right` hold formatted values), "moved", "header" (start of
    a text change, followed by its "gap" and "line" rows), "gap" (a hunk header in `left`/`right`),
    "line" (one text line; `op` is a line op and the segments carry word-level detail) or "info"
    (a note, a parse error or "no changes", in `left`).
    """

    row: Literal["change", "moved", "header", "gap", "line", "info"]
    op: str
    path: str
    section: str
    left: str | None
    right: str | None
    left_no: int | None = None
    right_no: int | None = None
    left_segments: tuple[Segment, ...] = ()
    right_segments: tuple[Segment, ...] = ()
