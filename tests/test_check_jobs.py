"""Check jobs: one job per check and scope across servers, killed jobs read as interrupted and the next
run completes, stored results equal live ones and are masked, incremental runs read only new rows,
cancel, the guard's statements; on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from data import cli, migrate
from data.actor import Actor, NotAllowed, Role, WritesDisabled
from data.db import WriteRefused, check_statement, create_engine
from data.models import Agent, AgentConfigSnapshot, AuditAction, naive_utc_now
from data.models.check_runs import CheckClaim, CheckRun
from data.services import check_jobs, integrity
from data.settings import Settings
from data.stores import check_runs
from tests.mariadb import MariaDB
from tests.test_integrity import EXPECTED, Ids, _id, build_planted, found_ids, run_cli
from tests.test_mysql_portability import mariadb  # noqa: F401  (module-scoped MariaDB server)

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = Settings()
#: Who runs the jobs in these tests: an operator of every workspace ("test", as the runs record it).
TESTER = Actor("test", Role.OPERATOR)
SERVER = Actor("server", Role.OPERATOR)


def guarded(url: str, settings: Settings = SETTINGS) -> sa.Engine:
    """An engine exactly as the app and the CLI open it (write guard on, policy from `settings`)."""
    return create_engine(url, settings)


def planted(url: str, **kwargs: bool) -> str:
    raw = sa.create_engine(url)
    build_planted(raw, **kwargs)
    migrate.upgrade(raw, "app")
    raw.dispose()
    return url


def run_all(engine: sa.Engine, **kwargs: object) -> dict[str, check_jobs.Outcome]:
    """Every check this schema can run, as a job (the newer generations' checks are not applicable)."""
    with engine.connect() as conn:
        present = integrity.present_names(conn)
    return {
        c.name: check_jobs.run_now(engine, c.name, actor=TESTER, **kwargs)
        for c in integrity.CHECKS
        if integrity.applicable(c, present)
    }


def stored(engine: sa.Engine, tenant_id: str | None = None) -> dict[str, integrity.CheckResult]:
    with engine.connect() as conn:
        report, _ = check_jobs.report(conn, tenant_id=tenant_id, sample_limit=50)
    return {r.name: r for r in report.results}


@pytest.fixture
def planted_url(empty_url: str) -> str:
    return planted(empty_url)


# --- the same findings as the live checks, window by window -----------------------------------


def test_stored_results_equal_the_live_checks_in_small_windows(planted_url: str) -> None:
    """Windows of 2 keys cut every table many times: every planted anomaly is still found exactly once."""
    engine = guarded(planted_url)
    outcomes = run_all(engine, window_rows=2)
    assert {o.status for o in outcomes.values()} == {"done"}
    results = stored(engine)
    engine.dispose()
    for name, expected in EXPECTED.items():
        result = results[name]
        assert result.stored is not None and result.stored.status == "done", name
        assert (result.count, found_ids(result), result.error) == (len(expected), expected, None), name
        assert result.stored.window_rows == 2 and result.scanned > 0


def test_one_workspace_falls_back_on_the_complete_all_workspace_run(planted_url: str) -> None:
    engine = guarded(planted_url)
    run_all(engine)
    mine, other = stored(engine, Ids.T), stored(engine, Ids.OTHER)
    engine.dispose()
    assert {n: found_ids(r) for n, r in mine.items()} == EXPECTED
    assert all(r.count == 0 for r in other.values())
    live = {c.name for c in integrity.CHECKS if integrity.runs_live(c, Ids.T)} & set(mine)
    assert {n for n, r in mine.items() if r.stored is None} == live  # index-backed: run live
    assert all(mine[n].stored.scope == "*" for n in set(mine) - live)


def test_one_table_on_demand(planted_url: str) -> None:
    engine = guarded(planted_url)
    outcome = check_jobs.run_now(engine, "invalid-json", table="workflow_agent_node_bindings", actor=TESTER)
    assert outcome.status == "done" and outcome.found == 1
    with engine.connect() as conn:
        report, _ = check_jobs.report(conn, names=["invalid-json"], table="workflow_agent_node_bindings")
        whole, _ = check_jobs.report(conn, names=["invalid-json"])
    engine.dispose()
    assert found_ids(report.results[0]) == {Ids.B_BAD_JSON}
    assert report.results[0].stored.table == "workflow_agent_node_bindings"
    assert whole.results[0].never_run  # a one-table run is not the whole check's result
    with pytest.raises(ValueError):
        check_jobs.request(guarded(planted_url), "invalid-json", table="agents", actor=TESTER)


# --- one job across servers -------------------------------------------------------------------


def test_two_servers_asking_for_the_same_check_start_one_job(pg_url: str) -> None:
    """Two engines (two servers' pools) claim the same check at the same moment: one job starts, the
    other is handed its run id; a third request while it runs shares it too."""
    planted(pg_url)
    servers = [guarded(pg_url), guarded(pg_url)]
    barrier = threading.Barrier(2)
    claims: list[check_jobs.Claimed] = []
    claimed_on: dict[str, sa.Engine] = {}  # the server that started the job runs it (its grant's engine)

    def ask(engine: sa.Engine) -> None:
        barrier.wait()
        claims.append(claim := check_jobs.request(engine, "invalid-json", actor=SERVER))
        if claim.started:
            claimed_on[claim.run_id] = engine

    threads = [threading.Thread(target=ask, args=(e,)) for e in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(c.started for c in claims) == [False, True]
    assert claims[0].run_id == claims[1].run_id
    third = check_jobs.request(servers[1], "invalid-json", actor=SERVER)
    assert not third.started and third.run_id == claims[0].run_id
    with servers[0].connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(CheckRun)).scalar()
    assert count == 1
    winner = next(c for c in claims if c.started)
    assert check_jobs.execute(claimed_on[winner.run_id], winner).status == "done"
    after = check_jobs.request(servers[1], "invalid-json", actor=SERVER)
    assert after.started and after.run_id != winner.run_id  # released: the next request runs
    for engine in servers:
        engine.dispose()


KILLER = """
import os, signal, sys
from data.db import create_engine
from data.services import check_jobs
from data.settings import Settings

from data.actor import Actor, Role

engine = create_engine(sys.argv[1], Settings())
def die(window):
    if window == 3:
        os.kill(os.getpid(), signal.SIGKILL)
doomed = Actor("doomed", Role.OPERATOR)
check_jobs.run_now(engine, "session-missing-agent", actor=doomed, window_rows=1, on_window=die)
"""


def test_a_killed_job_reads_as_interrupted_and_the_next_run_completes(pg_url: str) -> None:
    planted(pg_url)
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, pg_url], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert killed.returncode == -9, killed.stderr
    engine = guarded(pg_url)
    later_actor = Actor("next", Role.OPERATOR)
    check = integrity.BY_NAME["session-missing-agent"]
    later = naive_utc_now() + check_jobs.STALE_AFTER + timedelta(seconds=1)
    with engine.connect() as conn:
        fresh = check_jobs.stored_result(conn, check, None)
        dead = check_jobs.stored_result(conn, check, None, now=later)
    assert fresh.running is not None and fresh.result.stored.status == "running"  # heartbeat still fresh
    assert dead.running is None
    assert dead.result.stored.status == "interrupted" and "stopped" in dead.result.error
    assert dead.result.scanned == 3  # what the three committed windows covered stays readable
    # A request while the heartbeat is fresh shares the (dead) job; once it is stale, a new job starts.
    assert not check_jobs.request(engine, check.name, actor=later_actor).started
    claimed = check_jobs.request(engine, check.name, actor=later_actor, stale_after=timedelta(0))
    assert claimed.started and claimed.mode == "full"
    assert check_jobs.execute(engine, claimed).status == "done"
    with engine.connect() as conn:
        old = check_runs.get_run(conn, dead.result.stored.run_id)
        now = check_jobs.stored_result(conn, check, None)
    engine.dispose()
    assert old.status == "interrupted" and old.finished_at is not None  # recorded by the next claimant
    assert now.result.stored.status == "done" and found_ids(now.result) == EXPECTED[check.name]


def test_cancel_stops_after_the_current_window(sqlite_url: str) -> None:
    planted(sqlite_url)
    engine = guarded(sqlite_url)
    operator = Actor("op@example.com", Role.OPERATOR)
    claimed = check_jobs.request(engine, "invalid-json", actor=operator)

    def cancel_after_first(window: int) -> None:
        if window == 1:
            assert check_jobs.cancel(engine, claimed.run_id, actor=operator)

    outcome = check_jobs.execute(engine, claimed, window_rows=1, on_window=cancel_after_first)
    # Asked after window 1 committed: window 2 (running when the request arrived) ends, nothing after.
    assert outcome.status == "cancelled" and outcome.rows_read == 2
    assert check_jobs.request(engine, "invalid-json", actor=TESTER).started  # claim released
    engine.dispose()


def test_only_operators_start_jobs(sqlite_url: str) -> None:
    planted(sqlite_url)
    engine = guarded(sqlite_url)
    viewer = Actor("v@example.com", Role.VIEWER)
    assert check_jobs.run_block_reason(engine, viewer)
    with pytest.raises(NotAllowed):
        check_jobs.start_background(engine, ["invalid-json"], actor=viewer)
    read_only = guarded(sqlite_url, Settings(AGENT_DESK_READ_ONLY=True))
    admin = Actor("a@example.com", Role.ADMIN)
    assert check_jobs.run_block_reason(read_only, admin)
    with pytest.raises(WritesDisabled):
        check_jobs.start_background(read_only, ["invalid-json"], actor=admin)
    read_only.dispose()
    scoped = Actor("s@example.com", Role.OPERATOR, tenant_id=Ids.T)
    with pytest.raises(NotAllowed):  # a workspace-scoped operator runs only its own workspace
        check_jobs.start_background(engine, ["invalid-json"], actor=scoped)
    claims = check_jobs.start_background(engine, ["invalid-json"], actor=scoped, tenant_id=Ids.T)
    for thread in list(check_jobs._THREADS.values()):
        thread.join(timeout=60)
    with engine.connect() as conn:
        run = check_runs.get_run(conn, claims[0].run_id)
    engine.dispose()
    assert run.status == "done" and run.scope == Ids.T and run.requested_by == scoped.identity


# --- incremental ------------------------------------------------------------------------------


def test_an_incremental_run_reads_only_new_rows_and_reverifies_findings(pg_url: str) -> None:
    planted(pg_url)
    engine = guarded(pg_url)
    first = check_jobs.run_now(engine, "invalid-json", actor=TESTER)
    raw = sa.create_engine(pg_url)
    with raw.begin() as conn:  # three new snapshots (ids after every existing one), one of them bad
        for n, text in ((1, "{}"), (2, "not json"), (3, "[]")):
            conn.execute(
                sa.insert(AgentConfigSnapshot),
                dict(
                    id=_id(0xFFFF00 + n),
                    tenant_id=Ids.T,
                    agent_id=Ids.R,
                    version=10 + n,
                    config_snapshot=text,
                ),
            )
        conn.execute(  # and the planted bad binding is repaired
            sa.text("UPDATE workflow_agent_node_bindings SET node_job_config = '{}' WHERE id = :id"),
            {"id": Ids.B_BAD_JSON},
        )
    raw.dispose()
    second = check_jobs.run_now(engine, "invalid-json", actor=TESTER)
    with engine.connect() as conn:
        run = check_runs.get_run(conn, second.run_id)
        result = check_jobs.stored_result(conn, integrity.BY_NAME["invalid-json"], None).result
    full = check_jobs.run_now(engine, "invalid-json", mode="full", actor=TESTER)
    engine.dispose()
    assert run.mode == "incremental" and run.base_run_id == first.run_id
    assert second.rows_read == 1 + 3  # the re-verified finding, then only the new rows
    assert found_ids(result) == {_id(0xFFFF02), _id(0xFFFF03)}  # the repaired binding is gone
    assert result.stored.rows_covered == first.rows_read + 3
    assert full.rows_read == first.rows_read + 3 and full.found == 2


def test_gap_checks_judge_again_only_agents_with_new_rows(sqlite_url: str) -> None:
    planted(sqlite_url)
    engine = guarded(sqlite_url)
    first = check_jobs.run_now(engine, "version-gaps", actor=TESTER)
    second = check_jobs.run_now(engine, "version-gaps", actor=TESTER)
    raw = sa.create_engine(sqlite_url)
    with raw.begin() as conn:  # a new snapshot leaves a gap in RB's versions (1, 3)
        conn.execute(
            sa.insert(AgentConfigSnapshot),
            dict(id=_id(0xFFFF10), tenant_id=Ids.T, agent_id=Ids.RB, version=3, config_snapshot="{}"),
        )
    raw.dispose()
    third = check_jobs.run_now(engine, "version-gaps", actor=TESTER)
    with engine.connect() as conn:
        run = check_runs.get_run(conn, third.run_id)
        result = check_jobs.stored_result(conn, integrity.BY_NAME["version-gaps"], None).result
    engine.dispose()
    assert (first.found, second.found) == (1, 1) and first.rows_read > 10
    assert second.rows_read == 2  # only the rows of agent G, found last time
    assert run.mode == "incremental" and third.rows_read == 2 + 2  # G again, and RB (1 + the new one)
    assert found_ids(result) == {Ids.G, Ids.RB}


# --- masking, the CLI, the guard, MariaDB -----------------------------------------------------


def test_stored_findings_are_masked(sqlite_url: str) -> None:
    planted(sqlite_url)
    raw = sa.create_engine(sqlite_url)
    with raw.begin() as conn:  # a secret where an enum value belongs: the detail quotes stored values
        conn.execute(
            sa.text("UPDATE agents SET status = :s WHERE id = :id"), {"s": Ids.PLANTED_KEY, "id": Ids.U}
        )
    engine = guarded(sqlite_url)
    run_all(engine)
    with raw.connect() as conn:
        dump = "\n".join(
            str(row)
            for t in ("agent_desk_check_runs", "agent_desk_check_findings")
            for row in conn.execute(sa.text(f"SELECT * FROM {t}"))
        )
    raw.dispose()
    result = stored(engine)["unknown-enum-values"]
    engine.dispose()
    assert Ids.U in found_ids(result) and "status = " in result.samples[0].detail
    assert Ids.PLANTED_KEY not in dump and Ids.PLANTED_KEY not in result.samples[0].detail
    cli = run_cli("--format", "json", url=sqlite_url)
    assert cli.returncode == 1 and Ids.PLANTED_KEY not in cli.stdout


def test_cli_reports_stored_results_and_fresh_runs_again(sqlite_url: str) -> None:
    planted(sqlite_url)
    first = run_cli("--fresh", url=sqlite_url)
    assert first.returncode == 1, first.stderr
    assert "job done" in first.stdout and "windows of 5,000 rows" in first.stdout
    engine = sa.create_engine(sqlite_url)
    with engine.connect() as conn:
        before = conn.execute(sa.text("SELECT count(*) FROM agent_desk_check_runs")).scalar()
    stored_only = run_cli("--format", "json", url=sqlite_url)
    with engine.connect() as conn:
        after = conn.execute(sa.text("SELECT count(*) FROM agent_desk_check_runs")).scalar()
    engine.dispose()
    assert stored_only.returncode == 1 and after == before  # no --fresh: nothing ran again
    import json

    checks = {c["name"]: c for c in json.loads(stored_only.stdout)["checks"]}
    assert checks["invalid-json"]["age_seconds"] >= 0 and checks["invalid-json"]["count"] == 1
    assert run_cli("--check", "no-such-check", url=sqlite_url).returncode == 2


def test_cli_stores_results_in_local_mode_but_not_in_read_only_mode(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI's actor (local mode, no AGENT_DESK_ALLOW_WRITES) stores check results: they write no
    Dify table. Read-only mode stores nothing: every check runs live, with a note."""
    planted(sqlite_url)
    for name in [k for k in os.environ if k.startswith("AGENT_DESK_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("AGENT_DESK_READ_ONLY", "true")
    assert cli.main(["check", "--check", "invalid-json", "--fresh"]) == cli.EXIT_PROBLEMS
    out = capsys.readouterr()
    assert (
        "read-only" in out.err and "[error] invalid-json: 1  (bounded full scan)\n" in out.out
    )  # live, unstored
    engine = guarded(sqlite_url)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(CheckRun)).scalar() == 0
    monkeypatch.delenv("AGENT_DESK_READ_ONLY")
    assert cli.main(["check", "--check", "invalid-json"]) == cli.EXIT_PROBLEMS
    assert "job done" in capsys.readouterr().out
    with engine.connect() as conn:
        run = conn.execute(sa.select(CheckRun.requested_by, CheckRun.status)).one()
    engine.dispose()
    assert run.requested_by.startswith("cli:") and run.status == "done"


def test_health_page_starts_jobs_in_local_mode_and_offers_none_in_read_only_mode(
    sqlite_url: str, app_env_for
) -> None:
    """Local mode on a real (non-demo) database without AGENT_DESK_ALLOW_WRITES: the page's actor may
    still run checks (they write no Dify table). Read-only mode: no buttons, and the reason."""
    from tests.apptest_helpers import open_page

    planted(sqlite_url)
    app_env_for(sqlite_url, AGENT_DESK_READ_ONLY="true")
    at = open_page("health")
    assert not at.exception, [e.value for e in at.exception]
    assert not any(b.label == "Run again" for b in at.button)
    assert any("read-only mode" in c.value.replace("\\", "") for c in at.caption)  # markdown-escaped
    import streamlit as st

    st.cache_resource.clear()  # the engines and settings of the read-only run
    app_env_for(sqlite_url)
    at = open_page("health")
    next(b for b in at.button if b.label == "Run again").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    for thread in list(check_jobs._THREADS.values()):
        thread.join(timeout=60)
    engine = guarded(sqlite_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(CheckRun.requested_by, CheckRun.status)).all()
    engine.dispose()
    assert rows and {r.status for r in rows} == {"done"}
    assert all(r.requested_by.startswith("local:") for r in rows)


# The statements the jobs send, as the objects the stores execute: allowed inside an own (bookkeeping)
# write transaction, refused outside it.
JOB_STATEMENTS = [
    lambda: sa.insert(CheckRun).values(id="1"),
    lambda: (
        sa.update(CheckClaim)
        .where(
            CheckClaim.check_name == "c",
            sa.or_(CheckClaim.run_id.is_(None), CheckClaim.heartbeat_at < naive_utc_now()),
        )
        .values(run_id="r", claimed_at=naive_utc_now(), heartbeat_at=naive_utc_now())
    ),
    lambda: sa.update(CheckRun).where(CheckRun.id == "1", CheckRun.status == "running").values(status="done"),
]


@pytest.mark.parametrize("build", JOB_STATEMENTS)
def test_guard_allows_the_job_statements(build: Callable[[], object]) -> None:
    check_statement(build(), writing=True, own=True)
    with pytest.raises(WriteRefused):
        check_statement(build())


def _cte_delete() -> object:
    deleted = sa.delete(Agent).returning(Agent.id).cte("d")
    return sa.update(CheckRun).values(status=sa.select(deleted.c.id).scalar_subquery())


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM agent_desk_check_runs",
        "UPDATE agent_desk_check_runs SET status = (SELECT 1 FROM (DELETE FROM agents RETURNING 1) d)",
        "UPDATE agent_desk_audit_actions SET reason = 'x'",
        "UPDATE agents SET name = 'agent_desk_check_runs'",
        "INSERT INTO agent_desk_check_runs (id) VALUES (1)",  # SQL text: never, whatever it says
        lambda: sa.delete(CheckRun),
        _cte_delete,
        lambda: sa.update(AuditAction).values(reason="x"),
        lambda: sa.update(Agent).values(name="agent_desk_check_runs"),
        lambda: sa.update(CheckRun).values(check_name="x"),  # not a column the jobs update
    ],
)
def test_guard_still_refuses(statement: str | Callable[[], object]) -> None:
    built = statement if isinstance(statement, str) else statement()
    for writing, own in ((False, False), (True, False), (True, True)):
        with pytest.raises(WriteRefused):
            check_statement(built, writing=writing, own=own)


@pytest.fixture
def mysql_planted(mariadb: MariaDB) -> Iterator[str]:  # noqa: F811
    yield planted(mariadb.create_database("jobs"))


def test_jobs_on_mariadb(mysql_planted: str) -> None:
    """MariaDB: the claim, the windows, JSON_VALID as the prefilter, the stored findings."""
    engine = guarded(mysql_planted)
    outcomes = run_all(engine, window_rows=3)
    assert {o.status for o in outcomes.values()} == {"done"}
    results = stored(engine)
    with engine.connect() as conn:
        assert integrity.base_scope(conn).json_prefilter
    engine.dispose()
    assert {n: found_ids(r) for n, r in results.items()} == EXPECTED


def test_the_pg_input_is_valid_gate_is_server_version_num_160000() -> None:
    """The PostgreSQL JSON prefilter is chosen from `server_version_num`: from 160000 (16.0) on,
    never below. (No PostgreSQL 16 server here: the 16+ statement itself is untested on a server.)"""
    from data.stores.integrity.stored_values import has_pg_input_is_valid

    below = (0, 90624, 140011, 150007, 159999)
    from_16 = (160000, 160004, 170002, 180000)
    assert [has_pg_input_is_valid(n) for n in below] == [False] * len(below)
    assert [has_pg_input_is_valid(n) for n in from_16] == [True] * len(from_16)


def test_postgresql_chooses_the_prefilter_by_its_version_num(pg_url: str) -> None:
    """On the server here (PostgreSQL 15) every text is parsed in Python; the choice follows the
    server's own `server_version_num`, and the 16+ expression tests validity before the type."""
    from data.stores.integrity.stored_values import _surely_fine, has_pg_input_is_valid

    engine = guarded(pg_url)
    with engine.connect() as conn:
        number = int(conn.execute(sa.select(sa.func.current_setting("server_version_num"))).scalar_one())
        assert integrity.base_scope(conn).json_prefilter is has_pg_input_is_valid(number)
        expression = _surely_fine(conn, AgentConfigSnapshot.config_snapshot, dict)
        sql = str(expression.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    engine.dispose()
    assert sql.startswith("CASE WHEN pg_input_is_valid(agent_config_snapshots.config_snapshot, 'json')")
    assert "json_typeof(CAST(agent_config_snapshots.config_snapshot AS JSON)) = 'object'" in sql
