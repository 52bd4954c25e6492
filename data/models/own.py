"""Agent Desk's own tables (audit log; added by the sessions issue) live on a separate metadata.

They are created by the app's own migration branch, which is safe to apply to a real Dify database
and uses its own version table (`agent_desk_alembic_version`), never Dify's `alembic_version`.
"""

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase


class AppBase(DeclarativeBase):
    """Base of Agent Desk's own tables; every table name starts with `agent_desk_`."""

    metadata = sa.MetaData()
