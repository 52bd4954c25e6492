"""Mirror of Dify 1.16+'s draft tables: the editable draft beside the immutable snapshots.

From `shared/reference/dify-agent-working-environment.md` section 3. The unique index name is
Dify's; the two plain index names are inferred (the reference gives their columns only). Read-only
for Agent Desk. `config_snapshot` has the same AgentSoulConfig shape (and secrets) as snapshots: it
goes through the same parsing and masking.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from data.models.base import DefaultFieldsMixin, DifyBase, newer_column
from data.models.enums import DraftType
from data.tolerant import EnumValue
from data.types import LongText, StringUUID, TolerantEnum


class AgentConfigDraft(DefaultFieldsMixin, DifyBase):
    """One draft of an agent: the shared console draft (`draft`, owner key '') or one account's build
    draft (`debug_build`, owner key = account id).

    Invariant (database-enforced): one draft per (tenant, agent, draft_type, owner key).
    "Unpublished changes" = the draft's config differs from the agent's active snapshot.
    """

    __tablename__ = "agent_config_drafts"
    __table_args__ = (
        sa.PrimaryKeyConstraint("id", name="agent_config_draft_pkey"),
        sa.UniqueConstraint(
            "tenant_id",
            "agent_id",
            "draft_type",
            "draft_owner_key",
            name="agent_config_draft_agent_type_account_unique",
        ),
        sa.Index("agent_config_draft_tenant_agent_idx", "tenant_id", "agent_id"),
        sa.Index("agent_config_draft_tenant_base_snapshot_idx", "tenant_id", "base_snapshot_id"),
        {"info": {"since": "1.16"}},
    )

    tenant_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    agent_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    draft_type: Mapped[EnumValue[DraftType]] = mapped_column(TolerantEnum(DraftType, 32), nullable=False)
    account_id: Mapped[str | None] = mapped_column(StringUUID, nullable=True)
    draft_owner_key: Mapped[str] = mapped_column(sa.String(255), nullable=False, server_default="")
    base_snapshot_id: Mapped[str | None] = mapped_column(StringUUID, nullable=True)
    config_snapshot: Mapped[str] = mapped_column(LongText, nullable=False)
    created_by: Mapped[str | None] = mapped_column(StringUUID, nullable=True)
    updated_by: Mapped[str | None] = mapped_column(StringUUID, nullable=True)
    # Dify 1.17+: the home snapshot the draft runs from; the working-environment binding of a build draft.
    home_snapshot_id: Mapped[str | None] = newer_column(StringUUID, nullable=True, since="1.17")
    agent_workspace_binding_id: Mapped[str | None] = newer_column(StringUUID, nullable=True, since="1.17")


class AgentDebugConversation(DefaultFieldsMixin, DifyBase):
    """Which conversation one console user debugs an agent in (one per agent, account, draft type)."""

    __tablename__ = "agent_debug_conversations"
    __table_args__ = (
        sa.PrimaryKeyConstraint("id", name="agent_debug_conversation_pkey"),
        sa.UniqueConstraint(
            "tenant_id", "agent_id", "account_id", "draft_type", name="agent_debug_conversation_unique"
        ),
        {"info": {"since": "1.16"}},
    )

    tenant_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    agent_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    app_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    account_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    conversation_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    draft_type: Mapped[EnumValue[DraftType]] = mapped_column(
        TolerantEnum(DraftType, 32), nullable=False, server_default="debug_build"
    )


DRAFT_TABLES: tuple[type[DifyBase], ...] = (AgentConfigDraft, AgentDebugConversation)
