"""Agent Desk: the Streamlit entry point and router.

Every URL runs this file first (pages live in `app_pages/` behind `st.navigation`, never in a folder
named `pages/`, whose legacy auto-discovery would run a deep-linked page without this frame). It
opens the database, runs the schema check, shows the banner and then the requested page.
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from data import logs, pages
from data.actor import Role
from ui import context
from ui.render import own_identity_md, safe_md
from ui.widgets import id_box

st.set_page_config(page_title="Agent Desk", page_icon="🧭", layout="wide")


def fail(title: str, lines: list[str]) -> None:
    """An error page: our `title`, then `lines` (from the database or exceptions) neutralized."""
    st.title("Agent Desk")
    st.error(safe_md(title))
    for line in lines:
        st.markdown("- " + safe_md(line))
    st.stop()


try:
    settings = context.settings()
    logs.configure_from(settings)  # AGENT_DESK_LOG_LEVEL / AGENT_DESK_LOG_FORMAT (data/logs.py)
    if settings.is_demo and not settings.demo_db_path.exists():
        # The first start builds the demo (a few seconds): say so instead of showing a blank page.
        with st.spinner("Seeding the demo database (first start)…"):
            engines = context.engines()
    else:
        engines = context.engines()
    report = context.schema_report()
except Exception as exc:
    fail("Agent Desk cannot open the database.", [f"{type(exc).__name__}: {exc}"])

if not report.ok:
    fail(
        "This database does not have the Dify agent tables Agent Desk needs.",
        [*report.problems(), "Point DATABASE_URL at a Dify database that ran the agent migrations."],
    )

actor = context.current_actor()
if settings.auth_enabled:
    if not context.auth_configured():
        fail("Sign-in is on (AGENT_DESK_AUTH) but `.streamlit/secrets.toml` has no [auth] section.", [])
    if not st.user.get("is_logged_in", False):
        st.title("Agent Desk")
        st.write("Sign in with your organization's account to continue.")
        st.button("Sign in", on_click=st.login, type="primary")
        st.stop()
    if actor.role == Role.NONE:
        st.title("Access denied")
        st.error(f"{own_identity_md(actor.identity)} is signed in but has no Agent Desk role.")
        st.caption("Ask an administrator to add you to AGENT_DESK_VIEWERS, _OPERATORS or _ADMINS.")
        st.button("Sign out", on_click=st.logout)
        st.stop()

# The navigation comes from the page registry (data/pages.py): sections, hidden detail pages, URL paths.
navigation = st.navigation(
    {
        section: [
            st.Page(
                page.script,
                title=page.title,
                icon=page.icon,
                url_path=page.url_path or None,
                default=page.default,
                visibility="hidden" if page.hidden else "visible",
            )
            for page in group
        ]
        for section, group in pages.sections().items()
    }
)

with st.sidebar:
    id_box()  # on every page: paste any id, open its view
    if engines.is_demo:
        st.info("**Demo database** (embedded SQLite; set `DATABASE_URL` for a real Dify database).")
    st.caption(safe_md(report.summary()))
    with st.expander("Schema found", expanded=False):  # compact: the details stay folded away
        st.caption(safe_md(f"Generation: {report.generation_label}."))
        if report.has_sessions:
            st.caption(safe_md(report.conversation_index_label))
        st.caption(safe_md(f"Newer columns and tables: {report.newer_summary()}"))
    if actor.local_mode:
        st.caption(
            f"🔓 Local mode (no sign-in): {own_identity_md(actor.identity)}. Listening on this machine only."
        )
    else:
        role = actor.role.name.lower() + (f", workspace {actor.tenant_id}" if actor.tenant_id else "")
        st.caption(f"Signed in: {own_identity_md(actor.identity)} ({safe_md(role)})")
        st.button("Sign out", on_click=st.logout, key="sign-out")
    as_of = st.session_state.get("_data_as_of")
    age = int((datetime.now(UTC) - as_of).total_seconds()) if as_of else 0
    st.caption(f"Data as of {age:d} s ago" if as_of else "Data: fresh")
    lag = context.replica_lag()  # pages read from DATABASE_READ_URL: say how stale it may be
    if lag is not None:
        st.caption(("⏳ " if lag.lagging else "") + safe_md(lag.summary()))
    if st.button("Refresh data", key="refresh-data"):
        context.clear_caches()
        st.rerun()

if engines.is_demo:
    st.caption("🧪 Demo database")

context.begin_request()  # this run's read context (workspace scope, schema, clock)
navigation.run()
