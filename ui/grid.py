"""Lists that answer at a glance: one `st.dataframe` helper for every list page.

* The columns that answer the ticket first (`first`), then the rest; a column with the same value on
  every row is not shown but said once above the grid ("every row: status active"), and so is an all-empty
  one; the data keeps every column (CSV, tests, selection).
* Datetimes are real datetime columns (sortable, `DatetimeColumn`), naive UTC.
* Tall enough for a page of 50 rows (no inner scroll for a page).
* Opening a row stays in the same tab: `LinkColumn` opens a new browser tab, so link columns are hidden
  and a click on a row opens it (`st.switch_page`) or, with several links per row or multi-row selection,
  shows same-tab `st.page_link`s for the selected rows.

Cells go through `ui.render.table` (masked, literal).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import pandas as pd
import streamlit as st

from data import links
from ui import render
from ui.render import plain, safe_md

ROW_PX, HEADER_PX, PAGE_ROWS = 35, 38, 50
MAX_OPEN_LINKS = 5


def height_for(rows: int) -> int:
    """Pixels for `rows` rows (at most a page of 50) with the header: no inner scroll for a page."""
    return HEADER_PX + ROW_PX * max(min(rows, PAGE_ROWS), 1) + 2


def _empty(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value == ""
    try:
        return bool(pd.isna(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False


def _constant(series: pd.Series) -> object | None:
    values = list(series)
    if len(values) < 2:
        return None
    first = values[0]
    if isinstance(first, str | int | float) and all(v == first for v in values[1:]):
        return first
    return None


def show(  # noqa: C901 (known debt, ARCHITECTURE.md)
    frame: pd.DataFrame,
    *,
    key: str | None = None,
    first: Sequence[str] = (),
    keep: Sequence[str] = ("id",),
    datetimes: Sequence[str] = (),
    link_columns: Sequence[str] = (),
    link_labels: dict[str, str] | None = None,
    select: Literal["open", "multi"] | None = "open",
    masked_columns: Sequence[str] = (),
    what: str = "row",
) -> list[int]:
    """Show `frame`; returns the selected row positions (multi) or [] (open / none).

    `link_columns` hold relative links from `data.links` (hidden; opened in the same tab). With
    `select="open"` a click on a row opens its only link at once (`st.switch_page`), or shows its links.
    """
    link_labels = link_labels or {}
    same: list[tuple[str, object]] = []
    order: list[str] = []
    for column in [*[c for c in first if c in frame.columns], *[c for c in frame.columns if c not in first]]:
        if column in link_columns:
            continue
        if column not in keep and len(frame) >= 2:
            if all(_empty(v) for v in frame[column]):
                continue
            value = _constant(frame[column])
            if value is not None:
                same.append((column, value))
                continue
        order.append(column)
    if same:
        st.caption(safe_md("Every row: " + " · ".join(f"{c} {plain(v) or '(empty)'}" for c, v in same)))
    config: dict[str, Any] = {
        c: st.column_config.DatetimeColumn(c, format="YYYY-MM-DD HH:mm:ss") for c in datetimes if c in order
    }
    kwargs: dict[str, Any] = {}
    if select is not None and len(frame):
        kwargs = {
            "key": key,
            "on_select": "rerun",
            "selection_mode": "single-row" if select == "open" else "multi-row",
        }
    event = render.table(
        frame,
        masked_columns=masked_columns,
        hide_index=True,
        width="stretch",
        height=height_for(len(frame)),
        column_order=order,
        column_config=config,
        **kwargs,
    )
    positions = [
        p for p in (list(event.selection.rows) if kwargs and event is not None else []) if 0 <= p < len(frame)
    ]
    present = [c for c in link_columns if c in frame.columns]
    if select == "open" and present:
        st.caption(safe_md(f"Click a {what} to open it (same tab)."))
        if positions:
            row = frame.iloc[positions[0]]
            targets = [(c, row[c]) for c in present if isinstance(row[c], str) and row[c]]
            if len(targets) == 1:
                _switch(targets[0][1], key)
            for column, url in targets:
                _page_link(url, link_labels.get(column, f"Open {column}"))
        return []
    if select == "multi" and present and positions:
        for p in positions[:MAX_OPEN_LINKS]:
            row = frame.iloc[p]
            for column in present:
                if isinstance(row[column], str) and row[column]:
                    _page_link(row[column], f"{link_labels.get(column, 'Open')} {plain(row.get('id', ''))}")
        if len(positions) > MAX_OPEN_LINKS:
            st.caption(safe_md(f"Links for the first {MAX_OPEN_LINKS} selected {what}s only."))
    return positions


def _target(url: str) -> tuple[str, dict[str, str]] | None:
    parsed = links.parse(url)
    if parsed is None:
        return None
    return f"app_pages/{parsed[0]}.py", parsed[1]


def _switch(url: str, key: str | None) -> None:
    target = _target(url)
    if target is None:
        return
    if key is not None:
        st.session_state.pop(key, None)  # coming back must not re-open the row
    st.switch_page(target[0], query_params=target[1])


def _page_link(url: str, label: str) -> None:
    target = _target(url)
    if target is not None:
        st.page_link(target[0], label=safe_md(label), query_params=target[1])
