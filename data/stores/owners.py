"""Who owns a session or a workspace: the workflow run or conversation behind it (Dify's core tables).

Callers check that the table exists (the schema report) before asking.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from data.models import App, Conversation, WorkflowPause, WorkflowRun


def run_tenant(conn: sa.Connection, run_id: str) -> str | None:
    """The workspace of a workflow run (primary key)."""
    return conn.execute(sa.select(WorkflowRun.tenant_id).where(WorkflowRun.id == run_id)).scalar()


def conversation_tenant(conn: sa.Connection, conversation_id: str) -> str | None:
    """The workspace of a conversation, through its app (conversations have no tenant column)."""
    return conn.execute(
        sa.select(App.tenant_id)
        .join(Conversation, Conversation.app_id == App.id)
        .where(Conversation.id == conversation_id)
    ).scalar()


def open_pause_since(conn: sa.Connection, run_id: str) -> datetime | None:
    """Since when a paused (human-in-the-loop) run waits, or None when it has no open pause."""
    return conn.execute(
        sa.select(WorkflowPause.created_at).where(
            WorkflowPause.workflow_run_id == run_id, WorkflowPause.resumed_at.is_(None)
        )
    ).scalar()
