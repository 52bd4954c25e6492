"""Matching of list items across two versions of a config section: identity rules per schema path
(tools, env variables, datasets, outputs, contacts, files), value equality, position fallback, and
which matched pairs count as moved."""

from __future__ import annotations

import json
import math
from bisect import bisect_left
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple


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
