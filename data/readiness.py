"""Readiness before action: every precondition of a cleanup (Dify 1.15-1.16) or a retire (1.17+) at once.

`preconditions(facts)` is pure: it turns the facts a service collects
(`data.services.readiness.gather`) into one line per precondition, each passing or failing with the
exact command or setting that fixes it. The sessions page shows them all before any button, so an
operator sees everything that stands in the way in one look instead of one disabled button at a time.
The write gate (`data.guard.require_write`) stays the authority: this list only explains it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from data.actor import Actor, Role, read_only_reason

PASS: Final = "pass"
FAIL: Final = "fail"
WARN: Final = "warn"
State = Literal["pass", "fail", "warn"]
Action = Literal["cleanup", "retire"]


@dataclass(frozen=True)
class ReadinessFacts:
    """What decides whether `actor` may run the action here (collected, never computed, by a service)."""

    action: Action
    actor: Actor
    tenant_id: str | None  # the workspace the page is filtered to (None: all workspaces)
    audit_tables: bool
    read_only: bool  # AGENT_DESK_READ_ONLY
    allow_writes: bool  # AGENT_DESK_ALLOW_WRITES
    is_demo: bool
    broker_configured: bool  # AGENT_DESK_CELERY_BROKER_URL (only asked for a retire, Dify 1.17+)
    has_replica: bool  # DATABASE_READ_URL set
    replica_lagging: bool = False
    replica_summary: str = ""


@dataclass(frozen=True)
class Precondition:
    name: str
    state: State
    detail: str
    fix: str  # the exact command or setting (shown as code)
    language: str | None = None  # "bash" | "sql" | None (a setting)

    @property
    def ok(self) -> bool:
        return self.state != FAIL

    @property
    def icon(self) -> str:
        return {PASS: "✅", FAIL: "❌", WARN: "⚠️"}[self.state]


def preconditions(f: ReadinessFacts) -> tuple[Precondition, ...]:
    """Every precondition of `f.action`, in the order an operator fixes them."""
    verb = "clean sessions" if f.action == "cleanup" else "retire working environments"
    checks = [
        Precondition(
            "Audit tables migrated",
            PASS if f.audit_tables else FAIL,
            "Agent Desk's audit tables exist: every action is recorded in the same transaction."
            if f.audit_tables
            else "Agent Desk's audit tables are missing: no action can be recorded, so none may run.",
            "python -m data migrate",
            "bash",
        ),
        Precondition(
            "Read-only mode off",
            FAIL if f.read_only else PASS,
            read_only_reason() if f.read_only else "AGENT_DESK_READ_ONLY is off.",
            "AGENT_DESK_READ_ONLY=false",
        ),
    ]
    local_blocked = f.actor.local_mode and not (f.allow_writes or f.is_demo)
    checks.append(
        Precondition(
            "Write permission",
            FAIL if local_blocked else PASS,
            "Local mode (no sign-in) writes only to the embedded demo unless writes are allowed."
            if local_blocked
            else (
                "Local mode on the demo database: writes allowed."
                if f.actor.local_mode and f.is_demo
                else "Writes are allowed for this deployment."
            ),
            "AGENT_DESK_ALLOW_WRITES=true" if f.actor.local_mode else "AGENT_DESK_AUTH=true",
        )
    )
    in_scope = f.actor.tenant_id is None or f.tenant_id == f.actor.tenant_id
    if f.actor.role < Role.OPERATOR:
        role = Precondition(
            "Role: operator or admin",
            FAIL,
            f"Your role ({f.actor.role.name.lower()}) may not {verb}: operators and admins may.",
            f"AGENT_DESK_OPERATORS={f.actor.identity}",
        )
    elif not in_scope:
        role = Precondition(
            "Role: operator or admin",
            FAIL,
            f"Your role is scoped to workspace {f.actor.tenant_id}: pick that workspace first.",
            f"?tenant={f.actor.tenant_id}",
        )
    else:
        role = Precondition(
            "Role: operator or admin",
            PASS,
            f"Your role ({f.actor.role.name.lower()}) may {verb}.",
            f"AGENT_DESK_{'ADMINS' if f.actor.role >= Role.ADMIN else 'OPERATORS'} includes {f.actor.identity}",
        )
    checks.append(role)
    if f.action == "retire":
        checks.append(
            Precondition(
                "Broker configured for collection",
                PASS if f.broker_configured else WARN,
                "Retired ids are handed to Dify's collector after each batch."
                if f.broker_configured
                else "No broker: the retire works, but sandboxes keep running until Dify's collector runs "
                "for them (re-send later with `python -m data sessions collect`).",
                "AGENT_DESK_CELERY_BROKER_URL=redis://<dify-redis-host>:6379/1",
            )
        )
    if not f.has_replica:
        lag = Precondition(
            "Replica lag",
            PASS,
            "No read replica: lists read the primary.",
            "DATABASE_READ_URL (unset)",
        )
    else:
        lag = Precondition(
            "Replica lag",
            WARN if f.replica_lagging else PASS,
            (f.replica_summary or "Read replica lag unknown.")
            + (
                " The list may be stale; the preview and the action re-read the primary."
                if f.replica_lagging
                else ""
            ),
            "SELECT now() - pg_last_xact_replay_timestamp();  -- on the replica",
            "sql",
        )
    checks.append(lag)
    return tuple(checks)


def ready(checks: tuple[Precondition, ...]) -> bool:
    """True when no precondition fails (warnings do not block)."""
    return all(c.ok for c in checks)
