"""Read-only mirror of the Dify core tables the views join to (names and run states instead of ids).

Only the columns Agent Desk reads, plus the NOT NULL ones a mirror needs to be realistic. Secrets
(`accounts.password*`, encrypted workflow variables) are deliberately not mapped, so no query can
select them. Ids are UUIDv4 here (not v7), timestamps naive UTC, enum-like columns plain strings.
All of these tables are optional at runtime: the schema check disables what needs a missing one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from data.models.base import DifyBase, newer_column
from data.types import LongText, StringUUID

_NOW = sa.func.current_timestamp()


class Tenant(DifyBase):
    """A workspace."""

    __tablename__ = "tenants"
    __table_args__ = (sa.PrimaryKeyConstraint("id", name="tenant_pkey"),)

    id: Mapped[str] = mapped_column(StringUUID)
    name: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    plan: Mapped[str] = mapped_column(sa.String(255), nullable=False, server_default="basic")
    status: Mapped[str] = mapped_column(sa.String(255), nullable=False, server_default="normal")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, server_default=_NOW)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, server_default=_NOW)


class Account(DifyBase):
    """A console user; `*_by` columns of the agent tables point here. Email is PII (masked)."""

    __tablename__ = "accounts"
    __table_args__ = (
        sa.PrimaryKeyConstraint("id", name="account_pkey"),
        sa.Index("account_email_idx", "email"),
    )

    id: Mapped[str] = mapped_column(StringUUID)
    name: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    email: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False, server_default="active")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, server_default=_NOW)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, server_default=_NOW)


class TenantAccountJoin(DifyBase):
    """Membership of an account in a workspace, with its Dify role."""

    __tablename__ = "tenant_account_joins"
    __table_args__ = (
        sa.PrimaryKeyConstraint("id", name="tenant_account_join_pkey"),
        sa.UniqueConstraint("tenant_id", "account_id", name="unique_tenant_account_join"),
        sa.Index("tenant_account_join_account_id_idx", "account_id"),
        sa.Index("tenant_account_join_tenant_id_idx", "tenant_id"),
    )

    id: Mapped[str] = mapped_column(StringUUID)
    tenant_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    account_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    role: Mapped[str] = mapped_column(sa.String(16), nullable=False, server_default="normal")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, server_default=_NOW)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, server_default=_NOW)


class App(DifyBase):
    """An app. Hard-deleted in Dify, so agent rows may name an app that no longer exists."""

    __tablename__ = "apps"
    __table_args__ = (
        sa.PrimaryKeyConstraint("id", name="app_pkey"),
        sa.Index("app_tenant_id_idx", "tenant_id"),
    )

    id: Mapped[str] = mapped_column(StringUUID)
    tenant_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    name: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    mode: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    icon_type: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    icon: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    status: Mapped[str] = mapped_column(sa.String(255), nullable=False, server_default="normal")
    # The currently published workflows row (NULL until the first publish).
    workflow_id: Mapped[str | None] = mapped_column(StringUUID, nullable=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, server_default=_NOW)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, server_default=_NOW)


class Workflow(DifyBase):
    """The draft (`version='draft'`) or one published copy of an app's workflow."""

    __tablename__ = "workflows"
    __table_args__ = (
        sa.PrimaryKeyConstraint("id", name="workflow_pkey"),
        sa.Index("workflow_version_idx", "tenant_id", "app_id", "version"),
    )

    id: Mapped[str] = mapped_column(StringUUID)
    tenant_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    app_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    type: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    version: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    graph: Mapped[str] = mapped_column(LongText, nullable=False)
    marked_name: Mapped[str] = mapped_column(sa.String(255), nullable=False, server_default="")
    created_by: Mapped[str] = mapped_column(StringUUID, nullable=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, server_default=_NOW)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False)


class WorkflowRun(DifyBase):
    """One execution of a workflow row. `status` decides whether its agent sessions leaked."""

    __tablename__ = "workflow_runs"
    __table_args__ = (
        sa.PrimaryKeyConstraint("id", name="workflow_run_pkey"),
        sa.Index("workflow_run_triggerd_from_idx", "tenant_id", "app_id", "triggered_from"),
        sa.Index("workflow_run_created_at_id_idx", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(StringUUID)
    tenant_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    app_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    workflow_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    type: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    triggered_from: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    version: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    created_by_role: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    created_by: Mapped[str] = mapped_column(StringUUID, nullable=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, server_default=_NOW)
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime, nullable=True)


class WorkflowPause(DifyBase):
    """A paused run (human in the loop) has a row here with `resumed_at IS NULL`."""

    __tablename__ = "workflow_pauses"
    __table_args__ = (
        sa.PrimaryKeyConstraint("id", name="workflow_pauses_pkey"),
        sa.UniqueConstraint("workflow_run_id", name="workflow_pauses_workflow_run_id_key"),
    )

    id: Mapped[str] = mapped_column(StringUUID)
    workflow_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    workflow_run_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    resumed_at: Mapped[datetime | None] = mapped_column(sa.DateTime, nullable=True)
    state_object_key: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, server_default=_NOW)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, server_default=_NOW)


class Conversation(DifyBase):
    """A chat conversation. No tenant column: scope it through `apps`. `is_deleted` may be absent."""

    __tablename__ = "conversations"
    __table_args__ = (
        sa.PrimaryKeyConstraint("id", name="conversation_pkey"),
        sa.Index("conversation_app_from_user_idx", "app_id", "from_source", "from_end_user_id"),
    )

    id: Mapped[str] = mapped_column(StringUUID)
    app_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    mode: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    inputs: Mapped[Any] = mapped_column(sa.JSON, nullable=False)
    status: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    from_source: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    from_end_user_id: Mapped[str | None] = mapped_column(StringUUID, nullable=True)
    from_account_id: Mapped[str | None] = mapped_column(StringUUID, nullable=True)
    is_deleted: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, server_default=_NOW)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, server_default=_NOW)
    # Dify 1.17+: the working-environment binding this conversation runs in (never cleared on retire).
    agent_workspace_binding_id: Mapped[str | None] = newer_column(StringUUID, nullable=True, since="1.17")


class WorkflowNodeExecution(DifyBase):
    """One node execution of a workflow run (Dify core table; only the columns the views read, plus
    the NOT NULL ones a realistic mirror needs, marked `optional` for the schema check).

    Mirrored from the `workspaces` generation on: 1.17 added `agent_workspace_binding_id`, which
    says which working environment an agent node ran in. Index names as in Dify's core model.
    """

    __tablename__ = "workflow_node_executions"
    __table_args__ = (
        sa.PrimaryKeyConstraint("id", name="workflow_node_execution_pkey"),
        sa.Index(
            "workflow_node_execution_workflow_run_idx",
            "tenant_id",
            "app_id",
            "workflow_id",
            "triggered_from",
            "workflow_run_id",
        ),
        sa.Index(
            "workflow_node_execution_node_run_idx",
            "tenant_id",
            "app_id",
            "workflow_id",
            "triggered_from",
            "node_id",
        ),
        {"info": {"since": "1.17"}},
    )

    id: Mapped[str] = mapped_column(StringUUID)
    tenant_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    app_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    workflow_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    triggered_from: Mapped[str] = mapped_column(sa.String(255), nullable=False, info={"optional": True})
    workflow_run_id: Mapped[str | None] = mapped_column(StringUUID, nullable=True)
    index: Mapped[int] = mapped_column(sa.Integer, nullable=False, info={"optional": True})
    node_id: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    node_type: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    title: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    created_by_role: Mapped[str] = mapped_column(sa.String(255), nullable=False, info={"optional": True})
    created_by: Mapped[str] = mapped_column(StringUUID, nullable=False, info={"optional": True})
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, server_default=_NOW)
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime, nullable=True)
    agent_workspace_binding_id: Mapped[str | None] = newer_column(StringUUID, nullable=True, since="1.17")


#: Core tables every supported Dify has (optional at runtime; the schema check disables what needs one).
CORE_TABLES: tuple[type[DifyBase], ...] = (
    Tenant,
    Account,
    TenantAccountJoin,
    App,
    Workflow,
    WorkflowRun,
    WorkflowPause,
    Conversation,
)
#: Core tables the views of newer generations read (not listed as "missing" on seed-era databases).
NEWER_CORE_TABLES: tuple[type[DifyBase], ...] = (WorkflowNodeExecution,)
