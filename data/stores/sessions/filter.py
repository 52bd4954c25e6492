"""A sessions list filter and its SQL conditions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from data.models import (
    AgentRuntimeSession,
)
from data.models.enums import SessionOwnerType, SessionStatus
from data.rules.session_leaks import RuleContext
from data.stores.filters import day_after, day_range, described
from data.stores.session_leaks import first_match_condition

S = AgentRuntimeSession
OWNER_TYPES = tuple(o.value for o in SessionOwnerType)
STATUSES = tuple(s.value for s in SessionStatus)


@dataclass(frozen=True)
class SessionFilter:
    tenant_id: str | None = None
    app_id: str | None = None
    agent_id: str | None = None
    owner: str | None = None  # owner_type
    status: str | None = None
    rule: str | None = None  # a leak rule name: rows whose FIRST matching rule is this one
    run_id: str | None = None
    conversation_id: str | None = None
    updated_from: date | None = None
    updated_to: date | None = None  # inclusive day
    updated_before: datetime | None = None  # CLI `--older-than` (exclusive), naive UTC

    @property
    def is_unfiltered(self) -> bool:
        return self == SessionFilter()

    def equalities(self) -> dict[str, str]:
        """Column = value conditions an index on this table could serve (a rule implies active)."""
        pairs = {
            "tenant_id": self.tenant_id,
            "app_id": self.app_id,
            "agent_id": self.agent_id,
            "owner_type": self.owner,
            "status": self.status or (SessionStatus.ACTIVE.value if self.rule else None),
        }
        return {column: value for column, value in pairs.items() if value}

    def describe(self) -> dict[str, str]:
        """The filter as plain strings (for the audit log and messages)."""
        values: dict[str, str | date | datetime | None] = {
            "tenant": self.tenant_id,
            "app": self.app_id,
            "agent": self.agent_id,
            "owner": self.owner,
            "status": self.status,
            "rule": self.rule,
            "run": self.run_id,
            "conversation": self.conversation_id,
            "updated_from": self.updated_from,
            "updated_to": self.updated_to,
            "updated_before": self.updated_before,
        }
        return described(values)


#: Clock skew allowed between Dify's app servers (which mint the ids) and the database clock.
ID_CLOCK_MARGIN = timedelta(hours=1)


def uuidv7_floor(moment: datetime) -> str:
    """The smallest UUIDv7 of `moment`'s millisecond: every id minted earlier sorts below it."""
    ms = (moment - datetime(1970, 1, 1)) // timedelta(milliseconds=1)
    return str(uuid.UUID(int=max(ms, 0) << 80))


def id_ceiling(flt: SessionFilter, ctx: RuleContext) -> str | None:
    """An id every matching row is below, implied by "updated before T" (rule idle, updated_to, --older-than).

    Ids are UUIDv7 carrying the creation millisecond, and a row is updated after it is created, so a row
    updated before T was created before T: the scan can start at T's id instead of at the newest row.
    """
    moments = []
    if flt.rule == "idle":
        moments.append(ctx.idle_before)
    if flt.updated_to:
        moments.append(day_after(flt.updated_to))
    if flt.updated_before:
        moments.append(flt.updated_before)
    return uuidv7_floor(min(moments) + ID_CLOCK_MARGIN) if moments else None


def conditions(flt: SessionFilter, ctx: RuleContext, s: Any = S) -> list[sa.ColumnElement[bool]]:
    """The filter as SQL on the session entity `s` (the table, or a bounded window of it)."""
    result: list[sa.ColumnElement[bool]] = []
    ceiling = id_ceiling(flt, ctx)
    if ceiling:
        result.append(s.id < ceiling)
    for column, value in (
        (s.tenant_id, flt.tenant_id),
        (s.app_id, flt.app_id),
        (s.agent_id, flt.agent_id),
        (s.owner_type, flt.owner),
        (s.status, flt.status),
        (s.workflow_run_id, flt.run_id),
        (s.conversation_id, flt.conversation_id),
    ):
        if value:
            result.append(column == value)
    result.extend(day_range(s.updated_at, flt.updated_from, flt.updated_to))
    if flt.updated_before:
        result.append(s.updated_at < flt.updated_before)
    if flt.rule:
        result.append(first_match_condition(flt.rule, ctx, s))
    return result
