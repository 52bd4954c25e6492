"""The one masking policy, shared by every page, diff, export and CLI output (docs/masking.md).

Masking replaces *scalar* values by "set" / "empty" markers and never hides a whole section, so the
structure of a document stays visible. Three parts, one module each:

* `data.masking.keys`: which keys and paths hold secrets or personal data: secret-looking key names
  (`secret`, `credential`, `token`, `password`, `pass`, `pin`, `provider_key`, `signing_key`, ...,
  except look-alikes such as `max_tokens`, `credential_type`, the ids in `credential_ref`), every
  value inside an env (`env`, `tools.cli_tools[].env`, as lists of pairs or as a plain mapping),
  `runtime_parameters`, `sandbox.config`, human contacts, every layer's `runtime_state`, and
  `{"name": <secret-looking>, "value": ...}` pairs (header lists, env pairs);
* `data.masking.text`: free-text detectors (detect-secrets' regexes plus our own provider shapes,
  signed-URL parameters, `key = value` assignments, e-mail addresses, phone numbers);
* `data.masking.lenient`: text that is not valid JSON, masked by the same path rules as far as a
  tolerant tokenizer can follow it, then by the free-text detectors.

Invariant: no function here raises on any input, and `mask_*` of an already masked value is unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from data.masking.keys import (
    ALLOWED_KEYS,
    ENV_KEYS,
    SECRET_SUBSTRINGS,
    SENSITIVE_CONTAINERS,
    is_secret_key,
    is_sensitive_path,
    secret_pair_keys,
)
from data.masking.lenient import mask_lenient_json
from data.masking.text import MASK_EMAIL, MASK_PHONE, MASK_TOKEN, Masked, mask_text
from data.tolerant import parse_json

MASK_SET = "[masked: set]"
MASK_EMPTY = "[masked: empty]"
#: Kept for callers of the first policy: the substring words are the core of the key rule.
SECRET_WORDS = SECRET_SUBSTRINGS

__all__ = [
    "ALLOWED_KEYS",
    "ENV_KEYS",
    "MASK_EMAIL",
    "MASK_EMPTY",
    "MASK_PHONE",
    "MASK_SET",
    "MASK_TOKEN",
    "SECRET_WORDS",
    "SENSITIVE_CONTAINERS",
    "Masked",
    "contains_any",
    "is_secret_key",
    "is_sensitive_path",
    "mask_document",
    "mask_json_text",
    "mask_layer_specs",
    "mask_lenient_json",
    "mask_scalar",
    "mask_session_snapshot",
    "mask_text",
    "masked_paths",
]


def mask_scalar(value: Any) -> str:
    """What a masked value shows: whether it was set, nothing else (not its length, not a hash)."""
    if value is None or value == "" or value == [] or value == {}:
        return MASK_EMPTY
    return MASK_SET


def mask_document(value: Any, path: tuple[str | int, ...] = (), *, forced: bool = False) -> Any:
    """A masked deep copy of a parsed JSON document (dicts, lists, scalars); `path` is where `value`
    sits in its document (so a sub-document is masked as it would be in place); `forced` masks every
    scalar (a value that `masked_paths` reported, e.g. the value of a secret name/value pair)."""
    return _mask(value, path, forced)


def _mask(value: Any, path: tuple[str | int, ...], forced: bool) -> Any:
    if isinstance(value, dict):
        paired = secret_pair_keys(value)
        return {k: _mask(v, (*path, str(k)), forced or k in paired) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v, (*path, i), forced) for i, v in enumerate(value)]
    if forced or is_sensitive_path(path):
        return mask_scalar(value)
    if isinstance(value, str):
        return mask_text(value)
    return value


def masked_paths(value: Any, path: tuple[str | int, ...] = ()) -> frozenset[tuple[str | int, ...]]:
    """Paths (below `path`) of the values (scalars and containers) `mask_document` masks because of a
    *sibling* value (secret name/value pairs), which `is_sensitive_path` alone cannot know. The diff
    asks both. Walks containers only; a path tuple is built only for what it reports or descends into."""
    found: set[tuple[str | int, ...]] = set()
    stack: list[tuple[Any, tuple[str | int, ...], bool]] = [(value, path, False)]
    while stack:
        node, where, forced = stack.pop()
        if isinstance(node, dict):
            paired = secret_pair_keys(node)
            for k, v in node.items():
                child_forced = forced or k in paired
                if child_forced:
                    found.add((*where, str(k)))
                if isinstance(v, dict | list):
                    stack.append((v, (*where, str(k)), child_forced))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                if forced:
                    found.add((*where, i))
                if isinstance(v, dict | list):
                    stack.append((v, (*where, i), forced))
    return frozenset(found)


def mask_json_text(text: str | None) -> str:
    """Mask a JSON text: parsed and masked by path when valid, masked like JSON as far as a tolerant
    tokenizer can follow it when not (`mask_lenient_json`)."""
    if text is None:
        return ""
    parsed = parse_json(text)  # size and depth bounded; never raises
    if not parsed.ok:
        return mask_lenient_json(text)
    return json.dumps(mask_document(parsed.value), ensure_ascii=False, indent=2, sort_keys=True)


# --- runtime sessions -------------------------------------------------------------------------

#: Layers whose runtime state holds users' conversations (PII / content).
HISTORY_LAYER_NAMES = frozenset({"history"})
#: Layer-spec config keys holding prompt text typed by users.
USER_PROMPT_KEYS = frozenset({"user"})


def mask_session_snapshot(doc: Any, *, reveal_history: bool = False) -> Any:
    """Mask a parsed `session_snapshot`: every layer's runtime state is user content (masked as
    set/empty by path); `reveal_history` shows the history layer's state, still key- and text-masked."""
    masked = mask_document(doc)
    if not reveal_history or not isinstance(doc, dict) or not isinstance(doc.get("layers"), list):
        return masked
    for raw, layer in zip(doc["layers"], masked.get("layers", []), strict=False):
        if (
            isinstance(raw, dict)
            and isinstance(layer, dict)
            and str(raw.get("name")).lower() in HISTORY_LAYER_NAMES
            and "runtime_state" in raw
        ):
            layer["runtime_state"] = mask_document(raw["runtime_state"], ("history_state",))
    return masked


def mask_layer_specs(doc: Any) -> Any:
    """Mask parsed `composition_layer_specs`: user prompts and identities in configs."""
    masked = mask_document(doc)
    if not isinstance(masked, list):
        return masked
    for spec in masked:
        config = spec.get("config") if isinstance(spec, dict) else None
        if isinstance(config, dict):
            for key in list(config):
                if key in USER_PROMPT_KEYS or key == "user_id":
                    config[key] = mask_scalar(config[key])
    return masked


def contains_any(haystack: str, needles: Iterable[str]) -> list[str]:
    """Test helper kept next to the policy: which planted values leak into an output."""
    return [n for n in needles if n and n in haystack]
