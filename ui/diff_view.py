"""The diff viewer (`/compare` split and unified views): a `DiffResult` as one HTML block per view.

Invariants:

* All markup comes from one builder, `_el`, which writes only tags of `TAGS` and attributes of `ATTRS`
  whose values are ours: a class from `CLASSES`, an `id="change-N"` anchor, an `href="#change-N"`
  in-page link (N an int). Every text child goes through `render.plain` (masking first: diff output
  is marked `already_masked`, anything else is masked) and then `html.escape(..., quote=True)`. No text
  is ever string-formatted into markup.
* The only way out is `SafeHtml`, which only this module can construct (a private key), and which
  `render.trusted_html` alone hands to `st.html` (`tests/test_safe_rendering.py` enforces both).
* The CSS wraps every text (`pre-wrap`, `overflow-wrap: anywhere`) so nothing runs off to the right,
  and isolates bidi runs (`unicode-bidi: isolate`) so RTL text cannot reorder our labels.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from data.diff import Change, DiffResult, Segment, TextDiff, TextHunk, TextLine, format_value, word_segments
from ui import render
from ui.render import already_masked

#: The only tags the builder writes (the hostile-payload tests parse the output against these).
TAGS = frozenset({"style", "div", "span", "a", "details", "summary"})
#: The only attributes it writes.
ATTRS = frozenset({"class", "id", "href"})
#: The only class names it writes.
CLASSES = frozenset(
    {
        "dv",
        "dv-sides",
        "dv-side",
        "dv-side-title",
        "dv-side-meta",
        "dv-head",
        "dv-path",
        "dv-kind",
        "dv-next",
        "dv-row",
        "dv-urow",
        "dv-no",
        "dv-sign",
        "dv-t",
        "dv-ctx",
        "dv-del",
        "dv-add",
        "dv-wdel",
        "dv-wadd",
        "dv-empty",
        "dv-gap",
        "dv-fold",
        "dv-unfold",
        "dv-info",
    }
)
#: Runs of at least this many unchanged lines inside a hunk are folded, keeping one line at each end.
FOLD_MIN = 5
#: At most this many unchanged lines between hunks are unfolded into the page (the raw view has all).
GAP_UNFOLD_MAX = 2000
#: Values longer than this (both sides together), or sharing under 40% of their text, are shown whole,
#: without word highlights.
WORD_VALUE_MAX = 2000

_KEY = object()
_CLASS_LIST = re.compile(r"[a-z][a-z0-9-]*(?: [a-z][a-z0-9-]*)*\Z")

_CSS = """
.dv{font-family:"Source Code Pro",ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.82rem;
line-height:1.45;max-width:100%;overflow-x:hidden;border:1px solid rgba(128,128,128,.3);border-radius:6px}
.dv-sides{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);border-bottom:1px solid rgba(128,128,128,.3)}
.dv-side{padding:.4em .6em;min-width:0}
.dv-side-title{font-weight:700;white-space:pre-wrap;overflow-wrap:anywhere;unicode-bidi:isolate}
.dv-side-meta{opacity:.75;white-space:pre-wrap;overflow-wrap:anywhere;unicode-bidi:isolate}
.dv-head{display:flex;gap:1em;align-items:baseline;padding:.3em .6em;margin-top:.2em;
background:rgba(128,128,128,.12);border-top:1px solid rgba(128,128,128,.3);scroll-margin-top:4rem}
.dv-path{font-weight:700;min-width:0;flex:1;white-space:pre-wrap;overflow-wrap:anywhere;unicode-bidi:isolate}
.dv-kind{opacity:.75}
.dv-next{white-space:nowrap;text-decoration:none}
.dv-row{display:grid;grid-template-columns:3.2em minmax(0,1fr) 3.2em minmax(0,1fr)}
.dv-urow{display:grid;grid-template-columns:3.2em 3.2em 1.4em minmax(0,1fr)}
.dv-no{opacity:.55;text-align:right;padding-right:.5em;user-select:none}
.dv-sign{opacity:.7;user-select:none}
.dv-t{white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word;min-width:0;unicode-bidi:isolate}
.dv-del{background:rgba(248,81,73,.16)}
.dv-add{background:rgba(46,160,67,.18)}
.dv-wdel{background:rgba(248,81,73,.45);border-radius:2px}
.dv-wadd{background:rgba(46,160,67,.45);border-radius:2px}
.dv-empty{background:rgba(128,128,128,.08)}
.dv-gap,.dv-info{padding:.1em .6em;opacity:.8;background:rgba(56,139,253,.1)}
.dv-fold summary,.dv-unfold summary{cursor:pointer;padding:.1em .6em;opacity:.8;background:rgba(56,139,253,.1)}
"""


@dataclass(frozen=True, slots=True)
class _Frag:
    """Markup built by `_el` (or the constant style sheet); never made from text directly."""

    markup: str


@dataclass(frozen=True, slots=True)
class SafeHtml:
    """A finished diff block; only this module can make one (`render.trusted_html` shows it)."""

    markup: str
    key: object = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.key is not _KEY:
            raise TypeError("SafeHtml is built by ui.diff_view only")


def is_genuine(block: object) -> bool:
    """Whether `block` is a SafeHtml this module built (for `render.trusted_html`)."""
    return isinstance(block, SafeHtml) and block.key is _KEY


Child = _Frag | str | None


def _el(
    tag: str, *children: Child, cls: str = "", anchor: int | None = None, href: int | None = None
) -> _Frag:
    """The one markup builder: a constant tag, constant attributes, escaped text children.

    A str child is text: masked unless marked `already_masked`, then escaped with quote=True.
    """
    if tag not in TAGS:
        raise ValueError(f"tag {tag!r} is not allowed")
    attrs = ""
    if cls:
        if not _CLASS_LIST.match(cls) or not set(cls.split()) <= CLASSES:
            raise ValueError(f"class {cls!r} is not allowed")
        attrs += f' class="{cls}"'
    if anchor is not None:
        attrs += f' id="change-{int(anchor)}"'
    if href is not None:
        attrs += f' href="#change-{int(href)}"'
    body = "".join(c.markup if isinstance(c, _Frag) else _text(c) for c in children if c is not None)
    return _Frag(f"<{tag}{attrs}>{body}</{tag}>")


def _text(value: str) -> str:
    return html.escape(render.plain(value), quote=True)


def _m(value: str | None) -> str:
    """Diff output (already masked by data.diff)."""
    return already_masked(value)


_STYLE = _Frag("<style>" + _CSS + "</style>")


def _finish(*parts: _Frag) -> SafeHtml:
    return SafeHtml(_STYLE.markup + _el("div", *parts, cls="dv").markup, _KEY)


# --- wording ---------------------------------------------------------------------------------------


def count_lines(n: int) -> str:
    """ "1 line", "N lines"."""
    return f"{n:,} line" if n == 1 else f"{n:,} lines"


def text_counts(text: TextDiff) -> str:
    """ "2 lines changed, 1 line added" (the non-zero counts)."""
    parts = [
        f"{count_lines(n)} {what}"
        for n, what in ((text.changed, "changed"), (text.added, "added"), (text.removed, "removed"))
        if n
    ]
    return ", ".join(parts) or "no line changes"


@dataclass(frozen=True, slots=True)
class SideLabel:
    """How a side is named above the diff: by meaning ("Pinned v3", "Active v5", "Draft": the title comes
    from `data.diff.labels`), with its note and author.
    `title`, `note` and `author` may come from the database: they are masked and escaped when shown."""

    title: str
    note: str | None = None
    author: str | None = None
    author_label: str = "Author"


def _sides(left: SideLabel, right: SideLabel) -> _Frag:
    def one(side: SideLabel) -> _Frag:
        meta = []
        if side.note:
            meta.append(_el("div", "Note: " + render.masked(side.note), cls="dv-side-meta"))
        if side.author:
            meta.append(_el("div", f"{side.author_label}: " + render.masked(side.author), cls="dv-side-meta"))
        return _el("div", _el("div", side.title, cls="dv-side-title"), *meta, cls="dv-side")

    return _el("div", one(left), one(right), cls="dv-sides")


def _head(change: Change, number: int, total: int, detail: str = "") -> _Frag:
    """A change's header: its path, kind, and a link to the next change (an in-page anchor of ours)."""
    kind = f"{change.kind} · {detail}" if detail else change.kind
    link = (
        _el("a", "next change ↓", cls="dv-next", href=number + 1)
        if number < total
        else _el("span", "last change", cls="dv-next")
    )
    return _el("div", _el("span", _m(change.display), cls="dv-path"), _el("span", kind, cls="dv-kind"), link,
               cls="dv-head", anchor=number)  # fmt: skip


def _segments(segments: Iterable[Segment], keep: str) -> list[_Frag]:
    """The words of one side of a changed line, the changed ones highlighted."""
    out = []
    for op, text in segments:
        if op == "equal":
            out.append(_el("span", _m(text)))
        elif op == keep:
            out.append(_el("span", _m(text), cls="dv-wdel" if op == "delete" else "dv-wadd"))
    return out


def _cell_text(line_text: str | None, segments: Sequence[Segment], keep: str) -> list[Child]:
    return list(_segments(segments, keep)) if segments else [_m(line_text or "")]


def _no(n: int | None) -> _Frag:
    return _el("span", "" if n is None else str(n), cls="dv-no")


# --- hunks -----------------------------------------------------------------------------------------


def _old_range(hunk: TextHunk) -> tuple[int, int]:
    """0-based [start, end) of a hunk's old lines."""
    start = hunk.old_start - 1 if hunk.old_count else hunk.old_start
    return start, start + hunk.old_count


def _new_range(hunk: TextHunk) -> tuple[int, int]:
    """0-based [start, end) of a hunk's new lines."""
    start = hunk.new_start - 1 if hunk.new_count else hunk.new_start
    return start, start + hunk.new_count


@dataclass(frozen=True, slots=True)
class _Gap:
    """Unchanged lines between hunks: old lines [start, stop), the same text from `new_start` on."""

    start: int
    stop: int
    new_start: int

    @property
    def count(self) -> int:
        return self.stop - self.start


def _hunks_with_gaps(text: TextDiff) -> Iterable[tuple[_Gap, TextHunk | None]]:
    """(unchanged lines before, hunk) pairs, then (unchanged lines after the last hunk, None)."""
    end = 0
    for hunk in text.hunks:
        start, stop = _old_range(hunk)
        new_start = _new_range(hunk)[0]
        yield _Gap(end, start, new_start - (start - end)), hunk
        end = stop
    if text.hunks:
        count = text.old_line_count - end
        yield _Gap(end, end + count, text.new_line_count - count), None
    else:
        yield _Gap(0, 0, 0), None


def _gap(text: TextDiff, gap: _Gap, row: Any) -> _Frag | None:
    """The unchanged lines between hunks, folded: "⋯ N lines unchanged", unfolded to the (masked) text,
    at most GAP_UNFOLD_MAX lines (the raw view has the rest). A plain count when the diff cannot give
    the lines (a token spans lines and masking changed the line count)."""
    if gap.count <= 0:
        return None
    label = f"⋯ {count_lines(gap.count)} unchanged"
    shown = min(gap.count, GAP_UNFOLD_MAX)
    lines = text.unchanged_lines(gap.start, gap.start + shown)
    if lines is None:
        return _el("div", label, cls="dv-gap")
    rows = [
        r
        for k, line in enumerate(lines)
        for r in row(TextLine("equal", gap.start + k + 1, gap.new_start + k + 1, line, line))
    ]
    if shown < gap.count:
        rest = f"… {count_lines(gap.count - shown)} more unchanged: the raw view has the whole text"
        rows.append(_el("div", rest, cls="dv-info"))
    return _el("details", _el("summary", label + " · show"), *rows, cls="dv-unfold")


def _fold_runs(lines: Sequence[TextLine]) -> list[TextLine | list[TextLine]]:
    """Lines, with runs of >= FOLD_MIN equal lines split as line, [folded...], line."""
    out: list[TextLine | list[TextLine]] = []
    run: list[TextLine] = []

    def flush() -> None:
        if len(run) >= FOLD_MIN:
            out.extend([run[0], run[1:-1], run[-1]])
        else:
            out.extend(run)
        run.clear()

    for line in lines:
        if line.op == "equal":
            run.append(line)
            continue
        flush()
        out.append(line)
    flush()
    return out


def _folded(rows: list[_Frag]) -> _Frag:
    return _el("details", _el("summary", f"show {count_lines(len(rows))} unchanged"), *rows, cls="dv-fold")


def _text_rows(text: TextDiff, row: Any) -> list[_Frag]:
    """Rows of a text change for one view; `row(line)` gives a line's rows in that view."""
    out: list[_Frag] = []
    if text.compared_masked and not text.hunks:
        out.append(_el("div", "changed inside masked content only", cls="dv-info"))
    for gap, hunk in _hunks_with_gaps(text):
        out += [g for g in (_gap(text, gap, row),) if g is not None]
        if hunk is None:
            continue
        for item in _fold_runs(hunk.lines):
            if isinstance(item, list):
                out.append(_folded([r for line in item for r in row(line)]))
            else:
                out += row(item)
    return out


# --- split -----------------------------------------------------------------------------------------


def _split_line(line: TextLine) -> list[_Frag]:
    """One aligned row: changed lines side by side, a removed or added line faced by an empty cell."""
    if line.op == "equal":
        left = [_no(line.old_no), _el("span", _m(line.old_text), cls="dv-t dv-ctx")]
        right = [_no(line.new_no), _el("span", _m(line.new_text), cls="dv-t dv-ctx")]
    else:
        if line.old_no is None:
            left = [_no(None), _el("span", cls="dv-t dv-empty")]
        else:
            left = [
                _no(line.old_no),
                _el("span", *_cell_text(line.old_text, line.segments, "delete"), cls="dv-t dv-del"),
            ]
        if line.new_no is None:
            right = [_no(None), _el("span", cls="dv-t dv-empty")]
        else:
            right = [
                _no(line.new_no),
                _el("span", *_cell_text(line.new_text, line.segments, "insert"), cls="dv-t dv-add"),
            ]
    return [_el("div", *left, *right, cls="dv-row")]


def _value_segments(change: Change) -> tuple[Segment, ...]:
    """Word segments of a changed scalar value (pretty JSON values are shown whole)."""
    if change.kind != "changed" or isinstance(change.old, dict | list) or isinstance(change.new, dict | list):
        return ()
    old, new = format_value(change.old), format_value(change.new)
    if len(old) + len(new) > WORD_VALUE_MAX or old == new:
        return ()
    segments = word_segments(old, new)
    # Mostly-different values (ids, numbers, model names) read better as whole red/green cells than as
    # confetti of highlights around shared hyphens and quotes.
    same = sum(len(t) for op, t in segments if op == "equal")
    return segments if same * 5 >= max(len(old), len(new)) * 2 else ()


def _split_change(change: Change, number: int, total: int) -> list[_Frag]:
    if change.text is not None:
        head = _head(change, number, total, text_counts(change.text))
        return [head, *_text_rows(change.text, _split_line)]
    out = [_head(change, number, total)]
    if change.kind == "moved":
        left = [_no(None), _el("span", f"index {change.old}", cls="dv-t dv-del")]
        right = [_no(None), _el("span", f"index {change.new}", cls="dv-t dv-add")]
        return [*out, _el("div", *left, *right, cls="dv-row")]
    segments = _value_segments(change)
    empty = [_no(None), _el("span", cls="dv-t dv-empty")]
    left = right = empty
    if change.kind != "added":
        body = _cell_text(format_value(change.old), segments, "delete")
        left = [_no(None), _el("span", *body, cls="dv-t dv-del")]
    if change.kind != "removed":
        body = _cell_text(format_value(change.new), segments, "insert")
        right = [_no(None), _el("span", *body, cls="dv-t dv-add")]
    return [*out, _el("div", *left, *right, cls="dv-row")]


def split_view(result: DiffResult, left: SideLabel, right: SideLabel) -> SafeHtml:
    """The side-by-side view: two panes aligned line by line, word changes highlighted."""
    parts: list[_Frag] = [_sides(left, right)]
    if result.equal:
        parts.append(_el("div", "no changes", cls="dv-info"))
    total = len(result.changes)
    for number, change in enumerate(result.changes, 1):
        parts += _split_change(change, number, total)
    return _finish(*parts)


# --- unified ---------------------------------------------------------------------------------------


def _urow(old_no: int | None, new_no: int | None, sign: str, cls: str, body: list[Child]) -> _Frag:
    return _el("div", _no(old_no), _no(new_no), _el("span", sign, cls="dv-sign"), _el("span", *body, cls=cls),
               cls="dv-urow")  # fmt: skip


def _unified_context(line: TextLine) -> list[_Frag]:
    """One unchanged line in the unified view."""
    return [_urow(line.old_no, line.new_no, " ", "dv-t dv-ctx", [_m(line.old_text)])]


def _unified_hunk_lines(lines: Sequence[TextLine]) -> list[_Frag]:
    """diff -u order: inside a run of changes, the old lines first, then the new ones."""
    out: list[_Frag] = []
    removed: list[_Frag] = []
    added: list[_Frag] = []

    def flush() -> None:
        out.extend(removed + added)
        removed.clear()
        added.clear()

    for line in lines:
        if line.op == "equal":
            flush()
            out.append(_urow(line.old_no, line.new_no, " ", "dv-t dv-ctx", [_m(line.old_text)]))
            continue
        if line.old_no is not None:
            body = _cell_text(line.old_text, line.segments, "delete")
            removed.append(_urow(line.old_no, None, "-", "dv-t dv-del", body))
        if line.new_no is not None:
            body = _cell_text(line.new_text, line.segments, "insert")
            added.append(_urow(None, line.new_no, "+", "dv-t dv-add", body))
    flush()
    return out


def _unified_text(text: TextDiff) -> list[_Frag]:
    out: list[_Frag] = []
    if text.compared_masked and not text.hunks:
        out.append(_el("div", "changed inside masked content only", cls="dv-info"))
    for gap, hunk in _hunks_with_gaps(text):
        out += [g for g in (_gap(text, gap, _unified_context),) if g is not None]
        if hunk is None:
            continue
        # Fold long unchanged runs; changed runs keep diff -u order between the folds.
        pending: list[TextLine] = []
        for item in _fold_runs(hunk.lines):
            if isinstance(item, list):
                out += _unified_hunk_lines(pending)
                pending = []
                out.append(_folded(_unified_hunk_lines(item)))
            else:
                pending.append(item)
        out += _unified_hunk_lines(pending)
    return out


def _unified_change(change: Change, number: int, total: int) -> list[_Frag]:
    if change.text is not None:
        return [_head(change, number, total, text_counts(change.text)), *_unified_text(change.text)]
    out = [_head(change, number, total)]
    if change.kind == "moved":
        return [
            *out,
            _urow(None, None, "~", "dv-t", [f"moved from index {change.old} to index {change.new}"]),
        ]
    segments = _value_segments(change)
    if change.kind != "added":
        out.append(
            _urow(None, None, "-", "dv-t dv-del", _cell_text(format_value(change.old), segments, "delete"))
        )
    if change.kind != "removed":
        out.append(
            _urow(None, None, "+", "dv-t dv-add", _cell_text(format_value(change.new), segments, "insert"))
        )
    return out


def unified_view(result: DiffResult, left: SideLabel, right: SideLabel) -> SafeHtml:
    """The unified view: one column, old lines (-) above new ones (+), word changes highlighted."""
    parts: list[_Frag] = [_sides(left, right)]
    if result.equal:
        parts.append(_el("div", "no changes", cls="dv-info"))
    total = len(result.changes)
    for number, change in enumerate(result.changes, 1):
        parts += _unified_change(change, number, total)
    return _finish(*parts)


def text_change_view(change: Change) -> SafeHtml:
    """One long-text change in unified form (the summary view's detail), without anchors."""
    assert change.text is not None
    return _finish(*_unified_text(change.text))
