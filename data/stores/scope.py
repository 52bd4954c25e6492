"""The read context's workspace scope as SQL: the one place a store turns "who reads" into a WHERE."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from data.read_context import ReadContext


def in_scope(tenant_column: Any, read: ReadContext) -> tuple[sa.ColumnElement[bool], ...]:
    """`tenant_column IN (<visible workspaces>)`, or nothing when every workspace is visible."""
    if read.tenant_ids is None:
        return ()
    if len(read.tenant_ids) == 1:
        return (tenant_column == read.tenant_ids[0],)
    return (tenant_column.in_(read.tenant_ids),)
