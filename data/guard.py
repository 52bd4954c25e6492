"""The write guard: what the app's engines may send to a Dify database, decided on statement structure.

Two layers, both installed by `data.db.create_engine` (docs/write-guard.md):

1. **Structure, not text.** A `before_execute` hook classifies the statement *object* SQLAlchemy is
   about to compile (never its SQL text):
   * `Select` / compound selects: allowed when every function they call is on `SAFE_FUNCTIONS`, they
     embed no raw SQL text (no `text()`, no literal columns but `*`, no hints, no prefixes but
     `MATERIALIZED`), contain no INSERT/UPDATE/DELETE (data-modifying CTE) and lock nothing. A locking
     read (`FOR UPDATE [SKIP LOCKED]`, `FOR SHARE`) is allowed only inside `write_transaction`, and only
     on the tables of `UPDATE_ALLOWED`.
   * `Update`: only inside `write_transaction`, only of a table in `UPDATE_ALLOWED`, setting only that
     table's listed columns (explicit values, parameter keys and `onupdate` defaults all count).
   * `Insert`: only inside `write_transaction`, only into Agent Desk's own tables (`INSERT_ALLOWED`),
     no ON CONFLICT / upsert.
   * `TextClause`: only the exact constant strings of `TEXT_CONSTANTS`.
   * `explain(conn, select)`: EXPLAIN of an allowed select.
   * SAVEPOINT / ROLLBACK TO / RELEASE (`conn.begin_nested()`; the name is a quoted identifier).
   * anything else (DELETE, DDL, compiled objects, unknown constructs) raises `WriteRefused`.
   A `before_cursor_execute` backstop refuses every cursor statement that was not approved by the hook
   above, so `exec_driver_sql` cannot bypass it. The one exemption: SQLAlchemy's own reflection
   statements on SQLite and MySQL/MariaDB, which are driver SQL (`REFLECTION_PATTERNS`, each a full
   match of one read-only statement form around one quoted identifier).
2. **The database enforces it too.** Every connection of a guarded engine starts read-only
   (PostgreSQL `default_transaction_read_only`, MySQL/MariaDB `SET SESSION TRANSACTION READ ONLY`,
   SQLite `PRAGMA query_only`). Only `write_transaction` switches one transaction to read-write, and it
   needs a `WriteGrant` that only `require_write` issues, after checking the deployment's write policy,
   which the engine received once, when it was built.

**Two kinds of grant.** `require_write` issues a `dify` grant: the cleanup and retire transitions
(`UPDATE_ALLOWED`), locking reads of those tables, and inserts into Agent Desk's own tables (the audit).
`require_bookkeeping` issues a narrower `own` grant for Agent Desk's own bookkeeping (the check jobs'
claims, runs and findings): inserts into its own tables and the in-place updates of
`OWN_UPDATE_ALLOWED`, nothing else. Under an `own` grant every UPDATE of a Dify table and every locking
read is refused. Because such a transaction writes no Dify table, only read-only mode (and the role /
workspace scope) refuses an `own` grant, not the local-mode `AGENT_DESK_ALLOW_WRITES` rule.
"""

from __future__ import annotations

import logging
import re
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.sql import dml, elements, functions, operators, selectable, visitors

from data import logs
from data.actor import Actor, NotAllowed, Role, WritesDisabled, read_only_reason, require, write_block_reason
from data.errors import WriteRefused
from data.models import AppBase

_log = logs.get_logger("guard")

# --- the declarative policy ----------------------------------------------------------------------------

#: The only UPDATEs Agent Desk makes to Dify's tables: table -> the columns it may set.
#: agent_runtime_sessions: the session cleanup (Dify's `mark_cleaned`). The two others: the Dify 1.17
#: retire transitions (a workspace and its bindings). Home snapshots are never retired by hand (a draft or
#: snapshot may still reference one); Agent Desk only re-sends their collection.
UPDATE_ALLOWED: Mapping[str, frozenset[str]] = {
    "agent_runtime_sessions": frozenset({"status", "cleaned_at", "updated_at"}),
    "agent_workspaces": frozenset({"status", "retired_at", "active_guard", "updated_at"}),
    "agent_workspace_bindings": frozenset({"status", "retired_at", "updated_at"}),
}

#: Locking reads (FOR UPDATE [SKIP LOCKED] / FOR SHARE) are allowed on exactly the tables we may update.
LOCKABLE: frozenset[str] = frozenset(UPDATE_ALLOWED)

#: Agent Desk's own tables; never its alembic version table. Inserts need a grant of either kind.
INSERT_ALLOWED: frozenset[str] = frozenset(AppBase.metadata.tables)

#: The only UPDATEs of an `own` (bookkeeping) grant, and the only rows of Agent Desk's own tables that
#: change after insert: the check jobs' claim (holder and heartbeat) and run (progress, heartbeat,
#: status, cancel request). The audit tables and the findings stay insert-only.
OWN_UPDATE_ALLOWED: Mapping[str, frozenset[str]] = {
    "agent_desk_check_claims": frozenset({"run_id", "claimed_at", "heartbeat_at"}),
    "agent_desk_check_runs": frozenset(
        {
            "heartbeat_at", "rows_read", "rows_covered", "found", "findings_stored", "cursor",
            "status", "finished_at", "error", "cancel_requested",
        }
    ),
}  # fmt: skip
assert set(OWN_UPDATE_ALLOWED) <= INSERT_ALLOWED and not set(OWN_UPDATE_ALLOWED) & set(UPDATE_ALLOWED)

#: A grant's kind: `dify` from `require_write`, `own` from `require_bookkeeping`.
GrantKind = Literal["dify", "own"]

#: Functions a read may call: aggregates and scalar functions without side effects the app uses, and
#: the catalog functions of SQLAlchemy's PostgreSQL reflection. Anything else (pg_sleep,
#: pg_terminate_backend, set_config, nextval, a user-defined function, ...) is refused.
SAFE_FUNCTIONS: frozenset[str] = frozenset(
    {
        # aggregates and window functions
        "count", "sum", "min", "max", "avg", "array_agg", "string_agg", "row_number", "rank", "dense_rank",
        # scalar functions
        "coalesce", "nullif", "greatest", "least", "length", "char_length", "lower", "upper", "abs",
        "now", "current_timestamp", "localtimestamp", "current_date", "current_setting",
        # PostgreSQL catalog functions used by SQLAlchemy's reflection (all read-only)
        "format_type", "pg_get_expr", "pg_get_constraintdef", "pg_get_indexdef", "pg_get_serial_sequence",
        "pg_table_is_visible", "pg_type_is_visible", "obj_description", "col_description",
        "generate_subscripts", "unnest", "current_schema", "array_position", "to_regclass",
        "pg_get_viewdef", "array_length", "cardinality", "json_build_object", "bool_and", "cast",
        "quote_ident", "pg_collation_is_visible", "version",
        # JSON tests that never raise (the integrity checks' prefilter, data/stores/integrity.py)
        "pg_input_is_valid", "json_typeof", "json_valid", "json_type",
        # replica lag (data/stores/replica.py): read-only WAL positions and recovery state
        "pg_is_in_recovery", "pg_last_wal_replay_lsn", "pg_last_xact_replay_timestamp", "pg_current_wal_lsn",
    }
)  # fmt: skip
_FUNCTION_SCHEMAS = ((), ("pg_catalog",))

#: Raw SQL text the app itself sends (data/stores/counts.py: planner estimates). Exact strings only.
TEXT_CONSTANTS: frozenset[str] = frozenset(
    {
        "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(:t)",
        "SELECT table_rows FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = :t",
        "SELECT most_common_vals::text::text[], most_common_freqs FROM pg_stats "
        "WHERE schemaname = current_schema() AND tablename = :t AND attname = :c",
    }
)

_SAVEPOINTS = (elements.SavepointClause, elements.RollbackToSavepointClause, elements.ReleaseSavepointClause)

#: Prefixes / literal text SQLAlchemy constructs may carry (CTE MATERIALIZED, count(*)).
_INNER_TEXT = frozenset({"MATERIALIZED", "NOT MATERIALIZED", "*"})

_SQLITE_IDENT = r'"(?:[^"]|"")+"'
_MYSQL_IDENT = r"`(?:[^`]|``)+`"
#: SQLAlchemy's reflection on SQLite and MySQL/MariaDB runs driver SQL (never `before_execute`).
#: Each pattern is one read-only statement form, matched in full.
REFLECTION_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.S)
    for p in (
        rf"PRAGMA {_SQLITE_IDENT}\.(table_x?info|index_list|index_x?info|foreign_key_list)\({_SQLITE_IDENT}\)",
        rf"PRAGMA (main|temp)\.(table_x?info|index_list|index_x?info|foreign_key_list)\({_SQLITE_IDENT}\)",
        r"SELECT name FROM (sqlite_master|sqlite_temp_master) WHERE type='(table|view|index)' "
        r"AND name NOT LIKE 'sqlite~_%' ESCAPE '~' ORDER BY name",
        r"SELECT sql FROM  \(SELECT \* FROM sqlite_master UNION ALL   SELECT \* FROM sqlite_temp_master\) "
        r"WHERE name = \? AND type in \('table', 'view'\)",
        r"SELECT sql FROM (sqlite_master|sqlite_temp_master) WHERE name = \? AND type = '(index|table|view)'",
        rf"SHOW FULL TABLES FROM {_MYSQL_IDENT}",
        rf"SHOW CREATE TABLE ({_MYSQL_IDENT}\.)?{_MYSQL_IDENT}",
        rf"DESCRIBE ({_MYSQL_IDENT}\.)?{_MYSQL_IDENT}",
    )
)


# --- classification --------------------------------------------------------------------------------------


def _name(table: Any) -> str | None:
    if isinstance(table, sa.TableClause) and table.schema is None:
        return table.name
    return None


def _check_parts(element: Any, *, writing: bool, own: bool = False) -> None:
    """Every node below `element`: no nested write, only safe functions, no raw text, no stray lock."""
    for node in visitors.iterate(element):
        if isinstance(node, dml.UpdateBase):
            raise WriteRefused(f"a read may not contain {type(node).__name__.upper()} (data-modifying CTE)")
        if isinstance(node, functions.FunctionElement):
            packages = tuple(str(p).lower() for p in getattr(node, "packagenames", ()) or ())
            if str(node.name).lower() not in SAFE_FUNCTIONS or packages not in _FUNCTION_SCHEMAS:
                raise WriteRefused(f"function {'.'.join((*packages, str(node.name)))!r} is not allowed")
        elif isinstance(node, elements.TextClause):
            if node.text.strip() not in _INNER_TEXT:
                raise WriteRefused(f"raw SQL text inside a statement: {node.text[:80]!r}")
        elif isinstance(node, elements.ColumnClause) and node.is_literal:
            if node.name not in _INNER_TEXT:
                raise WriteRefused(f"literal SQL column: {node.name[:80]!r}")
        elif isinstance(node, elements.BinaryExpression) and isinstance(node.operator, operators.custom_op):
            raise WriteRefused(f"custom SQL operator {node.operator.opstring!r}")
        _check_raw_slots(node)
        if isinstance(node, selectable.Select) and node._for_update_arg is not None:
            _check_lock(node, writing=writing, own=own)


def _check_raw_slots(node: Any) -> None:
    """Prefixes, suffixes and hints are raw text SQLAlchemy pastes into the statement."""
    for attribute in ("_prefixes", "_suffixes"):
        for text, _dialect in getattr(node, attribute, ()) or ():
            if str(getattr(text, "text", text)).strip() not in _INNER_TEXT:
                raise WriteRefused(f"raw SQL {attribute[1:-2]}: {str(text)[:80]!r}")
    if getattr(node, "_hints", None) or getattr(node, "_statement_hints", None):
        raise WriteRefused("SQL hints are raw text")


def _check_lock(select: selectable.Select, *, writing: bool, own: bool = False) -> None:
    if not writing:
        raise WriteRefused("a locking read (FOR UPDATE / FOR SHARE) only inside the write transaction")
    if own:
        raise WriteRefused("a bookkeeping (own) write transaction takes no row locks")
    tables = {_name(t) for t in _tables_of(select)}
    if not tables or not tables <= LOCKABLE:
        raise WriteRefused(f"a locking read only on {sorted(LOCKABLE)}, not {sorted(map(str, tables))}")


def _tables_of(select: selectable.Select) -> list[Any]:
    """The tables a locking select reads directly (its FROM list, through joins and aliases)."""
    found: list[Any] = []
    pending = list(select.get_final_froms())
    while pending:
        from_ = pending.pop()
        if isinstance(from_, selectable.Join):
            pending += [from_.left, from_.right]
        elif isinstance(from_, selectable.Alias) and isinstance(from_.element, sa.TableClause):
            pending.append(from_.element)
        else:
            found.append(from_)  # a table, or a subquery (never lockable: its `_name` is None)
    return found


def _set_columns(update: dml.Update, parameters: Sequence[Mapping[str, Any]]) -> set[str]:
    table = update.table
    columns = {c.key: c.name for c in table.c}
    names: set[str] = set()
    values: Iterable[Any] = list((update._values or {}).keys())
    for key in values:
        names.add(getattr(key, "name", None) or columns.get(str(key), str(key)))
    for params in parameters:  # conn.execute(update(t), {"status": ...}) sets status too
        names.update(columns[k] for k in params if k in columns)
    names.update(c.name for c in table.c if c.onupdate is not None)  # added by SQLAlchemy itself
    return names


def _update_parts(update: dml.Update) -> list[Any]:
    parts: list[Any] = list((update._values or {}).values())
    if update._where_criteria:
        parts.extend(update._where_criteria)
    parts.extend(update._returning)
    return parts


def _check_update(
    update: dml.Update, parameters: Sequence[Mapping[str, Any]], *, writing: bool, own: bool
) -> None:
    table = _name(update.table)
    if table is None:  # not a plain table of the default schema: never one Agent Desk updates
        raise WriteRefused(f"Agent Desk does not update {update.table!r}")
    if table in OWN_UPDATE_ALLOWED:
        allowed = OWN_UPDATE_ALLOWED[table]
        if writing and not own:
            raise WriteRefused(f"UPDATE {table} only with a bookkeeping grant (require_bookkeeping)")
    elif table in UPDATE_ALLOWED:
        allowed = UPDATE_ALLOWED[table]
        if own:
            raise WriteRefused(f"a bookkeeping (own) grant never updates Dify's {table!r}")
    else:
        raise WriteRefused(f"Agent Desk does not update {table!r}")
    if not writing:
        raise WriteRefused("an UPDATE only inside the write transaction")
    extra = _set_columns(update, parameters) - allowed
    if extra:
        raise WriteRefused(f"UPDATE {table} may set only {sorted(allowed)}, not {sorted(extra)}")
    _check_raw_slots(update)
    for part in _update_parts(update):
        _check_parts(part, writing=writing, own=own)


def _check_insert(insert: dml.Insert, *, writing: bool, own: bool) -> None:
    table = _name(insert.table)
    if table not in INSERT_ALLOWED:
        raise WriteRefused(f"Agent Desk inserts only into its own tables, not {table or insert.table!r}")
    if not writing:
        raise WriteRefused("an INSERT only inside the write transaction")
    if getattr(insert, "_post_values_clause", None) is not None:
        raise WriteRefused("INSERT ... ON CONFLICT / ON DUPLICATE KEY is not allowed")
    _check_raw_slots(insert)
    parts: list[Any] = list((insert._values or {}).values()) + list(insert._returning)
    for row in insert._multi_values or ():
        for values in row:
            parts.extend(values.values() if isinstance(values, Mapping) else values)
    if insert.select is not None:
        parts.append(insert.select)
    for part in parts:
        _check_parts(part, writing=writing, own=own)


def check_statement(
    statement: Any,
    *,
    writing: bool = False,
    own: bool = False,
    parameters: Sequence[Mapping[str, Any]] = (),
) -> None:
    """Raise WriteRefused unless `statement` (a SQLAlchemy statement object, or driver SQL text) is
    allowed; `writing` means "inside `write_transaction`", `own` "... of an own (bookkeeping) grant".
    Pure: no database needed."""
    if isinstance(statement, str):
        if not any(p.fullmatch(statement) for p in REFLECTION_PATTERNS):
            raise WriteRefused(f"Agent Desk does not send this SQL text: {statement[:120]!r}")
        return
    if isinstance(statement, elements.TextClause):
        if statement.text not in TEXT_CONSTANTS:
            raise WriteRefused(f"Agent Desk does not send this SQL text: {statement.text[:120]!r}")
        return
    if isinstance(statement, _SAVEPOINTS):  # conn.begin_nested(): names are quoted identifiers
        return None
    shape = _shape(statement, writing, own, parameters)
    if shape is not None and shape in _APPROVED_SHAPES:
        return None
    if isinstance(statement, (selectable.Select, selectable.CompoundSelect)):
        _check_parts(statement, writing=writing, own=own)
    elif isinstance(statement, dml.Update):
        _check_update(statement, parameters, writing=writing, own=own)
    elif isinstance(statement, dml.Insert):
        _check_insert(statement, writing=writing, own=own)
    else:
        raise WriteRefused(
            f"Agent Desk does not execute {type(statement).__name__}: {str(statement)[:120]!r}"
        )
    if shape is not None:
        if len(_APPROVED_SHAPES) >= _APPROVED_SHAPES_MAX:
            _APPROVED_SHAPES.clear()  # a bound, not an LRU: the app has a few hundred shapes at most
        _APPROVED_SHAPES.add(shape)
    return None


#: Approved statement shapes. Walking a statement costs about a millisecond (the guard was most of a
#: page's time); SQLAlchemy's cache key names a statement's whole structure (tables, columns, functions,
#: literal text, locking clause, ...) without its bound values, the same key its compiled-SQL cache
#: trusts, so a statement with an approved key compiles to approved SQL. Only approvals are remembered.
_APPROVED_SHAPES: set[tuple[Any, ...]] = set()
_APPROVED_SHAPES_MAX = 4096


def _shape(
    statement: Any, writing: bool, own: bool, parameters: Sequence[Mapping[str, Any]]
) -> tuple[Any, ...] | None:
    """The approval cache key of a statement: its SQLAlchemy cache key, whether inside the write
    transaction and of which grant kind (a cleanup UPDATE approved under a Dify grant is not approved
    under an own grant), and the parameter names (an UPDATE's parameters can add SET columns). None
    when SQLAlchemy cannot key the statement (then it is checked every time)."""
    try:
        key = statement._generate_cache_key()
    except Exception:  # an uncacheable construct: no shortcut
        return None
    if key is None:
        return None
    names = tuple(tuple(sorted(map(str, p))) for p in parameters)
    return (key.key, writing, own, names)


# --- the write policy and the gate -------------------------------------------------------------------------


@dataclass(frozen=True)
class WritePolicy:
    """The deployment's write policy, fixed when the engine is built (settings + which database)."""

    read_only: bool
    allow_writes: bool
    is_demo: bool

    def block_reason(self, actor: Actor) -> str | None:
        return write_block_reason(
            read_only=self.read_only, allow_writes=self.allow_writes, is_demo=self.is_demo, actor=actor
        )


@dataclass(frozen=True)
class WriteGrant:
    """Proof that `require_write` (kind `dify`) or `require_bookkeeping` (kind `own`) let `actor` write
    on one engine; `write_transaction` needs it and allows what its kind allows."""

    actor: Actor
    needed: Role
    tenant_id: str | None
    kind: GrantKind
    _token: object = field(repr=False, compare=False)


@dataclass
class EngineGuard:
    policy: WritePolicy
    #: One token per grant kind, so a grant's kind cannot be changed (`dataclasses.replace`) to widen it.
    tokens: Mapping[str, object] = field(default_factory=lambda: {"dify": object(), "own": object()})


_GUARDS: weakref.WeakKeyDictionary[sa.Engine, EngineGuard] = weakref.WeakKeyDictionary()
_APPROVED = "agent_desk.approved"  # conn.info: the statement object before_execute approved last
_APPROVED_SQL = "agent_desk.approved_sql"  # conn.info: the one driver string `explain` approved
_WRITING = "agent_desk.writing"  # conn.info: inside write_transaction: the grant's kind


def _guard_of(engine: sa.Engine) -> EngineGuard:
    guard = _GUARDS.get(engine)
    if guard is None:
        raise WritesDisabled("this engine has no write guard: writes go through data.db.create_engine")
    return guard


def policy_of(engine: sa.Engine) -> WritePolicy:
    return _guard_of(engine).policy


def block_reason(engine: sa.Engine, actor: Actor) -> str | None:
    """Why `actor` may not write on `engine` now (deployment policy only; role checks come on top)."""
    return _guard_of(engine).policy.block_reason(actor)


def require_write(engine: sa.Engine, actor: Actor, needed: Role, *, tenant_id: str | None) -> WriteGrant:
    """The server-side gate every write calls first: the engine's policy, then role and workspace."""
    guard = _guard_of(engine)
    reason = guard.policy.block_reason(actor)
    if reason:
        _refused(actor, needed, tenant_id, "dify", "writes_disabled")
        raise WritesDisabled(reason)
    _require(actor, needed, tenant_id, "dify")
    return WriteGrant(actor, needed, tenant_id, "dify", guard.tokens["dify"])


def _refused(actor: Actor, needed: Role, tenant_id: str | None, kind: str, refusal: str) -> None:
    logs.event(
        _log,
        "write.gate",
        "refused",
        actor=actor,
        level=logging.WARNING,
        tenant_id=tenant_id,
        needed=needed.name.lower(),
        grant=kind,
        refusal=refusal,
    )


def _require(actor: Actor, needed: Role, tenant_id: str | None, kind: str) -> None:
    try:
        require(actor, needed, tenant_id=tenant_id)
    except NotAllowed:
        _refused(actor, needed, tenant_id, kind, "not_allowed")
        raise


def require_bookkeeping(
    engine: sa.Engine, actor: Actor, needed: Role, *, tenant_id: str | None
) -> WriteGrant:
    """The gate of Agent Desk's own bookkeeping (the check jobs): refused in read-only mode, then by
    role and workspace. The local-mode rule (`AGENT_DESK_ALLOW_WRITES`) does not apply: the grant's
    transactions can write no Dify table (`OWN_UPDATE_ALLOWED`, inserts into own tables only)."""
    guard = _guard_of(engine)
    if guard.policy.read_only:
        _refused(actor, needed, tenant_id, "own", "writes_disabled")
        raise WritesDisabled(read_only_reason())
    _require(actor, needed, tenant_id, "own")
    return WriteGrant(actor, needed, tenant_id, "own", guard.tokens["own"])


def _driver(conn: sa.Connection) -> Any:
    """The DBAPI connection under `conn`; None only once the pool invalidated it, which is an error."""
    driver = conn.connection.driver_connection
    if driver is None:
        raise sa.exc.InvalidRequestError("the DBAPI connection was invalidated; nothing to run on")
    return driver


def _raw(conn: sa.Connection, statement: str) -> None:
    """The guard's own session statements, on the driver connection (no SQLAlchemy events)."""
    cursor = _driver(conn).cursor()
    try:
        cursor.execute(statement)
    finally:
        cursor.close()


@contextmanager
def write_transaction(
    engine: sa.Engine, grant: WriteGrant, *, lock_timeout_ms: int | None = None
) -> Iterator[sa.Connection]:
    """The only place writes and locking reads are allowed: one read-write transaction, committed on
    success, rolled back on any exception. `lock_timeout_ms` (PostgreSQL) bounds lock waits in it.
    What it allows is the grant's kind's (`dify`: UPDATE_ALLOWED and locking reads of those tables;
    `own`: OWN_UPDATE_ALLOWED, no locking read); both insert into Agent Desk's own tables only."""
    guard = _guard_of(engine)
    if grant._token is not guard.tokens.get(grant.kind) or guard.policy.read_only:
        raise WritesDisabled("no write grant for this engine")
    with engine.connect() as conn:
        dialect = conn.dialect.name
        _driver(conn).rollback()  # end what pre_ping began: the mode comes first
        if dialect == "sqlite":
            _raw(conn, "PRAGMA query_only = 0")
        elif dialect in ("mysql", "mariadb"):
            _raw(conn, "SET TRANSACTION READ WRITE")  # the next transaction only
        try:
            with conn.begin():
                if dialect == "postgresql":
                    _raw(conn, "SET TRANSACTION READ WRITE")  # this transaction only
                    if lock_timeout_ms is not None:
                        _raw(conn, f"SET LOCAL lock_timeout = '{int(lock_timeout_ms)}ms'")
                conn.info[_WRITING] = grant.kind
                try:
                    yield conn
                finally:
                    conn.info.pop(_WRITING, None)
        finally:
            if dialect == "sqlite" and not conn.invalidated:
                _raw(conn, "PRAGMA query_only = 1")


def explain(conn: sa.Connection, statement: selectable.Select, *, analyze: bool = False) -> str:
    """PostgreSQL's plan of an allowed select (tests, benchmarks, the sessions page's notes)."""
    kind = conn.info.get(_WRITING)
    check_statement(statement, writing=kind is not None, own=kind == "own")
    compiled = statement.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
    sql = f"{'EXPLAIN (ANALYZE, BUFFERS)' if analyze else 'EXPLAIN'} {compiled}"
    conn.info[_APPROVED_SQL] = sql
    try:
        return "\n".join(conn.exec_driver_sql(sql).scalars())
    finally:
        conn.info.pop(_APPROVED_SQL, None)


# --- installing it ----------------------------------------------------------------------------------------


def install(engine: sa.Engine, policy: WritePolicy) -> None:
    """Guard `engine`: structural check before execution, and the cursor backstop."""
    _GUARDS[engine] = EngineGuard(policy)

    @sa.event.listens_for(engine, "before_execute")
    def _classify(conn, clauseelement, multiparams, params, execution_options):
        conn.info.pop(_APPROVED, None)
        parameters = [*(multiparams or ()), *([params] if params else [])]
        kind = conn.info.get(_WRITING)
        check_statement(clauseelement, writing=kind is not None, own=kind == "own", parameters=parameters)
        conn.info[_APPROVED] = clauseelement

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _backstop(conn, cursor, statement, parameters, context, executemany):
        invoked = getattr(context, "invoked_statement", None)
        if context is not None and context.compiled is not None:
            if invoked is None or conn.info.get(_APPROVED) is not invoked:
                raise WriteRefused(f"statement was not approved by the write guard: {statement[:120]!r}")
            return
        if statement == conn.info.get(_APPROVED_SQL):
            return
        check_statement(statement)  # driver SQL: reflection forms only
