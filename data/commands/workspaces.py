"""Retire and collect (Dify 1.17+ working environments), for `ui/workspaces_view.py` and
`python -m data sessions clean|collect`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from data.actor import Actor
from data.rules.workspace_leaks import WorkspaceRuleContext
from data.schema_check import SchemaReport
from data.services import audit, retire
from data.services.collector import CollectAgainResult, Collector
from data.services.collector import collect_again as _collect_again
from data.services.retire import RetirePreview, RetireResult
from data.services.workspace_reveal import reveal_binding_history as _reveal_binding_history
from data.settings import Settings

__all__ = [
    "CollectAgainResult",
    "RetirePreview",
    "RetireResult",
    "apply_retire",
    "collect_again",
    "collector",
    "preview_retire",
    "reveal_binding_history",
    "rule_context",
]


def rule_context(report: SchemaReport, settings: Settings, now: datetime) -> WorkspaceRuleContext:
    """The workspace rules' context: this database's schema, the clock, the thresholds from settings."""
    return WorkspaceRuleContext.from_report(
        report, now=now, idle_days=settings.idle_days, uncollected_hours=settings.uncollected_hours
    )


def collector(settings: Settings) -> Collector:
    """Dify's collector as configured (`AGENT_DESK_CELERY_BROKER_URL`, `AGENT_DESK_COLLECT_QUEUE`)."""
    return Collector.from_settings(settings)


def preview_retire(
    engine: sa.Engine,
    ctx: WorkspaceRuleContext,
    *,
    workspace_ids: Sequence[str] = (),
    binding_ids: Sequence[str] = (),
    source: dict[str, Any] | None = None,
    rule: str | None = None,
) -> RetirePreview:
    """The preview, read on the primary (`engine`): the apply re-checks every row against it."""
    with engine.connect() as conn:
        return retire.preview_retire(
            conn, ctx, workspace_ids=workspace_ids, binding_ids=binding_ids, source=source, rule=rule
        )


def apply_retire(
    engine: sa.Engine,
    settings: Settings,
    actor: Actor,
    preview: RetirePreview,
    ctx: WorkspaceRuleContext,
    *,
    reason: str,
    collect: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> RetireResult:
    """Retire the previewed rows as `actor` (gate, batches, audit); with `collect` and a configured
    broker, hand each committed batch to Dify's collector under the retire's own grant."""
    handoff = None
    if collect:
        configured = collector(settings)
        if configured.enabled:
            handoff = retire.collect_after_retire(engine, reason, configured)
    return retire.apply_retire(
        engine,
        actor,
        preview,
        ctx,
        reason=reason,
        batch_size=settings.cleanup_batch_size,
        progress=progress,
        collect=handoff,
    )


def collect_again(
    engine: sa.Engine,
    settings: Settings,
    actor: Actor,
    *,
    tenant_id: str,
    workspace_ids: Iterable[str] = (),
    binding_ids: Iterable[str] = (),
    home_snapshot_ids: Iterable[str] = (),
    reason: str,
) -> CollectAgainResult:
    """Re-send the collection of rows already retired (gate, re-read, one audited message each)."""
    return _collect_again(
        engine,
        actor=actor,
        tenant_id=tenant_id,
        workspace_ids=workspace_ids,
        binding_ids=binding_ids,
        home_snapshot_ids=home_snapshot_ids,
        reason=reason,
        collector=collector(settings),
    )


def reveal_binding_history(
    engine: sa.Engine, actor: Actor, binding_id: str, *, reason: str
) -> audit.RevealedHistory:
    """Open one binding's conversation history: admins only, audited before it is returned."""
    return _reveal_binding_history(engine, actor, binding_id, reason=reason)
