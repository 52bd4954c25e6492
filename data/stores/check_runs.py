"""SQL of the check jobs' own tables (`agent_desk_check_claims`, `_runs`, `_findings`).

Only INSERT and UPDATE (the write guard allows nothing else on these tables, and only the columns of
`data.guard.OWN_UPDATE_ALLOWED`); callers own the transactions: the writes run inside
`data.guard.write_transaction` with an own (bookkeeping) grant, the reads on any connection. The claim is a compare-and-swap on one row per (check, scope): see `take_claim`.
Finding details are masked (`data.masking.mask_text`) before they are written: nothing unmasked is
ever stored.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

import data
from data.masking import mask_text
from data.models import uuidv7
from data.models.check_runs import (
    CLAIMS_TABLE,
    FINDINGS_TABLE,
    RUNS_TABLE,
    CheckClaim,
    CheckFinding,
    CheckRun,
)
from data.stores.integrity import Anomaly

FINISHED = ("done", "failed", "interrupted", "cancelled")


@dataclass(frozen=True)
class RunRow:
    id: str
    check_name: str
    scope: str
    table_name: str | None
    mode: str
    base_run_id: str | None
    status: str  # as stored; see `effective_status`
    requested_by: str
    created_at: datetime
    started_at: datetime | None
    heartbeat_at: datetime | None
    finished_at: datetime | None
    covered_since: datetime | None
    rows_read: int
    rows_covered: int
    rows_estimate: int | None
    found: int
    findings_stored: int
    window_rows: int
    cursor: dict[str, str]
    error: str | None
    cancel_requested: bool
    app_version: str

    @property
    def complete_findings(self) -> bool:
        """Every finding of the run is stored (an incremental run can re-verify them all)."""
        return self.findings_stored >= self.found

    def effective_status(self, now: datetime, stale_after: timedelta) -> str:
        """`running` with a heartbeat older than `stale_after` is `interrupted` (its process died)."""
        if self.status == "running" and (self.heartbeat_at or self.created_at) < now - stale_after:
            return "interrupted"
        return self.status


def tables_present(conn: sa.Connection) -> bool:
    return {CLAIMS_TABLE, RUNS_TABLE, FINDINGS_TABLE} <= set(sa.inspect(conn).get_table_names())


# --- the claim -------------------------------------------------------------------------------------


def ensure_claim_row(conn: sa.Connection, check: str, scope: str) -> None:
    """Create the (check, scope) claim row; raises IntegrityError when it exists (callers ignore it,
    in a transaction of its own)."""
    conn.execute(sa.insert(CheckClaim).values(check_name=check, scope=scope, run_id=None))


def claim_row_exists(conn: sa.Connection, check: str, scope: str) -> bool:
    query = sa.select(CheckClaim.check_name).where(CheckClaim.check_name == check, CheckClaim.scope == scope)
    return conn.execute(query).first() is not None


def claim_holder(conn: sa.Connection, check: str, scope: str) -> tuple[str | None, datetime | None]:
    row = conn.execute(
        sa.select(CheckClaim.run_id, CheckClaim.heartbeat_at).where(
            CheckClaim.check_name == check, CheckClaim.scope == scope
        )
    ).first()
    return (row.run_id, row.heartbeat_at) if row else (None, None)


def take_claim(
    conn: sa.Connection,
    check: str,
    scope: str,
    *,
    seen: str | None,
    run_id: str,
    now: datetime,
    stale_before: datetime,
) -> bool:
    """Make `run_id` the holder if the holder is still `seen` and free (None) or stale. One UPDATE:
    of two servers racing, the second re-reads the row after the first commits and matches nothing."""
    free = (
        CheckClaim.run_id.is_(None)
        if seen is None
        else sa.and_(
            CheckClaim.run_id == seen,
            sa.or_(CheckClaim.heartbeat_at.is_(None), CheckClaim.heartbeat_at < stale_before),
        )
    )
    result = conn.execute(
        sa.update(CheckClaim)
        .where(CheckClaim.check_name == check, CheckClaim.scope == scope, free)
        .values(run_id=run_id, claimed_at=now, heartbeat_at=now)
    )
    return result.rowcount == 1


def beat(conn: sa.Connection, check: str, scope: str, run_id: str, now: datetime) -> bool:
    """Refresh the holder's heartbeat; False when the claim is no longer this run's (taken over)."""
    result = conn.execute(
        sa.update(CheckClaim)
        .where(CheckClaim.check_name == check, CheckClaim.scope == scope, CheckClaim.run_id == run_id)
        .values(heartbeat_at=now)
    )
    return result.rowcount == 1


def release(conn: sa.Connection, check: str, scope: str, run_id: str) -> None:
    conn.execute(
        sa.update(CheckClaim)
        .where(CheckClaim.check_name == check, CheckClaim.scope == scope, CheckClaim.run_id == run_id)
        .values(run_id=None)
    )


# --- runs ------------------------------------------------------------------------------------------


def insert_run(
    conn: sa.Connection,
    *,
    run_id: str,
    check: str,
    scope: str,
    table: str | None,
    mode: str,
    base_run_id: str | None,
    covered_since: datetime | None,
    requested_by: str,
    window_rows: int,
    rows_estimate: int | None,
    now: datetime,
) -> None:
    conn.execute(
        sa.insert(CheckRun).values(
            id=run_id,
            check_name=check,
            scope=scope,
            table_name=table,
            mode=mode,
            base_run_id=base_run_id,
            status="running",
            requested_by=requested_by[:255],
            created_at=now,
            started_at=now,
            heartbeat_at=now,
            covered_since=covered_since or now,
            rows_read=0,
            rows_covered=0,
            rows_estimate=rows_estimate,
            found=0,
            findings_stored=0,
            window_rows=window_rows,
            cursor=None,
            error=None,
            cancel_requested=False,
            app_version=data.__version__,
        )
    )


def progress(
    conn: sa.Connection,
    run_id: str,
    *,
    now: datetime,
    rows_read: int,
    rows_covered: int,
    found: int,
    findings_stored: int,
    cursor: dict[str, str],
) -> None:
    conn.execute(
        sa.update(CheckRun)
        .where(CheckRun.id == run_id)
        .values(
            heartbeat_at=now,
            rows_read=rows_read,
            rows_covered=rows_covered,
            found=found,
            findings_stored=findings_stored,
            cursor=json.dumps(cursor, sort_keys=True),
        )
    )


def finish(conn: sa.Connection, run_id: str, *, status: str, now: datetime, error: str | None = None) -> None:
    assert status in FINISHED, status
    conn.execute(
        sa.update(CheckRun)
        .where(CheckRun.id == run_id, CheckRun.status == "running")
        .values(status=status, finished_at=now, heartbeat_at=now, error=mask_text(error) if error else None)
    )


def mark_interrupted(conn: sa.Connection, run_id: str, now: datetime) -> None:
    """A run whose claim was taken over because its heartbeat went stale: its process died."""
    conn.execute(
        sa.update(CheckRun)
        .where(CheckRun.id == run_id, CheckRun.status == "running")
        .values(status="interrupted", finished_at=now, error="the job stopped (no heartbeat)")
    )


def request_cancel(conn: sa.Connection, run_id: str) -> bool:
    result = conn.execute(
        sa.update(CheckRun)
        .where(CheckRun.id == run_id, CheckRun.status == "running")
        .values(cancel_requested=True)
    )
    return result.rowcount == 1


def cancel_requested(conn: sa.Connection, run_id: str) -> bool:
    return bool(conn.execute(sa.select(CheckRun.cancel_requested).where(CheckRun.id == run_id)).scalar())


def _run(row: sa.Row) -> RunRow:
    values = dict(row._mapping)
    values["cursor"] = json.loads(values["cursor"]) if values["cursor"] else {}
    values["cancel_requested"] = bool(values["cancel_requested"])
    return RunRow(**values)


def get_run(conn: sa.Connection, run_id: str) -> RunRow | None:
    row = conn.execute(sa.select(*CheckRun.__table__.c).where(CheckRun.id == run_id)).first()
    return _run(row) if row else None


def latest_run(
    conn: sa.Connection, check: str, scope: str, *, status: str | None = None, table: str | None = None
) -> RunRow | None:
    """The newest run of (check, scope) over every table (`table` None) or one table; optionally only
    runs with the given stored status. A seek on agent_desk_check_runs_check_idx."""
    query = sa.select(*CheckRun.__table__.c).where(CheckRun.check_name == check, CheckRun.scope == scope)
    query = query.where(CheckRun.table_name.is_(None) if table is None else CheckRun.table_name == table)
    if status:
        query = query.where(CheckRun.status == status)
    row = conn.execute(query.order_by(CheckRun.created_at.desc(), CheckRun.id.desc()).limit(1)).first()
    return _run(row) if row else None


# --- findings --------------------------------------------------------------------------------------


def insert_findings(conn: sa.Connection, run_id: str, first_seq: int, anomalies: Sequence[Anomaly]) -> None:
    if not anomalies:
        return
    conn.execute(
        sa.insert(CheckFinding),
        [
            {
                "id": uuidv7(),
                "run_id": run_id,
                "seq": first_seq + i,
                "table_name": a.table,
                "row_id": str(a.id),
                "tenant_id": a.tenant_id,
                "detail": mask_text(a.detail),
                "agent_id": a.agent_id,
                "app_id": a.app_id,
                "workflow_id": a.workflow_id,
                "node_id": a.node_id,
            }
            for i, a in enumerate(anomalies)
        ],
    )


def findings(
    conn: sa.Connection, run_id: str, *, tenant_id: str | None = None, limit: int | None = None
) -> list[Anomaly]:
    """A run's stored findings in the order found (masked details), optionally of one workspace."""
    query = sa.select(
        CheckFinding.table_name,
        CheckFinding.row_id,
        CheckFinding.tenant_id,
        CheckFinding.detail,
        CheckFinding.agent_id,
        CheckFinding.app_id,
        CheckFinding.workflow_id,
        CheckFinding.node_id,
    ).where(CheckFinding.run_id == run_id)
    if tenant_id:
        query = query.where(CheckFinding.tenant_id == tenant_id)
    query = query.order_by(CheckFinding.seq)
    if limit is not None:
        query = query.limit(limit)
    return [
        Anomaly(
            r.table_name,
            r.row_id,
            r.tenant_id or "",
            r.detail,
            r.agent_id,
            r.app_id,
            r.workflow_id,
            r.node_id,
        )
        for r in conn.execute(query)
    ]


def count_findings(conn: sa.Connection, run_id: str, *, tenant_id: str | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(CheckFinding).where(CheckFinding.run_id == run_id)
    if tenant_id:
        query = query.where(CheckFinding.tenant_id == tenant_id)
    return int(conn.execute(query).scalar_one())


def new_run_id() -> str:
    return uuidv7()
