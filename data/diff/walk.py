"""The structural walk: two normalized documents compared key by key and item by item, each
difference recorded as a masked `Change` (masking calls only: the policy is `data.masking`)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from data.diff.matching import (
    _Identity,
    _is_scalar,
    _same_scalar,
    _unique_identities,
    identity_rule,
    match_lists,
    stable_pairs,
)
from data.diff.normalize import GEN_E_SOUL_SECTIONS, NODE_JOB_SECTIONS, SOUL_SECTIONS, _is_gen_e
from data.diff.results import DOCUMENT_SECTION, MASKED_CHANGE, Change, ChangeKind, ConfigKind, Path
from data.diff.textdiff import _diff_sides, _preview, _split_lines, _TextSide
from data.masking import is_sensitive_path, mask_document, mask_scalar, mask_text

#: Strings always diffed as text, by schema path (keys only, list indexes removed).
TEXT_FIELDS = frozenset({("prompt", "system_prompt"), ("workflow_prompt",)})
#: Any other string longer than this (or holding a newline) is diffed as text too.
LONG_TEXT_CHARS = 200


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
