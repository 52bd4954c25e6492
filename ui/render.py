"""Safe rendering: user-controlled text is never interpreted as markdown or HTML.

Streamlit's markdown-based elements (title, header, markdown, captions, labels) get only our own
strings, or user text passed through `md_escape`. Tables render cells as plain text.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import streamlit as st

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")


def md_escape(text: object) -> str:
    """Escape text for Streamlit markdown so it shows literally (no links, emphasis or HTML)."""
    value = "" if text is None else str(text)
    return _MD_SPECIAL.sub(r"\\\1", value).replace("\n", " ")


def literal(label: str, value: object) -> None:
    """A `label: value` line where only the label is ours; the value is shown as plain text."""
    st.markdown(f"**{label}:** {md_escape(value)}")


def relative_time(moment: datetime | None, now: datetime | None = None) -> str:
    """'3 h ago' for a naive-UTC timestamp."""
    if moment is None:
        return ""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    seconds = (now - moment).total_seconds()
    suffix = "ago" if seconds >= 0 else "from now"
    seconds = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} {suffix}"
    return "just now"


def utc(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def notice_invalid(messages: list[str]) -> None:
    """Invalid URL parameters are ignored with a visible notice (never a traceback)."""
    for message in messages:
        st.warning(md_escape(message), icon="⚠️")


def set_params(**params: object) -> None:
    """Replace the URL's query parameters (the durable state of a view) and rerun."""
    st.query_params.from_dict({k: str(v) for k, v in params.items() if v not in (None, "")})
    st.rerun()


def page_url_box(url: str) -> None:
    """The shareable link of the current view, for pasting into tickets."""
    st.caption("Link to this view")
    st.code(url, language=None)


def icon_text(icon_type: object, icon: str | None) -> str:
    """Emoji shown as is; image ids and URLs shown as text (never fetched)."""
    if not icon:
        return ""
    kind = str(icon_type or "")
    if kind == "emoji":
        return icon[:16]
    if kind == "link":
        return f"link: {icon}"
    if kind == "image":
        return f"image file {icon}"
    return f"{kind or 'icon'}: {icon}"
