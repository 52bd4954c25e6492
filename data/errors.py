"""Agent Desk's exceptions, in one hierarchy.

Every exception Agent Desk raises on purpose is an `AgentDeskError`; each family also keeps the
built-in base it always had (`PermissionError`, `ValueError`, `LookupError`, `RuntimeError`), so
`except ValueError` around a parameter still works. Catch the family, not the leaf, where the caller
only needs to know "refused" or "not found":

    AgentDeskError
    ├── NotPermitted (PermissionError)     refused before anything is written
    │   ├── NotAllowed                     the actor's role or workspace scope     (data.actor)
    │   ├── WritesDisabled                 the deployment's write policy           (data.actor)
    │   ├── WriteRefused                   a statement the write guard does not allow (data.guard)
    │   └── SeedRefused                    demo data over a database holding Dify's (data.db)
    ├── Conflict (RuntimeError)            rows changed under their locks: the batch rolled back
    │   └── StalePreview                   the preview no longer matches the rows
    ├── InvalidParameter (ValueError)      a missing reason, an unknown check, a bad value
    │   ├── InvalidCursor                  a keyset page link that does not decode (data.stores.*)
    │   ├── SchemaUnsupported              the action does not apply to this Dify schema
    │   └── UsageError                     a CLI usage error (data.cli)
    ├── NotFound (LookupError)             no row has this id
    ├── Unavailable (RuntimeError)         a prerequisite is missing
    │   ├── AuditUnavailable               the audit tables (python -m data migrate)
    │   ├── JobsUnavailable                the check-job tables (python -m data migrate)
    │   └── CollectorUnavailable           no broker configured
    └── MigrationRefused (RuntimeError)    a migration that would damage a Dify database (data.migrate)

Messages are for the person at the page or the terminal; logs never carry them (`data.logs` records
the exception's class name only, since a message may name an actor or a value).
This module imports nothing from Agent Desk: any layer may use it.
"""

from __future__ import annotations


class AgentDeskError(Exception):
    """Base of every exception Agent Desk raises on purpose."""


# --- refused ----------------------------------------------------------------------------------------


class NotPermitted(AgentDeskError, PermissionError):
    """Refused before anything was written."""


class NotAllowed(NotPermitted):
    """The actor's role does not allow this action (checked in `data`, not only in the UI)."""


class WritesDisabled(NotPermitted):
    """Writes are off for this deployment (read-only mode, or local mode without AGENT_DESK_ALLOW_WRITES)."""


class WriteRefused(NotPermitted):
    """A statement is not one of the kinds Agent Desk may send to Dify's database."""


class SeedRefused(NotPermitted):
    """Demo or benchmark data would be written into a database that holds Dify data."""


# --- conflicts --------------------------------------------------------------------------------------


class Conflict(AgentDeskError, RuntimeError):
    """Rows changed under their locks (another writer, or a row count that does not add up): the
    batch's transaction rolled back, audit included."""


class StalePreview(Conflict):
    """The rows no longer match the preview the action was confirmed on."""


# --- invalid input ----------------------------------------------------------------------------------


class InvalidParameter(AgentDeskError, ValueError):
    """A parameter is missing or has a value this action cannot take."""


class InvalidCursor(InvalidParameter):
    """A keyset page link's cursor that does not decode, or belongs to another sort order."""


class SchemaUnsupported(InvalidParameter):
    """The action does not apply to this Dify database's schema (a table or column it needs is missing)."""


class UsageError(InvalidParameter):
    """`python -m data` was called wrongly (exit code 2)."""


# --- missing ----------------------------------------------------------------------------------------


class NotFound(AgentDeskError, LookupError):
    """No row has this id (or none the actor may see)."""


class Unavailable(AgentDeskError, RuntimeError):
    """A prerequisite of the action is missing."""


class AuditUnavailable(Unavailable):
    """The audit tables do not exist: run `python -m data migrate` (the app's own branch)."""


class JobsUnavailable(Unavailable):
    """Agent Desk's check-job tables do not exist: run `python -m data migrate` first."""


class CollectorUnavailable(Unavailable):
    """No broker is configured: nothing can be sent (pages show `NO_BROKER_NOTICE` and a preview)."""


class MigrationRefused(AgentDeskError, RuntimeError):
    """The mirror would be created over a database that already holds Dify's tables."""


# --- classification (for logs and messages) ---------------------------------------------------------


def is_lock_timeout(exc: BaseException) -> bool:
    """A lock wait that hit the transaction's lock timeout (PostgreSQL 55P03, MySQL/MariaDB 1205,
    SQLite "database is locked"), through SQLAlchemy's wrapper or not."""
    orig = getattr(exc, "orig", None) or exc
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if code == "55P03":
        return True
    args = getattr(orig, "args", ())
    if args and args[0] == 1205:
        return True
    return "database is locked" in str(orig) or "lock timeout" in str(orig).lower()
