"""Structured logs of every write and every refusal, through the standard `logging` module.

Loggers are named under `agent_desk.` (`agent_desk.guard`, `agent_desk.cleanup`, `agent_desk.retire`,
`agent_desk.collector`, `agent_desk.audit`, `agent_desk.check_jobs`). Each record is one event:
its message is `"<operation> <outcome>"` and its fields are attributes set through `extra=`:

    operation   what was done: "sessions.clean", "sessions.clean.batch", "write.gate", ...
    outcome     "done", "applied", "failed", "refused", "stale", "lock_timeout", "sent", "claimed", ...
    actor       a stable pseudonym of the actor (`actor_ref`: "oidc:" / "local:" / "cli:" + 12 hex of a
                SHA-256), never the email or the OS user name
    role        the actor's role name (viewer / operator / admin)
    tenant_id   the workspace id the action is scoped to (an id; None for several or all)
    rows        how many rows the event wrote (or would have)
    ...         event-specific counts and ids (action_id, run_id, batch, skipped, check, error_type)

Never in a record: prompts, snapshots, emails, reasons typed by people, broker URLs, exception
messages (a message may name an actor or a value: only `error_type`, the class name, is logged).
`event` enforces it: only whitelisted field names, and only ids, numbers, booleans and short tokens.

Nothing is printed unless logging is configured: `configure(level, fmt)` (called by `app.py` and the
CLI from `AGENT_DESK_LOG_LEVEL` / `AGENT_DESK_LOG_FORMAT`) puts one stderr handler on `agent_desk`
with a key=value (default) or JSON formatter. Without it the records still reach any handler the host
application configured (and pytest's caplog).
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from typing import Any

from data.errors import is_lock_timeout

ROOT = "agent_desk"

#: The `extra=` fields a record may carry (anything else is a programming error).
FIELDS = frozenset(
    {
        "operation",
        "outcome",
        "actor",
        "role",
        "tenant_id",
        "rows",
        "skipped",
        "skipped_changed",
        "skipped_locked",
        "batch",
        "batches",
        "action_id",
        "related_action_id",
        "audit_action",
        "run_id",
        "check",
        "scope",
        "refusal",
        "needed",
        "grant",
        "error_type",
        "sent",
        "failed",
        "trigger",
        "status",
        "found",
    }
)
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
_HANDLER_NAME = "agent_desk.configured"


def get_logger(name: str) -> logging.Logger:
    """`agent_desk.<name>`."""
    return logging.getLogger(f"{ROOT}.{name}")


def actor_ref(identity: str | None) -> str | None:
    """A stable pseudonym of an actor's identity: its kind and 12 hex of its SHA-256 (so the records of
    one person can be followed, and matched against the audit log by someone who has it, without the
    log holding an email or an OS user name)."""
    if not identity:
        return None
    kind = identity.split(":", 1)[0] if identity.startswith(("local:", "cli:")) else "oidc"
    return f"{kind}:{hashlib.sha256(identity.encode()).hexdigest()[:12]}"


def _safe(name: str, value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str) and len(value) <= 80 and "@" not in value and "\n" not in value:
        return value
    raise ValueError(f"log field {name!r} must be an id, a number or a short token")


def event(
    logger: logging.Logger,
    operation: str,
    outcome: str,
    *,
    actor: Any = None,
    level: int = logging.INFO,
    **fields: Any,
) -> None:
    """Log one event with structured fields. `actor` (a `data.actor.Actor`) becomes `actor` (its
    pseudonym), `role` and, unless given, `tenant_id`."""
    extra: dict[str, Any] = {"operation": operation, "outcome": outcome}
    if actor is not None:
        extra["actor"] = actor_ref(actor.identity)
        extra["role"] = actor.role.name.lower()
        extra.setdefault("tenant_id", actor.tenant_id)
    for name, value in fields.items():
        if name not in FIELDS:
            raise ValueError(f"unknown log field {name!r} (add it to data.logs.FIELDS)")
        extra[name] = _safe(name, value)
    logger.log(level, "%s %s", operation, outcome, extra=extra)


def error_type(exc: BaseException) -> str:
    return type(exc).__name__


def fields_of(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields of a record (what the formatters print after the message)."""
    return {k: v for k, v in vars(record).items() if k in FIELDS}


class KeyValueFormatter(logging.Formatter):
    """`2026-12-02T04:00:00Z INFO agent_desk.cleanup sessions.clean done actor=oidc:ab12... rows=3`."""

    def format(self, record: logging.LogRecord) -> str:
        head = f"{self.formatTime(record, '%Y-%m-%dT%H:%M:%S')}Z {record.levelname} {record.name} "
        parts = [
            f"{k}={json.dumps(v) if isinstance(v, str) and ' ' in v else v}"
            for k, v in fields_of(record).items()
        ]
        return head + " ".join([record.getMessage(), *parts])


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the structured fields."""

    def format(self, record: logging.LogRecord) -> str:
        body = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%SZ"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **fields_of(record),
        }
        return json.dumps(body, default=str)


def configure(level: str | None, fmt: str = "kv", *, stream: Any = None) -> bool:
    """One stderr handler on `agent_desk` (idempotent: calling again replaces it). `level` None or ""
    configures nothing (records then go wherever the host's logging sends them). True if configured."""
    if not level:
        return False
    root = logging.getLogger(ROOT)
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if fmt == "json" else KeyValueFormatter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    root.propagate = True
    return True


def configure_from(settings: Any) -> bool:
    """`configure` from `Settings.log_level` / `Settings.log_format`."""
    return configure(settings.log_level, settings.log_format)


# --- the write services' batch records ----------------------------------------------------------------


def log_batch(
    logger: logging.Logger,
    operation: str,
    actor: Any,
    action_id: str,
    batch_no: int,
    rows: int,
    skipped: dict[str, list[str]],
    *,
    stale: str,
    locked: str,
) -> None:
    """One committed batch (`<operation>.batch applied`), and one `<operation> stale` warning when rows
    changed since the preview were skipped (never overwritten). `stale` and `locked` name the skip
    reasons counted apart (`skipped_changed`, `skipped_locked`)."""
    changed = len(skipped.get(stale, ()))
    held = len(skipped.get(locked, ()))
    event(
        logger,
        f"{operation}.batch",
        "applied",
        actor=actor,
        action_id=action_id,
        batch=batch_no,
        rows=rows,
        skipped=sum(len(v) for v in skipped.values()),
        skipped_changed=changed,
        skipped_locked=held,
    )
    if changed:
        event(
            logger,
            operation,
            "stale",
            actor=actor,
            level=logging.WARNING,
            action_id=action_id,
            batch=batch_no,
            rows=changed,
        )


def log_batch_failure(
    logger: logging.Logger, operation: str, actor: Any, exc: BaseException, **fields: Any
) -> None:
    """A batch that rolled back: `lock_timeout` when a lock wait hit the timeout, else `failed`."""
    event(
        logger,
        f"{operation}.batch",
        "lock_timeout" if is_lock_timeout(exc) else "failed",
        actor=actor,
        level=logging.ERROR,
        error_type=error_type(exc),
        **fields,
    )
