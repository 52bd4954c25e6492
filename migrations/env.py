"""Alembic environment shared by Agent Desk's two migration branches.

`data.migrate` chooses the branch: its `version_locations` and its own version table
(`agent_desk_mirror_version` for the Dify mirror, `agent_desk_alembic_version` for the app's own
tables). Dify's `alembic_version` table is never read or written.
"""

from alembic import context

from data.migrate import BRANCHES

config = context.config
branch = BRANCHES[config.attributes["branch"]]
connection = config.attributes["connection"]


def include_name(name, type_, parent_names):
    """Autogenerate only compares the tables of the branch at hand."""
    if type_ == "table":
        return name in branch.metadata.tables
    return True


context.configure(
    connection=connection,
    target_metadata=branch.metadata,
    version_table=branch.version_table,
    include_name=include_name,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)

with context.begin_transaction():
    context.run_migrations()
