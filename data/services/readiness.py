"""Collects the facts `data.readiness.preconditions` judges: the write policy the engine was built with
(read-only mode, local mode, demo), the settings (broker), the audit tables and the replica's lag."""

from __future__ import annotations

import sqlalchemy as sa

from data.actor import Actor
from data.guard import policy_of
from data.readiness import Action, Precondition, ReadinessFacts, preconditions
from data.settings import Settings
from data.stores.replica import ReplicaLag


def gather(
    engine: sa.Engine,
    settings: Settings,
    actor: Actor,
    *,
    action: Action,
    tenant_id: str | None,
    audit_tables: bool,
    has_replica: bool,
    replica: ReplicaLag | None,
) -> ReadinessFacts:
    """The facts for `action` on the write `engine` (its policy is what the gate will apply)."""
    policy = policy_of(engine)
    return ReadinessFacts(
        action=action,
        actor=actor,
        tenant_id=tenant_id,
        audit_tables=audit_tables,
        read_only=policy.read_only,
        allow_writes=policy.allow_writes,
        is_demo=policy.is_demo,
        broker_configured=bool(settings.celery_broker_url),
        has_replica=has_replica,
        replica_lagging=bool(replica and replica.lagging),
        replica_summary=replica.summary() if replica else "",
    )


def check(engine: sa.Engine, settings: Settings, actor: Actor, **facts: object) -> tuple[Precondition, ...]:
    """`preconditions(gather(...))`."""
    return preconditions(gather(engine, settings, actor, **facts))  # type: ignore[arg-type]
