"""The "ready to clean / retire?" panel of `/sessions`: every precondition at once, each with its state
and the exact command or setting as code (`data.readiness`, facts from `data.services.readiness`)."""

from __future__ import annotations

import streamlit as st

from data.readiness import Action, Precondition, ready
from data.services import readiness as readiness_service
from ui import context, render
from ui.render import safe_md


def checks(action: Action, *, tenant_id: str | None, audit_ready: bool) -> tuple[Precondition, ...]:
    engines = context.engines()
    return readiness_service.check(
        engines.write,
        context.settings(),
        context.current_actor(),
        action=action,
        tenant_id=tenant_id,
        audit_tables=audit_ready,
        has_replica=engines.has_replica,
        replica=context.replica_lag(),
    )


def panel(action: Action, *, tenant_id: str | None, audit_ready: bool) -> tuple[Precondition, ...]:
    """The panel (open when something fails); returns the checks."""
    found = checks(action, tenant_id=tenant_id, audit_ready=audit_ready)
    passing = sum(1 for c in found if c.state == "pass")
    verb = "clean" if action == "cleanup" else "retire"
    title = (
        f"Ready to {verb}: {passing} of {len(found)} preconditions pass"
        if ready(found)
        else f"Not ready to {verb}: {sum(1 for c in found if not c.ok)} of {len(found)} preconditions fail"
    )
    with st.expander(safe_md(title), expanded=not ready(found)):
        for c in found:
            cols = st.columns([2, 3])
            cols[0].markdown(safe_md(f"{c.icon} {c.name}: {c.state}"))
            cols[0].caption(safe_md(c.detail))
            render.code(c.fix, language=c.language, container=cols[1])
    return found
