"""What every builder writes through: the clock and the sink (`_Ctx`), workspaces and people."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from data.demo.sink import _Sink


@dataclass(frozen=True)
class _Person:
    id: str
    name: str
    email: str


@dataclass
class _Tenant:
    """A workspace while it is being generated: members, datasets, credential ids, names in use."""

    index: int
    id: str
    name: str
    company: str
    domain: str
    created_at: datetime
    members: list[_Person] = field(default_factory=list)
    datasets: list[tuple[str, str]] = field(default_factory=list)  # (id, name)
    credentials: dict[str, str] = field(default_factory=dict)  # tool key / model provider -> credential id
    persona_uses: dict[str, int] = field(default_factory=dict)  # for unique roster names
    reserved: set[str] = field(default_factory=set)  # roster names the story uses

    def member(self, rng: random.Random) -> _Person:
        return rng.choice(self.members)


@dataclass
class _Ctx:
    now: datetime
    seed: int
    sink: _Sink

    def ago(self, days: float = 0, hours: float = 0, minutes: float = 0) -> datetime:
        return self.now - timedelta(days=days, hours=hours, minutes=minutes)
