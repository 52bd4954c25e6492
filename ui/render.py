"""The one output path for strings that come from the database or the URL (docs/safe-rendering.md).

Invariants:

* Every such string reaches the screen through this module: `safe_md` for markdown contexts (markdown,
  captions, notices, titles, labels, tooltips), `plain` for elements that show text literally (st.text,
  st.code, table cells, selectbox options), and the element helpers below that apply them (`text`,
  `code`, `json_code`, `table`, `literal`, `notice_invalid`). `tests/test_safe_rendering.py` parses the
  pages and ui modules and fails when a Streamlit text element gets a non-constant argument that did not
  come through these helpers.
* Masking comes first, by construction: `masked` applies the masking policy (`data.masking.mask_text`) to
  everything except a `Masked` string, which only the data layer's masking functions produce (a masked
  document's JSON, a masked diff) and pages mark with `already_masked`; so the unmasked path is never the
  default one.
* `safe_md` output cannot form markdown, HTML, a link, an autolink (bare URL, `www.` host, e-mail
  address), an emoji shortcode or a Streamlit directive. Backslash escapes alone do not stop GitHub
  autolinks: Streamlit's renderer (remark-gfm) finds them in the *text* of the parsed document, after
  escapes are resolved. So a WORD JOINER (U+2060, invisible and zero-width) goes after every `:` and `@`
  and between `www` and `.`: the autolink patterns (`https?://`, `www.`, `x@host.tld`) no longer match,
  and the text looks the same. Verified in chromium by `tests/test_browser_hostile.py`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import streamlit as st
from pandas.api.types import is_object_dtype, is_string_dtype

from data import links
from data.masking import Masked, mask_document, mask_text

#: Every ASCII punctuation character CommonMark lets a backslash escape that markdown, GFM, math or
#: Streamlit's directives give a meaning to; `_` between two letters or digits cannot open or close
#: emphasis (CommonMark's intraword rule), so identifiers such as `agent_config_snapshots` stay as typed.
_MD_SPECIAL = re.compile(r"([\\`*{}\[\]()<>#+\-.!|~$:&=^\"']|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
WORD_JOINER = "\u2060"
_WWW = re.compile(r"(?i)(www)(?=\\?\.)")
# C0/C1 controls except tab and newline (shown as U+FFFD so that nothing is silently hidden).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Bidi embeddings, overrides and isolates: user text is isolated so it cannot reorder our own text.
_BIDI = re.compile(r"[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_ISOLATE_START, _ISOLATE_END = "\u2068", "\u2069"


def already_masked(text: str | None) -> Masked:
    """Mark text the data layer has masked (e.g. `mask_document` output, diff lines, node-job views)."""
    return Masked("" if text is None else text)


def masked(value: object) -> str:
    """The masking step every shown string takes: None is "", `Masked` text is kept, the rest masked."""
    if value is None:
        return ""
    if isinstance(value, Masked):
        return str(value)
    return mask_text(str(value))


def plain(value: object) -> str:
    """A masked string for elements that show text literally (st.text, st.code, cells, options)."""
    return _CONTROL.sub("\ufffd", masked(value))


def safe_md(value: object) -> str:
    """A masked string for markdown contexts that renders exactly as its characters (one line)."""
    return _neutralized(masked(value))


# --- elements --------------------------------------------------------------------------------------


def literal(label: str, value: object) -> None:
    """A `label: value` line where only the label is ours (a constant); the value is `safe_md`."""
    st.markdown(f"**{label}:** {safe_md(value)}")


def text(value: object, *, container: Any = st) -> None:
    """Plain text (never markdown), masked."""
    container.text(plain(value))


def code(value: object, language: str | None = None, *, container: Any = st) -> None:
    """A code block (never markdown), masked unless `already_masked`."""
    container.code(plain(value), language=language)


def json_code(document: Any, *, container: Any = st, sort_keys: bool = True) -> None:
    """A parsed JSON document, masked by path (`mask_document`), as a code block."""
    shown = json.dumps(mask_document(document), indent=2, ensure_ascii=False, sort_keys=sort_keys)
    container.code(plain(already_masked(shown)), language="json")


def table(frame: pd.DataFrame, *, masked_columns: Iterable[str] = (), **kwargs: Any) -> Any:
    """`st.dataframe` with every string cell masked (cells are drawn as plain text, never markup).

    `masked_columns` names columns whose strings the data layer has masked already (a diff's values).
    Returns what `st.dataframe` returns (the selection event with `on_select`).
    """
    skip = set(masked_columns)
    shown = frame.copy()
    for column in shown.columns:
        series = shown[column]
        if column in skip or not (is_object_dtype(series) or is_string_dtype(series)):
            continue
        shown[column] = [plain(v) if isinstance(v, str) else v for v in series]
    return st.dataframe(shown, **kwargs)


def notice_invalid(messages: list[str]) -> None:
    """Invalid URL parameters are ignored with a visible notice (never a traceback, never markup)."""
    for message in messages:
        st.warning(safe_md(message), icon="⚠️")


def page_url_box(url: str) -> None:
    """The shareable link of the current view (a relative `data.links.link`), for pasting into tickets.

    Shown absolute (`links.absolute`): under AGENT_DESK_PUBLIC_URL when it is set, else under the
    browser's own address (`st.context.url`), which is right unless a proxy rewrites the path. Shown as
    code, never as a link: the URL's parameters may hold pasted text.
    """
    from ui import context  # late: context is heavier and render must stay importable on its own

    base = context.settings().public_url or links.origin(_browser_url())
    st.caption("Link to this view")
    st.code(plain(links.absolute(url, base)), language=None)
    if not context.settings().public_url:
        st.caption("Set `AGENT_DESK_PUBLIC_URL` to the address others open Agent Desk at.")


def _browser_url() -> str | None:
    try:
        return st.context.url
    except Exception:  # no browser behind this run (bare mode, some tests)
        return None


# --- formatting (no rendering) ---------------------------------------------------------------------


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


def set_params(**params: object) -> None:
    """Replace the URL's query parameters (the durable state of a view) and rerun."""
    replace_params(**params)
    st.rerun()


def replace_params(**params: object) -> None:
    """Replace the URL's query parameters without a rerun: the `on_click` of a button whose only effect is a
    new view (paging). Callbacks run before the script, so a click costs one script run, not two (the
    click's run, then `set_params`' rerun)."""
    st.query_params.from_dict({k: str(v) for k, v in params.items() if v not in (None, "")})


def icon_text(icon_type: object, icon: str | None) -> str:
    """What an icon looks like in text: the emoji itself; 🖼 for an uploaded image and 🔗 for an external
    image (neither is fetched, and their file ids or URLs say nothing to a reader); "" for none."""
    if not icon:
        return ""
    kind = str(icon_type or "")
    if kind == "emoji":
        return icon[:16]
    return "🔗" if kind == "link" else "🖼"


def icon_kind(icon_type: object, icon: str | None) -> str | None:
    """ "emoji", "image" (an uploaded file), "link" (an external image), "other", or None for no icon."""
    if not icon:
        return None
    kind = str(icon_type or "")
    return kind if kind in ("emoji", "image", "link") else "other"


def _neutralized(text: str) -> str:
    """Markdown, HTML and autolinks neutralized (one line); the text itself unchanged otherwise."""
    text = _CONTROL.sub("\ufffd", text.replace("\r\n", " ").replace("\n", " ").replace("\r", " "))
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = text.replace(":", ":" + WORD_JOINER).replace("@", "@" + WORD_JOINER)
    text = _WWW.sub(r"\1" + WORD_JOINER, text)
    if _BIDI.search(text):
        text = _ISOLATE_START + text + _ISOLATE_END
    return text


def own_identity_md(identity: str) -> str:
    """The signed-in person's own identity (from the sign-in, never from the database or the URL), for
    the frame's "Signed in" / "Access denied" lines: neutralized like `safe_md` but not e-mail-masked,
    since telling people who they are signed in as is the point of those lines."""
    return _neutralized(identity)


# --- the one HTML path -------------------------------------------------------------------------------


def trusted_html(block: object, *, container: Any = st) -> None:
    """Show a block built by `ui.diff_view` (the audited HTML builder: constant tags and attributes,
    masked and escaped text). Anything else, a str included, is refused: this is the only `st.html` of
    the app, and `tests/test_safe_rendering.py` checks that no other module builds a `SafeHtml`."""
    from ui.diff_view import SafeHtml, is_genuine  # ui.diff_view imports this module

    if not is_genuine(block):
        raise TypeError("trusted_html takes a SafeHtml built by ui.diff_view")
    assert isinstance(block, SafeHtml)
    container.html(block.markup)
