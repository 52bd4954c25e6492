"""Running Agent Desk's two alembic branches.

* `app`: Agent Desk's own tables (`agent_desk_*`), version table `agent_desk_alembic_version`.
  Safe to apply to a real Dify database: it creates only its own tables.
* `mirror`: a copy of Dify's agent and core tables, for the embedded demo, tests and benchmarks.
  It refuses to run where any Dify table or Dify's `alembic_version` exists.

Both run on the separate, unguarded migration path (`data.db.create_migration_engine`), which read-only
mode refuses; the app's guarded engines refuse DDL.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from data.errors import MigrationRefused
from data.models import AppBase, DifyBase

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
DIFY_VERSION_TABLE = "alembic_version"


@dataclass(frozen=True)
class Branch:
    name: str
    metadata: sa.MetaData
    version_table: str

    @property
    def location(self) -> Path:
        return MIGRATIONS_DIR / self.name


BRANCHES = {
    "app": Branch("app", AppBase.metadata, "agent_desk_alembic_version"),
    "mirror": Branch("mirror", DifyBase.metadata, "agent_desk_mirror_version"),
}


def alembic_config(branch: str, connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(BRANCHES[branch].location))
    config.attributes["branch"] = branch
    config.attributes["connection"] = connection
    return config


def dify_tables_present(connection: sa.Connection) -> list[str]:
    """Names of Dify's tables (or Dify's alembic_version) that exist in this database."""
    existing = set(sa.inspect(connection).get_table_names())
    watched = set(DifyBase.metadata.tables) | {DIFY_VERSION_TABLE}
    return sorted(existing & watched)


def mirror_is_ours(connection: sa.Connection) -> bool:
    """Whether the Dify-shaped tables here were created by our mirror branch (demo, tests, bench)."""
    return BRANCHES["mirror"].version_table in sa.inspect(connection).get_table_names()


def upgrade(engine: sa.Engine, branch: str, revision: str = "head") -> None:
    with engine.begin() as connection:
        if branch == "mirror" and not mirror_is_ours(connection):
            present = dify_tables_present(connection)
            if present:
                raise MigrationRefused(
                    "refusing to create the Dify mirror: this database already has " + ", ".join(present)
                )
        command.upgrade(alembic_config(branch, connection), revision)


def upgrade_mirror(engine: sa.Engine, generation: str) -> None:
    """Build (or bring up to date) the mirror of one schema generation (`data.models.generations`).

    A mirror already past the generation's revision is refused: the sessions generation cannot be
    built over a workspaces mirror (Dify 1.17 dropped its table), and Agent Desk never downgrades.
    """
    from data.models.generations import MIRROR_REVISION, SESSIONS, check_generation

    check_generation(generation)
    if generation == SESSIONS:
        here = current(engine, "mirror")
        if here not in (None, MIRROR_REVISION[SESSIONS]):
            raise MigrationRefused(f"refusing: this mirror is already at {here} (the workspaces generation)")
    upgrade(engine, "mirror", MIRROR_REVISION[generation])


def downgrade(engine: sa.Engine, branch: str, revision: str = "base") -> None:
    with engine.begin() as connection:
        command.downgrade(alembic_config(branch, connection), revision)


def current(engine: sa.Engine, branch: str) -> str | None:
    table = BRANCHES[branch].version_table
    with engine.connect() as connection:
        if table not in sa.inspect(connection).get_table_names():
            return None
        # A statement object, not text: the write guard accepts it on the app's engines too.
        return connection.execute(sa.select(sa.column("version_num")).select_from(sa.table(table))).scalar()


def current_safe(engine: sa.Engine, branch: str) -> str:
    """`current` for messages: never raises."""
    try:
        return current(engine, branch) or "none"
    except sa.exc.SQLAlchemyError:
        return "unknown"
