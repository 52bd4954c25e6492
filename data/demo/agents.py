"""Agents, snapshots and revisions, written the way Dify's services do (section 6)."""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from data.demo.catalog import TEAMS, _Persona
from data.demo.context import _Ctx, _Tenant
from data.demo.documents import _mutate
from data.demo.primitives import _hex, _migrated_json, _orm_json, _v4, _v7
from data.models import (
    Agent,
    AgentConfigRevision,
    AgentConfigSnapshot,
)


@dataclass
class _Version:
    id: str
    number: int
    at: datetime
    doc: Any  # the soul document behind the stored text


@dataclass
class _AgentRec:
    """What later generators need to know about a written agent."""

    id: str
    tenant: _Tenant
    name: str
    scope: str
    status: str
    created_at: datetime
    archived_at: datetime | None
    persona: _Persona
    versions: list[_Version]
    times: list[datetime] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.times = [v.at for v in self.versions]

    def version_at(self, at: datetime) -> _Version | None:
        """The active snapshot at `at` (every snapshot-creating save moves the active pointer)."""
        i = bisect_right(self.times, at)
        return self.versions[i - 1] if i else None

    def version_by_id(self, snapshot_id: str | None) -> _Version | None:
        return next((v for v in self.versions if v.id == snapshot_id), None)

    def runnable_at(self, at: datetime) -> bool:
        """Dify's resolver refuses archived (or unknown-status) agents."""
        if self.status == "active":
            return True
        return self.status == "archived" and self.archived_at is not None and at < self.archived_at


class _AgentBuilder:
    """Writes one agent's snapshots and revisions the way Dify's services do (section 6)."""

    def __init__(
        self,
        ctx: _Ctx,
        rng: random.Random,
        tenant: _Tenant,
        *,
        created_at: datetime,
        agent_id: str | None = None,
        migrated_before: datetime | None = None,
    ) -> None:
        self.ctx, self.rng, self.tenant = ctx, rng, tenant
        self.created_at = created_at
        self.id = agent_id or _v7(created_at, rng)
        self.versions: list[_Version] = []
        self.revisions = 0
        # Snapshots older than this were rewritten by migration 89919253ca7a (unsorted text).
        self.migrated_before = migrated_before

    def save(
        self,
        op: str,
        at: datetime,
        doc: Any,
        *,
        by: str | None,
        note: str | None = None,
        snapshot_id: str | None = None,
        revision_id: str | None = None,
        text: str | None = None,
    ) -> _Version:
        """A snapshot-creating save: version = max + 1, then its revision (max + 1)."""
        version = _Version(snapshot_id or _v7(at, self.rng), len(self.versions) + 1, at, doc)
        if text is None:
            migrated = self.migrated_before is not None and at < self.migrated_before
            text = _migrated_json(doc) if migrated else _orm_json(doc)
        self.ctx.sink.add(
            AgentConfigSnapshot,
            id=version.id,
            tenant_id=self.tenant.id,
            agent_id=self.id,
            version=version.number,
            config_snapshot=text,
            summary=None,
            version_note=note,
            created_by=by,
            created_at=at,
            updated_at=at,
        )
        # Seed code sets previous_snapshot_id only for save_current_version (the snapshot it replaces).
        previous = self.versions[-1].id if op == "save_current_version" and self.versions else None
        self._revision(
            op, at, current=version.id, previous=previous, by=by, note=note, revision_id=revision_id
        )
        self.versions.append(version)
        return version

    def restore(
        self,
        target: _Version,
        at: datetime,
        *,
        by: str | None,
        note: str | None = None,
        revision_id: str | None = None,
    ) -> None:
        """Newer Dify's restore: copies the target into the draft, records `restore_version` pointing
        at the target, creates no snapshot and does not move the active pointer."""
        self._revision(
            "restore_version", at, current=target.id, previous=None, by=by, note=note, revision_id=revision_id
        )

    def _revision(
        self,
        op: str,
        at: datetime,
        *,
        current: str,
        previous: str | None,
        by: str | None,
        note: str | None,
        revision_id: str | None,
    ) -> None:
        self.revisions += 1
        self.ctx.sink.add(
            AgentConfigRevision,
            id=revision_id or _v7(at, self.rng),
            tenant_id=self.tenant.id,
            agent_id=self.id,
            previous_snapshot_id=previous,
            current_snapshot_id=current,
            revision=self.revisions,
            operation=op,
            summary=None,
            version_note=note,
            created_by=by,
            created_at=at,
        )

    def finish(
        self,
        *,
        name: str,
        scope: str,
        source: str,
        persona: _Persona,
        created_by: str | None,
        description: str | None = None,
        icon: tuple[str | None, str | None, str | None] = (None, None, None),
        app_id: str | None = None,
        workflow_id: str | None = None,
        workflow_node_id: str | None = None,
        status: str = "active",
        archived_at: datetime | None = None,
        archived_by: str | None = None,
        updated_by: str | None = None,
    ) -> _AgentRec:
        """Writes the agents row: active snapshot = the newest one; updated_at = the last change."""
        last_change = max(
            [self.created_at, *(v.at for v in self.versions), *([archived_at] if archived_at else [])]
        )
        icon_type, icon_value, background = icon
        self.ctx.sink.add(
            Agent,
            id=self.id,
            tenant_id=self.tenant.id,
            name=name,
            description=persona.description if description is None else description,
            icon_type=icon_type,
            icon=icon_value,
            icon_background=background,
            agent_kind="dify_agent",
            scope=scope,
            source=source,
            app_id=app_id,
            workflow_id=workflow_id,
            workflow_node_id=workflow_node_id,
            active_config_snapshot_id=self.versions[-1].id if self.versions else None,
            status=status,
            created_by=created_by,
            updated_by=updated_by or created_by,
            archived_by=archived_by,
            archived_at=archived_at,
            created_at=self.created_at,
            updated_at=last_change,
        )
        return _AgentRec(
            self.id, self.tenant, name, scope, status, self.created_at, archived_at, persona, self.versions
        )


def _evolve(
    b: _AgentBuilder,
    rng: random.Random,
    doc: dict[str, Any],
    times: Sequence[datetime],
    *,
    first_op: str,
    first_note: str | None,
    newer_ops: bool,
    system: bool = False,
) -> None:
    """Generated version history: a first save, then edits (save current / save new, and with
    newer Dify sometimes restore_version followed by publish_draft). A system-created agent's first
    version has no creator; people edit it afterwards."""
    tenant = b.tenant
    b.save(first_op, times[0], doc, by=None if system else tenant.member(rng).id, note=first_note)
    restored: _Version | None = None
    for at in times[1:]:
        by = tenant.member(rng).id
        if restored is not None:  # the restored draft gets published (with a small fix, sometimes)
            doc, note = _mutate(restored.doc, rng, tenant) if rng.random() < 0.5 else (restored.doc, None)
            b.save("publish_draft", at, doc, by=by, note=note or f"Publish restored v{restored.number}")
            restored = None
            continue
        if newer_ops and len(b.versions) >= 3 and rng.random() < 0.12:
            restored = b.versions[rng.randrange(len(b.versions) - 1)]
            b.restore(restored, at, by=by, note=f"Restore v{restored.number}")
            continue
        doc, note = _mutate(doc, rng, tenant)
        if rng.random() < 0.3:  # a second change in the same save
            doc, _ = _mutate(doc, rng, tenant)
        op = "save_current_version" if rng.random() < 0.5 else "save_new_version"
        b.save(op, at, doc, by=by, note=note if rng.random() < 0.8 else None)


def _icon(
    rng: random.Random, persona: _Persona, tenant: _Tenant
) -> tuple[str | None, str | None, str | None]:
    """icon_type / icon / icon_background: emoji, uploaded image (file id) or external link."""
    roll = rng.random()
    if roll < 0.6:
        return "emoji", persona.emoji, persona.background
    if roll < 0.8:
        return "image", _v4(rng), None
    if roll < 0.95:
        return "link", f"https://cdn.{tenant.domain}/agents/{persona.key}-{_hex(rng, 6)}.png", None
    return None, None, None


def _roster_name(tenant: _Tenant, persona: _Persona) -> str:
    """Unique among the workspace's generated roster agents: "Name", "Name · EMEA", "Name · EMEA 2"."""
    while True:
        n = tenant.persona_uses.get(persona.key, 0)
        tenant.persona_uses[persona.key] = n + 1
        if n == 0:
            name = persona.name
        else:
            team, round_ = TEAMS[(n - 1) % len(TEAMS)], (n - 1) // len(TEAMS)
            name = f"{persona.name} · {team}" + (f" {round_ + 1}" if round_ else "")
        if name not in tenant.reserved:
            return name
