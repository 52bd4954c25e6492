"""Semantic diff of two Agent Soul configs (AgentSoulConfig) or two node-job configs (WorkflowNodeJobConfig).

Pure data in, pure data out: no streamlit, no SQL. Pages render what these functions return.

Pipeline (each step is a small function in one of the modules listed below):

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

Modules (each imports only modules listed above it; `__init__` re-exports the public API):

* `results`   rendering-neutral result dataclasses (Change, DiffResult, TextDiff, SplitRow, ...)
* `normalize` parsing of stored texts, the known sections and materialized defaults of each kind
* `textdiff`  line and word diff of texts (raw compared, masked shown)
* `matching`  list items matched across versions (identity rules, moves)
* `walk`      the structural walk that records masked Changes
* `configs`   entry points: diff_configs, diff_documents, normalized_json
* `views`     plain-text views: unified_lines, split_rows, format_value
* `labels`    what each side of a comparison is called ("Pinned v3", "Active v5", "Draft")
"""

from data.diff.configs import diff_configs, diff_documents, normalized_json
from data.diff.labels import BindingPins, SideFacts, binding_matches, side_titles
from data.diff.matching import (
    IDENTITY_RULES,
    IdentityRule,
    ListMatch,
    identity_rule,
    match_lists,
    stable_pairs,
)
from data.diff.normalize import (
    DECLARED_OUTPUT_DEFAULTS,
    FAILURE_STRATEGY_DEFAULT,
    GEN_E_ROOT_MARKERS,
    GEN_E_SOUL_SECTIONS,
    NODE_JOB_DEFAULT,
    NODE_JOB_SECTIONS,
    SOUL_DEFAULT,
    SOUL_SECTIONS,
    normalize_document,
)
from data.diff.results import (
    CHANGE_KINDS,
    DOCUMENT_SECTION,
    KINDS,
    MASKED_CHANGE,
    Change,
    ChangeKind,
    ConfigKind,
    DiffResult,
    LineOp,
    Path,
    PathKey,
    Segment,
    SegmentOp,
    SplitRow,
    TextDiff,
    TextHunk,
    TextLine,
)
from data.diff.textdiff import (
    CONTEXT_LINES,
    PAIRING_MAX_CELLS,
    PAIRING_MIN_SIMILARITY,
    PREVIEW_CHARS,
    WORD_DIFF_MAX_LINE_CHARS,
    WORD_DIFF_MAX_PAIRS,
    diff_text,
    word_segments,
)
from data.diff.views import format_value, split_rows, unified_lines
from data.diff.walk import LONG_TEXT_CHARS, TEXT_FIELDS

__all__ = [
    "CHANGE_KINDS",
    "CONTEXT_LINES",
    "DECLARED_OUTPUT_DEFAULTS",
    "DOCUMENT_SECTION",
    "FAILURE_STRATEGY_DEFAULT",
    "GEN_E_ROOT_MARKERS",
    "GEN_E_SOUL_SECTIONS",
    "IDENTITY_RULES",
    "KINDS",
    "LONG_TEXT_CHARS",
    "MASKED_CHANGE",
    "NODE_JOB_DEFAULT",
    "NODE_JOB_SECTIONS",
    "PAIRING_MAX_CELLS",
    "PAIRING_MIN_SIMILARITY",
    "PREVIEW_CHARS",
    "SOUL_DEFAULT",
    "SOUL_SECTIONS",
    "TEXT_FIELDS",
    "WORD_DIFF_MAX_LINE_CHARS",
    "WORD_DIFF_MAX_PAIRS",
    "BindingPins",
    "Change",
    "ChangeKind",
    "ConfigKind",
    "DiffResult",
    "IdentityRule",
    "LineOp",
    "ListMatch",
    "Path",
    "PathKey",
    "Segment",
    "SegmentOp",
    "SideFacts",
    "SplitRow",
    "TextDiff",
    "TextHunk",
    "TextLine",
    "binding_matches",
    "diff_configs",
    "diff_documents",
    "diff_text",
    "format_value",
    "identity_rule",
    "match_lists",
    "normalize_document",
    "normalized_json",
    "side_titles",
    "split_rows",
    "stable_pairs",
    "unified_lines",
    "word_segments",
]
