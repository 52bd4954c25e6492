"""The one link builder for the URL contract (shared/design/interfaces.md): pages never hand-format URLs.

`link` and `query` return a relative URL (path + query string) or its parameters, for `st.page_link` and
`st.switch_page`; paths and parameter names come from the page registry (`data.pages`). Parameters that
are None or "" are left out, so a link carries exactly the state that matters. `absolute` is the one place the public address (AGENT_DESK_PUBLIC_URL) is put in front, for
links meant to be pasted into a ticket (the "link to this view" box, the CLI's JSON).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from data.pages import BY_NAME, PAGES, PageParams, page_of, url_fields


def link(page: str | PageParams, /, **params: Any) -> str:
    """URL of `page` (a registry name, or a page's parameter model) with its URL parameters."""
    target = page_of(page) if isinstance(page, PageParams) else BY_NAME[page]
    carried = query(page, **params)
    return f"{target.path}?{urlencode(carried)}" if carried else target.path


def query(page: str | PageParams, /, **params: Any) -> dict[str, str]:
    """The query parameters `link(page, ...)` carries, as a dict (for `st.page_link`/`switch_page`), in
    the model's field order. By name, `params` are URL names (`from`); one its model does not declare is
    a programming error. A model carries the fields that were set, the typed way to build a link."""
    if isinstance(page, PageParams):
        if params:
            raise TypeError("pass either a parameter model or keyword parameters, not both")
        given = {
            url: getattr(page, attr)
            for url, attr in _attrs(type(page)).items()
            if attr in page.model_fields_set
        }
        model: type[PageParams] = type(page)
    else:
        model = BY_NAME[page].params
        unknown = set(params) - set(url_fields(model))
        if unknown:
            raise ValueError(f"{page} takes no parameter(s) {sorted(unknown)}")
        given = params
    return {url: str(given[url]) for url in url_fields(model) if given.get(url) not in (None, "")}


def _attrs(model: type[PageParams]) -> dict[str, str]:
    return {(f.alias or name): name for name, f in model.model_fields.items()}


def absolute(relative: str, base_url: str | None) -> str:
    """`relative` (from `link`) under `base_url` (an http(s) origin, optionally with a path prefix);
    unchanged when `base_url` is unset or not http(s), so a bad base can never produce another scheme."""
    if not base_url or not relative.startswith("/"):
        return relative
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return relative
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}{relative}"


def origin(url: str | None) -> str | None:
    """The scheme and host of an http(s) URL (e.g. the browser's own address), else None."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def console_link(
    base_url: str | None, *, app_id: str | None = None, agent_id: str | None = None, roster: bool = False
) -> str | None:
    """An "open in Dify" link when AGENT_DESK_CONSOLE_URL is set (extension: documented in README)."""
    if not base_url:
        return None
    base = base_url.rstrip("/")
    if app_id:
        return f"{base}/app/{app_id}/workflow"
    if agent_id:
        return f"{base}/agents/{agent_id}"
    if roster:
        return f"{base}/agents"
    return None


def parse(url: str) -> tuple[str, dict[str, str]] | None:
    """The page name and query parameters of a relative URL `link` built (for `st.switch_page`), or None
    for anything else (another host, an unknown path, a parameter the page does not take)."""
    if not url or not url.startswith("/") or url.startswith("//"):
        return None
    parts = urlsplit(url)
    target = next((p for p in PAGES if p.path == parts.path), None)
    if target is None:
        return None
    params = dict(parse_qsl(parts.query, keep_blank_values=False))
    if set(params) - set(url_fields(target.params)):
        return None
    return target.name, params
