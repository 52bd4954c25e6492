"""Per-process resources (settings, engines, schema report) and cached reads for the pages.

Reads are cached with a short ttl and carry the time they were fetched ("data as of"); the cache key
includes the viewer's role so masked results never cross roles. Writes clear the cache.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
import streamlit as st

from data.access import resolve_actor
from data.actor import Actor, Role
from data.db import Engines, open_engines, os_user
from data.guard import block_reason
from data.models import naive_utc_now
from data.read_context import ReadContext
from data.schema_check import SchemaReport, check_schema
from data.settings import Settings, load_settings
from data.stores.replica import ReplicaLag, measure
from data.stores.tenants import Workspace, list_workspaces

T = TypeVar("T")
CACHE_TTL_SECONDS = 30


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    return load_settings()


@st.cache_resource(show_spinner="Opening the database…")
def engines() -> Engines:
    return open_engines(settings())


@st.cache_resource(show_spinner=False, ttl=300)
def schema_report() -> SchemaReport:
    with engines().read.connect() as conn:
        return check_schema(conn)


def current_actor() -> Actor:
    """The signed-in user's actor when sign-in is on; in local mode the OS user (writes are then decided
    by `write_block_reason`: demo database or AGENT_DESK_ALLOW_WRITES)."""
    config = settings()
    if not config.auth_enabled:
        return Actor(identity=f"local:{os_user()}", role=Role.ADMIN, local_mode=True)
    if not st.user.get("is_logged_in", False):
        return Actor(identity="(signed out)", role=Role.NONE)
    return resolve_actor(
        config, email=st.user.get("email"), email_verified=bool(st.user.get("email_verified", False))
    )


def write_block_reason(actor: Actor) -> str | None:
    """For display (disabled buttons): the same policy the write gate applies, read from the engine."""
    return block_reason(engines().write, actor)


@dataclass(frozen=True)
class Fetched:
    """A cached read and when it was fetched."""

    value: Any
    fetched_at: datetime


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False, max_entries=512)
def _cached(name: str, role: str, args: tuple, kwargs: tuple, _fn: Callable[..., Any]) -> Fetched:
    with engines().read.connect() as conn:
        value = _fn(conn, *args, **dict(kwargs))
    return Fetched(value, datetime.now(UTC))


def read(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run `fn(conn, *args, **kwargs)` on the read engine through the short-ttl cache (keyed by role)."""
    key = tuple(sorted(kwargs.items()))
    actor = current_actor()
    # Masked results never cross roles or workspace scopes.
    cache_role = f"{actor.role.name}:{actor.tenant_id or '*'}"
    fetched = _cached(f"{fn.__module__}.{fn.__qualname__}", cache_role, args, key, fn)
    oldest = st.session_state.get("_data_as_of")
    if oldest is None or fetched.fetched_at < oldest:
        st.session_state["_data_as_of"] = fetched.fetched_at
    return fetched.value


def read_uncached(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    with engines().read.connect() as conn:
        return fn(conn, *args, **kwargs)


def clear_caches() -> None:
    _cached.clear()
    _replica_lag.clear()
    st.session_state.pop("_data_as_of", None)


def connect() -> sa.Connection:
    return engines().read.connect()


def primary_connect() -> sa.Connection:
    """A connection to the primary (`DATABASE_URL`): for every read that decides a write (cleanup and
    retire previews, "everything matching this filter"), which must never trust a lagging replica."""
    return engines().write.connect()


@st.cache_data(ttl=5, show_spinner=False)
def _replica_lag() -> ReplicaLag:
    with engines().read.connect() as replica, engines().write.connect() as primary:
        return measure(replica, primary)


def replica_lag() -> ReplicaLag | None:
    """How far `DATABASE_READ_URL` is behind the primary (measured at most every 5 s), or None
    without a replica."""
    return _replica_lag() if engines().has_replica else None


def auth_configured() -> bool:
    """Whether `.streamlit/secrets.toml` has the [auth] section st.login needs."""
    try:
        return "auth" in st.secrets
    except Exception:
        return False


def scoped_tenant(requested: str | None) -> str | None:
    """The workspace a view may show: a workspace-scoped role always sees only its own workspace."""
    actor = current_actor()
    return actor.tenant_id if actor.tenant_id else requested


_READ_CONTEXT = "_read_context"


def begin_request() -> ReadContext:
    """Build this run's read context: the actor's workspace scope, the schema report, the clock.

    `app.py` calls it once per run, before the page runs; pages get it from `read_context()` and pass
    it to store lookups, which put the scope into their SQL."""
    read = ReadContext.for_actor(current_actor(), schema_report(), naive_utc_now())
    st.session_state[_READ_CONTEXT] = read
    return read


def read_context() -> ReadContext:
    """This run's read context (built by `begin_request`)."""
    read = st.session_state.get(_READ_CONTEXT)
    return read if isinstance(read, ReadContext) else begin_request()


def scope_note() -> None:
    """After a "not found" by id: tell a workspace-scoped role that other workspaces are not searched.

    The store answered "not found" the same way whether the id exists in another workspace or nowhere,
    so this note says nothing about the record."""
    if read_context().scoped:
        st.error(
            "Only the workspace your role covers is searched: your role does not cover other workspaces."
        )


def workspaces() -> list[Workspace]:
    """Workspaces for pickers (by name), limited to the role's workspace when it is scoped."""
    every = read(list_workspaces, has_tenants_table=schema_report().has_table("tenants"))
    scope = current_actor().tenant_id
    return [w for w in every if scope is None or w.id == scope]


def warm_up(pages_dir: str | None = None) -> list[str]:
    """Before the first visitor (serve.py's startup hook): import what the pages import (pandas, pyarrow,
    the SQLAlchemy dialect, data.*, ui.*), convert one frame to Arrow as st.dataframe does, load the emoji
    table set_page_config checks its icon against and the masking patterns (detect-secrets), open the
    engines and run the schema check into its st.cache_resource, so the first page pays none of it.
    Returns what failed (a database that is down is the first page's to report, not the server's)."""
    import ast
    import importlib
    from pathlib import Path

    problems = []
    folder = Path(pages_dir) if pages_dir else Path(__file__).resolve().parent.parent / "app_pages"
    modules = {"pandas", "pyarrow", "ui.render", "ui.widgets"}
    for page in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(page.read_text())):
            if isinstance(node, ast.Import):
                modules.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules.add(node.module)
    for name in sorted(modules):
        try:
            importlib.import_module(name)
        except Exception as exc:
            problems.append(f"import {name}: {type(exc).__name__}: {exc}")
    try:
        import pandas as pd
        from streamlit import dataframe_util, string_util

        from ui.render import plain

        dataframe_util.convert_pandas_df_to_arrow_bytes(pd.DataFrame({"warm": ["up"], "n": [1]}))
        string_util.is_emoji("🧭")  # set_page_config's icon check loads Streamlit's emoji table (~1 s)
        plain("warm-up token=0123456789abcdef user@example.com")  # compiles the masking patterns (~1 s)
    except Exception as exc:
        problems.append(f"arrow: {type(exc).__name__}: {exc}")
    try:
        from streamlit import delta_generator

        # The first element of a process asks `env_util.is_repl()` (inspect.stack() over every loaded
        # module: ~1 s on the first page) only to print a hint for `python app.py`; we run under a server.
        delta_generator._use_warning_has_been_displayed = True  # type: ignore[attr-defined]
    except Exception as exc:  # a later Streamlit without it: nothing to skip
        problems.append(f"streamlit: {type(exc).__name__}: {exc}")
    try:
        settings()
        engines()
        report = schema_report()
        if report.ok:  # compile (SQLAlchemy) and approve (the guard) the landing pages' statements once
            from data.stores import overview as overview_store
            from data.stores import roster as roster_store

            opt = {"has_tenants": report.has_table("tenants"), "has_accounts": report.has_table("accounts")}
            with engines().read.connect() as conn:
                overview_store.overview(conn, present=report.agent_tables)
                roster_store.list_roster(conn, roster_store.RosterFilter(), **opt)
    except Exception as exc:
        problems.append(f"database: {type(exc).__name__}: {exc}")
    return problems
