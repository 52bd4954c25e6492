"""What every read of one request shares: whose scope it is read in, what this database has, the clock.

Built once per request (a Streamlit run: `ui.context.read_context()`; the CLI: `ReadContext.unscoped`)
and passed to store lookups, which put the workspace scope into their SQL (`data.stores.scope`): a
workspace-scoped role asking for another workspace's record by id gets "not found", the same answer as
for an id that does not exist, so a lookup cannot tell a scoped viewer that a record exists elsewhere.

Frozen, with the clock truncated to the minute, so it can be part of a read cache key (`ui.context.read`
hashes it by value; the cache key also carries the role and workspace).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from data.actor import Actor
    from data.schema_check import SchemaReport


def minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


@dataclass(frozen=True)
class ReadContext:
    #: The workspaces this request may read; None: every workspace (an unscoped role, the CLI).
    tenant_ids: tuple[str, ...] | None
    #: What this database has (generation, optional tables and columns); None where nobody asked.
    schema: SchemaReport | None = None
    #: Naive UTC, to the minute (rule thresholds such as "idle for N days" are computed from it).
    now: datetime | None = None

    @classmethod
    def for_actor(cls, actor: Actor, schema: SchemaReport | None, now: datetime | None) -> ReadContext:
        tenants = (actor.tenant_id,) if actor.tenant_id else None
        return cls(tenants, schema, minute(now) if now else None)

    @classmethod
    def unscoped(cls, schema: SchemaReport | None = None, now: datetime | None = None) -> ReadContext:
        """Every workspace: the CLI (run by the database's operator) and tests of unscoped reads."""
        return cls(None, schema, minute(now) if now else None)

    @property
    def scoped(self) -> bool:
        return self.tenant_ids is not None

    def sees(self, tenant_id: str | None) -> bool:
        """Whether a record of `tenant_id` is visible here (for values that come from the URL)."""
        return self.tenant_ids is None or tenant_id in self.tenant_ids
