"""Who is acting: passed to every write and recorded by the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from data.errors import NotAllowed, WritesDisabled

__all__ = [
    "Actor",
    "NotAllowed",
    "Role",
    "WritesDisabled",
    "read_only_reason",
    "require",
    "write_block_reason",
]


class Role(IntEnum):
    """Agent Desk roles, ordered: each includes the powers of the ones below it."""

    NONE = 0  # signed in but not allowed in
    VIEWER = 1  # read everything, masked
    OPERATOR = 2  # viewer + session cleanup
    ADMIN = 3  # operator + may open a session's conversation history


@dataclass(frozen=True)
class Actor:
    """An identity with its role. `tenant_id` set means the role is scoped to that one workspace."""

    identity: str  # email when signed in, "local:<os user>" in local mode, "cli:<name>" from the CLI
    role: Role
    tenant_id: str | None = None
    local_mode: bool = False

    def can(self, needed: Role, *, tenant_id: str | None = None) -> bool:
        if self.role < needed:
            return False
        return self.tenant_id is None or tenant_id == self.tenant_id


def require(actor: Actor, needed: Role, *, tenant_id: str | None = None) -> None:
    if not actor.can(needed, tenant_id=tenant_id):
        raise NotAllowed(
            f"{actor.identity} ({actor.role.name.lower()}) may not do this: needs {needed.name.lower()}"
        )


def read_only_reason() -> str:
    return "read-only mode (AGENT_DESK_READ_ONLY) is on: no writes at all"


def write_block_reason(*, read_only: bool, allow_writes: bool, is_demo: bool, actor: Actor) -> str | None:
    """Why no write may happen now, or None when writes are allowed (role checks come on top).

    The rule only: the gate (`data.guard.require_write`) applies it with the policy its engine was built
    with; callers never pass a reason in.

    * `AGENT_DESK_READ_ONLY`: no write at all, whoever asks.
    * Local mode (no sign-in) and the CLI: only on the embedded demo, or with AGENT_DESK_ALLOW_WRITES.
    """
    if read_only:
        return read_only_reason()
    if actor.local_mode and not (allow_writes or is_demo):
        return "local mode without sign-in: set AGENT_DESK_ALLOW_WRITES=true to allow cleanup"
    return None
