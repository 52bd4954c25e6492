"""Integrity checks of stored values: unknown enum values and unusable JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from data.models import Agent, DifyBase
from data.models import WorkflowAgentNodeBinding as Binding
from data.models.enums import (
    AgentIconType,
    AgentKind,
    AgentScope,
    AgentSource,
    AgentStatus,
    BindingType,
    RevisionOperation,
    SessionOwnerType,
    SessionStatus,
)
from data.stores.integrity.base import (
    STREAM_BATCH,
    Anomaly,
    Finding,
    Revision,
    Scope,
    Session,
    Snapshot,
    _column,
    _driving,
    _find,
    _only_existing_agents,
    _restrict,
    _with_samples,
)
from data.tolerant import normalize_uuid

# --- stored values: enums and JSON -------------------------------------------------------------------

#: Enum columns per table: (column, enum, empty string allowed). Values newer Dify versions write are
#: members of our enums (data.models.enums), so "unknown" means unknown to every Dify we know of.
ENUM_COLUMNS: dict[type[DifyBase], tuple[tuple[orm.InstrumentedAttribute[Any], type[StrEnum], bool], ...]] = {
    Agent: (
        (Agent.scope, AgentScope, False),
        (Agent.source, AgentSource, False),
        (Agent.status, AgentStatus, False),
        (Agent.agent_kind, AgentKind, False),
        (Agent.icon_type, AgentIconType, True),  # Dify reads "" as None
    ),
    Revision: ((Revision.operation, RevisionOperation, False),),
    Binding: ((Binding.binding_type, BindingType, False),),
    Session: ((Session.owner_type, SessionOwnerType, False), (Session.status, SessionStatus, False)),
}


def _unknown(
    column: sa.SQLColumnExpression[Any], enum: type[StrEnum], empty_ok: bool
) -> sa.ColumnElement[bool]:
    known = [m.value for m in enum] + ([""] if empty_ok else [])
    return sa.and_(column.is_not(None), column.not_in(known))


def unknown_enum_values(conn: sa.Connection, scope: Scope) -> Finding:
    """One bounded read per table; a row counts once, however many of its columns are unknown."""
    count = scanned = 0
    bounded = False
    samples: list[Anomaly] = []
    for model, columns in ENUM_COLUMNS.items():
        if not scope.has(model.__tablename__) or not scope.covers(model.__tablename__):
            continue
        extra = (_column(model, "agent_id"),) if hasattr(model, "agent_id") else ()
        s = _driving(
            model,
            (_column(model, "id"), _column(model, "tenant_id"), *extra, *(c for c, _, _ in columns)),
            scope,
        )
        anomaly = sa.or_(*(_unknown(s.c[c.key], enum, empty_ok) for c, enum, empty_ok in columns))
        table = model.__tablename__

        def make(r: sa.Row, columns=columns, table=table) -> Anomaly:
            values = [
                f"{c.key} = {r._mapping[c.key].raw!r}"
                for c, _, _ in columns
                if _is_unknown(r._mapping[c.key])
            ]
            agent = r.id if table == "agents" else getattr(r, "agent_id", None)
            return Anomaly(
                table, r.id, r.tenant_id, "Unknown value: " + ", ".join(values) + ".", agent_id=agent
            )

        finding = _find(conn, s, anomaly, _with_samples(scope, len(samples)), make)
        count, scanned = count + finding.count, scanned + finding.scanned
        bounded = bounded or finding.bounded
        samples.extend(finding.samples)
    return Finding(count, scanned, bounded, _only_existing_agents(conn, samples[: scope.sample_limit]))


def _is_unknown(value: object) -> bool:
    return value is not None and not getattr(value, "known", True) and getattr(value, "raw", "") != ""


@dataclass(frozen=True)
class JsonColumn:
    model: type[DifyBase]
    column: orm.InstrumentedAttribute[Any]
    shape: type  # dict or list


#: The JSON-bearing columns Dify stores as text (schema reference, sections 2 and 3.4).
JSON_COLUMNS: tuple[JsonColumn, ...] = (
    JsonColumn(Snapshot, Snapshot.config_snapshot, dict),
    JsonColumn(Binding, Binding.node_job_config, dict),
    JsonColumn(Session, Session.session_snapshot, dict),
    JsonColumn(Session, Session.composition_layer_specs, list),
)


def _json_error(text: str | None, shape: type) -> str | None:
    """What Dify's ORM would fail on: `json.loads` (no size or depth limit of our own) and the shape."""
    if text is None:
        return "no value (NULL)"
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if text.strip() == "":
        return "empty text"
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return f"invalid JSON: {exc}"
    if not isinstance(value, shape):
        expected = "an object" if shape is dict else "a list"
        return f"JSON is a {type(value).__name__}, not {expected}"
    return None


#: `pg_input_is_valid(text, type)` (and the `IS JSON` predicate) arrived in PostgreSQL 16.
PG_INPUT_IS_VALID_SINCE = 160000


def has_pg_input_is_valid(server_version_num: int) -> bool:
    """Whether a PostgreSQL server of this `server_version_num` (e.g. 150007, 160002) has
    `pg_input_is_valid`. The number, not the version string: "16beta1" or a vendor suffix parse
    differently, `server_version_num` is always major * 10000 + minor."""
    return server_version_num >= PG_INPUT_IS_VALID_SINCE


def json_prefilter(conn: sa.Connection) -> bool:
    """Whether this database can tell valid JSON of a shape without ever raising (then only the
    other texts travel to Python): PostgreSQL 16+ (`pg_input_is_valid`), MySQL 5.7+ / MariaDB 10.2+
    (`JSON_VALID`), SQLite with JSON1 and strict RFC 8259 `json_valid` (not 3.42-3.44, where it also
    accepted JSON5, which Python's json module rejects)."""
    name = conn.dialect.name
    if name == "postgresql":
        version = conn.execute(sa.select(sa.func.pg_catalog.current_setting("server_version_num"))).scalar()
        return has_pg_input_is_valid(int(version or 0))
    if name == "mysql":
        return True
    if name == "sqlite":
        import sqlite3

        version = sqlite3.sqlite_version_info
        if (3, 42) <= version < (3, 45):
            return False
        try:
            return conn.execute(sa.select(sa.func.json_valid(sa.literal("{}")))).scalar() == 1
        except sa.exc.SQLAlchemyError:
            return False
    return False


def _surely_fine(
    conn: sa.Connection, column: sa.SQLColumnExpression[Any], shape: type
) -> sa.ColumnElement[bool]:
    """True only for texts that are valid JSON of `shape`; NULL or False for everything else. The type
    test sits behind the validity test in a CASE, so it never sees invalid text."""
    name = conn.dialect.name
    if name == "postgresql":
        valid: sa.ColumnElement[Any] = sa.func.pg_input_is_valid(column, sa.literal("json"))
        kind = sa.func.json_typeof(sa.cast(column, sa.JSON))
        want = "object" if shape is dict else "array"
    elif name == "mysql":
        valid, kind, want = (
            sa.func.json_valid(column) == 1,
            sa.func.json_type(column),
            ("OBJECT" if shape is dict else "ARRAY"),
        )
    else:
        valid, kind, want = (
            sa.func.json_valid(column) == 1,
            sa.func.json_type(column),
            ("object" if shape is dict else "array"),
        )
    return sa.case((valid, kind == want), else_=sa.false())


def invalid_json(conn: sa.Connection, scope: Scope) -> Finding:
    """Each table read once (its JSON columns together), streamed in batches of STREAM_BATCH rows.

    The stream carries only the raw id and the texts (converting three uuids per row cost more than
    parsing); the few sample rows are then fetched by primary key for their references."""
    count = scanned = 0
    bounded = False
    samples: list[Anomaly] = []
    for model in dict.fromkeys(c.model for c in JSON_COLUMNS):
        if not scope.has(model.__tablename__) or not scope.covers(model.__tablename__):
            continue
        columns = [c for c in JSON_COLUMNS if c.model is model]
        rows = 0
        bad: dict[str, str] = {}  # id -> what is wrong, for the first samples
        candidates = None
        if scope.json_prefilter and scope.windowed:  # the database rejects the surely-fine texts
            rows = _window_count(conn, model, scope)
            candidates = sa.or_(
                *(sa.not_(sa.func.coalesce(_surely_fine(conn, c.column, c.shape), False)) for c in columns)
            )
        for row in _stream(conn, model, [c.column for c in columns], scope, where=candidates):
            if candidates is None:
                rows += 1
            errors = [
                f"{c.column.key}: {e}" for c in columns if (e := _json_error(row[c.column.key], c.shape))
            ]
            if errors:
                count += 1
                if len(samples) + len(bad) < scope.sample_limit:
                    bad[normalize_uuid(row["id"]) or str(row["id"])] = "; ".join(errors)
        samples.extend(_json_samples(conn, model, bad))
        scanned += rows
        bounded = bounded or rows >= scope.scan_limit
    return Finding(count, scanned, bounded, _only_existing_agents(conn, samples))


def _window_count(conn: sa.Connection, model: type[DifyBase], scope: Scope) -> int:
    query = _restrict(sa.select(sa.literal(1)).select_from(model), model, _column(model, "id"), scope).limit(
        scope.scan_limit
    )
    return int(conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one())


def _stream(
    conn: sa.Connection,
    model: type[DifyBase],
    columns: Iterable[sa.SQLColumnExpression[Any]],
    scope: Scope,
    where: sa.ColumnElement[bool] | None = None,
) -> Iterable[sa.RowMapping]:
    raw_id = sa.type_coerce(_column(model, "id"), sa.String).label("id")  # no per-row uuid conversion
    query = _restrict(sa.select(raw_id, *columns), model, _column(model, "id"), scope)
    if where is not None:
        query = query.where(where)
    result = conn.execute(query.limit(scope.scan_limit).execution_options(yield_per=STREAM_BATCH))
    for batch in result.mappings().partitions():
        yield from batch


def _json_samples(conn: sa.Connection, model: type[DifyBase], bad: dict[str, str]) -> list[Anomaly]:
    if not bad:
        return []
    refs = [
        c
        for c in (_attr(model, n) for n in ("agent_id", "app_id", "workflow_id", "node_id"))
        if c is not None
    ]
    rows = conn.execute(
        sa.select(_column(model, "id"), _column(model, "tenant_id"), *refs).where(
            _column(model, "id").in_(sorted(bad))
        )
    ).mappings()
    found = {
        row["id"]: Anomaly(
            model.__tablename__,
            row["id"],
            row["tenant_id"],
            bad[row["id"]],
            agent_id=row.get("agent_id"),
            app_id=row.get("app_id"),
            workflow_id=row.get("workflow_id"),
            node_id=row.get("node_id"),
        )
        for row in rows
    }
    return [found[i] for i in bad if i in found]


def _attr(model: type[DifyBase], name: str) -> sa.SQLColumnExpression[Any] | None:
    # Sessions have a node_id and workflow_id but are linked as sessions, not as bindings.
    if model is Session and name in ("workflow_id", "node_id"):
        return None
    return getattr(model, name, None)
