"""What kind of Dify database this is, checked once at start.

Required: the four core agent tables (agents, snapshots, revisions, node bindings) with their seed
columns; otherwise nothing works and an error page names what is missing. Everything else is
optional and disables only what needs it:

* the runtime-state generation, detected from the tables present (never from a version string):
  `sessions` (Dify 1.15-1.16, `agent_runtime_sessions` with its seed columns) or `workspaces`
  (Dify 1.17+, `agent_workspaces` + `agent_workspace_bindings`, optionally `agent_home_snapshots`).
  Neither, or both, is `None`: the sessions views say what is missing and everything else works;
* the core tables and the columns Dify added after the seed (`info["since"]` in the models).
Extra columns are fine (newer Dify versions add some).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from data.models import (
    CORE_AGENT_TABLES,
    CORE_TABLES,
    DRAFT_TABLES,
    NEWER_CORE_TABLES,
    WORKSPACE_TABLES,
    AgentRuntimeSession,
    DifyBase,
)
from data.models.base import is_newer_column
from data.models.generations import LABELS, SESSIONS, WORKSPACES

#: Tables Dify added after the seed, in the order the banner lists them.
NEWER_TABLES = tuple(m.__tablename__ for m in (*DRAFT_TABLES, *WORKSPACE_TABLES))
SESSIONS_TABLE = AgentRuntimeSession.__tablename__
#: Both must be present for the working-environment generation; agent_home_snapshots is optional.
WORKSPACE_REQUIRED = ("agent_workspaces", "agent_workspace_bindings")
CONVERSATION_INDEX = "agent_runtime_session_conversation_scope_unique"
#: Newer columns detected but not mapped (see the note in data/models/agent.py AgentRuntimeSession).
UNMAPPED_NEWER = {SESSIONS_TABLE: ("pending_form_id", "pending_tool_call_id", "home_snapshot_id")}


@dataclass(frozen=True)
class SchemaReport:
    dialect: str
    missing_tables: tuple[str, ...] = ()
    missing_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    core_tables: frozenset[str] = frozenset()
    optional_columns: frozenset[str] = frozenset()  # "table.column" of optional columns present
    newer_features: tuple[str, ...] = ()
    conversation_index_columns: int | None = None
    #: Optional agent tables present with every column the views need (sessions, drafts, workspaces...).
    agent_tables: frozenset[str] = frozenset()
    #: Runtime tables found but unusable, with why (e.g. a sessions table missing seed columns).
    runtime_problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """The four core agent tables are there with their seed columns: every page can open."""
        return not self.missing_tables and not self.missing_columns

    @property
    def has_sessions(self) -> bool:
        return SESSIONS_TABLE in self.agent_tables

    @property
    def has_workspaces(self) -> bool:
        return all(t in self.agent_tables for t in WORKSPACE_REQUIRED)

    @property
    def generation(self) -> str | None:
        """`sessions`, `workspaces`, or None (neither runtime table set, or an unknown mix of both)."""
        if self.has_sessions and not self.has_workspaces:
            return SESSIONS
        if self.has_workspaces and not self.has_sessions:
            return WORKSPACES
        return None

    @property
    def generation_label(self) -> str:
        """The generation in words a support engineer knows."""
        if self.generation:
            return LABELS[self.generation]
        if self.has_sessions and self.has_workspaces:
            return "unknown mix: both agent runtime sessions and agent working environments"
        return "no agent runtime tables (neither runtime sessions nor working environments)"

    @property
    def era(self) -> str:
        return "newer than the seed" if self.newer_features else "seed-era"

    def has_table(self, name: str) -> bool:
        """A core table (tenants, apps, ...) or an optional agent table (drafts, workspaces, ...)."""
        return name in self.core_tables or name in self.agent_tables

    def has_column(self, table: str, column: str) -> bool:
        return f"{table}.{column}" in self.optional_columns

    @property
    def conversation_index_label(self) -> str:
        if self.conversation_index_columns == 5:
            return "conversation index: 5 columns (Dify 1.16, with home_snapshot_id)"
        if self.conversation_index_columns == 4:
            return "conversation index: 4 columns (migration 121e7346074d)"
        if self.conversation_index_columns == 3:
            return "conversation index: 3 columns (seed model)"
        return "conversation index: missing"

    def runtime_unavailable(self) -> str | None:
        """Why the runtime-sessions views cannot run here, in plain words; None when they can."""
        if self.has_sessions:
            return None
        if self.has_workspaces:
            return (
                "This is a Dify 1.17+ database: agent runtime sessions were replaced by working environments "
                "(`agent_workspaces` + `agent_workspace_bindings`); the table `agent_runtime_sessions` is absent."
            )
        lines = [
            "Neither `agent_runtime_sessions` (Dify 1.15-1.16) nor `agent_workspaces` + "
            "`agent_workspace_bindings` (Dify 1.17+) is present."
        ]
        lines.extend(self.runtime_problems)
        return " ".join(lines)

    def summary(self) -> str:
        """One line: dialect, generation, conversation index (sessions only), missing core tables."""
        parts = [f"{self.dialect}", self.generation_label]
        if self.has_sessions:
            parts.append(self.conversation_index_label)
        parts.append(f"{self.era} schema")
        missing_core = sorted({t.__tablename__ for t in CORE_TABLES} - self.core_tables)
        if self.has_workspaces:
            missing_core += sorted({t.__tablename__ for t in NEWER_CORE_TABLES} - self.core_tables)
        if missing_core:
            parts.append("without " + ", ".join(missing_core))
        return " · ".join(parts)

    def newer_summary(self) -> str:
        """The newer columns and tables found, compactly (for an expander, not the banner line)."""
        if not self.newer_features:
            return "none: the seed's columns only"
        grouped: dict[str, list[str]] = {}
        for feature in self.newer_features:
            table, _, column = feature.partition(".")
            grouped.setdefault(table, []).append(column or "new table")
        return "; ".join(f"{t} ({', '.join(cs)})" for t, cs in grouped.items())

    def problems(self) -> list[str]:
        lines = [f"missing table `{name}`" for name in self.missing_tables]
        for table, columns in self.missing_columns.items():
            lines.append(f"table `{table}` is missing columns: " + ", ".join(f"`{c}`" for c in columns))
        return lines

    def as_dict(self) -> dict:
        """The JSON form of `python -m data schema --format json`."""
        return {
            "ok": self.ok,
            "summary": self.summary(),
            "generation": self.generation,
            "generation_label": self.generation_label,
            "problems": self.problems(),
            "runtime_unavailable": self.runtime_unavailable(),
            "conversation_index_columns": self.conversation_index_columns,
            "newer_features": list(self.newer_features),
            "agent_tables": sorted(self.agent_tables),
        }


def _required_columns(table: sa.Table) -> set[str]:
    return {c.name for c in table.columns if not is_newer_column(c)}


def check_schema(connection: sa.Connection) -> SchemaReport:  # noqa: C901 (known debt, ARCHITECTURE.md)
    inspector = sa.inspect(connection)
    tables = set(inspector.get_table_names())
    missing_tables: list[str] = []
    missing_columns: dict[str, tuple[str, ...]] = {}
    optional: set[str] = set()
    newer: list[str] = []
    columns_of: dict[str, set[str]] = {}

    def present_columns(name: str) -> set[str]:
        if name not in columns_of:
            columns_of[name] = {c["name"] for c in inspector.get_columns(name)}
        return columns_of[name]

    def note_newer(name: str) -> None:
        newer_names = [c.name for c in DifyBase.metadata.tables[name].columns if c.info.get("since")]
        for column in [*newer_names, *UNMAPPED_NEWER.get(name, ())]:
            if column in present_columns(name):
                optional.add(f"{name}.{column}")
                newer.append(f"{name}.{column}")

    for model in CORE_AGENT_TABLES:
        name = model.__tablename__
        if name not in tables:
            missing_tables.append(name)
            continue
        lacking = tuple(sorted(_required_columns(model.__table__) - present_columns(name)))
        if lacking:
            missing_columns[name] = tuple(c.name for c in model.__table__.columns if c.name in lacking)
        note_newer(name)

    # Optional agent tables: usable only with every column the views need.
    agent_tables: set[str] = set()
    runtime_problems: list[str] = []
    optional_tables: tuple[type[DifyBase], ...] = (AgentRuntimeSession, *DRAFT_TABLES, *WORKSPACE_TABLES)
    for model in optional_tables:
        name = model.__tablename__
        if name not in tables:
            continue
        absent = sorted(_required_columns(model.__table__) - present_columns(name))
        if absent:
            runtime_problems.append(f"Table `{name}` lacks columns: {', '.join(absent)}.")
            continue
        agent_tables.add(name)
        if name != SESSIONS_TABLE:
            newer.append(name)
        note_newer(name)

    core: set[str] = set()
    for model in (*CORE_TABLES, *NEWER_CORE_TABLES):
        name = model.__tablename__
        if name not in tables:
            continue
        present = present_columns(name)
        required = {c for c in _required_columns(model.__table__) if not _optional_core_column(name, c)}
        if required <= present:
            core.add(name)
        optional.update(f"{name}.{c}" for c in present)
        for column in model.__table__.columns:
            if column.info.get("since") and column.name in present:
                newer.append(f"{name}.{column.name}")

    index_columns = None
    if SESSIONS_TABLE in tables:
        for index in inspector.get_indexes(SESSIONS_TABLE):
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
        agent_tables=frozenset(agent_tables),
        runtime_problems=tuple(runtime_problems),
    )


def _optional_core_column(table: str, column: str) -> bool:
    """Core columns some Dify versions lack; a table without them still counts as present."""
    return (table, column) in {("conversations", "is_deleted"), ("workflows", "marked_name")}
