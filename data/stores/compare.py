"""What the compare page diffs: two snapshots of an agent (by version or id), drafts (Dify 1.16+) facing
each other or a snapshot, or two bindings' node-job configs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from data.diff.labels import BindingPins, SideFacts
from data.models import (
    Account,
    Agent,
    AgentConfigDraft,
    AgentConfigRevision,
    AgentConfigSnapshot,
    WorkflowAgentNodeBinding,
)
from data.models.enums import BindingType
from data.read_context import ReadContext
from data.stores.agents import draft_label, workflow_label
from data.stores.scope import in_scope
from data.tolerant import EnumValue


@dataclass(frozen=True)
class Side:
    """One side of a comparison: the JSON text and what to say about where it came from."""

    kind: str  # "snapshot", "draft" or "binding"
    id: str
    tenant_id: str
    agent_id: str | None
    agent_name: str | None
    version: int | None
    operations: tuple[EnumValue, ...]
    note: str | None
    author: str | None
    created_at: datetime | None
    label: str
    text: str
    #: How the header names `author` and `created_at` (a draft shows its last edit).
    author_label: str = "Author"
    time_label: str = "Time"
    #: A snapshot that is its agent's active one (`agents.active_config_snapshot_id`).
    active: bool = False
    #: A draft's own name ("Draft", "Build draft of <account>"), for the side's title.
    draft_label: str | None = None

    def facts(self) -> SideFacts:
        """What the side's title is made from (`data.diff.labels`)."""
        return SideFacts(self.kind, self.id, self.version, self.active, self.draft_label or self.label)


def _author(conn: sa.Connection, account_id: str | None, has_accounts: bool) -> str | None:
    if not account_id or not has_accounts:
        return account_id
    return conn.execute(sa.select(Account.name).where(Account.id == account_id)).scalar() or account_id


def _agent_name(conn: sa.Connection, agent_id: str | None, tenant_id: str) -> str | None:
    if not agent_id:
        return None
    return conn.execute(
        sa.select(Agent.name).where(Agent.id == agent_id, Agent.tenant_id == tenant_id)
    ).scalar()


def snapshot_side(
    conn: sa.Connection, snapshot_id: str, has_accounts: bool, *, read: ReadContext
) -> Side | None:
    row = conn.execute(
        sa.select(AgentConfigSnapshot).where(
            AgentConfigSnapshot.id == snapshot_id, *in_scope(AgentConfigSnapshot.tenant_id, read)
        )
    ).first()
    if row is None:
        return None
    active_id = conn.execute(
        sa.select(Agent.active_config_snapshot_id).where(
            Agent.id == row.agent_id, Agent.tenant_id == row.tenant_id
        )
    ).scalar()
    revisions = conn.execute(
        sa.select(AgentConfigRevision.operation, AgentConfigRevision.version_note)
        .where(
            AgentConfigRevision.tenant_id == row.tenant_id,
            AgentConfigRevision.current_snapshot_id == row.id,
        )
        .order_by(AgentConfigRevision.revision)
    ).all()
    operations = tuple(r.operation for r in revisions)
    # The snapshot's own note, else the latest note a revision that led to it carries.
    note = row.version_note or next((r.version_note for r in reversed(revisions) if r.version_note), None)
    name = _agent_name(conn, row.agent_id, row.tenant_id)
    return Side(
        kind="snapshot",
        id=row.id,
        tenant_id=row.tenant_id,
        agent_id=row.agent_id,
        agent_name=name,
        version=row.version,
        operations=operations,
        note=note,
        author=_author(conn, row.created_by, has_accounts),
        created_at=row.created_at,
        label=f"{name or row.agent_id} v{row.version}",
        text=row.config_snapshot,
        active=active_id is not None and active_id == row.id,
    )


def draft_side(conn: sa.Connection, draft_id: str, has_accounts: bool, *, read: ReadContext) -> Side | None:
    """A draft (`agent_config_drafts`, Dify 1.16+) as a side: labelled "Draft" or "Build draft of
    <account>", with its last editor and edit time; the note names its base snapshot's version."""
    row = conn.execute(
        sa.select(
            AgentConfigDraft.id,
            AgentConfigDraft.tenant_id,
            AgentConfigDraft.agent_id,
            AgentConfigDraft.draft_type,
            AgentConfigDraft.account_id,
            AgentConfigDraft.base_snapshot_id,
            AgentConfigDraft.config_snapshot,
            AgentConfigDraft.updated_by,
            AgentConfigDraft.updated_at,
        ).where(AgentConfigDraft.id == draft_id, *in_scope(AgentConfigDraft.tenant_id, read))
    ).first()
    if row is None:
        return None
    name = _agent_name(conn, row.agent_id, row.tenant_id)
    owner = _author(conn, row.account_id, has_accounts) if row.account_id else None
    base = None
    if row.base_snapshot_id:
        base = conn.execute(
            sa.select(AgentConfigSnapshot.version).where(
                AgentConfigSnapshot.id == row.base_snapshot_id,
                AgentConfigSnapshot.tenant_id == row.tenant_id,
                AgentConfigSnapshot.agent_id == row.agent_id,
            )
        ).scalar()
    if row.base_snapshot_id is None:
        note = "no base snapshot"
    elif base is None:
        note = f"based on a missing snapshot ({row.base_snapshot_id})"
    else:
        note = f"based on v{base}"
    return Side(
        kind="draft",
        id=row.id,
        tenant_id=row.tenant_id,
        agent_id=row.agent_id,
        agent_name=name,
        version=None,
        operations=(),
        note=note,
        author=_author(conn, row.updated_by, has_accounts),
        created_at=row.updated_at,
        label=f"{draft_label(row.draft_type, owner)} · {name or row.agent_id}",
        text=row.config_snapshot,
        author_label="Last edited by",
        time_label="Last edit",
        draft_label=draft_label(row.draft_type, owner),
    )


def snapshot_id_for_version(
    conn: sa.Connection, *, agent_id: str, version: int, read: ReadContext
) -> str | None:
    """Served by the unique (agent_id, version) index; the agent's tenant is checked too."""
    tenant_id = conn.execute(
        sa.select(Agent.tenant_id).where(Agent.id == agent_id, *in_scope(Agent.tenant_id, read))
    ).scalar()
    if tenant_id is None and read.scoped:
        return None
    query = sa.select(AgentConfigSnapshot.id).where(
        AgentConfigSnapshot.agent_id == agent_id, AgentConfigSnapshot.version == version
    )
    if tenant_id:
        query = query.where(AgentConfigSnapshot.tenant_id == tenant_id)
    return conn.execute(query).scalar()


def binding_side(
    conn: sa.Connection, binding_id: str, has_accounts: bool, *, read: ReadContext
) -> Side | None:
    row = conn.execute(
        sa.select(WorkflowAgentNodeBinding).where(
            WorkflowAgentNodeBinding.id == binding_id, *in_scope(WorkflowAgentNodeBinding.tenant_id, read)
        )
    ).first()
    if row is None:
        return None
    name = _agent_name(conn, row.agent_id, row.tenant_id)
    return Side(
        kind="binding",
        id=row.id,
        tenant_id=row.tenant_id,
        agent_id=row.agent_id,
        agent_name=name,
        version=None,
        operations=(),
        note=None,
        author=_author(conn, row.updated_by or row.created_by, has_accounts),
        created_at=row.updated_at,
        label=f"node {row.node_id} · {workflow_label(row.workflow_version)}",
        text=row.node_job_config,
    )


def binding_pins(conn: sa.Connection, binding_id: str, *, tenant_id: str) -> BindingPins | None:
    """What a workflow node binding of `tenant_id` pins and what Dify runs for it (schema reference §7:
    a roster binding runs its agent's active snapshot, an inline one its pinned snapshot); None when the
    workspace has no such binding."""
    row = conn.execute(
        sa.select(
            WorkflowAgentNodeBinding.node_id,
            WorkflowAgentNodeBinding.binding_type,
            WorkflowAgentNodeBinding.agent_id,
            WorkflowAgentNodeBinding.current_snapshot_id,
        ).where(WorkflowAgentNodeBinding.id == binding_id, WorkflowAgentNodeBinding.tenant_id == tenant_id)
    ).first()
    if row is None:
        return None
    runs = row.current_snapshot_id
    if row.binding_type == BindingType.ROSTER_AGENT:
        runs = (
            conn.execute(
                sa.select(Agent.active_config_snapshot_id).where(
                    Agent.id == row.agent_id, Agent.tenant_id == tenant_id
                )
            ).scalar()
            if row.agent_id
            else None
        )
    return BindingPins(binding_id, row.node_id, row.current_snapshot_id, runs)


@dataclass(frozen=True)
class AgentVersions:
    agent_id: str
    tenant_id: str
    name: str
    versions: tuple[int, ...]  # ascending
    active_version: int | None


def agent_versions(conn: sa.Connection, agent_id: str, *, read: ReadContext) -> AgentVersions | None:
    agent = conn.execute(
        sa.select(Agent.id, Agent.tenant_id, Agent.name, Agent.active_config_snapshot_id).where(
            Agent.id == agent_id, *in_scope(Agent.tenant_id, read)
        )
    ).first()
    if agent is None:
        return None
    rows = conn.execute(
        sa.select(AgentConfigSnapshot.id, AgentConfigSnapshot.version)
        .where(AgentConfigSnapshot.tenant_id == agent.tenant_id, AgentConfigSnapshot.agent_id == agent.id)
        .order_by(AgentConfigSnapshot.version)
    ).all()
    active = next((r.version for r in rows if r.id == agent.active_config_snapshot_id), None)
    return AgentVersions(agent.id, agent.tenant_id, agent.name, tuple(r.version for r in rows), active)


def default_pair(versions: AgentVersions) -> tuple[int, int] | None:
    """Previous vs active (or the two newest when no active version is known)."""
    if not versions.versions:
        return None
    right = versions.active_version if versions.active_version is not None else versions.versions[-1]
    earlier = [v for v in versions.versions if v < right]
    return (earlier[-1] if earlier else right, right)
