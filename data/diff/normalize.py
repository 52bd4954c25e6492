"""Parsing and normalization of stored config texts: the known sections of each kind, the defaults
Dify materializes on storage (schema reference §5.4), and one parsed side of a comparison."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from data.diff.results import KINDS, ConfigKind
from data.masking import mask_text
from data.tolerant import parse_json

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
