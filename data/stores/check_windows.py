"""The key reads that drive a check job's windows over Dify's tables (`data.services.check_jobs`).

Reads only, on the job's plain (read-only) connection; the caller commits between them so no snapshot
is held across windows. `tenant_id` (None: every workspace) goes into each statement. The window ends
themselves come from `data.stores.integrity.window_upto`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def last_key(
    conn: sa.Connection, model: Any, key: str, *, tenant_id: str | None, after: str | None
) -> str | None:
    """The greatest `key` of `model` (after `after`, in `tenant_id`), or None when there is none."""
    column = getattr(model, key)
    query = sa.select(column)
    if tenant_id:
        query = query.where(model.tenant_id == tenant_id)
    if after is not None:
        query = query.where(column > after)
    return conn.execute(query.order_by(column.desc()).limit(1)).scalar()


def rows_per_agent(
    conn: sa.Connection, model: Any, *, tenant_id: str | None, after_id: str | None, upto_id: str | None
) -> dict[str, int]:
    """Agent id -> how many of `model`'s rows with id in `(after_id, upto_id]` it has (a primary-key
    range scan of the rows added since a run's id watermark)."""
    query = sa.select(model.agent_id, sa.func.count()).group_by(model.agent_id)
    if tenant_id:
        query = query.where(model.tenant_id == tenant_id)
    if after_id:
        query = query.where(model.id > after_id)
    if upto_id is not None:
        query = query.where(model.id <= upto_id)
    return {a: n for a, n in conn.execute(query).all()}
