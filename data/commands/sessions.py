"""Runtime-session cleanup (Dify 1.15-1.16), for `app_pages/sessions.py` and `python -m data sessions clean`."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from data.actor import Actor
from data.rules.session_leaks import RuleContext
from data.schema_check import SchemaReport
from data.services import audit, cleanup
from data.services.cleanup import CleanupPreview, CleanupResult
from data.settings import Settings

__all__ = [
    "CleanupPreview",
    "CleanupResult",
    "apply_cleanup",
    "preview_cleanup",
    "reveal_history",
    "rule_context",
]


def rule_context(report: SchemaReport, settings: Settings, now: datetime) -> RuleContext:
    """The leak rules' context: this database's schema, the clock, the thresholds from settings."""
    return RuleContext.from_report(report, now=now, idle_days=settings.idle_days)


def preview_cleanup(
    engine: sa.Engine,
    ids: Sequence[str],
    ctx: RuleContext,
    *,
    source: Mapping[str, Any] | None = None,
    rule: str | None = None,
) -> CleanupPreview:
    """The preview, read on the primary (`engine`): the apply re-checks every row against it."""
    with engine.connect() as conn:
        return cleanup.preview_cleanup(conn, ids, ctx, source=source, rule=rule)


def apply_cleanup(
    engine: sa.Engine,
    settings: Settings,
    actor: Actor,
    preview: CleanupPreview,
    *,
    reason: str,
    progress: Callable[[int, int], None] | None = None,
) -> CleanupResult:
    """Clean the previewed rows as `actor`: gate, batches of `AGENT_DESK_CLEANUP_BATCH`, audit."""
    return cleanup.apply_cleanup(
        engine, actor, preview, reason=reason, batch_size=settings.cleanup_batch_size, progress=progress
    )


def reveal_history(engine: sa.Engine, actor: Actor, session_id: str, *, reason: str) -> audit.RevealedHistory:
    """Open one session's conversation history: admins only, audited before it is returned."""
    return audit.reveal_history(engine, actor, session_id, reason=reason)
