"""Sessions (`/sessions`): leak rules, bounded scans, one row's detail, an audited cleanup or retire.

A thin page: the schema generation picks the view. Dify 1.15-1.16 keeps runtime sessions
(`ui/runtime_sessions_view.py`), 1.17+ working environments (`ui/workspaces_view.py`); the parts both
share (filter panel, selectable grid, paging, bounded-scan details, confirm dialog inputs, history
reveal, audit history) are in `ui/session_parts.py`, the readiness panel in `ui/readiness.py`, the
charts in `ui/charts.py`.
"""

from __future__ import annotations

import streamlit as st

from ui import context, render, runtime_sessions_view, workspaces_view

report = context.schema_report()
if workspaces_view.applies(report):  # Dify 1.17+: working environments (issue 11)
    workspaces_view.show()
elif not report.has_sessions:  # no runtime table at all
    st.title("Sessions")
    st.warning(render.safe_md(report.runtime_unavailable() or ""))
else:
    runtime_sessions_view.show()
