"""Entry points: `diff_configs` (stored texts), `diff_documents` (parsed objects) and
`normalized_json` (the raw view of one side)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from data.diff.normalize import _check_kind, _read_side, _Side, normalize_document
from data.diff.results import CHANGE_KINDS, DOCUMENT_SECTION, Change, ConfigKind, DiffResult
from data.diff.textdiff import _diff_sides, _preview, _split_lines, _TextSide
from data.diff.walk import _Differ, _Loc, _section_order
from data.masking import mask_document, mask_lenient_json, masked_paths


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
