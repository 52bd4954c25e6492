"""The one link builder for the URL contract (shared/design/interfaces.md): pages never hand-format URLs.

`link` and `query` return a relative URL (path + query string) or its parameters, for `st.page_link` and
`st.switch_page`. Parameters that are None or "" are left out, so a link carries exactly the state that
matters. `absolute` is the one place the public address (AGENT_DESK_PUBLIC_URL) is put in front, for
links meant to be pasted into a ticket (the "link to this view" box, the CLI's JSON).
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

PAGES = {
    "overview": "/",
    "roster": "/roster",
    "agent": "/agent",
    "compare": "/compare",
    "bindings": "/bindings",
    "health": "/health",
    "sessions": "/sessions",
    "audit": "/audit",
}

PARAMS = {
    "overview": ("tenant",),
    "roster": (
        "tenant",
        "q",
        "scope",
        "status",
        "source",
        "kind",
        "updated_from",
        "updated_to",
        "sort",
        "after",
        "before",
    ),
    "agent": ("agent",),
    "compare": (
        "agent",
        "left",
        "right",
        "left_snapshot",
        "right_snapshot",
        "left_draft",
        "right_draft",
        "left_binding",
        "right_binding",
        "view",
    ),
    "bindings": ("tenant", "app", "workflow", "node", "against"),
    "health": ("tenant", "check"),
    "sessions": (
        "tenant",
        "app",
        "agent",
        "owner",
        "status",
        "rule",
        "run",
        "conversation",
        "workspace",  # Dify 1.17+: an agent_workspaces id
        "updated_from",
        "updated_to",
        "after",
        "before",
        "session",
    ),
    "audit": ("actor", "action", "tenant", "target", "from", "to"),
}


def link(page: str, **params: object) -> str:
    """URL of `page` with the contract's parameters; unknown parameter names are a programming error."""
    allowed = PARAMS[page]
    unknown = set(params) - set(allowed)
    if unknown:
        raise ValueError(f"{page} takes no parameter(s) {sorted(unknown)}")
    query = [(name, str(params[name])) for name in allowed if params.get(name) not in (None, "")]
    path = PAGES[page]
    return f"{path}?{urlencode(query)}" if query else path


def query(page: str, **params: object) -> dict[str, str]:
    """The query parameters `link(page, ...)` would carry, as a dict (for `st.page_link`/`switch_page`)."""
    allowed = PARAMS[page]
    unknown = set(params) - set(allowed)
    if unknown:
        raise ValueError(f"{page} takes no parameter(s) {sorted(unknown)}")
    return {name: str(params[name]) for name in allowed if params.get(name) not in (None, "")}


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
    from urllib.parse import parse_qsl

    if not url or not url.startswith("/") or url.startswith("//"):
        return None
    parts = urlsplit(url)
    names = {path: name for name, path in PAGES.items()}
    page = names.get(parts.path)
    if page is None:
        return None
    params = dict(parse_qsl(parts.query, keep_blank_values=False))
    if set(params) - set(PARAMS[page]):
        return None
    return page, params
