"""Mirror of Dify 1.17+'s working environments (migration f6e4c5686857 and later).

Dify 1.17 dropped `agent_runtime_sessions` and keeps the runtime state of agents here: one
`agent_workspaces` row per working environment (a sandbox or directory in the agent backend), one
`agent_workspace_bindings` row per agent attached to it (with its session state), and a ledger of
backend "home" snapshots. Columns, types, defaults and index names follow
`shared/reference/dify-agent-working-environment.md` section 3. No foreign keys (retired rows outlive
their owners). Ids are minted by Dify (UUIDv7), with no server default.

Lifecycle: active -> retired -> row deleted by Dify's collector (no `cleaned` state). Agent Desk
reads these tables; only the retire transition (workenv branch) ever writes them.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from data.models.base import DefaultFieldsMixin, DifyBase, naive_utc_now, uuidv7
from data.models.enums import ConfigVersionKind, LifecycleStatus, WorkspaceOwnerType
from data.tolerant import EnumValue
from data.types import LongText, StringUUID, TolerantEnum

_SINCE_117 = {"info": {"since": "1.17"}}


class AgentWorkspace(DefaultFieldsMixin, DifyBase):
    """One working environment of one owner scope.

    Invariant (database-enforced): at most one ACTIVE workspace per (tenant, owner_type, owner_id,
    owner_scope_key): `active_guard` is 1 while active and NULL once retired, and NULLs never collide in
    the unique index, so any number of retired rows may remain.
    `owner_scope_key` is `root` for conversations and build drafts, `<node_id>:<binding id>` for
    workflow nodes.
    """

    __tablename__ = "agent_workspaces"
    __table_args__ = (
        sa.PrimaryKeyConstraint("id", name="agent_workspace_pkey"),
        sa.Index(
            "agent_workspace_owner_active_unique",
            "tenant_id",
            "owner_type",
            "owner_id",
            "owner_scope_key",
            "active_guard",
            unique=True,
        ),
        sa.Index("agent_workspace_status_retired_idx", "status", "retired_at"),
        sa.Index("agent_workspace_tenant_app_status_idx", "tenant_id", "app_id", "status"),
        sa.Index("agent_workspace_tenant_status_idx", "tenant_id", "status"),
        _SINCE_117,
    )

    tenant_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    app_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    owner_type: Mapped[EnumValue[WorkspaceOwnerType]] = mapped_column(
        TolerantEnum(WorkspaceOwnerType, 32), nullable=False
    )
    owner_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    owner_scope_key: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    # The backend's handle: the only way to destroy the sandbox (never shown unmasked, never changed).
    backend_workspace_ref: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    status: Mapped[EnumValue[LifecycleStatus]] = mapped_column(
        TolerantEnum(LifecycleStatus, 32), nullable=False, default="active", server_default="active"
    )
    active_guard: Mapped[int | None] = mapped_column(
        sa.SmallInteger, nullable=True, default=1, server_default=sa.text("1")
    )
    retired_at: Mapped[datetime | None] = mapped_column(sa.DateTime, nullable=True)


class AgentWorkspaceBinding(DefaultFieldsMixin, DifyBase):
    """One agent attached to one workspace, with the agent backend's session state.

    No unique index: only Dify's code keeps one active binding per (workspace, agent).
    `agent_config_version_id` names a snapshot or a draft, as `agent_config_version_kind` says.
    `session_snapshot` can hold users' conversation content: personal data, always masked.
    A binding with `pending_form_id` set waits for a human: never retire it.
    """

    __tablename__ = "agent_workspace_bindings"
    __table_args__ = (
        sa.PrimaryKeyConstraint("id", name="agent_workspace_binding_pkey"),
        sa.Index("agent_workspace_binding_agent_status_idx", "tenant_id", "agent_id", "status"),
        sa.Index("agent_workspace_binding_status_retired_idx", "status", "retired_at"),
        sa.Index("agent_workspace_binding_workspace_status_idx", "tenant_id", "workspace_id", "status"),
        _SINCE_117,
    )

    tenant_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    app_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    workspace_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    agent_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    base_home_snapshot_id: Mapped[str | None] = mapped_column(StringUUID, nullable=True)
    agent_config_version_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    agent_config_version_kind: Mapped[EnumValue[ConfigVersionKind]] = mapped_column(
        TolerantEnum(ConfigVersionKind, 32), nullable=False
    )
    backend_binding_ref: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    session_snapshot: Mapped[str | None] = mapped_column(LongText, nullable=True)
    status: Mapped[EnumValue[LifecycleStatus]] = mapped_column(
        TolerantEnum(LifecycleStatus, 32), nullable=False, default="active", server_default="active"
    )
    retired_at: Mapped[datetime | None] = mapped_column(sa.DateTime, nullable=True)
    pending_form_id: Mapped[str | None] = mapped_column(StringUUID, nullable=True)
    pending_tool_call_id: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)


class AgentHomeSnapshot(DifyBase):
    """A ledger row of one backend "home" snapshot (the files an agent starts from). No updated_at.

    A NULL `home_snapshot_id` anywhere means the backend's default home, never a leak. Never retire
    one that a draft or a config snapshot still references: every new run of that config would fail.
    """

    __tablename__ = "agent_home_snapshots"
    __table_args__ = (
        sa.PrimaryKeyConstraint("id", name="agent_home_snapshot_pkey"),
        sa.Index("agent_home_snapshot_tenant_agent_idx", "tenant_id", "agent_id"),
        sa.Index("agent_home_snapshot_status_retired_idx", "status", "retired_at"),
        _SINCE_117,
    )

    id: Mapped[str] = mapped_column(StringUUID, primary_key=True, default=uuidv7)
    tenant_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    agent_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    snapshot_ref: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime, nullable=False, default=naive_utc_now, server_default=sa.func.current_timestamp()
    )
    status: Mapped[EnumValue[LifecycleStatus]] = mapped_column(
        TolerantEnum(LifecycleStatus, 32), nullable=False, default="active", server_default="active"
    )
    retired_at: Mapped[datetime | None] = mapped_column(sa.DateTime, nullable=True)


#: The working-environment tables of Dify 1.17+ (the `workspaces` generation's runtime tables).
WORKSPACE_TABLES: tuple[type[DifyBase], ...] = (AgentWorkspace, AgentWorkspaceBinding, AgentHomeSnapshot)
