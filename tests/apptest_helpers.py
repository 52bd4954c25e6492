"""Driving the app through Streamlit's AppTest (entrypoint first, then the page, as a browser would)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from data.pages import PAGES as REGISTRY

APP = str(Path(__file__).resolve().parent.parent / "app.py")
#: Page name -> its script (as `at.switch_page` takes it), from the page registry.
PAGES = {page.name: page.script for page in REGISTRY}


def open_page(page: str, **params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page != "overview" or params:
        for key, value in params.items():
            at.query_params[key] = value
        at.switch_page(PAGES[page])
        at.run()
    return at


def all_text(at: AppTest) -> str:
    """Every string the page shows (element values, labels, table cells), for leak and literal checks."""
    parts: list[str] = []

    def walk(node) -> None:
        for attr in ("value", "label", "body", "placeholder", "help"):
            value = getattr(node, attr, None)
            if isinstance(value, str):
                parts.append(value)
        proto = getattr(node, "proto", None)
        if proto is not None:
            parts.append(str(proto))
        for child in getattr(node, "children", {}).values() if hasattr(node, "children") else ():
            walk(child)

    walk(at._tree)
    for frame in at.dataframe:
        parts.append(frame.value.to_csv())
    return "\n".join(parts)


def markdown_sources(at: AppTest) -> list[str]:
    """Markdown bodies (these are interpreted: user text must arrive escaped)."""
    bodies = [m.value for m in at.markdown]
    for kind in ("title", "header", "subheader", "caption", "success", "info", "warning", "error"):
        bodies.extend(str(e.value) for e in getattr(at, kind))
    return bodies
