"""Charts where people look rather than read: leaks per rule / age / day (`/sessions`, both generations)
and findings per check (`/health`). Streamlit's own chart elements; the numbers come from bounded reads
(data/stores/leak_trends.py, the stored check results) and each chart's caption states the bound.

Every label on these charts is ours (rule names, bucket labels, check names: constants of `data`);
they still pass through `plain` so a future label from the database would be masked.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from data.stores.leak_trends import AGE_LABELS, LeakTrends
from ui.render import plain, safe_md


def _height(bars: int) -> int:
    return 60 + 28 * max(bars, 1)


def leak_trends(trends: LeakTrends, *, container: Any = st) -> None:
    """Three small charts side by side: matches per rule, per age bucket (stacked by rule), per day of
    last activity (stacked by rule); the bound in one caption under them."""
    with container.container():
        cols = st.columns(3)
        with cols[0]:
            st.markdown(safe_md(f"**{trends.unit.capitalize()} by leak rule**"))
            frame = pd.DataFrame(
                {"rule": [plain(r) for r, _ in trends.by_rule], "matches": [n for _, n in trends.by_rule]}
            )
            st.bar_chart(
                frame, x="rule", y="matches", horizontal=True, sort=False, height=_height(len(frame))
            )
        with cols[1]:
            st.markdown("**By age (since created)**")
            frame = pd.DataFrame(
                [{"age": a, "rule": plain(r), "matches": n} for r, a, n in trends.by_age],
                columns=["age", "rule", "matches"],
            )
            if frame.empty:
                st.caption("No leaks among the rows read.")
            else:
                frame["age"] = pd.Categorical(frame["age"], categories=list(AGE_LABELS), ordered=True)
                st.bar_chart(frame, x="age", y="matches", color="rule", sort=False, height=_height(5))
        with cols[2]:
            st.markdown("**Leaks over time (day of last activity)**")
            frame = pd.DataFrame(
                [{"day": pd.Timestamp(d), "rule": plain(r), "matches": n} for d, r, n in trends.by_day],
                columns=["day", "rule", "matches"],
            )
            if frame.empty:
                st.caption("No leaks among the rows read.")
            else:
                st.bar_chart(frame, x="day", y="matches", color="rule", height=_height(5))
        st.caption(safe_md(f"{trends.total:,} leaking {trends.unit} {trends.bound}."))


def findings_per_check(rows: list[tuple[str, str, int]], *, caption: str) -> None:
    """Findings per check, one bar each, coloured by severity: `rows` = (check, severity, findings)."""
    shown = [(c, s, n) for c, s, n in rows if n > 0]
    if not shown:
        return
    frame = pd.DataFrame(
        [{"check": plain(c), "severity": plain(s), "findings": n} for c, s, n in shown],
        columns=["check", "severity", "findings"],
    )
    st.bar_chart(
        frame,
        x="check",
        y="findings",
        color="severity",
        horizontal=True,
        sort="-findings",
        height=_height(len(frame)),
    )
    st.caption(safe_md(caption))
