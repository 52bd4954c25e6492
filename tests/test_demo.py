"""The demo dataset: counts, determinism, the injectable clock, and every promised well-known row."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from data import demo
from data.db import seed_database
from data.demo import SCALES, DemoIds, DemoSummary, seed_demo
from data.models import DifyBase

NOW = datetime(2026, 11, 20, 12, 0, 0)
TABLES = [t.name for t in DifyBase.metadata.sorted_tables]
AGENT_TABLES = {
    "agents",
    "agent_config_snapshots",
    "agent_config_revisions",
    "workflow_agent_node_bindings",
    "agent_runtime_sessions",
    "workflow_pauses",
}  # UUIDv7 ids (workflow_pauses: Dify's uuidv7())

# Section 5.4 of the schema reference: the stored text of a blank soul and of a default node job.
BLANK_SOUL = (
    '{"app_features":{},"app_variables":[],"env":{"secret_refs":[],"variables":[]},"human":{"contacts":[],'
    '"tools":[]},"knowledge":{"datasets":[],"query_config":{},"query_mode":null},"memory":{"artifacts":[],'
    '"budget":null,"scope":null},"misc_legacy":{},"model":null,"prompt":{"system_prompt":""},"sandbox":{"config":{},'
    '"provider":null},"schema_version":1,"skills_files":{"files":[],"skills":[]},"tools":{"cli_tools":[],'
    '"dify_tools":[]}}'
)
BLANK_JOB = (
    '{"declared_outputs":[],"human_contacts":[],"metadata":{},"mode":"tell_agent_what_to_do",'
    '"previous_node_output_refs":[],"schema_version":1,"workflow_prompt":""}'
)


def _seed(now: datetime = NOW, scale: str = "S", seed: int = 7) -> tuple[sa.Engine, DemoSummary]:
    engine = sa.create_engine("sqlite://")  # in-memory; SQLAlchemy keeps one connection for it
    DifyBase.metadata.create_all(engine)
    with engine.begin() as conn:
        summary = seed_demo(conn, now=now, scale=scale, seed=seed, generation="sessions")
    return engine, summary


@pytest.fixture(scope="module")
def seeded() -> tuple[sa.Engine, DemoSummary]:
    return _seed()


@pytest.fixture(scope="module")
def db(seeded: tuple[sa.Engine, DemoSummary]) -> sa.Engine:
    return seeded[0]


def _rows(engine: sa.Engine, sql: str, **params) -> list[sa.Row]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(sql), params))


def _one(engine: sa.Engine, sql: str, **params) -> sa.Row:
    rows = _rows(engine, sql, **params)
    assert len(rows) == 1, (sql, params, rows)
    return rows[0]


def _dump(engine: sa.Engine, table: str) -> list[tuple]:
    """Every row of a table, in insertion order (SQLite rowid)."""
    return [tuple(r) for r in _rows(engine, f"SELECT * FROM {table} ORDER BY rowid")]


def _datetime_columns(table: str) -> list[str]:
    return [c.name for c in DifyBase.metadata.tables[table].columns if isinstance(c.type, sa.DateTime)]


# --- counts, speed, scales --------------------------------------------------------------------


def test_summary_counts_match_the_tables(seeded: tuple[sa.Engine, DemoSummary]) -> None:
    engine, summary = seeded
    assert set(summary.counts()) == set(TABLES)
    for table, count in summary.counts().items():
        assert _one(engine, f"SELECT count(*) FROM {table}")[0] == count, table
    assert summary.scale == "S" and summary.seed == 7
    assert "agents=" in str(summary)


def test_scale_s_is_small_but_covers_everything(seeded: tuple[sa.Engine, DemoSummary]) -> None:
    engine, summary = seeded
    assert 40 <= summary.agents <= 200
    assert {r[0] for r in _rows(engine, "SELECT DISTINCT scope FROM agents")} == {"roster", "workflow_only"}
    sources = {r[0] for r in _rows(engine, "SELECT DISTINCT source FROM agents")}
    assert {"agent_app", "workflow", "imported", "system", "roster", DemoIds.UNKNOWN_SOURCE} <= sources
    statuses = {r[0] for r in _rows(engine, "SELECT DISTINCT status FROM agents")}
    assert statuses == {"active", "archived", DemoIds.UNKNOWN_STATUS}
    assert {
        r[0] for r in _rows(engine, "SELECT DISTINCT icon_type FROM agents WHERE icon_type IS NOT NULL")
    } == {"emoji", "image", "link"}
    operations = {r[0] for r in _rows(engine, "SELECT DISTINCT operation FROM agent_config_revisions")}
    assert operations == {
        "create_version",
        "save_current_version",
        "save_new_version",
        "save_new_agent",
        "save_to_roster",
        "restore_version",
        "publish_draft",
        DemoIds.UNKNOWN_OPERATION,
    }
    assert {r[0] for r in _rows(engine, "SELECT DISTINCT mode FROM apps")} >= {
        "workflow",
        "advanced-chat",
        "agent",
    }
    run_statuses = {r[0] for r in _rows(engine, "SELECT DISTINCT status FROM workflow_runs")}
    assert run_statuses >= {"succeeded", "failed", "stopped", "partial-succeeded", "running", "paused"}
    pairs = {
        tuple(r) for r in _rows(engine, "SELECT DISTINCT owner_type, status FROM agent_runtime_sessions")
    }
    assert pairs == {(o, s) for o in ("workflow_run", "conversation") for s in ("active", "cleaned")}
    assert _one(engine, "SELECT count(*) FROM tenants")[0] == 3


def test_scale_s_seeds_fast() -> None:
    # Fast by construction, not by a clock: scale S stays a small, fixed amount of work (every test
    # database and the first-run demo are seeded at S).
    _, summary = _seed()
    assert 500 <= sum(summary.counts().values()) <= 3_000


def test_scales_grow_and_unknown_scale_is_refused() -> None:
    assert list(SCALES) == ["S", "M", "L"]
    s, m, large = SCALES["S"], SCALES["M"], SCALES["L"]
    assert s.blocks_per_tenant < m.blocks_per_tenant < large.blocks_per_tenant
    engine = sa.create_engine("sqlite://")
    with engine.begin() as conn, pytest.raises(ValueError, match="unknown scale"):
        seed_demo(conn, now=NOW, scale="XL")


def test_large_scale_code_path_streams_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """L's parameters on two blocks per workspace: inserts never exceed one chunk."""
    monkeypatch.setitem(SCALES, "L", dataclasses.replace(SCALES["L"], blocks_per_tenant=2))
    batches: list[int] = []

    class CountingConnection:
        def execute(self, statement, rows):
            batches.append(len(rows))

    summary = seed_demo(CountingConnection(), now=NOW, scale="L", generation="sessions")
    assert summary.agents > 100 and summary.agent_config_snapshots > summary.agents * 3
    assert max(batches) <= demo.CHUNK_SIZE
    assert sum(batches) == sum(summary.counts().values())


def test_seeds_postgresql(pg_url: str) -> None:
    engine = sa.create_engine(pg_url)
    DifyBase.metadata.create_all(engine)
    with engine.begin() as conn:
        summary = seed_demo(conn, now=NOW, generation="sessions")
    with engine.connect() as conn:
        for table, count in summary.counts().items():
            assert conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar() == count
        # The computed column is generated by the database.
        assert (
            conn.execute(
                sa.text("SELECT roster_unique_name FROM agents WHERE id = :id"),
                {"id": DemoIds.SHOWCASE_AGENT},
            ).scalar()
            == "Acme Support Assistant"
        )
    engine.dispose()


# --- determinism and the clock ----------------------------------------------------------------


def test_same_inputs_give_identical_rows(db: sa.Engine) -> None:
    other, _ = _seed()
    for table in TABLES:
        assert _dump(db, table) == _dump(other, table), table


def _digests(path: Path, generation: str) -> dict[str, tuple[int, str]]:
    """Seed one generation into a fresh SQLite file: per table, (rows, sha256 of every row in
    insertion order)."""
    engine = sa.create_engine(f"sqlite:///{path}")
    seed_database(engine, now=NOW, generation=generation)
    digests = {}
    with engine.connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            rows = [tuple(r) for r in conn.execute(sa.text(f'SELECT * FROM "{table}" ORDER BY rowid'))]
            digests[table] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    engine.dispose()
    return digests


@pytest.mark.parametrize("generation", ["sessions", "workspaces"])
def test_each_generation_seeds_identical_tables_twice(tmp_path: Path, generation: str) -> None:
    first = _digests(tmp_path / "first.sqlite", generation)
    second = _digests(tmp_path / "second.sqlite", generation)
    assert first == second
    assert first["agents"][0] > 0 and first["workflow_agent_node_bindings"][0] > 0


def test_another_seed_gives_other_rows_but_the_same_well_known_ids(db: sa.Engine) -> None:
    other, _ = _seed(seed=8)
    assert _dump(db, "agent_config_snapshots") != _dump(other, "agent_config_snapshots")
    assert (
        _one(other, "SELECT name FROM agents WHERE id = :id", id=DemoIds.HOSTILE_NAME_AGENT)[0]
        == DemoIds.HOSTILE_NAME
    )


def test_every_timestamp_is_at_or_before_now(db: sa.Engine) -> None:
    for table in TABLES:
        for column in _datetime_columns(table):
            latest = _one(db, f"SELECT max({column}) FROM {table}")[0]
            if latest is not None:
                assert datetime.fromisoformat(str(latest)) <= NOW, (table, column, latest)


def test_timestamps_follow_now(db: sa.Engine) -> None:
    """Seeding with another `now` shifts every timestamp by the same delta, row for row."""
    delta = timedelta(days=37, hours=3, seconds=17, microseconds=123456)
    shifted, _ = _seed(now=NOW + delta)
    checked = 0
    for table in TABLES:
        columns = _datetime_columns(table)
        select = f"SELECT {', '.join(columns)} FROM {table} ORDER BY rowid"
        before, after = _rows(db, select), _rows(shifted, select)
        assert len(before) == len(after), table
        for row_before, row_after in zip(before, after, strict=True):
            for a, b in zip(row_before, row_after, strict=True):
                assert (a is None) == (b is None), table
                if a is not None:
                    assert datetime.fromisoformat(str(b)) - datetime.fromisoformat(str(a)) == delta, table
                    checked += 1
    assert checked > 1000
    # Published workflow versions are publish times as text: they move too.
    versions = "SELECT version FROM workflows WHERE version != 'draft' ORDER BY rowid"
    for (a,), (b,) in zip(_rows(db, versions), _rows(shifted, versions), strict=True):
        assert datetime.fromisoformat(b) - datetime.fromisoformat(a) == delta


# --- shape of the data ------------------------------------------------------------------------


def test_json_documents_match_what_dify_stores() -> None:
    assert demo._orm_json(demo._blank_soul()) == BLANK_SOUL
    job = demo._job_doc(demo.PERSONA["support"], previous=None)
    job.update(workflow_prompt="", declared_outputs=[])
    assert demo._orm_json(job) == BLANK_JOB


def test_ids_are_v7_in_agent_tables_and_v4_in_core_tables(db: sa.Engine) -> None:
    for table in TABLES:
        expected = 7 if table in AGENT_TABLES else 4
        for (row_id,) in _rows(db, f"SELECT id FROM {table}"):
            assert uuid.UUID(row_id).version == expected, (table, row_id)


def test_agent_ids_carry_their_creation_time(db: sa.Engine) -> None:
    well_known = {v for k, v in vars(DemoIds).items() if isinstance(v, str) and k.isupper()}
    for row_id, created_at in _rows(db, "SELECT id, created_at FROM agent_config_snapshots"):
        if row_id in well_known or row_id in DemoIds.SHOWCASE_SNAPSHOTS:
            continue
        ms = uuid.UUID(row_id).int >> 80
        assert ms == (datetime.fromisoformat(str(created_at)) - datetime(1970, 1, 1)) // timedelta(
            milliseconds=1
        )


def test_versions_and_revisions_follow_difys_rules(db: sa.Engine) -> None:
    versions: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for agent_id, version, snapshot_id in _rows(
        db, "SELECT agent_id, version, id FROM agent_config_snapshots"
    ):
        versions[agent_id].append((version, snapshot_id))
    for agent_id, active in _rows(db, "SELECT id, active_config_snapshot_id FROM agents"):
        numbers = sorted(versions[agent_id])
        assert [n for n, _ in numbers] == list(range(1, len(numbers) + 1)), agent_id  # max + 1, no gaps
        assert active == numbers[-1][1], agent_id  # the newest snapshot is the active one
    owner = {snapshot_id: agent_id for agent_id, vs in versions.items() for _, snapshot_id in vs}
    revisions: dict[str, list[int]] = defaultdict(list)
    for agent_id, revision, op, current, previous in _rows(
        db,
        "SELECT agent_id, revision, operation, current_snapshot_id, previous_snapshot_id "
        "FROM agent_config_revisions ORDER BY agent_id, revision",
    ):
        revisions[agent_id].append(revision)
        assert owner[current] == agent_id
        if op == "save_current_version":
            assert owner[previous] == agent_id
        else:
            assert previous is None, (agent_id, op)
    for agent_id, numbers in revisions.items():
        assert numbers == list(range(1, len(numbers) + 1)), agent_id
    assert set(revisions) == set(versions)


def test_roster_names_are_unique_among_active_roster_agents(db: sa.Engine) -> None:
    rows = _rows(db, "SELECT tenant_id, name FROM agents WHERE scope = 'roster' AND status = 'active'")
    assert len(rows) == len(set(rows))


def test_bindings_match_their_workflow_rows(db: sa.Engine) -> None:
    rows = _rows(
        db,
        "SELECT b.workflow_version, w.version, w.app_id, b.app_id FROM workflow_agent_node_bindings b "
        "JOIN workflows w ON w.id = b.workflow_id",
    )
    assert rows and _one(db, "SELECT count(*) FROM workflow_agent_node_bindings")[0] == len(rows)
    for binding_version, workflow_version, workflow_app, binding_app in rows:
        assert binding_version == workflow_version and workflow_app == binding_app
    # apps.workflow_id names the newest published row; every workflow app has exactly one draft.
    for app_id, workflow_id in _rows(
        db, "SELECT id, workflow_id FROM apps WHERE mode IN ('workflow', 'advanced-chat')"
    ):
        assert (
            _one(db, "SELECT count(*) FROM workflows WHERE app_id = :a AND version = 'draft'", a=app_id)[0]
            == 1
        )
        newest = _rows(
            db,
            "SELECT id FROM workflows WHERE app_id = :a AND version != 'draft' "
            "ORDER BY created_at DESC LIMIT 1",
            a=app_id,
        )
        assert workflow_id == (newest[0][0] if newest else None)
    for version, created_at in _rows(
        db, "SELECT version, created_at FROM workflows WHERE version != 'draft'"
    ):
        assert version == str(datetime.fromisoformat(str(created_at)))


def test_session_owner_columns_are_exclusive(db: sa.Engine) -> None:
    for row in _rows(
        db,
        "SELECT owner_type, workflow_run_id, binding_id, node_id, conversation_id, status, "
        "cleaned_at, session_snapshot, composition_layer_specs FROM agent_runtime_sessions",
    ):
        owner, run, binding, node, conversation, status, cleaned_at, snapshot, specs = row
        if owner == "workflow_run":
            assert run and binding and node and conversation is None
        else:
            assert conversation and run is None and binding is None and node is None
        assert (status == "cleaned") == (cleaned_at is not None)
        layers = json.loads(snapshot)["layers"]
        assert {layer["lifecycle_state"] for layer in layers} <= {"new", "suspended", "closed"}
        assert "history" in [layer["name"] for layer in layers]
        spec_names = [s["name"] for s in json.loads(specs)]
        assert "llm" not in spec_names and "tools" not in spec_names  # plugin layers carry credentials


def test_secrets_and_pii_are_there_to_be_masked(db: sa.Engine) -> None:
    assert _rows(
        db, 'SELECT id FROM agent_config_snapshots WHERE config_snapshot LIKE \'%"value":"sk-demo-%\''
    )
    assert _rows(db, "SELECT id FROM agent_config_snapshots WHERE config_snapshot LIKE '%\"contacts\":[{%@%'")
    assert _rows(
        db, "SELECT id FROM workflow_agent_node_bindings WHERE node_job_config LIKE '%\"human_contacts\":[{%'"
    )
    assert _rows(db, "SELECT id FROM agent_runtime_sessions WHERE session_snapshot LIKE '%user-prompt%@%'")
    assert _rows(
        db, "SELECT id FROM agent_runtime_sessions WHERE composition_layer_specs LIKE '%{\"user\":%'"
    )


# --- the well-known rows ----------------------------------------------------------------------


def test_workspaces_and_people(db: sa.Engine) -> None:
    names = dict(_rows(db, "SELECT id, name FROM tenants"))
    assert names == {
        DemoIds.TENANT_ACME: "Acme Robotics",
        DemoIds.TENANT_NORTHWIND: "Northwind Health",
        DemoIds.TENANT_GLOBEX: "Globex Research Lab",
    }
    joined = {
        r[0]
        for r in _rows(
            db, "SELECT tenant_id FROM tenant_account_joins WHERE account_id = :a", a=DemoIds.ACCOUNT_OWNER
        )
    }
    assert joined == {DemoIds.TENANT_ACME, DemoIds.TENANT_GLOBEX}
    assert not _rows(
        db, "SELECT 1 FROM tenant_account_joins WHERE account_id = :a", a=DemoIds.ACCOUNT_DEPARTED
    )
    assert _rows(db, "SELECT 1 FROM agents WHERE created_by = :a", a=DemoIds.ACCOUNT_DEPARTED)


def test_showcase_agent_has_every_edit_kind(db: sa.Engine) -> None:
    agent = _one(
        db,
        "SELECT scope, source, status, app_id, active_config_snapshot_id FROM agents WHERE id = :id",
        id=DemoIds.SHOWCASE_AGENT,
    )
    assert tuple(agent[:4]) == ("roster", "agent_app", "active", DemoIds.APP_SUPPORT_ASSISTANT)
    assert agent[4] == DemoIds.SHOWCASE_SNAPSHOTS[-1]
    snapshots = _rows(
        db,
        "SELECT id, version, config_snapshot FROM agent_config_snapshots WHERE agent_id = :id "
        "ORDER BY version",
        id=DemoIds.SHOWCASE_AGENT,
    )
    assert [(s[0], s[1]) for s in snapshots] == [
        (sid, n) for n, sid in enumerate(DemoIds.SHOWCASE_SNAPSHOTS, 1)
    ]
    docs = [json.loads(s[2]) for s in snapshots]
    for text, doc in zip((s[2] for s in snapshots), docs, strict=True):
        assert text == demo._orm_json(doc)  # compact, sorted, as the ORM writes it
    prompts = [d["prompt"]["system_prompt"] for d in docs]
    assert prompts[0] != prompts[1] and "\n" in prompts[0]
    tools = [{t["tool_name"] for t in d["tools"]["dify_tools"]} for d in docs]
    assert tools[1] < tools[2] and "tavily_search" not in tools[4]  # added, then removed
    assert docs[2]["model"]["model"] != docs[3]["model"]["model"]
    assert (
        docs[2]["model"]["model_settings"]["temperature"] != docs[3]["model"]["model_settings"]["temperature"]
    )
    assert docs[3]["env"]["secret_refs"][0]["value"].startswith("sk-demo-")
    assert docs[4]["human"]["contacts"][0]["email"].endswith("@acme-robotics.example")
    ops = _rows(
        db,
        "SELECT revision, operation, current_snapshot_id, previous_snapshot_id, id "
        "FROM agent_config_revisions WHERE agent_id = :id ORDER BY revision",
        id=DemoIds.SHOWCASE_AGENT,
    )
    assert [r[1] for r in ops] == [
        "create_version",
        "save_current_version",
        "save_new_version",
        "save_current_version",
        "save_new_version",
        "restore_version",
        "publish_draft",
    ]
    assert ops[1][3] == DemoIds.SHOWCASE_SNAPSHOTS[0] and ops[3][3] == DemoIds.SHOWCASE_SNAPSHOTS[2]
    assert ops[5][4] == DemoIds.SHOWCASE_RESTORE_REVISION and ops[5][2] == DemoIds.SHOWCASE_SNAPSHOTS[2]


def test_hostile_rows(db: sa.Engine) -> None:
    def active_text(agent_id: str) -> str:
        return _one(
            db,
            "SELECT s.config_snapshot FROM agents a JOIN agent_config_snapshots s "
            "ON s.id = a.active_config_snapshot_id WHERE a.id = :id",
            id=agent_id,
        )[0]

    assert _one(db, "SELECT name FROM agents WHERE id = :id", id=DemoIds.HOSTILE_NAME_AGENT)[0] == (
        "<img src=x onerror=alert(1)> **bold** [x](javascript:alert(1))"
    )
    rtl = _one(db, "SELECT name FROM agents WHERE id = :id", id=DemoIds.RTL_NAME_AGENT)[0]
    assert rtl == DemoIds.RTL_NAME and "\u200d" in rtl and "ع" in rtl and "ע" in rtl

    assert (
        _one(
            db, "SELECT active_config_snapshot_id FROM agents WHERE id = :id", id=DemoIds.INVALID_JSON_AGENT
        )[0]
        == DemoIds.INVALID_JSON_SNAPSHOT
    )
    with pytest.raises(json.JSONDecodeError):
        json.loads(active_text(DemoIds.INVALID_JSON_AGENT))
    assert (
        _one(
            db,
            "SELECT active_config_snapshot_id FROM agents WHERE id = :id",
            id=DemoIds.NON_OBJECT_JSON_AGENT,
        )[0]
        == DemoIds.NON_OBJECT_JSON_SNAPSHOT
    )
    assert json.loads(active_text(DemoIds.NON_OBJECT_JSON_AGENT)) == []

    huge = json.loads(active_text(DemoIds.HUGE_PROMPT_AGENT))
    assert len(huge["prompt"]["system_prompt"]) >= 200_000
    assert (
        _one(db, "SELECT active_config_snapshot_id FROM agents WHERE id = :id", id=DemoIds.HUGE_PROMPT_AGENT)[
            0
        ]
        == DemoIds.HUGE_PROMPT_SNAPSHOT
    )
    assert (
        len(_one(db, "SELECT description FROM agents WHERE id = :id", id=DemoIds.HUGE_PROMPT_AGENT)[0])
        >= 64_000
    )

    assert tuple(
        _one(db, "SELECT status, source FROM agents WHERE id = :id", id=DemoIds.UNKNOWN_ENUM_AGENT)
    ) == ("suspended", "marketplace")
    assert (
        _one(
            db,
            "SELECT operation, agent_id FROM agent_config_revisions WHERE id = :id",
            id=DemoIds.UNKNOWN_OPERATION_REVISION,
        )[0]
        == "merge_versions"
    )


def test_newer_and_migrated_snapshots(db: sa.Engine) -> None:
    gen_e = _one(
        db,
        "SELECT a.source, s.config_snapshot FROM agents a JOIN agent_config_snapshots s "
        "ON s.id = a.active_config_snapshot_id WHERE a.id = :id",
        id=DemoIds.GEN_E_AGENT,
    )
    doc = json.loads(gen_e[1])
    assert (
        gen_e[0] == "roster"
        and "config_skills" in doc
        and "skills_files" not in doc
        and "sets" in doc["knowledge"]
    )
    texts = [
        r[0]
        for r in _rows(
            db,
            "SELECT config_snapshot FROM agent_config_snapshots WHERE agent_id = :id ORDER BY version",
            id=DemoIds.UNSORTED_JSON_AGENT,
        )
    ]
    unsorted = [t for t in texts if t != demo._orm_json(json.loads(t))]
    assert unsorted and len(unsorted) < len(texts)  # rewritten by the migration; newer rows are ORM-written
    # Declaration order (schema_version first) and ASCII escapes ("Dr. Müller" is line 0, never edited).
    assert all(t.startswith('{"schema_version":1') and "M\\u00fcller" in t for t in unsorted)


def test_roster_changes_from_workflows(db: sa.Engine) -> None:
    def ops(agent_id: str) -> list[str]:
        return [
            r[0]
            for r in _rows(
                db,
                "SELECT operation FROM agent_config_revisions WHERE agent_id = :id ORDER BY revision",
                id=agent_id,
            )
        ]

    assert ops(DemoIds.SAVED_TO_ROSTER_AGENT)[0] == "save_to_roster"
    assert ops(DemoIds.SAVED_AS_NEW_AGENT)[0] == "save_new_agent"
    for agent_id in (DemoIds.SAVED_TO_ROSTER_AGENT, DemoIds.SAVED_AS_NEW_AGENT):
        assert tuple(_one(db, "SELECT scope, source FROM agents WHERE id = :id", id=agent_id)) == (
            "roster",
            "workflow",
        )
    left = _one(
        db,
        "SELECT scope, status, workflow_id, workflow_node_id, app_id FROM agents WHERE id = :id",
        id=DemoIds.LEFT_BEHIND_INLINE_AGENT,
    )
    assert tuple(left[:2]) == ("workflow_only", "active") and left[2] and left[3]
    assert _one(db, "SELECT version FROM workflows WHERE id = :id", id=left[2])[0] == "draft"
    assert not _rows(
        db,
        "SELECT 1 FROM workflow_agent_node_bindings WHERE agent_id = :id",
        id=DemoIds.LEFT_BEHIND_INLINE_AGENT,
    )
    classifier = _one(
        db, "SELECT scope, app_id FROM agents WHERE id = :id", id=DemoIds.TICKET_CLASSIFIER_AGENT
    )
    assert tuple(classifier) == ("workflow_only", DemoIds.APP_TICKET_TRIAGE)


def test_drift_and_dangling_bindings(db: sa.Engine) -> None:
    def binding(binding_id: str) -> sa.Row:
        return _one(
            db,
            "SELECT b.binding_type, b.agent_id, b.current_snapshot_id, w.version, a.status, "
            "a.active_config_snapshot_id FROM workflow_agent_node_bindings b "
            "JOIN workflows w ON w.id = b.workflow_id LEFT JOIN agents a ON a.id = b.agent_id "
            "WHERE b.id = :id",
            id=binding_id,
        )

    def snapshot(snapshot_id: str) -> sa.Row | None:
        rows = _rows(
            db, "SELECT agent_id, version FROM agent_config_snapshots WHERE id = :id", id=snapshot_id
        )
        return rows[0] if rows else None

    kind, agent_id, current, version, _, active = binding(DemoIds.DRIFT_BINDING)
    assert (kind, agent_id, version) == ("roster_agent", DemoIds.SHOWCASE_AGENT, "draft")
    assert current != active and snapshot(current)[0] == DemoIds.SHOWCASE_AGENT
    assert snapshot(current)[1] < snapshot(active)[1]  # lags behind the agent's active snapshot

    kind, agent_id, current, _, status, _ = binding(DemoIds.DANGLING_AGENT_BINDING)
    assert agent_id == DemoIds.MISSING_AGENT and status is None and snapshot(current) is None
    kind, agent_id, current, _, status, _ = binding(DemoIds.MISSING_SNAPSHOT_BINDING)
    assert status == "active" and current == DemoIds.MISSING_SNAPSHOT and snapshot(current) is None
    kind, agent_id, current, _, status, _ = binding(DemoIds.FOREIGN_SNAPSHOT_BINDING)
    assert status == "active" and snapshot(current) is not None and snapshot(current)[0] != agent_id
    kind, agent_id, current, version, status, _ = binding(DemoIds.ARCHIVED_AGENT_BINDING)
    assert (agent_id, version, status) == (DemoIds.ARCHIVED_BOUND_AGENT, "draft", "archived")
    assert not _rows(db, "SELECT 1 FROM agents WHERE id = :id", id=DemoIds.MISSING_AGENT)


def test_sessions_of_runs(db: sa.Engine) -> None:
    def session(session_id: str) -> sa.Row:
        return _one(
            db,
            "SELECT s.status, s.workflow_run_id, r.status, r.finished_at, s.agent_id, s.updated_at "
            "FROM agent_runtime_sessions s LEFT JOIN workflow_runs r ON r.id = s.workflow_run_id "
            "WHERE s.id = :id",
            id=session_id,
        )

    status, run_id, run_status, finished, *_ = session(DemoIds.FINISHED_RUN_SESSION)
    assert (status, run_id, run_status) == ("active", DemoIds.RUN_SUCCEEDED_LEAKED, "succeeded") and finished
    status, run_id, run_status, finished, *_ = session(DemoIds.PAUSED_RUN_SESSION)
    assert (status, run_id, run_status, finished) == ("active", DemoIds.RUN_PAUSED, "paused", None)
    assert (
        _one(db, "SELECT resumed_at FROM workflow_pauses WHERE workflow_run_id = :id", id=run_id)[0] is None
    )
    # Every paused run has an open pause; pauses of finished runs were resumed.
    pauses = _rows(
        db,
        "SELECT r.status, p.resumed_at FROM workflow_pauses p JOIN workflow_runs r ON r.id = p.workflow_run_id",
    )
    assert {(run_status == "paused", resumed_at is None) for run_status, resumed_at in pauses} == {
        (True, True),
        (False, False),
    }
    assert not _rows(
        db,
        "SELECT 1 FROM workflow_runs r LEFT JOIN workflow_pauses p ON p.workflow_run_id = r.id "
        "WHERE r.status = 'paused' AND p.id IS NULL",
    )
    status, run_id, run_status, finished, *_ = session(DemoIds.RUNNING_RUN_SESSION)
    assert (status, run_id, run_status, finished) == ("active", DemoIds.RUN_RUNNING, "running", None)
    status, run_id, run_status, *_ = session(DemoIds.MISSING_RUN_SESSION)
    assert (status, run_id, run_status) == ("active", DemoIds.MISSING_RUN, None)
    status, _, _, _, agent_id, _ = session(DemoIds.ORPHANED_SESSION)
    assert status == "active" and agent_id == DemoIds.MISSING_AGENT
    # Finished runs that still hold ACTIVE sessions (leaks) exist beyond the well-known one.
    leaks = _one(
        db,
        "SELECT count(*) FROM agent_runtime_sessions s JOIN workflow_runs r ON r.id = s.workflow_run_id "
        "WHERE s.status = 'active' AND r.status IN ('succeeded', 'failed', 'stopped', 'partial-succeeded')",
    )
    assert leaks[0] >= 3


def test_sessions_of_conversations(db: sa.Engine) -> None:
    def session(session_id: str) -> sa.Row:
        return _one(
            db,
            "SELECT s.status, s.conversation_id, s.agent_config_snapshot_id, s.updated_at, c.is_deleted "
            "FROM agent_runtime_sessions s LEFT JOIN conversations c ON c.id = s.conversation_id "
            "WHERE s.id = :id",
            id=session_id,
        )

    old, new = session(DemoIds.SUPERSEDED_SESSION), session(DemoIds.SUPERSEDING_SESSION)
    assert old[0] == new[0] == "active" and old[1] == new[1] == DemoIds.CONVERSATION_SUPERSEDED
    assert old[2] != new[2] and str(old[3]) < str(new[3])
    assert new[2] == DemoIds.SHOWCASE_SNAPSHOTS[-1]
    status, conversation, _, _, is_deleted = session(DemoIds.DELETED_CONVERSATION_SESSION)
    assert (status, conversation, bool(is_deleted)) == ("active", DemoIds.CONVERSATION_DELETED, True)
    status, conversation, _, _, is_deleted = session(DemoIds.MISSING_CONVERSATION_SESSION)
    assert (status, conversation, is_deleted) == ("active", DemoIds.MISSING_CONVERSATION, None)
    status, _, _, updated_at, _ = session(DemoIds.IDLE_SESSION)
    assert status == "active" and datetime.fromisoformat(str(updated_at)) < NOW - timedelta(days=28)
