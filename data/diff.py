"""Semantic diff of two Agent Soul configs (AgentSoulConfig) or two node-job configs (WorkflowNodeJobConfig).

Pure data in, pure data out: no streamlit, no SQL. Pages render what these functions return.

Pipeline (each step is one small function below):

1. Parse each side tolerantly (`data.tolerant.parse_json`). A side that is not a JSON object makes the
   whole comparison a line diff of the two texts (`DiffResult.text_mode`), with the parse errors kept.
2. Normalize: fill in the defaults that Dify materializes on storage (schema reference §5.4), so that a
   missing `tools.cli_tools` equals `[]`. Every fill is reported in `DiffResult.notes`.
3. Walk both documents: dicts key by key, lists matched by identity (tool, variable, dataset, output
   name...) rather than position, long strings diffed line by line with word-level detail.
4. Mask the output only: comparisons use raw values, so a changed secret is reported as changed, while
   what is shown goes through `data.masking` (the one masking policy).

Invariants of a `DiffResult`:
* `equal` is True exactly when `changes` is empty (then `summary == "no changes"`);
* every `Change.path` exists in the normalized left document (kind "removed") or right one (others);
* `sum(counts_by_section.values()) == sum(counts_by_kind.values()) == len(changes)`;
* no raw value of a sensitive path, and no token-looking text, appears in any field.
"""

from __future__ import annotations

import copy
import json
import math
import re
from bisect import bisect_left
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any, Literal, NamedTuple

from data.masking import (
    MASK_EMPTY,
    MASK_SET,
    is_sensitive_path,
    mask_document,
    mask_lenient_json,
    mask_scalar,
    mask_text,
    masked_paths,
)
from data.tolerant import parse_json

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

#: Top-level sections in display order (unknown sections follow, alphabetically).
SOUL_SECTIONS: tuple[str, ...] = (
    "schema_version",
    "prompt",
    "model",
    "tools",
    "knowledge",
    "env",
    "human",
    "sandbox",
    "memory",
    "skills_files",
    "app_features",
    "app_variables",
    "misc_legacy",
)
#: Sections of the newer Gen E soul (reference §5.5): `skills_files` gave way to `config_skills`,
#: `config_files`, `config_note` and (for a while) `files`. Used when either side has the Gen E shape,
#: so a seed-era comparison keeps exactly the sections it always had. The Gen E-only sections come after
#: the shared ones.
GEN_E_SOUL_SECTIONS: tuple[str, ...] = (
    "schema_version",
    "prompt",
    "model",
    "tools",
    "knowledge",
    "env",
    "human",
    "sandbox",
    "memory",
    "app_features",
    "app_variables",
    "misc_legacy",
    "config_note",
    "config_skills",
    "config_files",
    "files",
)
NODE_JOB_SECTIONS: tuple[str, ...] = (
    "schema_version",
    "mode",
    "workflow_prompt",
    "declared_outputs",
    "previous_node_output_refs",
    "human_contacts",
    "metadata",
)

# The stored "blank" documents, copied verbatim from the schema reference §5.4: Dify materializes
# exactly these defaults on storage, so a key missing from a row means this value.
SOUL_DEFAULT: dict[str, Any] = json.loads(
    '{"app_features":{},"app_variables":[],"env":{"secret_refs":[],"variables":[]},'
    '"human":{"contacts":[],"tools":[]},"knowledge":{"datasets":[],"query_config":{},"query_mode":null},'
    '"memory":{"artifacts":[],"budget":null,"scope":null},"misc_legacy":{},"model":null,'
    '"prompt":{"system_prompt":""},"sandbox":{"config":{},"provider":null},"schema_version":1,'
    '"skills_files":{"files":[],"skills":[]},"tools":{"cli_tools":[],"dify_tools":[]}}'
)
NODE_JOB_DEFAULT: dict[str, Any] = json.loads(
    '{"declared_outputs":[],"human_contacts":[],"metadata":{},"mode":"tell_agent_what_to_do",'
    '"previous_node_output_refs":[],"schema_version":1,"workflow_prompt":""}'
)
# DeclaredOutputConfig fields that storage materializes (reference §5.3 and node-job example 1).
# `file` and `array_item` depend on `type` and are handled in `_fill_declared_output`.
FAILURE_STRATEGY_DEFAULT: dict[str, Any] = {
    "default_value": None,
    "on_failure": "stop",
    "retry": {"enabled": False, "max_retries": 0, "retry_interval_ms": 0},
}
DECLARED_OUTPUT_DEFAULTS: dict[str, Any] = {
    "id": None,
    "description": None,
    "required": True,
    "check": None,
    "failure_strategy": FAILURE_STRATEGY_DEFAULT,
}
# Root keys or shapes only the newer "Gen E" AgentSoulConfig has (reference §5.5). Its materialized
# defaults differ (typed app_features, knowledge.sets, no skills_files), so such documents get none.
GEN_E_ROOT_MARKERS = frozenset({"config_skills", "config_files", "config_note", "files"})

#: Strings always diffed as text, by schema path (keys only, list indexes removed).
TEXT_FIELDS = frozenset({("prompt", "system_prompt"), ("workflow_prompt",)})
#: Any other string longer than this (or holding a newline) is diffed as text too.
LONG_TEXT_CHARS = 200
#: Unchanged lines shown around each changed run of a text diff.
CONTEXT_LINES = 3
# Caps that keep word diffs linear in practice: beyond them a changed line is shown whole.
WORD_DIFF_MAX_LINE_CHARS = 2_000
WORD_DIFF_MAX_PAIRS = 500
# Changed-line blocks up to this many old x new lines are paired by similarity, larger ones by position.
PAIRING_MAX_CELLS = 400
PAIRING_MIN_SIMILARITY = 0.5
PREVIEW_CHARS = 80


# --- result types -----------------------------------------------------------------------------


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
    """Line diff of two texts, masked. Only hunks are kept, not the unchanged bulk of a long text.

    `compared_masked` is True when a token spans lines, so lines could not be masked one by one and the
    masked texts were compared instead; then a change hidden inside a masked token shows no hunk.
    `masked` tells whether any shown line differs from its raw text because of masking.
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


# --- normalization ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Side:
    """One parsed input: `doc` is the normalized object, or None when the text is not a JSON object."""

    raw: str | None
    doc: dict[str, Any] | None
    value: Any  # the parsed JSON when valid (object or not), else None
    valid_json: bool
    error: str | None
    notes: tuple[str, ...]


def _check_kind(kind: str) -> ConfigKind:
    """`kind` itself, or ValueError: an unknown kind is a caller bug, not bad data."""
    if kind not in KINDS:
        raise ValueError(f"unknown config kind {kind!r}; expected one of {KINDS}")
    return kind


def _is_gen_e(doc: dict[str, Any]) -> bool:
    """Whether a soul document has the newer Gen E shape, whose stored defaults this code does not know."""
    knowledge = doc.get("knowledge")
    return bool(GEN_E_ROOT_MARKERS & doc.keys()) or (isinstance(knowledge, dict) and "sets" in knowledge)


def _fill_defaults(
    doc: dict[str, Any], defaults: dict[str, Any], prefix: str, side: str, notes: list[str]
) -> dict[str, Any]:
    """A copy of `doc` with each key missing from it set to its default, recursively into dict defaults.

    Only missing keys are filled: a stored null or a value of another type is data, not a default.
    The input is never mutated (copies are made along the filled paths only).
    """
    out = dict(doc)
    for key, default in defaults.items():
        if key not in out:
            out[key] = copy.deepcopy(default)
            notes.append(f"filled default for {prefix}{key} on {side} side")
        elif isinstance(default, dict) and default and isinstance(out[key], dict):
            out[key] = _fill_defaults(out[key], default, f"{prefix}{key}.", side, notes)
    return out


def _fill_declared_output(item: dict[str, Any], filled: list[str]) -> dict[str, Any]:
    """A copy of one declared output with the fields DeclaredOutputConfig materializes, when missing.

    `filled` receives the dotted names filled. `file` / `array_item` defaults depend on `type`
    (auto-filled for file / array outputs, null otherwise), as the pydantic validators do. A null
    `failure_strategy` is coerced to the defaults by Dify, so it is filled too.
    """
    out = dict(item)
    for key, default in DECLARED_OUTPUT_DEFAULTS.items():
        if key not in out or (key == "failure_strategy" and out[key] is None):
            out[key] = copy.deepcopy(default)
            filled.append(key)
    strategy = out.get("failure_strategy")
    if isinstance(strategy, dict):
        out["failure_strategy"] = strategy = _fill_flat(
            strategy, FAILURE_STRATEGY_DEFAULT, "failure_strategy", filled
        )
        if isinstance(strategy.get("retry"), dict):
            strategy["retry"] = _fill_flat(
                strategy["retry"], FAILURE_STRATEGY_DEFAULT["retry"], "failure_strategy.retry", filled
            )
    kind = out.get("type")
    if "file" not in out:
        out["file"] = {"extensions": [], "mime_types": []} if kind == "file" else None
        filled.append("file")
    elif isinstance(out["file"], dict):
        out["file"] = _fill_flat(out["file"], {"extensions": [], "mime_types": []}, "file", filled)
    if "array_item" not in out:
        out["array_item"] = {"description": None, "type": "object"} if kind == "array" else None
        filled.append("array_item")
    elif isinstance(out["array_item"], dict):
        out["array_item"] = _fill_flat(out["array_item"], {"description": None}, "array_item", filled)
    return out


def _fill_flat(
    doc: dict[str, Any], defaults: dict[str, Any], prefix: str, filled: list[str]
) -> dict[str, Any]:
    """A copy of `doc` with missing keys of `defaults` set (one level); names filled go to `filled`."""
    out = dict(doc)
    for key, default in defaults.items():
        if key not in out:
            out[key] = copy.deepcopy(default)
            filled.append(f"{prefix}.{key}")
    return out


def normalize_document(
    doc: dict[str, Any], kind: str, side: str = "left"
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The document with Dify's materialized defaults filled in, and notes saying what was filled.

    Never mutates `doc`. Key order is irrelevant (outputs sort keys). Gen E soul documents get no
    defaults at all (a note says so), since their stored defaults are not the §5.4 ones.
    """
    config_kind = _check_kind(kind)
    notes: list[str] = []
    if config_kind == "soul":
        if _is_gen_e(doc):
            return dict(doc), (f"newer (Gen E) soul shape on {side} side: no defaults filled",)
        return _fill_defaults(doc, SOUL_DEFAULT, "", side, notes), tuple(notes)
    out = _fill_defaults(doc, NODE_JOB_DEFAULT, "", side, notes)
    outputs = out.get("declared_outputs")
    if isinstance(outputs, list):
        new_outputs: list[Any] = []
        for index, item in enumerate(outputs):
            if not isinstance(item, dict):
                new_outputs.append(item)
                continue
            filled: list[str] = []
            new_outputs.append(_fill_declared_output(item, filled))
            if filled:
                name = item.get("name")
                label = mask_text(name) if isinstance(name, str) and name else str(index)
                notes.append(
                    f"filled defaults for declared_outputs[{label}] ({', '.join(filled)}) on {side} side"
                )
        out["declared_outputs"] = new_outputs
    return out, tuple(notes)


def _read_side(raw: str | None, kind: ConfigKind, side: str) -> _Side:
    """Parse and normalize one input; never raises."""
    result = parse_json(raw)
    if not result.ok:
        return _Side(raw, None, None, False, mask_text(result.error or "invalid"), ())
    if not isinstance(result.value, dict):
        error = f"JSON is a {type(result.value).__name__}, not an object"
        return _Side(raw, None, result.value, True, error, ())
    doc, notes = normalize_document(result.value, kind, side)
    return _Side(raw, doc, doc, True, None, notes)


# --- text diff ----------------------------------------------------------------------------------

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


# --- structural diff ------------------------------------------------------------------------------

_IDENT_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _display_key(key: str) -> str:
    """A dict key as shown in a display path: bare when identifier-like, else quoted in brackets."""
    return key if _IDENT_KEY.fullmatch(key) else f"[{json.dumps(key, ensure_ascii=False)}]"


@dataclass(frozen=True, slots=True)
class _Loc:
    """Where the walk is: the path on each side (None where it does not exist) and the display path."""

    old: Path | None
    new: Path | None
    display: str

    def key(self, key: str) -> _Loc:
        """The location of a dict key below this one."""
        shown = _display_key(key)
        display = (
            f"{self.display}.{shown}" if self.display and not shown.startswith("[") else self.display + shown
        )
        return _Loc(
            None if self.old is None else (*self.old, key),
            None if self.new is None else (*self.new, key),
            display,
        )

    def item(self, old_index: int | None, new_index: int | None, label: str) -> _Loc:
        """The location of a list item below this one, shown as `[label]`."""
        return _Loc(
            None if self.old is None or old_index is None else (*self.old, old_index),
            None if self.new is None or new_index is None else (*self.new, new_index),
            f"{self.display}[{label}]",
        )

    def schema(self) -> tuple[str, ...]:
        """The path without list indexes, used to look up identity rules and text fields."""
        path = self.new if self.new is not None else self.old or ()
        return tuple(k for k in path if isinstance(k, str))


class _Identity(NamedTuple):
    """An item's identity: `value` to match on, `label` for display, `keys` it was read from."""

    value: Hashable
    label: str
    keys: tuple[str, ...]


IdentityRule = Callable[[Any], _Identity | None]


def _scalar_id(value: Any) -> str | int | None:
    """A usable identity component: a non-empty string or an int (bools and floats are not ids)."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def _by_first(*keys: str) -> IdentityRule:
    """Identity from the first of `keys` the item has (e.g. env variables: name, then key...)."""

    def rule(item: Any) -> _Identity | None:
        if not isinstance(item, dict):
            return None
        for key in keys:
            value = _scalar_id(item.get(key))
            if value is not None:
                return _Identity(value, str(value), (key,))
        return None

    return rule


def _dify_tool_identity(item: Any) -> _Identity | None:
    """(plugin_id or provider_id or provider, tool_name): the same tool across edits and reorders."""
    if not isinstance(item, dict):
        return None
    tool = _scalar_id(item.get("tool_name"))
    if tool is None:
        return None
    for key in ("plugin_id", "provider_id", "provider"):
        provider = _scalar_id(item.get(key))
        if provider is not None:
            return _Identity((provider, tool), f"{provider}/{tool}", (key, "tool_name"))
    return _Identity(("", tool), str(tool), ("tool_name",))


def _contact_identity(item: Any) -> _Identity | None:
    """Contacts by id, else by email (an email is PII: the label is replaced by a position if so)."""
    if not isinstance(item, dict):
        return None
    for key in ("id", "email"):
        value = _scalar_id(item.get(key))
        if value is not None:
            return _Identity((key, value), str(value), (key,))
    return None


def _keyed_first(*keys: str) -> IdentityRule:
    """Like `_by_first`, but the identity remembers which key it came from, so an item known by `id`
    never collides with another known by a `name` of the same text. The label stays the bare value."""
    plain = _by_first(*keys)

    def rule(item: Any) -> _Identity | None:
        ident = plain(item)
        return None if ident is None else _Identity((ident.keys[0], ident.value), ident.label, ident.keys)

    return rule


_ENV_ITEM = _by_first("name", "key", "env_name", "variable")
# Gen E CLI tools carry a stable `id` a rename keeps (so a rename is one "changed" at `.name`); older
# ones only a name.
_CLI_TOOL = _keyed_first("id", "name")


def _file_identity(item: Any) -> _Identity | None:
    """Gen E file entries (config_skills, config_files, files.*) by their `file_id`: a renamed file is a
    changed `name`, a re-upload (a new file) a removal plus an addition. Shown by name when it has one.
    Entries without a file_id have no identity (value, then position, matching)."""
    if not isinstance(item, dict):
        return None
    file_id = _scalar_id(item.get("file_id"))
    if file_id is None:
        return None
    name = _scalar_id(item.get("name"))
    return _Identity(("file_id", file_id), str(name if name is not None else file_id), ("file_id",))


_FILE_ENTRY = _file_identity
#: Identity rules by schema path (keys only). `env.variables` / `env.secret_refs` match at any depth
#: (so `tools.cli_tools[].env` and Gen E `sandbox.config.env` too).
IDENTITY_RULES: dict[tuple[str, ...], IdentityRule] = {
    ("tools", "dify_tools"): _dify_tool_identity,
    ("tools", "cli_tools"): _CLI_TOOL,
    ("env", "variables"): _ENV_ITEM,
    ("env", "secret_refs"): _ENV_ITEM,
    ("sandbox", "config", "env"): _ENV_ITEM,
    ("knowledge", "datasets"): _by_first("id"),
    ("knowledge", "sets"): _by_first("id"),
    ("knowledge", "sets", "datasets"): _by_first("id"),
    ("config_skills",): _FILE_ENTRY,
    ("config_files",): _FILE_ENTRY,
    ("files", "skills"): _FILE_ENTRY,
    ("files", "files"): _FILE_ENTRY,
    ("declared_outputs",): _by_first("name"),
    ("app_variables",): _by_first("name"),
    ("human", "contacts"): _contact_identity,
    ("human_contacts",): _contact_identity,
}


def identity_rule(schema_path: tuple[str, ...]) -> IdentityRule | None:
    """The identity rule for the list at `schema_path`, or None (then: position / value equality)."""
    rule = IDENTITY_RULES.get(schema_path)
    if rule is None and schema_path[-2:] in (("env", "variables"), ("env", "secret_refs")):
        rule = IDENTITY_RULES[schema_path[-2:]]
    return rule


def _canon(value: Any) -> str:
    """A canonical text of a JSON value: equal texts mean equal values (true and 1 differ)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=True)


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, dict | list)


def _same_scalar(a: Any, b: Any) -> bool:
    """JSON scalar equality: same type and value (so true != 1), NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


@dataclass
class ListMatch:
    """How two lists correspond: matched (old, new) pairs plus unmatched indexes on each side."""

    pairs: list[tuple[int, int]] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    added: list[int] = field(default_factory=list)


def _unique_identities(items: Sequence[Any], rule: IdentityRule | None) -> list[_Identity | None]:
    """Each item's identity, or None when it has none or shares it with another item of the same list."""
    if rule is None:
        return [None] * len(items)
    ids = [rule(item) for item in items]
    counts: dict[Hashable, int] = {}
    for ident in ids:
        if ident is not None:
            counts[ident.value] = counts.get(ident.value, 0) + 1
    return [ident if ident is not None and counts[ident.value] == 1 else None for ident in ids]


def match_lists(old: Sequence[Any], new: Sequence[Any], rule: IdentityRule | None) -> ListMatch:
    """Match list items: by identity first, then by whole-value equality, then (containers of the same
    type only) by order of the leftovers. Scalars are never paired positionally: a different scalar is a
    removal plus an addition."""
    old_ids, new_ids = _unique_identities(old, rule), _unique_identities(new, rule)
    match = ListMatch()
    by_id = {ident.value: j for j, ident in enumerate(new_ids) if ident is not None}
    new_taken = [False] * len(new)
    left_old: list[int] = []
    for i, ident in enumerate(old_ids):
        j = by_id.get(ident.value) if ident is not None else None
        if j is not None:
            match.pairs.append((i, j))
            new_taken[j] = True
        elif ident is None:
            left_old.append(i)
        else:
            match.removed.append(i)
    left_new = [j for j in range(len(new)) if not new_taken[j] and new_ids[j] is None]
    match.added += [j for j in range(len(new)) if not new_taken[j] and new_ids[j] is not None]
    # Equal values pair up in order of appearance (so duplicates stay stable).
    free: dict[str, list[int]] = {}
    for j in left_new:
        free.setdefault(_canon(new[j]), []).append(j)
    still_old: list[int] = []
    for i in left_old:
        bucket = free.get(_canon(old[i]))
        if bucket:
            match.pairs.append((i, bucket.pop(0)))
        else:
            still_old.append(i)
    used = {j for _, j in match.pairs}
    still_new = [j for j in left_new if j not in used]
    # Position fallback: leftover containers of the same type pair in order; anything else is add/remove.
    old_c = [i for i in still_old if not _is_scalar(old[i])]
    new_c = [j for j in still_new if not _is_scalar(new[j])]
    paired_old: set[int] = set()
    paired_new: set[int] = set()
    for i, j in zip(old_c, new_c, strict=False):
        if type(old[i]) is type(new[j]):
            match.pairs.append((i, j))
            paired_old.add(i)
            paired_new.add(j)
    match.removed += [i for i in still_old if i not in paired_old]
    match.added += [j for j in still_new if j not in paired_new]
    match.pairs.sort()
    match.removed.sort()
    match.added.sort()
    return match


def stable_pairs(pairs: Sequence[tuple[int, int]]) -> set[tuple[int, int]]:
    """The pairs that keep their relative order (a longest increasing run of new indexes, taken in
    old order); every other matched pair counts as "moved". Insertions alone never cause moves."""
    ordered = sorted(pairs)
    tails: list[int] = []  # tails[k]: new index ending the best run of length k+1
    tail_pos: list[int] = []
    previous: list[int] = [-1] * len(ordered)
    for pos, (_, j) in enumerate(ordered):
        k = bisect_left(tails, j)
        if k == len(tails):
            tails.append(j)
            tail_pos.append(pos)
        else:
            tails[k] = j
            tail_pos[k] = pos
        previous[pos] = tail_pos[k - 1] if k else -1
    keep: set[tuple[int, int]] = set()
    pos = tail_pos[-1] if tail_pos else -1
    while pos >= 0:
        keep.add(ordered[pos])
        pos = previous[pos]
    return keep


def _mask_value(path: Path, value: Any, forced: bool = False) -> Any:
    """A value as shown at `path`: containers masked by path, secret scalars as set/empty, text scrubbed;
    `forced` when the document masks it because of a sibling (a secret name/value pair)."""
    if isinstance(value, dict | list):
        return mask_document(value, path, forced=forced)
    if forced or is_sensitive_path(path):
        return mask_scalar(value)
    if isinstance(value, str):
        return mask_text(value)
    return value


class _Differ:
    """Walks two normalized documents and collects Changes (masked) in document order.

    `old_forced` / `new_forced` are the paths each document masks because of a sibling value
    (`data.masking.masked_paths`); a path is sensitive when the path rule or either side says so."""

    def __init__(
        self, old_forced: frozenset[Path] = frozenset(), new_forced: frozenset[Path] = frozenset()
    ) -> None:
        self.changes: list[Change] = []
        self.old_forced = old_forced
        self.new_forced = new_forced

    def _forced(self, loc: _Loc) -> bool:
        return (loc.old is not None and loc.old in self.old_forced) or (
            loc.new is not None and loc.new in self.new_forced
        )

    def _sensitive(self, loc: _Loc, path: Path) -> bool:
        return self._forced(loc) or is_sensitive_path(path)

    def emit(self, kind: ChangeKind, loc: _Loc, old: Any, new: Any) -> None:
        """Record an added / removed / changed scalar-or-container change, masking what is shown."""
        path = (loc.old if kind == "removed" else loc.new) or ()
        forced = self._forced(loc)
        if kind == "changed" and _is_scalar(old) and _is_scalar(new) and self._sensitive(loc, path):
            shown_old: Any = MASKED_CHANGE
            shown_new: Any = MASKED_CHANGE
        else:
            shown_old = None if kind == "added" else _mask_value(loc.old or path, old, forced)
            shown_new = None if kind == "removed" else _mask_value(loc.new or path, new, forced)
        masked = (kind != "added" and shown_old != old) or (kind != "removed" and shown_new != new)
        self.changes.append(
            Change(
                path,
                mask_text(loc.display),
                kind,
                shown_old,
                shown_new,
                _section(path),
                loc.old,
                loc.new,
                None,
                masked,
            )
        )

    def value(self, loc: _Loc, old: Any, new: Any) -> None:
        """Diff two values at the same location."""
        if isinstance(old, dict) and isinstance(new, dict):
            self.diff_dict(loc, old, new)
        elif isinstance(old, list) and isinstance(new, list):
            self.diff_list(loc, old, new)
        elif _is_scalar(old) and _is_scalar(new) and _same_scalar(old, new):
            return
        elif isinstance(old, str) and isinstance(new, str) and self._is_text(loc, old, new):
            self.diff_text(loc, old, new)
        else:
            self.emit("changed", loc, old, new)

    def diff_dict(self, loc: _Loc, old: dict[str, Any], new: dict[str, Any]) -> None:
        """Diff two objects key by key (sorted), reporting added and removed keys."""
        for key in sorted(old.keys() | new.keys()):
            child = loc.key(key)
            if key not in new:
                self.emit("removed", _Loc(child.old, None, child.display), old[key], None)
            elif key not in old:
                self.emit("added", _Loc(None, child.new, child.display), None, new[key])
            else:
                self.value(child, old[key], new[key])

    def diff_list(self, loc: _Loc, old: list[Any], new: list[Any]) -> None:
        """Diff two lists: removed items first, then the new list in order (added, moved, changed)."""
        rule = identity_rule(loc.schema())
        match = match_lists(old, new, rule)
        old_ids, new_ids = _unique_identities(old, rule), _unique_identities(new, rule)
        for i in match.removed:
            self.emit("removed", loc.item(i, None, self._label(loc.old, i, old_ids[i])), old[i], None)
        stable = stable_pairs(match.pairs)
        by_new = {j: i for i, j in match.pairs}
        added = set(match.added)
        for j in range(len(new)):
            if j in added:
                self.emit("added", loc.item(None, j, self._label(loc.new, j, new_ids[j])), None, new[j])
                continue
            i = by_new[j]
            child = loc.item(i, j, self._label(loc.new, j, new_ids[j] or old_ids[i]))
            if (i, j) not in stable:
                path = child.new or ()
                self.changes.append(
                    Change(path, mask_text(child.display), "moved", i, j, _section(path), child.old, path)
                )
            self.value(child, old[i], new[j])

    def _label(self, list_path: Path | None, index: int, ident: _Identity | None) -> str:
        """An item's display label: its identity, unless that identity is sensitive (contacts' ids and
        emails are PII), then `#index`; the index when it has no identity."""
        if ident is None:
            return str(index)
        base = list_path or ()
        for key in ident.keys:
            item = (*base, index, key)
            if is_sensitive_path(item) or item in self.old_forced or item in self.new_forced:
                return f"#{index}"
        return mask_text(ident.label)

    def _is_text(self, loc: _Loc, old: str, new: str) -> bool:
        """Whether two strings are diffed line by line: prompts always, other long or multi-line text
        unless the path is sensitive (a secret is only ever "changed (masked)")."""
        if self._sensitive(loc, loc.new or ()):
            return False
        if loc.schema() in TEXT_FIELDS:
            return True
        return any("\n" in s or len(s) > LONG_TEXT_CHARS for s in (old, new))

    def diff_text(self, loc: _Loc, old: str, new: str) -> None:
        """Record a text change with its line diff; `old`/`new` become short previews."""
        old_side, new_side = _TextSide(_split_lines(old)), _TextSide(_split_lines(new))
        text = _diff_sides(old_side, new_side)
        path = loc.new or ()
        self.changes.append(
            Change(
                path,
                mask_text(loc.display),
                "changed",
                _preview(old_side),
                _preview(new_side),
                _section(path),
                loc.old,
                loc.new,
                text,
                text.masked,
            )
        )


def _section(path: Path) -> str:
    """The top-level section a path belongs to."""
    return str(path[0]) if path else DOCUMENT_SECTION


def _section_order(
    kind: ConfigKind, docs: Iterable[dict[str, Any] | None], changes: Iterable[Change]
) -> list[str]:
    """Known sections of `kind` in display order (the Gen E list when either soul has that shape), then
    any other section seen, alphabetically."""
    present = [doc for doc in docs if doc is not None]
    if kind == "node_job":
        known = list(NODE_JOB_SECTIONS)
    else:
        known = list(GEN_E_SOUL_SECTIONS if any(_is_gen_e(doc) for doc in present) else SOUL_SECTIONS)
    extra: set[str] = {c.section for c in changes}
    for doc in present:
        extra |= set(doc)
    return known + sorted(extra - set(known))


# --- entry points ---------------------------------------------------------------------------------


def _json_side(value: Any) -> _TextSide:
    """A parsed JSON value as text lines: raw rendering compared, path-masked rendering shown."""
    raw = _split_lines(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True))
    masked = _split_lines(json.dumps(mask_document(value), ensure_ascii=False, indent=2, sort_keys=True))
    # mask_document keeps the structure, so the renderings align line for line; guard anyway.
    return _TextSide(raw, masked if len(masked) == len(raw) else None)


def _text_side(side: _Side) -> _TextSide:
    """How a side looks in a whole-document text diff: pretty JSON when it parsed, raw text otherwise."""
    if side.valid_json:
        return _json_side(side.value)
    # Not JSON: masked like JSON as far as a tolerant tokenizer can follow it (values after secret
    # keys, contacts, env...), then by the free-text detectors; never line windows of raw text, which
    # would only see token shapes.
    raw = side.raw or ""
    return _TextSide(_split_lines(raw), _split_lines(mask_lenient_json(raw)))


def _summary(changes: Sequence[Change], counts_by_kind: dict[str, int], text_mode: bool) -> str:
    """One line for people: "no changes" or "N changes: 1 added, 2 changed"."""
    if not changes:
        return "no changes"
    parts = ", ".join(f"{n} {kind}" for kind, n in counts_by_kind.items() if n)
    noun = "change" if len(changes) == 1 else "changes"
    suffix = " (compared as text: a side is not a JSON object)" if text_mode else ""
    return f"{len(changes)} {noun}: {parts}{suffix}"


def diff_configs(left: str | None, right: str | None, kind: str = "soul") -> DiffResult:
    """Semantic diff of two stored config texts of one `kind` ("soul" or "node_job"); never raises on
    bad data (ValueError only for an unknown `kind`).

    When both sides are JSON objects, the normalized documents are walked section by section. When
    either is not, the two texts are line-diffed as one "(document)" change (pretty JSON for a side that
    parsed, raw text otherwise), and the parse errors are in `left_error` / `right_error`.
    """
    config_kind = _check_kind(kind)
    a, b = _read_side(left, config_kind, "left"), _read_side(right, config_kind, "right")
    notes = a.notes + b.notes
    if a.doc is not None and b.doc is not None:
        differ = _Differ(masked_paths(a.doc), masked_paths(b.doc))
        differ.value(_Loc((), (), ""), a.doc, b.doc)
        changes = differ.changes
        text_mode = False
    else:
        changes = _document_text_change(a, b)
        text_mode = True
    return _result(config_kind, changes, a, b, notes, text_mode)


def diff_documents(left: dict[str, Any], right: dict[str, Any], kind: str = "soul") -> DiffResult:
    """`diff_configs` for already parsed objects (normalized here; the inputs are not mutated)."""
    config_kind = _check_kind(kind)
    a_doc, a_notes = normalize_document(left, config_kind, "left")
    b_doc, b_notes = normalize_document(right, config_kind, "right")
    a = _Side(None, a_doc, a_doc, True, None, a_notes)
    b = _Side(None, b_doc, b_doc, True, None, b_notes)
    differ = _Differ(masked_paths(a_doc), masked_paths(b_doc))
    differ.value(_Loc((), (), ""), a_doc, b_doc)
    return _result(config_kind, differ.changes, a, b, a_notes + b_notes, False)


def _document_text_change(a: _Side, b: _Side) -> list[Change]:
    """The whole-document text change of text mode ([] when both texts render the same)."""
    old_side, new_side = _text_side(a), _text_side(b)
    if old_side.raw == new_side.raw:
        return []
    text = _diff_sides(old_side, new_side)
    return [
        Change(
            (),
            DOCUMENT_SECTION,
            "changed",
            _preview(old_side),
            _preview(new_side),
            DOCUMENT_SECTION,
            (),
            (),
            text,
            text.masked,
        )
    ]


def _result(
    kind: ConfigKind, changes: list[Change], a: _Side, b: _Side, notes: tuple[str, ...], text_mode: bool
) -> DiffResult:
    """Assemble the result: changes ordered by section (document order within one), counts, summary."""
    order = [DOCUMENT_SECTION] if text_mode else _section_order(kind, (a.doc, b.doc), changes)
    rank = {name: k for k, name in enumerate(order)}
    ordered = tuple(sorted(changes, key=lambda c: rank[c.section]))  # stable: keeps walk order inside
    by_section = dict.fromkeys(order, 0)
    by_kind: dict[str, int] = dict.fromkeys(CHANGE_KINDS, 0)
    for change in ordered:
        by_section[change.section] += 1
        by_kind[change.kind] += 1
    return DiffResult(
        kind=kind,
        changes=ordered,
        equal=not ordered,
        summary=_summary(ordered, by_kind, text_mode),
        counts_by_section=by_section,
        counts_by_kind=by_kind,
        left_error=a.error,
        right_error=b.error,
        notes=notes,
        text_mode=text_mode,
    )


def normalized_json(text: str | None, kind: str = "soul") -> str:
    """The "raw" view of one config text: normalized (defaults filled), masked, sorted, indented JSON.

    A text that is not JSON comes back masked like JSON as far as it can be (`mask_lenient_json`); valid JSON that is not an object is
    masked and pretty-printed as is.
    """
    side = _read_side(text, _check_kind(kind), "left")
    if not side.valid_json:
        return mask_lenient_json(side.raw or "")
    return json.dumps(mask_document(side.value), ensure_ascii=False, indent=2, sort_keys=True)


# --- views ------------------------------------------------------------------------------------------

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
