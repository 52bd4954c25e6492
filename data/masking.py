"""The one masking policy, shared by every page, diff, export and CLI output.

Masking replaces *scalar* values by "set" / "empty" markers and never hides a whole section, so the
structure of a document stays visible. What is masked (schema reference, section 10):

* values under keys whose lower-cased name contains a secret-looking word (`secret`, `credential`,
  `token`, `password`, `api_key`, `apikey`, `authorization`), except allow-listed keys that only
  look alike (`max_tokens`, `credential_type`, the ids inside `credential_ref`);
* `value` / `default` of `env.secret_refs[]` and `env.variables[]` (anywhere an `env` holds them,
  e.g. `tools.cli_tools[].env`); names stay visible;
* every value inside `runtime_parameters` and `sandbox.config`;
* human contacts (PII): `human.contacts[]`, `human_contacts[]`;
* in runtime sessions: the `history` layer's runtime state and user prompts in layer specs;
* in any free text (including text that is not valid JSON): things that look like keys or tokens.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable
from typing import Any

from data.tolerant import parse_json

MASK_SET = "[masked: set]"
MASK_EMPTY = "[masked: empty]"
MASK_TOKEN = "[masked token]"

SECRET_WORDS = (
    "secret",
    "credential",
    "token",
    "password",
    "passwd",
    "passphrase",
    "private_key",
    "access_key",
    "cookie",
    "api_key",
    "apikey",
    "authorization",
)
# Keys whose names look secret but hold no secret (limits, enum-like types, reference ids).
ALLOWED_KEYS = frozenset(
    {
        "max_tokens",
        "max_output_tokens",
        "total_tokens",
        "token_count",
        "credential_type",
        "credential_ref",
        "secret_refs",
    }
)
# Whole subtrees whose scalar values are user data or may carry secrets.
SENSITIVE_CONTAINERS = frozenset({"runtime_parameters", "human_contacts", "contacts"})
ENV_VALUE_KEYS = frozenset({"value", "default"})

# Token shapes in free text: provider keys, bearer tokens, JWTs, key=value assignments of secrets.
_TOKEN_PATTERNS = [
    re.compile(r"\b(?:sk|pk|rk)-(?:[A-Za-z0-9_-]+-)?[A-Za-z0-9_-]{12,}"),
    re.compile(r"\b(?:ghp|gho|ghs|ghu|github_pat|xox[abprs]|glpat|AKIA|AIza)[A-Za-z0-9_-]{10,}"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(
        r"(?i)((?:secret|token|password|passwd|private[_-]?key|api[_-]?key|apikey|authorization|credential)s?[\"']?\s*[:=]\s*[\"']?)"
        r"([^\s\"',;}]{1,})"
    ),
]


def mask_scalar(value: Any) -> str:
    """What a masked value shows: whether it was set, nothing else (not its length, not a hash)."""
    if value is None or value == "" or value == [] or value == {}:
        return MASK_EMPTY
    return MASK_SET


def is_secret_key(key: str) -> bool:
    lowered = key.lower().replace("-", "_")
    if lowered in ALLOWED_KEYS:
        return False
    return any(word in lowered for word in SECRET_WORDS)


def is_sensitive_path(path: tuple[str | int, ...]) -> bool:
    """Whether the scalar at `path` (keys and list indexes from the document root) is masked."""
    keys = [p.lower() for p in path if isinstance(p, str)]
    if not keys:
        return False
    # A secret-looking key masks every scalar below it; allow-listed keys (credential_ref) do not.
    if any(is_secret_key(k) for k in keys):
        return True
    if any(k in SENSITIVE_CONTAINERS for k in keys):
        return True
    last = keys[-1]
    for key, child in itertools.pairwise(keys):
        if key == "sandbox" and child == "config":
            return True
        if key == "secret_refs" and last in ENV_VALUE_KEYS:
            return True
        if key == "env" and child == "variables" and last in ENV_VALUE_KEYS:
            return True
    return False


def mask_text(text: str) -> str:
    """Mask key- or token-looking substrings in free text."""
    if not text:
        return text
    for pattern in _TOKEN_PATTERNS:
        if pattern.groups >= 2:
            text = pattern.sub(lambda m: m.group(1) + MASK_TOKEN, text)
        else:
            text = pattern.sub(MASK_TOKEN, text)
    return text


def mask_document(value: Any, path: tuple[str | int, ...] = ()) -> Any:
    """A masked deep copy of a parsed JSON document (dicts, lists, scalars)."""
    if isinstance(value, dict):
        return {k: mask_document(v, (*path, str(k))) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_document(v, (*path, i)) for i, v in enumerate(value)]
    if is_sensitive_path(path):
        return mask_scalar(value)
    if isinstance(value, str):
        return mask_text(value)
    return value


def mask_json_text(text: str | None) -> str:
    """Mask a JSON text: parsed and masked by path when valid, token-scrubbed when not."""
    if text is None:
        return ""
    parsed = parse_json(text)  # size and depth bounded; never raises
    if not parsed.ok:
        return mask_text(text)
    return json.dumps(mask_document(parsed.value), ensure_ascii=False, indent=2, sort_keys=True)


# --- runtime sessions -------------------------------------------------------------------------

#: Layers whose runtime state holds users' conversations (PII / content).
HISTORY_LAYER_NAMES = frozenset({"history"})
#: Layer-spec config keys holding prompt text typed by users.
USER_PROMPT_KEYS = frozenset({"user"})


def mask_session_snapshot(doc: Any, *, reveal_history: bool = False) -> Any:
    """Mask a parsed `session_snapshot`: history runtime state hidden unless explicitly revealed."""
    masked = mask_document(doc)
    if not isinstance(masked, dict) or not isinstance(masked.get("layers"), list):
        return masked
    for layer in masked["layers"]:
        if (
            isinstance(layer, dict)
            and str(layer.get("name")).lower() in HISTORY_LAYER_NAMES
            and not reveal_history
        ):
            layer["runtime_state"] = mask_scalar(layer.get("runtime_state"))
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
