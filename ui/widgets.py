"""Widgets shared by several pages."""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui import context
from ui.render import plain


def workspace_select(
    current: str | None, *, container: Any = st, empty_label: str = "All workspaces", key: str | None = None
) -> str | None:
    """The workspace picker: chosen by name, carried as an id; a URL's unknown id stays selectable.

    Lists only the workspaces the viewer's role covers (`context.workspaces`).
    """
    names = {w.id: w.name for w in context.workspaces()}
    scope = context.current_actor().tenant_id
    options: list[str | None] = [scope] if scope else [None, *names]
    if current and current not in options:
        options.append(current)
    return container.selectbox(
        "Workspace",
        options,
        index=options.index(current),
        format_func=lambda v: plain(empty_label) if v is None else plain(names.get(v, v)),
        key=key,
    )
