"""Who may do what: turning a signed-in identity into an `Actor` with the settings' role lists.

Rules (interface contract, settings `AGENT_DESK_VIEWERS` / `_OPERATORS` / `_ADMINS`):
* an entry is an email or `@domain`, optionally `:tenant-id` to scope the role to one workspace;
* `@domain` entries match only a verified email claim (`email_verified` true), exact emails always;
* the highest matching role wins; at equal role an unscoped entry beats a scoped one;
* no match: `Role.NONE` (the app shows "access denied" naming the identity).
"""

from __future__ import annotations

from data.actor import Actor, Role
from data.settings import RoleEntry, Settings

ROLE_LISTS = (("admin", Role.ADMIN), ("operator", Role.OPERATOR), ("viewer", Role.VIEWER))


def _matches(entry: RoleEntry, email: str, verified: bool) -> bool:
    if entry.pattern.startswith("@"):
        return verified and email.endswith(entry.pattern)
    return email == entry.pattern


def resolve_actor(settings: Settings, *, email: str | None, email_verified: bool) -> Actor:
    identity = (email or "").strip().lower()
    if not identity:
        return Actor(identity="(no email claim)", role=Role.NONE)
    best: tuple[Role, str | None] | None = None
    for list_name, role in ROLE_LISTS:
        for entry in settings.role_entries[list_name]:
            if not _matches(entry, identity, email_verified):
                continue
            candidate = (role, entry.tenant_id)
            if (
                best is None
                or role > best[0]
                or (role == best[0] and best[1] is not None and entry.tenant_id is None)
            ):
                best = candidate
    if best is None:
        return Actor(identity=identity, role=Role.NONE)
    return Actor(identity=identity, role=best[0], tenant_id=best[1])
