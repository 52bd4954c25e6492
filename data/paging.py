"""Keyset paging, shared by every store that pages: one cursor codec, one error, one page shape.

A cursor is opaque to the URL: unpadded base64url of the JSON `[kind, key]`, where `kind` names the
order it belongs to (`"id"`, or a roster sort such as `"updated"`) and `key` is the last row's sort key
(an id string, or a list of values). Decoding is tamper-tolerant: anything that is not a well-formed
cursor of the expected kind, or whose key the store's parser rejects, raises `InvalidCursor` (pages show
"this page link's cursor is invalid" and the first page). The format is the one the stores wrote
before this module existed, so page links already shared keep working.

A page is fetched with `fetch_limit(page_size)` rows (one extra row tells whether another page exists),
in *scan order* (away from the cursor), and `keyset_page` turns them into a `Page` in display order with
its two cursors. Pure logic: no database code here.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from data.errors import InvalidCursor
from data.tolerant import normalize_uuid

R = TypeVar("R")
K = TypeVar("K")

#: The cursor kind of an id-ordered keyset (sessions, workspace bindings, the roster's `created` sort
#: uses its own kind, the sort's name).
ID_KIND = "id"


# --- the codec ---------------------------------------------------------------------------------------


def encode_cursor(kind: str, key: Any) -> str:
    """`[kind, key]` as unpadded base64url JSON; `key` must be JSON-serializable (ids, strings, lists)."""
    return base64.urlsafe_b64encode(json.dumps([kind, key]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str, parse: Callable[[Any], K | None]) -> K:
    """The key `parse` makes of the cursor's JSON key; `InvalidCursor` when anything is off.

    `parse` receives the decoded JSON value and returns the store's key, or None (or raises ValueError,
    TypeError, IndexError or KeyError) to reject it.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        found_kind, raw = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if found_kind != kind:
            raise InvalidCursor("this page link's cursor belongs to another sort order")
        key = parse(raw)
    except InvalidCursor:
        raise
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        raise InvalidCursor("this page link's cursor is invalid") from exc
    if key is None:
        raise InvalidCursor("this page link's cursor is invalid")
    return key


def encode_id_cursor(row_id: str) -> str:
    return encode_cursor(ID_KIND, row_id)


def decode_id_cursor(cursor: str) -> str:
    """The (normalized) uuid in an id cursor; `InvalidCursor` otherwise."""
    return decode_cursor(cursor, ID_KIND, normalize_uuid)


# --- pages -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page(Generic[R]):
    """One keyset page in display order. `next_cursor` goes into `after`, `prev_cursor` into `before`."""

    rows: list[R]
    next_cursor: str | None
    prev_cursor: str | None
    has_more: bool  # more rows exist beyond this page in the direction it was read


def fetch_limit(page_size: int) -> int:
    """Rows to fetch for a page: one more than shown tells whether another page exists."""
    return page_size + 1


def keyset_page(
    fetched: Sequence[R],
    *,
    page_size: int,
    forward: bool,
    cursor_of: Callable[[R], str],
    from_cursor: str | None,
    edge: str | None = None,
) -> Page[R]:
    """A `Page` from the `fetch_limit(page_size)` rows fetched in scan order (away from the cursor).

    * `forward`: the page was read after its cursor (`after`, or the first page); else before it.
    * `cursor_of(row)`: the cursor of a row's sort key.
    * `from_cursor`: the cursor the page was read from (re-encoded from its key), or None for a first
      page. An empty page read from a cursor keeps it as its near edge, so "back" still works.
    * `edge`: for a bounded scan that did not fill its page, the cursor where its window ended (the next
      page continues there); None when the end of the table was reached.
    """
    has_more = len(fetched) > page_size
    rows = list(fetched[:page_size])
    far = cursor_of(rows[-1]) if has_more else edge
    near = cursor_of(rows[0]) if rows else from_cursor
    if forward:
        next_cursor, prev_cursor = far, (near if from_cursor else None)
    else:
        rows.reverse()
        next_cursor, prev_cursor = near, far
    return Page(rows, next_cursor or None, prev_cursor or None, has_more)
