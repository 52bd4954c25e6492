"""What kind of Dify database this is, checked once at start.

Required: the five agent tables with their seed columns (otherwise nothing works: an error page names
what is missing). Optional: the core tables and newer columns; their absence only disables the
features that need them. Extra columns are fine (newer Dify versions add some).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from data.models import AGENT_TABLES, CORE_TABLES

#: Columns newer Dify versions added after the seed (section 2 of the schema reference).
NEWER_COLUMNS = {
    "agents": ("role", "active_config_has_model", "active_config_is_published", "backing_app_id"),
    "agent_runtime_sessions": ("pending_form_id", "pending_tool_call_id"),
}
NEWER_TABLES = ("agent_config_drafts",)
CONVERSATION_INDEX = "agent_runtime_session_conversation_scope_unique"


@dataclass(frozen=True)
class SchemaReport:
    dialect: str
    missing_tables: tuple[str, ...] = ()
    missing_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    core_tables: frozenset[str] = frozenset()
    optional_columns: frozenset[str] = frozenset()  # "table.column" of optional columns present
    newer_features: tuple[str, ...] = ()
    conversation_index_columns: int | None = None

    @property
    def ok(self) -> bool:
        return not self.missing_tables and not self.missing_columns

    @property
    def era(self) -> str:
        return "newer than the seed" if self.newer_features else "seed-era"

    def has_table(self, name: str) -> bool:
        return name in self.core_tables

    def has_column(self, table: str, column: str) -> bool:
        return f"{table}.{column}" in self.optional_columns

    @property
    def conversation_index_label(self) -> str:
        if self.conversation_index_columns == 4:
            return "conversation index: 4 columns (migration 121e7346074d)"
        if self.conversation_index_columns == 3:
            return "conversation index: 3 columns (seed model)"
        return "conversation index: missing"

    def summary(self) -> str:
        parts = [f"{self.dialect}", f"{self.era} schema", self.conversation_index_label]
        if self.newer_features:
            parts.append("newer: " + ", ".join(self.newer_features))
        missing_core = sorted({t.__tablename__ for t in CORE_TABLES} - self.core_tables)
        if missing_core:
            parts.append("without " + ", ".join(missing_core))
        return " · ".join(parts)

    def problems(self) -> list[str]:
        lines = [f"missing table `{name}`" for name in self.missing_tables]
        for table, columns in self.missing_columns.items():
            lines.append(f"table `{table}` is missing columns: " + ", ".join(f"`{c}`" for c in columns))
        return lines


def check_schema(connection: sa.Connection) -> SchemaReport:
    inspector = sa.inspect(connection)
    tables = set(inspector.get_table_names())
    missing_tables: list[str] = []
    missing_columns: dict[str, tuple[str, ...]] = {}
    optional: set[str] = set()
    newer: list[str] = []

    for model in AGENT_TABLES:
        name = model.__tablename__
        if name not in tables:
            missing_tables.append(name)
            continue
        present = {c["name"] for c in inspector.get_columns(name)}
        lacking = tuple(c.name for c in model.__table__.columns if c.name not in present)
        if lacking:
            missing_columns[name] = lacking
        for column in NEWER_COLUMNS.get(name, ()):
            if column in present:
                optional.add(f"{name}.{column}")
                newer.append(f"{name}.{column}")

    core: set[str] = set()
    for model in CORE_TABLES:
        name = model.__tablename__
        if name not in tables:
            continue
        present = {c["name"] for c in inspector.get_columns(name)}
        required = {c.name for c in model.__table__.columns if not _optional_core_column(name, c.name)}
        if required <= present:
            core.add(name)
        optional.update(f"{name}.{c}" for c in present)
    newer.extend(t for t in NEWER_TABLES if t in tables)

    index_columns = None
    if "agent_runtime_sessions" in tables:
        for index in inspector.get_indexes("agent_runtime_sessions"):
            if index["name"] == CONVERSATION_INDEX:
                index_columns = len(index["column_names"])

    return SchemaReport(
        dialect=connection.dialect.name,
        missing_tables=tuple(missing_tables),
        missing_columns=missing_columns,
        core_tables=frozenset(core),
        optional_columns=frozenset(optional),
        newer_features=tuple(newer),
        conversation_index_columns=index_columns,
    )


def _optional_core_column(table: str, column: str) -> bool:
    """Core columns some Dify versions lack; a table without them still counts as present."""
    return (table, column) in {("conversations", "is_deleted"), ("workflows", "marked_name")}
