"""The two schema generations of Dify's agent runtime state, and which mirror tables/columns each has.

* `sessions` (Dify 1.15-1.16): `agent_runtime_sessions`. The mirror of this generation is the seed
  (revision m0001): exactly what Agent Desk had before 1.17 support.
* `workspaces` (Dify 1.17+): `agent_workspaces` + `agent_workspace_bindings` (+ `agent_home_snapshots`);
  `agent_runtime_sessions` is dropped. The mirror is the branch head (m0001 -> m0002 -> m0003).

A real database's generation is always detected from the tables present (`data.schema_check`), never
from a version string; this module only says what the mirror and the demo build for each.
Tables and columns carry `info["since"]` (first Dify release that has them) and tables optionally
`info["until"]` (first release without them).
"""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa

Generation = Literal["sessions", "workspaces"]
SESSIONS: Generation = "sessions"
WORKSPACES: Generation = "workspaces"
GENERATIONS: tuple[Generation, ...] = (SESSIONS, WORKSPACES)
#: The current Dify generation: the default of the demo, the mirror migration and the embedded demo.
DEFAULT_GENERATION: Generation = WORKSPACES

#: The mirror branch revision that builds each generation.
MIRROR_REVISION: dict[str, str] = {SESSIONS: "m0001_dify_mirror", WORKSPACES: "head"}

LABELS: dict[str, str] = {
    SESSIONS: "Dify 1.15-1.16 schema: agent runtime sessions",
    WORKSPACES: "Dify 1.17+ schema: agent working environments",
}


def check_generation(value: str) -> Generation:
    if value not in GENERATIONS:
        raise ValueError(f"unknown generation {value!r}; expected one of {', '.join(GENERATIONS)}")
    return value  # narrowed to a Generation by the membership test


def table_in_generation(table: sa.Table, generation: str) -> bool:
    """Whether the mirror of `generation` has this table."""
    info: dict[str, Any] = table.info
    if generation == SESSIONS:
        return not info.get("since")
    return not info.get("until")


def column_in_generation(column: sa.Column[Any], generation: str) -> bool:
    """Whether the mirror of `generation` has this column (the sessions mirror is the seed)."""
    return generation != SESSIONS or not column.info.get("since")
