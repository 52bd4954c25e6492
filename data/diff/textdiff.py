"""Line and word diff of texts: raw lines are compared, masked lines are shown (`_TextSide`), with
linear-in-practice caps on word diffs and line pairing."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from difflib import SequenceMatcher

from data.diff.results import Segment, SegmentOp, TextDiff, TextHunk, TextLine
from data.masking import mask_text

#: Unchanged lines shown around each changed run of a text diff.
CONTEXT_LINES = 3
# Caps that keep word diffs linear in practice: beyond them a changed line is shown whole.
WORD_DIFF_MAX_LINE_CHARS = 2_000
WORD_DIFF_MAX_PAIRS = 500
# Changed-line blocks up to this many old x new lines are paired by similarity, larger ones by position.
PAIRING_MAX_CELLS = 400
PAIRING_MIN_SIMILARITY = 0.5
PREVIEW_CHARS = 80


# Lines that can sit inside a token match spanning lines: the masking patterns only cross a newline
# through whitespace, `:`/`=` and quotes (e.g. "password:\n  hunter2", "Bearer\n abc...").
_BRIDGE_LINE = re.compile(r"[\s:=\"']*")
_WORD = re.compile(r"\w+|\s+|[^\w\s]")


def _split_lines(text: str) -> list[str]:
    """Lines of `text` split on "\\n" only (so "\\n".join gives the text back); "" has no lines."""
    return text.split("\n") if text else []


class _TextSide:
    """One side of a text diff: raw lines are compared, masked lines are shown.

    With `masked_lines` (a JSON rendering masked by path) masking is line-for-line already. Otherwise
    lines are masked with `mask_text` on demand, over a window wide enough that any token match touching
    the wanted lines lies inside it: that keeps a 200 KB prompt from being masked whole for a 3-line edit.
    """

    def __init__(
        self, raw_lines: list[str], masked_lines: list[str] | None = None, *, whole: bool = False
    ) -> None:
        self.raw = raw_lines
        self._masked = masked_lines
        # Masked as a whole, never by windows: the masked rendering did not keep the line count, or
        # the text holds a private-key block (its base64 lines carry no marker a window could see).
        self._whole = whole or (
            masked_lines is None
            and any("PRIVATE KEY" in line or "PuTTY-User-Key" in line for line in raw_lines)
        )
        if self._whole and masked_lines is None:
            masked = _split_lines(mask_text("\n".join(raw_lines)))
            self._masked = masked if len(masked) == len(raw_lines) else None
            self._all = masked
        elif masked_lines is not None and len(masked_lines) != len(raw_lines):
            self._whole, self._masked, self._all = True, None, masked_lines

    def masked(self, lo: int, hi: int) -> list[str] | None:
        """Masked lines lo..hi-1, or None when a masked token spans a line break there."""
        if self._masked is not None:
            return self._masked[lo:hi]
        if self._whole:
            return None
        start, end = lo, hi
        # Extend over bridge lines plus one more line each way: a cross-line match starts in the first
        # non-bridge line before (and ends in the first one after) the wanted range.
        while start > 0 and _BRIDGE_LINE.fullmatch(self.raw[start - 1]):
            start -= 1
        start = max(0, start - 1)
        while end < len(self.raw) and _BRIDGE_LINE.fullmatch(self.raw[end]):
            end += 1
        end = min(len(self.raw), end + 1)
        window = mask_text("\n".join(self.raw[start:end]))
        lines = window.split("\n")
        if len(lines) != end - start:
            return None
        return lines[lo - start : hi - start]

    def unchanged(self, lo: int, hi: int) -> tuple[str, ...] | None:
        """Masked lines lo..hi-1 for unfolding unchanged text: by window, else from the whole masked
        text when it keeps the line count, else None."""
        lines = self.masked(lo, hi)
        if lines is None:
            whole = self.all_masked()
            if len(whole) != len(self.raw):
                return None
            lines = whole[lo:hi]
        return tuple(lines)

    def all_masked(self) -> list[str]:
        """All lines, masked as one text (used when lines cannot be masked one by one)."""
        if self._masked is not None:
            return self._masked
        if self._whole:
            return self._all
        return _split_lines(mask_text("\n".join(self.raw)))


Opcode = tuple[str, int, int, int, int]


def _line_opcodes(a: Sequence[str], b: Sequence[str]) -> list[Opcode]:
    """difflib opcodes for two line lists, with the common prefix and suffix stripped first.

    Why: a few edits in a 4,000-line prompt leave long equal runs at both ends; skipping them keeps
    SequenceMatcher (with autojunk, so frequent lines such as blanks cannot blow it up) on the middle.
    """
    n, m = len(a), len(b)
    prefix = 0
    while prefix < n and prefix < m and a[prefix] == b[prefix]:
        prefix += 1
    suffix = 0
    while suffix < n - prefix and suffix < m - prefix and a[n - 1 - suffix] == b[m - 1 - suffix]:
        suffix += 1
    ops: list[Opcode] = []
    if prefix:
        ops.append(("equal", 0, prefix, 0, prefix))
    middle = SequenceMatcher(None, a[prefix : n - suffix], b[prefix : m - suffix], autojunk=True)
    for tag, i1, i2, j1, j2 in middle.get_opcodes():
        ops.append((tag, i1 + prefix, i2 + prefix, j1 + prefix, j2 + prefix))
    if suffix:
        ops.append(("equal", n - suffix, n, m - suffix, m))
    return ops


def _group_opcodes(ops: list[Opcode], context: int = CONTEXT_LINES) -> list[list[Opcode]]:
    """Opcodes grouped into hunks with `context` equal lines around changes (difflib's grouping)."""
    codes = list(ops)
    if not codes or all(op[0] == "equal" for op in codes):
        return []
    tag, i1, i2, j1, j2 = codes[0]
    if tag == "equal":
        codes[0] = (tag, max(i1, i2 - context), i2, max(j1, j2 - context), j2)
    tag, i1, i2, j1, j2 = codes[-1]
    if tag == "equal":
        codes[-1] = (tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context))
    groups: list[list[Opcode]] = []
    group: list[Opcode] = []
    for tag, i1, i2, j1, j2 in codes:
        if tag == "equal" and i2 - i1 > 2 * context:
            group.append((tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context)))
            groups.append(group)
            group = []
            i1, j1 = max(i1, i2 - context), max(j1, j2 - context)
        group.append((tag, i1, i2, j1, j2))
    if group and not (len(group) == 1 and group[0][0] == "equal"):
        groups.append(group)
    return groups


def word_segments(old: str, new: str) -> tuple[Segment, ...]:
    """Word-level diff of two (already masked) lines, consecutive same-op segments merged.

    Lines over WORD_DIFF_MAX_LINE_CHARS, or lines whose words do not differ (the change was inside a
    masked token), are shown as one delete and one insert.
    """
    whole = tuple(s for s in (Segment("delete", old), Segment("insert", new)) if s.text)
    if len(old) + len(new) > WORD_DIFF_MAX_LINE_CHARS:
        return whole
    ta, tb = _WORD.findall(old), _WORD.findall(new)
    segments: list[Segment] = []

    def add(op: SegmentOp, text: str) -> None:
        if not text:
            return
        if segments and segments[-1].op == op:
            segments[-1] = Segment(op, segments[-1].text + text)
        else:
            segments.append(Segment(op, text))

    for tag, i1, i2, j1, j2 in SequenceMatcher(None, ta, tb, autojunk=False).get_opcodes():
        if tag == "equal":
            add("equal", "".join(ta[i1:i2]))
        else:
            add("delete", "".join(ta[i1:i2]))
            add("insert", "".join(tb[j1:j2]))
    if all(s.op == "equal" for s in segments):
        return whole
    return tuple(segments)


def _similarity(a: str, b: str) -> float:
    """Cheap upper bound of how alike two lines are (character multiset overlap)."""
    if not a and not b:
        return 1.0
    return SequenceMatcher(None, a, b, autojunk=False).quick_ratio()


def _pair_lines(old: Sequence[str], new: Sequence[str]) -> list[tuple[int | None, int | None]]:
    """Align a block of replaced lines: (i, j) pairs are changed lines, (i, None) removed, (None, j) added.

    Small blocks of unequal sizes are aligned by similarity (so an inserted line does not shift every
    pairing); equal-sized and large ones by position, which stays linear.
    """
    n, m = len(old), len(new)
    # Equal-sized blocks (the usual "k lines edited in place") pair by position: no scoring needed.
    if n == m or n * m > PAIRING_MAX_CELLS:
        pairs: list[tuple[int | None, int | None]] = [(k, k) for k in range(min(n, m))]
        pairs += [(k, None) for k in range(m, n)] + [(None, k) for k in range(n, m)]
        return pairs
    sim = [[_similarity(old[i], new[j]) for j in range(m)] for i in range(n)]
    score = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            best = max(score[i + 1][j], score[i][j + 1])
            if sim[i][j] >= PAIRING_MIN_SIMILARITY:
                best = max(best, score[i + 1][j + 1] + sim[i][j])
            score[i][j] = best
    result: list[tuple[int | None, int | None]] = []
    i = j = 0
    while i < n and j < m:
        if sim[i][j] >= PAIRING_MIN_SIMILARITY and score[i][j] == score[i + 1][j + 1] + sim[i][j]:
            result.append((i, j))
            i, j = i + 1, j + 1
        elif score[i][j] == score[i + 1][j]:
            result.append((i, None))
            i += 1
        else:
            result.append((None, j))
            j += 1
    result += [(k, None) for k in range(i, n)] + [(None, k) for k in range(j, m)]
    # Unmatched removed/added lines that are neighbours still read best as "changed" pairs.
    return _merge_adjacent(result)


def _merge_adjacent(pairs: list[tuple[int | None, int | None]]) -> list[tuple[int | None, int | None]]:
    """Turn a run of k removed lines followed by k' added lines into min(k, k') changed pairs."""
    out: list[tuple[int | None, int | None]] = []
    k = 0
    while k < len(pairs):
        if pairs[k][1] is not None:
            out.append(pairs[k])
            k += 1
            continue
        removed: list[int | None] = []
        while k < len(pairs) and pairs[k][1] is None:
            removed.append(pairs[k][0])
            k += 1
        added: list[int | None] = []
        while k < len(pairs) and pairs[k][0] is None:
            added.append(pairs[k][1])
            k += 1
        common = min(len(removed), len(added))
        out += [(removed[x], added[x]) for x in range(common)]
        out += [(r, None) for r in removed[common:]] + [(None, a) for a in added[common:]]
    return out


class _HunkBuilder:
    """Builds TextLines for hunks, counting added/removed/changed lines and capping word diffs."""

    def __init__(self) -> None:
        self.added = self.removed = self.changed = self.word_pairs = 0
        self.capped = False
        self.masked = False

    def lines(
        self, group: list[Opcode], old: list[str], new: list[str], old_base: int, new_base: int
    ) -> list[TextLine]:
        """TextLines of one hunk; `old`/`new` are the masked lines of the hunk's ranges."""
        out: list[TextLine] = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                for k in range(i2 - i1):
                    out.append(
                        TextLine(
                            "equal", i1 + k + 1, j1 + k + 1, old[i1 + k - old_base], new[j1 + k - new_base]
                        )
                    )
                continue
            block_old = old[i1 - old_base : i2 - old_base]
            block_new = new[j1 - new_base : j2 - new_base]
            for pi, pj in (
                _pair_lines(block_old, block_new) if tag == "replace" else self._plain(tag, i1, i2, j1, j2)
            ):
                out.append(self._line(pi, pj, block_old, block_new, i1, j1))
        return out

    @staticmethod
    def _plain(tag: str, i1: int, i2: int, j1: int, j2: int) -> Iterator[tuple[int | None, int | None]]:
        """Pairs of a pure delete or insert block."""
        if tag == "delete":
            yield from ((k, None) for k in range(i2 - i1))
        else:
            yield from ((None, k) for k in range(j2 - j1))

    def _line(
        self, pi: int | None, pj: int | None, old: list[str], new: list[str], i1: int, j1: int
    ) -> TextLine:
        """One non-equal TextLine; pi/pj index into the block."""
        if pj is None:
            assert pi is not None
            self.removed += 1
            return TextLine("removed", i1 + pi + 1, None, old[pi], None)
        if pi is None:
            self.added += 1
            return TextLine("added", None, j1 + pj + 1, None, new[pj])
        self.changed += 1
        if self.word_pairs >= WORD_DIFF_MAX_PAIRS:
            self.capped = True
            segments = tuple(s for s in (Segment("delete", old[pi]), Segment("insert", new[pj])) if s.text)
        else:
            self.word_pairs += 1
            segments = word_segments(old[pi], new[pj])
        return TextLine("changed", i1 + pi + 1, j1 + pj + 1, old[pi], new[pj], segments)


def _diff_sides(old: _TextSide, new: _TextSide) -> TextDiff:
    """Diff two text sides: compare raw lines, show masked ones (see `_TextSide`)."""
    groups = _group_opcodes(_line_opcodes(old.raw, new.raw))
    builder = _HunkBuilder()
    hunks: list[TextHunk] = []
    for group in groups:
        i1, i2, j1, j2 = group[0][1], group[-1][2], group[0][3], group[-1][4]
        masked_old, masked_new = old.masked(i1, i2), new.masked(j1, j2)
        if masked_old is None or masked_new is None:
            return _diff_masked(old, new)
        builder.masked = builder.masked or masked_old != old.raw[i1:i2] or masked_new != new.raw[j1:j2]
        lines = builder.lines(group, masked_old, masked_new, i1, j1)
        hunks.append(
            TextHunk(i1 + 1 if i2 > i1 else i1, i2 - i1, j1 + 1 if j2 > j1 else j1, j2 - j1, tuple(lines))
        )
    return TextDiff(
        tuple(hunks),
        len(old.raw),
        len(new.raw),
        builder.added,
        builder.removed,
        builder.changed,
        word_diff_capped=builder.capped,
        masked=builder.masked,
        unchanged_source=old.unchanged,
    )


def _diff_masked(old: _TextSide, new: _TextSide) -> TextDiff:
    """Fallback when a token spans lines: diff the masked texts themselves (nothing raw can leak)."""
    a, b = old.all_masked(), new.all_masked()
    plain_old, plain_new = _TextSide(a, a), _TextSide(b, b)
    result = _diff_sides(plain_old, plain_new)
    return TextDiff(
        result.hunks,
        len(old.raw),
        len(new.raw),
        result.added,
        result.removed,
        result.changed,
        word_diff_capped=result.word_diff_capped,
        compared_masked=True,
        masked=True,
        # Hunk line numbers are those of the masked text: unfold only when it kept the line count.
        unchanged_source=plain_old.unchanged if len(a) == len(old.raw) else None,
    )


def diff_text(old: str, new: str) -> TextDiff:
    """Line diff of two free texts with word-level detail in changed lines; every shown line masked
    with `mask_text`. Compares raw lines, so a change inside a token still marks its line changed."""
    return _diff_sides(_TextSide(_split_lines(old)), _TextSide(_split_lines(new)))


def _preview(side: _TextSide) -> str:
    """A short masked preview of a text: its first line, cut to PREVIEW_CHARS, and its line count."""
    if not side.raw:
        return ""
    first = side.masked(0, 1)
    line = (first if first is not None else side.all_masked()[:1] or [""])[0]
    cut = line[:PREVIEW_CHARS] + ("…" if len(line) > PREVIEW_CHARS else "")
    return cut if len(side.raw) == 1 else f"{cut} … ({len(side.raw)} lines)"
