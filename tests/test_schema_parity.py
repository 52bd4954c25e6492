"""The mirror built by migrations matches the models, and carries every index and constraint name of the seed."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from data import migrate
from data.models import DifyBase

# Every named index and constraint of Dify's seed model (+ the naming-convention name of the roster unique).
SEED_NAMES = {
    "agents": {
        "agent_pkey",
        "agents_tenant_id_key",
        "agent_tenant_updated_at_idx",
        "agent_tenant_scope_idx",
        "agent_tenant_workflow_id_idx",
        "agent_tenant_app_id_idx",
        "agent_active_config_snapshot_id_idx",
    },
    "agent_config_snapshots": {
        "agent_config_snapshot_pkey",
        "agent_config_snapshot_agent_version_unique",
        "agent_config_snapshot_tenant_agent_created_at_idx",
        "agent_config_snapshot_tenant_created_at_idx",
    },
    "agent_config_revisions": {
        "agent_config_revision_pkey",
        "agent_config_revision_agent_revision_unique",
        "agent_config_revision_tenant_agent_created_at_idx",
        "agent_config_revision_tenant_current_snapshot_created_at_idx",
    },
    "workflow_agent_node_bindings": {
        "workflow_agent_node_binding_pkey",
        "workflow_agent_node_binding_node_version_unique",
        "workflow_agent_node_binding_agent_idx",
        "workflow_agent_node_binding_current_snapshot_idx",
        "workflow_agent_node_binding_app_idx",
        "workflow_agent_node_binding_workflow_version_idx",
    },
    "agent_runtime_sessions": {
        "agent_runtime_session_pkey",
        "agent_runtime_session_workflow_scope_unique",
        "agent_runtime_session_conversation_scope_unique",
        "agent_runtime_session_workflow_lookup_idx",
        "agent_runtime_session_conversation_lookup_idx",
        "agent_runtime_session_backend_run_idx",
    },
}


def _parity_diff(engine: sa.Engine, generation: str) -> list:
    """What autogenerate would change between the mirror of `generation` and the models (restricted to
    the tables and columns that generation has)."""
    from data.models.generations import column_in_generation, table_in_generation

    tables = {name for name, t in DifyBase.metadata.tables.items() if table_in_generation(t, generation)}

    def include_object(obj, name, type_, reflected, compare_to):
        if type_ == "table":
            return name in tables
        if type_ == "column" and not reflected:
            return column_in_generation(obj, generation)
        if type_ == "index" and not reflected:
            return all(column_in_generation(c, generation) for c in obj.columns)
        return True

    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_name": lambda name, type_, parents: type_ != "table" or name in tables,
                "include_object": include_object,
            },
        )
        return compare_metadata(context, DifyBase.metadata)


def test_migrated_postgres_matches_models(pg_url: str) -> None:
    engine = sa.create_engine(pg_url)
    migrate.upgrade_mirror(engine, "sessions")
    assert _parity_diff(engine, "sessions") == []
    migrate.upgrade_mirror(engine, "workspaces")
    assert _parity_diff(engine, "workspaces") == []
    engine.dispose()


def test_seed_names_and_partial_indexes_exist(pg_url: str) -> None:
    engine = sa.create_engine(pg_url)
    migrate.upgrade_mirror(engine, "sessions")
    with engine.connect() as conn:
        for table, names in SEED_NAMES.items():
            found = set(
                conn.execute(
                    sa.text(
                        "SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(:t) "
                        "UNION SELECT indexname FROM pg_indexes WHERE tablename = :t"
                    ),
                    {"t": table},
                ).scalars()
            )
            assert names <= found, (table, names - found)
        partial = dict(
            conn.execute(
                sa.text(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'agent_runtime_sessions'"
                )
            ).all()
        )
        assert "WHERE (workflow_run_id IS NOT NULL)" in partial["agent_runtime_session_workflow_scope_unique"]
        conversation = partial["agent_runtime_session_conversation_scope_unique"]
        assert "(tenant_id, conversation_id, agent_id, agent_config_snapshot_id)" in conversation
        assert "WHERE (conversation_id IS NOT NULL)" in conversation
        kinds = dict(
            conn.execute(
                sa.text(
                    "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'agents'"
                )
            ).all()
        )
        assert kinds["id"] == "uuid" and kinds["description"] == "text"
        generated = conn.execute(
            sa.text(
                "SELECT is_generated FROM information_schema.columns "
                "WHERE table_name = 'agents' AND column_name = 'roster_unique_name'"
            )
        ).scalar()
        assert generated == "ALWAYS"
        assert conn.execute(sa.text("SELECT uuidv7()::text")).scalar()[14] == "7"
    engine.dispose()


def test_roster_name_unique_only_among_active_roster_agents(empty_url: str) -> None:
    from data.models import Agent, uuidv7

    engine = sa.create_engine(empty_url)
    migrate.upgrade(engine, "mirror")
    tenant = uuidv7()

    def add(name: str, scope: str = "roster", status: str = "active") -> None:
        with engine.begin() as conn:
            conn.execute(
                sa.insert(Agent).values(
                    id=uuidv7(),
                    tenant_id=tenant,
                    name=name,
                    description="",
                    scope=scope,
                    source="imported",
                    status=status,
                )
            )

    add("Same")
    add("Same", scope="workflow_only")
    add("Same", status="archived")
    try:
        add("Same")
    except sa.exc.IntegrityError:
        pass
    else:
        raise AssertionError("a second active roster agent with the same name was accepted")
    engine.dispose()
