"""Agent Desk's integrity-check jobs: claims (one job per database, check and scope), runs, findings.

* `agent_desk_check_claims`: one row per (check, scope), created on first use and never deleted. A job
  owns the (check, scope) while `run_id` names it and its `heartbeat_at` is fresh; taking it is one
  conditional UPDATE (`run_id IS NULL OR (run_id = <seen holder> AND heartbeat_at < <stale>)`), so two
  servers asking at once start one job, on PostgreSQL, MySQL and SQLite alike, with no advisory lock.
* `agent_desk_check_runs`: one row per job: check, scope (`*` or a workspace id), optional single table,
  mode (full / incremental, and the full run it builds on), status (running / done / failed /
  interrupted / cancelled), heartbeat, timestamps, rows read in this run and rows covered, findings,
  the resume cursor (JSON: driving table -> last key read, in uuidv7 order), the cap on work per window
  and the Agent Desk version. A `running` row whose heartbeat is stale is shown as interrupted (the
  process died); the next job for the same claim records it so.
* `agent_desk_check_findings`: the offending rows a run found (up to a cap), with a masked detail and
  the link targets. Each run's findings are complete in themselves (an incremental run copies the
  findings it re-verified), so reading a result never joins runs.

Timestamps are naive UTC, like Dify's. Rows are written by `data.stores.check_runs` only.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from data.models.base import naive_utc_now, uuidv7
from data.models.own import AppBase
from data.types import LongText, StringUUID

CLAIMS_TABLE = "agent_desk_check_claims"
RUNS_TABLE = "agent_desk_check_runs"
FINDINGS_TABLE = "agent_desk_check_findings"
ALL_SCOPE = "*"  # the scope of an all-workspace run (else the workspace id)


class CheckClaim(AppBase):
    """Who runs (check, scope) now: `run_id` with a fresh heartbeat, or nobody."""

    __tablename__ = CLAIMS_TABLE
    __table_args__ = (sa.PrimaryKeyConstraint("check_name", "scope", name="agent_desk_check_claims_pkey"),)

    check_name: Mapped[str] = mapped_column(sa.String(64))
    scope: Mapped[str] = mapped_column(sa.String(36))
    run_id: Mapped[str | None] = mapped_column(StringUUID, nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(sa.DateTime, nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(sa.DateTime, nullable=True)


class CheckRun(AppBase):
    """One run of one check over one scope (and optionally one table)."""

    __tablename__ = RUNS_TABLE
    __table_args__ = (
        sa.PrimaryKeyConstraint("id", name="agent_desk_check_runs_pkey"),
        sa.Index("agent_desk_check_runs_check_idx", "check_name", "scope", "created_at"),
    )

    id: Mapped[str] = mapped_column(StringUUID, default=uuidv7)
    check_name: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    scope: Mapped[str] = mapped_column(sa.String(36), nullable=False)
    table_name: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)  # one table on demand
    mode: Mapped[str] = mapped_column(sa.String(16), nullable=False)  # full | incremental
    base_run_id: Mapped[str | None] = mapped_column(StringUUID, nullable=True)  # incremental: built on
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False)
    requested_by: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, nullable=False, default=naive_utc_now)
    started_at: Mapped[datetime | None] = mapped_column(sa.DateTime, nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(sa.DateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime, nullable=True)
    covered_since: Mapped[datetime | None] = mapped_column(sa.DateTime, nullable=True)  # its full run
    rows_read: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    rows_covered: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    rows_estimate: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)  # progress
    found: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    findings_stored: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    window_rows: Mapped[int] = mapped_column(sa.Integer, nullable=False)  # the cap on work per window
    cursor: Mapped[str | None] = mapped_column(LongText, nullable=True)  # JSON: table -> last key
    error: Mapped[str | None] = mapped_column(LongText, nullable=True)
    cancel_requested: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    app_version: Mapped[str] = mapped_column(sa.String(32), nullable=False)


class CheckFinding(AppBase):
    """One offending row (or agent, for the gap checks) of a run; `detail` is masked before storing."""

    __tablename__ = FINDINGS_TABLE
    __table_args__ = (
        sa.PrimaryKeyConstraint("id", name="agent_desk_check_findings_pkey"),
        sa.ForeignKeyConstraint(["run_id"], [f"{RUNS_TABLE}.id"], name="agent_desk_check_findings_run_fkey"),
        sa.Index("agent_desk_check_findings_run_idx", "run_id", "seq"),
    )

    id: Mapped[str] = mapped_column(StringUUID, default=uuidv7)
    run_id: Mapped[str] = mapped_column(StringUUID, nullable=False)
    seq: Mapped[int] = mapped_column(sa.Integer, nullable=False)  # order found
    table_name: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    row_id: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    tenant_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    detail: Mapped[str] = mapped_column(LongText, nullable=False)
    agent_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    app_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    workflow_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    node_id: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
