"""Which keys and paths of a JSON document hold secrets or personal data (the structural half of the
masking policy; `data.masking.text` is the free-text half).

Invariants:
* `is_secret_key` is a pure function of the key's spelling (case, `-`/`_`/`.`/space and camelCase do
  not matter): `DB_PASS`, `dbPass`, `X-Api-Key` and `db_pass` are judged alike.
* `is_sensitive_path` is a pure function of the path (keys and list indexes from the document root);
  rules that need sibling values (a `{"name": "X-Api-Key", "value": ...}` pair) live in
  `secret_pair_keys`, which `mask_document` and the lenient JSON masker both apply.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

#: A key containing one of these (after lower-casing and `-` -> `_`) is secret.
SECRET_SUBSTRINGS = (
    "secret",
    "credential",
    "token",
    "password",
    "passwd",
    "passphrase",
    "private_key",
    "privatekey",
    "access_key",
    "accesskey",
    "signing_key",
    "signingkey",
    "api_key",
    "apikey",
    "authorization",
    "cookie",
    "signature",
)
#: A key with one of these as a whole segment is secret (as substrings they would hit `passage`,
#: `author`, `mapping`, `spinner`).
SECRET_SEGMENTS = frozenset(
    {"pass", "pwd", "pw", "pin", "otp", "auth", "sig", "passcode", "totp", "hmac", "dsn", "sas", "jwt"}
)
#: `<qualifier>_key` is secret (`provider_key`, `x_api_key`); a bare `key` is not (env variables use
#: `key` for the variable's *name*), nor `sort_key`, `cache_key`, `primary_key`.
KEY_QUALIFIERS = frozenset(
    {
        "api",
        "private",
        "access",
        "signing",
        "provider",
        "secret",
        "encryption",
        "master",
        "license",
        "licence",
        "auth",
        "client",
        "app",
        "ssh",
        "service",
        "account",
        "subscription",
        "webhook",
        "hmac",
        "session",
        "deploy",
        "gpg",
        "pgp",
        "crypt",
        "decryption",
        "storage",
        "sign",
        "shared",
    }
)
#: Keys that only look secret: limits, enum-like types, reference containers.
ALLOWED_KEYS = frozenset(
    {
        "max_tokens",
        "max_output_tokens",
        "max_completion_tokens",
        "total_tokens",
        "prompt_tokens",
        "completion_tokens",
        "input_tokens",
        "output_tokens",
        "reasoning_tokens",
        "cached_tokens",
        "token_count",
        "token_limit",
        "num_tokens",
        "credential_type",
        "credential_ref",
        "credential_refs",
        "secret_refs",
        "authorization_status",
    }
)
#: A secret-looking key whose last segment is one of these describes the secret, it is not the secret
#: (`credential_type`, `authorization_status`, `secret_refs`, `token_count`, `secret_name`).
DESCRIPTIVE_SUFFIXES = frozenset(
    {"type", "types", "mode", "status", "ref", "refs", "count", "limit", "name", "names", "required"}
)
#: Count-like `..._tokens` keys (`max_tokens`, `prompt_tokens`): the segment before `tokens`.
_TOKEN_COUNT_QUALIFIERS = frozenset(
    {"max", "min", "total", "prompt", "completion", "input", "output", "reasoning", "cached", "num"}
)

#: Whole subtrees whose scalar values are user data or may carry secrets.
SENSITIVE_CONTAINERS = frozenset(
    {"runtime_parameters", "human_contacts", "contacts", "runtime_state", "credentials"}
)
#: Keys naming an environment: every scalar below is a value unless its key names the variable.
ENV_KEYS = frozenset({"env", "envs", "environment", "env_vars", "environment_variables"})
#: Inside an env, these keys describe a variable and stay visible.
ENV_VISIBLE_KEYS = frozenset(
    {
        "name",
        "key",
        "env_name",
        "variable",
        "type",
        "required",
        "description",
        "id",
        "ref",
        "provider",
        "permission",
        "label",
    }
)
#: Name-like fields of a name/value pair (`{"name": "X-Api-Key", "value": ...}`).
PAIR_NAME_KEYS = ("name", "key", "header", "env_name", "variable", "field", "param", "parameter")
#: Value-like fields of such a pair, masked when the name is secret-looking.
PAIR_VALUE_KEYS = frozenset({"value", "default", "default_value", "val", "content", "data"})

_VALUE_KEYS_ANY_CASE = frozenset({k for key in PAIR_VALUE_KEYS for k in (key, key.capitalize(), key.upper())})
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[^a-z0-9]+")


def _normalize(key: str) -> str:
    return _SEPARATORS.sub("_", _CAMEL.sub("_", key).lower()).strip("_")


@lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    """Whether values under a key with this name are secrets (see the module invariants)."""
    if not key or len(key) > 200:
        return False
    joined = _normalize(key)
    if joined in ALLOWED_KEYS or key.lower() in ALLOWED_KEYS:
        return False
    segments = joined.split("_")
    if len(segments) > 1 and segments[-1] in DESCRIPTIVE_SUFFIXES:
        return False
    if len(segments) > 1 and segments[-1] == "tokens" and segments[-2] in _TOKEN_COUNT_QUALIFIERS:
        return False
    squashed = key.lower().replace("-", "_")
    if any(word in joined or word in squashed for word in SECRET_SUBSTRINGS):
        return True
    if any(segment in SECRET_SEGMENTS for segment in segments):
        return True
    return any(
        b in ("key", "keys") and a in KEY_QUALIFIERS for a, b in itertools.pairwise(segments)
    ) or joined in ("key_secret", "keysecret")


def _key(part: str | int) -> str | None:
    return part.lower() if isinstance(part, str) else None


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
    for key, child in itertools.pairwise(keys):
        if key == "sandbox" and child == "config":
            return True
    # Inside an env (mapping, list of pairs, or list of "A=b" strings) everything is a value except
    # the fields that name or describe a variable.
    for index, part in enumerate(path):
        if _key(part) in ENV_KEYS:
            rest = path[index + 1 :]
            if not rest:
                return True
            last = rest[-1]
            if isinstance(last, int) or last.lower() not in ENV_VISIBLE_KEYS or len(rest) == 1:
                return True
    return False


def pair_is_secret(item: Mapping[str, Any]) -> bool:
    """Whether a dict is a name/value pair whose name is secret-looking (`{"name": "X-Api-Key", ...}`)."""
    for name_key in PAIR_NAME_KEYS:
        name = item.get(name_key)
        if isinstance(name, str) and is_secret_key(name):
            return True
    return False


def secret_pair_keys(item: Mapping[str, Any]) -> frozenset[str]:
    """The keys of `item` masked because `item` is a secret name/value pair (empty when it is not)."""
    if _VALUE_KEYS_ANY_CASE.isdisjoint(item.keys()) or not pair_is_secret(item):
        return frozenset()
    return frozenset(k for k in item if isinstance(k, str) and k.lower() in PAIR_VALUE_KEYS)
