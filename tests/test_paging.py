"""The shared keyset paging module: the cursor codec (stable format, tamper-tolerant) and page edges."""

from __future__ import annotations

import base64
import contextlib
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from data.paging import (
    InvalidCursor,
    decode_id_cursor,
    encode_cursor,
    encode_id_cursor,
    fetch_limit,
    keyset_page,
)
from data.stores import roster, sessions, workspaces

ID = "0190a000-0000-7000-8000-000000000001"
# Cursors exactly as the stores wrote them before the shared module (links already in browsers' history).
SESSION_CURSOR = "WyJpZCIsICIwMTkwYTAwMC0wMDAwLTcwMDAtODAwMC0wMDAwMDAwMDAwMDEiXQ"
ROSTER_UPDATED_CURSOR = (
    "WyJ1cGRhdGVkIiwgWyIyMDI1LTAxLTAyVDAzOjA0OjA1IiwgIjAxOTBhMDAwLTAwMDAtNzAwMC04MDAwLTAwMDAwMDAwMDAwMSJdXQ"
)


def test_old_cursors_keep_decoding_and_encoding_the_same() -> None:
    assert encode_id_cursor(ID) == SESSION_CURSOR
    assert decode_id_cursor(SESSION_CURSOR) == ID
    assert roster.decode_cursor("updated", ROSTER_UPDATED_CURSOR) == (datetime(2025, 1, 2, 3, 4, 5), ID)
    assert encode_cursor("updated", ["2025-01-02T03:04:05", ID]) == ROSTER_UPDATED_CURSOR


def test_one_invalid_cursor_class_for_every_store() -> None:
    assert sessions.InvalidCursor is workspaces.InvalidCursor is roster.InvalidCursor is InvalidCursor
    assert issubclass(InvalidCursor, ValueError)


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not base64 !",
        SESSION_CURSOR[:-3],  # truncated
        base64.urlsafe_b64encode(b'["id", "not-a-uuid"]').decode(),
        base64.urlsafe_b64encode(b'["id"]').decode(),
        base64.urlsafe_b64encode(b'{"id": 1}').decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        ROSTER_UPDATED_CURSOR,  # another order's cursor
    ],
)
def test_bad_id_cursors_raise_invalid_cursor(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_id_cursor(cursor)


def test_a_roster_cursor_of_another_sort_says_so() -> None:
    with pytest.raises(InvalidCursor, match="another sort order"):
        roster.decode_cursor("name", ROSTER_UPDATED_CURSOR)
    with pytest.raises(InvalidCursor):  # an aware timestamp is not a key Agent Desk wrote
        roster.decode_cursor("updated", encode_cursor("updated", ["2025-01-02T03:04:05+00:00", ID]))


@given(st.text(max_size=200))
def test_any_text_decodes_or_raises_invalid_cursor(text: str) -> None:
    for decode in (decode_id_cursor, lambda c: roster.decode_cursor("updated", c)):
        with contextlib.suppress(InvalidCursor):
            decode(text)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@given(st.sampled_from(["id", "updated", "name", "created"]), JSON)
def test_any_json_key_decodes_or_raises_invalid_cursor(kind: str, key: object) -> None:
    cursor = encode_cursor(kind, key)
    for decode in (decode_id_cursor, *(lambda c, s=s: roster.decode_cursor(s, c) for s in roster.SORTS)):
        with contextlib.suppress(InvalidCursor):
            decode(cursor)


def _page(fetched: list[int], *, forward: bool, from_cursor: str | None, edge: str | None = None):
    return keyset_page(
        fetched, page_size=3, forward=forward, cursor_of=lambda n: f"c{n}", from_cursor=from_cursor, edge=edge
    )


def test_keyset_page_edges() -> None:
    assert fetch_limit(3) == 4
    first = _page([9, 8, 7, 6], forward=True, from_cursor=None)
    assert (first.rows, first.next_cursor, first.prev_cursor, first.has_more) == ([9, 8, 7], "c7", None, True)
    last = _page([6, 5], forward=True, from_cursor="c7")
    assert (last.rows, last.next_cursor, last.prev_cursor, last.has_more) == ([6, 5], None, "c6", False)
    # Backward pages are read away from the cursor and shown in display order.
    back = _page([7, 8, 9, 10], forward=False, from_cursor="c6")
    assert (back.rows, back.next_cursor, back.prev_cursor, back.has_more) == ([9, 8, 7], "c7", "c9", True)
    # A bounded scan that stopped at its window: no rows beyond were read, the next page starts there.
    cut = _page([], forward=True, from_cursor="c7", edge="c2")
    assert (cut.rows, cut.next_cursor, cut.prev_cursor) == ([], "c2", "c7")
