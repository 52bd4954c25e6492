"""Hand-off to Dify's collector: the `collect_agent_resources` Celery task, planned, sent and audited.

Dify never sweeps retired rows by itself: after its own retire it enqueues
`tasks.collect_agent_resources_task.collect_agent_resources` (queue `retention`, JSON), and the collector
destroys the backend resource of each RETIRED id it is given (workspaces first), then deletes the rows.
Agent Desk does the same after a manual retire commits, and on "collect again" (docs/collection.md).

Invariants:

* A message holds exactly the keyword arguments `tenant_id`, `workspace_ids`, `binding_ids`,
  `home_snapshot_ids`: sorted, de-duplicated lists of strings. Never `purge_agent_ids` (that argument
  hard-deletes whole archived agents; an admin console must never send it). Never an empty message.
* One message per workspace (with its bindings) and one per tenant for home snapshots. Dify's
  collector raises on the first failed destroy and skips the rest of its call, so one bad sandbox in a
  shared message would keep every other one running; one message each keeps failures apart.
* Sending happens AFTER the retire committed, outside its transaction: a failed enqueue never undoes a
  retire (the rows stay retired and "collect again" can re-send; re-sending is safe, the collector
  re-reads the rows). Every attempt is audited (`record_enqueue`), sent or failed, with the error.
* A broker that is down or silent fails fast (short connect/read timeouts, one bounded retry): a page
  never hangs on it. The broker URL may hold a password: it is never shown or audited unmasked.

No streamlit, no SQL: the audit rows go through `data.services.audit`; each attempt is logged
(`agent_desk.collector`, operation `collect.enqueue`, outcome `sent` or `failed`, never the broker URL).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from data import logs
from data.actor import Actor, Role
from data.errors import CollectorUnavailable
from data.guard import WriteGrant, require_write, write_transaction
from data.services import audit
from data.settings import Settings
from data.stores.collection import retired_for_collection

TASK_NAME = "tasks.collect_agent_resources_task.collect_agent_resources"
DEFAULT_QUEUE = "retention"
COLLECT_ACTION = "collect_enqueue"
RETIRED = "retired"
_log = logs.get_logger("collector")

#: Why a hand-off is not there, for pages and the CLI.
NO_BROKER_NOTICE = (
    "No broker is configured (AGENT_DESK_CELERY_BROKER_URL): retired rows stay retired, and their "
    "sandboxes keep running, until Dify's collector runs for them. This is the message that would be sent."
)

# Seconds. Short on purpose: a broker that does not answer at once is down for this purpose.
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 5.0
PUBLISH_RETRIES = 1  # one retry after the first attempt, then the error is reported


# --- what is sent ----------------------------------------------------------------------------------


def _ids(values: Iterable[str]) -> tuple[str, ...]:
    """Sorted, de-duplicated, non-empty strings (Dify sorts and de-duplicates its own lists too)."""
    return tuple(sorted({str(v).strip() for v in values if v is not None and str(v).strip()}))


@dataclass(frozen=True)
class CollectionBatch:
    """One `collect_agent_resources` message. Lists are kept sorted and de-duplicated on construction."""

    tenant_id: str
    workspace_ids: tuple[str, ...] = ()
    binding_ids: tuple[str, ...] = ()
    home_snapshot_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        tenant = str(self.tenant_id or "").strip()
        if not tenant:
            raise ValueError("a collection message needs a tenant_id")
        object.__setattr__(self, "tenant_id", tenant)
        for name in ("workspace_ids", "binding_ids", "home_snapshot_ids"):
            object.__setattr__(self, name, _ids(getattr(self, name)))

    @property
    def ids(self) -> tuple[str, ...]:
        """Every id in the message (workspaces, bindings, home snapshots, in that order)."""
        return (*self.workspace_ids, *self.binding_ids, *self.home_snapshot_ids)

    @property
    def empty(self) -> bool:
        return not self.ids

    def kwargs(self) -> dict[str, Any]:
        """Exactly the task's keyword arguments (JSON-ready lists; never `purge_agent_ids`)."""
        return {
            "tenant_id": self.tenant_id,
            "workspace_ids": list(self.workspace_ids),
            "binding_ids": list(self.binding_ids),
            "home_snapshot_ids": list(self.home_snapshot_ids),
        }


GroupedIds = Mapping[str, Iterable[str]] | Iterable[str]


def _grouped(value: GroupedIds | None) -> dict[str, set[str]]:
    """A mapping workspace id -> binding ids, or a plain iterable of workspace ids (no bindings)."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return {str(k): set(v or ()) for k, v in value.items()}
    if isinstance(value, str):
        raise TypeError("pass an iterable of workspace ids, not one string")
    return {str(k): set() for k in value}


def plan_collection(
    *,
    tenant_id: str,
    retired_workspaces: GroupedIds | None = None,
    retired_bindings: Mapping[str, Iterable[str]] | None = None,
    home_snapshot_ids: Iterable[str] = (),
) -> list[CollectionBatch]:
    """The messages for what one retire (or one "collect again") left retired in one tenant.

    * `retired_workspaces`: retired workspace id -> its retired binding ids (or just workspace ids).
    * `retired_bindings`: bindings retired on their own, keyed by their workspace id, whose workspace
      stays ACTIVE (that workspace id is then not sent: only retired ids are collected).
    * `home_snapshot_ids`: retired home snapshots, one message for the tenant.

    One message per workspace (see the module docstring for why), ordered by workspace id, then the home
    snapshots; a workspace named in both mappings gets one message; no empty messages.
    """
    workspaces = _grouped(retired_workspaces)
    loose = _grouped(retired_bindings)
    batches: list[CollectionBatch] = []
    for workspace_id in sorted(set(workspaces) | set(loose)):
        retired = workspace_id in workspaces
        bindings = workspaces.get(workspace_id, set()) | loose.get(workspace_id, set())
        batch = CollectionBatch(
            tenant_id=tenant_id,
            workspace_ids=(workspace_id,) if retired else (),
            binding_ids=tuple(bindings),
        )
        if not batch.empty:
            batches.append(batch)
    homes = CollectionBatch(tenant_id=tenant_id, home_snapshot_ids=tuple(home_snapshot_ids))
    if not homes.empty:
        batches.append(homes)
    return batches


# --- sending ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EnqueueOutcome:
    """What happened to one message: sent (with Celery's task id) or not (with a readable error)."""

    batch: CollectionBatch
    sent: bool
    task_id: str | None = None
    error: str | None = None
    task_name: str = TASK_NAME
    queue: str = DEFAULT_QUEUE

    @property
    def outcome(self) -> str:
        return "sent" if self.sent else "failed"


_USERINFO = re.compile(r"(://[^:/@;]*:)[^/;]*@")
_QUERY_PASSWORD = re.compile(r"([?&;](?:password|passwd)=)[^&;]*", re.IGNORECASE)


def mask_broker_url(url: str | None) -> str | None:
    """The broker URL with every password replaced (safe to show and to audit); handles Redis URLs,
    `rediss://` with query options and `;`-separated sentinel lists."""
    if not url:
        return None
    masked = _QUERY_PASSWORD.sub(r"\1***", _USERINFO.sub(r"\1***@", url))
    secret = _password(url)
    return "(broker URL hidden)" if secret and secret in masked.replace("***", "") else masked


def _password(url: str) -> str | None:
    try:
        return sa.engine.make_url(url).password
    except Exception:
        return None


_apps: dict[tuple[Any, ...], Any] = {}
_apps_lock = threading.Lock()


def _celery_app(broker_url: str, connect_timeout: float, read_timeout: float, retries: int) -> Any:
    """One Celery app per broker URL and timeouts (its connection pool is reused across sends)."""
    key = (broker_url, connect_timeout, read_timeout, retries)
    with _apps_lock:
        app = _apps.get(key)
        if app is None:
            from celery import Celery  # imported on first use: pages without a broker never load it

            app = Celery("agent_desk_collector", broker=broker_url, set_as_current=False)
            policy = {"max_retries": retries, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
            app.conf.update(
                task_serializer="json",
                accept_content=["json"],
                result_backend=None,
                task_ignore_result=True,
                broker_connection_timeout=connect_timeout,
                broker_connection_retry=False,
                broker_connection_max_retries=retries,
                broker_transport_options={
                    **policy,
                    "socket_connect_timeout": connect_timeout,
                    "socket_timeout": read_timeout,
                },
                task_publish_retry=True,
                task_publish_retry_policy=policy,
            )
            _apps[key] = app
        return app


@dataclass(frozen=True)
class Collector:
    """Sends collection messages to Dify's broker; `enabled` is False without a broker URL."""

    broker_url: str | None = None
    queue: str = DEFAULT_QUEUE
    connect_timeout: float = CONNECT_TIMEOUT
    read_timeout: float = READ_TIMEOUT
    retries: int = PUBLISH_RETRIES
    task_name: str = field(default=TASK_NAME)

    @classmethod
    def from_settings(cls, settings: Settings) -> Collector:
        return cls(broker_url=settings.celery_broker_url, queue=settings.collect_queue or DEFAULT_QUEUE)

    @property
    def enabled(self) -> bool:
        return bool(self.broker_url)

    @property
    def broker_label(self) -> str | None:
        """The broker URL, password masked, or None when no broker is configured."""
        return mask_broker_url(self.broker_url)

    def preview(self, batch: CollectionBatch) -> dict[str, Any]:
        """What would be sent for `batch`: task name, queue and keyword arguments (no broker needed)."""
        return {"task": self.task_name, "queue": self.queue, "kwargs": batch.kwargs()}

    def _clean_error(self, exc: BaseException) -> str:
        text = f"{type(exc).__name__}: {exc}".strip()
        if self.broker_url:
            text = text.replace(self.broker_url, self.broker_label or "")
        secret = _password(self.broker_url or "")
        if secret:
            text = text.replace(secret, "***")
        return f"enqueue failed ({self.broker_label}): {text}"[:2_000]

    def send(self, batch: CollectionBatch) -> EnqueueOutcome:
        """Publish one message. Never raises for broker trouble: the outcome says sent or why not."""
        if batch.empty:
            raise ValueError("refusing to send an empty collection message")
        if not self.enabled:
            return EnqueueOutcome(
                batch,
                False,
                None,
                "no broker configured (AGENT_DESK_CELERY_BROKER_URL)",
                self.task_name,
                self.queue,
            )
        try:
            app = _celery_app(self.broker_url or "", self.connect_timeout, self.read_timeout, self.retries)
            result = app.send_task(self.task_name, kwargs=batch.kwargs(), queue=self.queue)
        except Exception as exc:  # kombu OperationalError, redis errors, socket timeouts, bad URLs
            return EnqueueOutcome(batch, False, None, self._clean_error(exc), self.task_name, self.queue)
        return EnqueueOutcome(batch, True, str(result.id), None, self.task_name, self.queue)


# --- audit -----------------------------------------------------------------------------------------


def record_enqueue(
    conn: sa.Connection,
    *,
    actor: Actor,
    outcome: EnqueueOutcome,
    reason: str,
    trigger: str = "retire",
    related_action_id: str | None = None,
    broker_label: str | None = None,
) -> str:
    """Audit one enqueue attempt in the caller's transaction (after the retire committed); returns the
    action id.

    Action `collect_enqueue` in the message's tenant; `filter` holds the trigger (`retire` or
    `collect_again`), the retire's action id, task, queue and the masked broker; one target row per id
    (from/to status `retired`: the enqueue changes no row); a closing row with outcome `sent` or
    `failed`, whose detail holds the task id or the error and the exact keyword arguments.
    """
    batch = outcome.batch
    ids = batch.ids
    action_id = audit.start_action(
        conn,
        actor=actor,
        action=COLLECT_ACTION,
        reason=reason,
        tenant_id=batch.tenant_id,
        target_id=ids[0] if len(ids) == 1 else None,
        filter={
            "trigger": trigger,
            "related_action_id": related_action_id,
            "task": outcome.task_name,
            "queue": outcome.queue,
            "broker": broker_label,
        },
        requested=len(ids),
    )
    audit.record_targets(
        conn,
        action_id,
        [
            {"target_id": i, "tenant_id": batch.tenant_id, "from_status": RETIRED, "to_status": RETIRED}
            for i in ids
        ],
    )
    detail: dict[str, Any] = {"kwargs": batch.kwargs()}
    if outcome.sent:
        detail["task_id"] = outcome.task_id
    else:
        detail["error"] = outcome.error or "unknown error"
    audit.record_batch(
        conn,
        action_id,
        batch_no=None,
        applied=len(ids) if outcome.sent else 0,
        skipped=0 if outcome.sent else len(ids),
        outcome=outcome.outcome,
        detail=detail,
    )
    return action_id


@dataclass(frozen=True)
class AuditedEnqueue:
    outcome: EnqueueOutcome
    audit_action_id: str


def send_and_record(
    engine: sa.Engine,
    *,
    grant: WriteGrant,
    batches: Iterable[CollectionBatch],
    reason: str,
    collector: Collector,
    trigger: str = "retire",
    related_action_id: str | None = None,
) -> list[AuditedEnqueue]:
    """Send each message and audit it in its own short transaction (call after the retire committed).

    A failed message does not stop the others. Without a broker nothing is sent or audited (the page
    shows `NO_BROKER_NOTICE` and `collector.preview`), so the result is empty.
    """
    if not collector.enabled:
        return []
    text = audit.require_reason(reason)
    with engine.connect() as conn:  # a missing audit table must fail before anything is sent
        audit.ensure_audit_tables(conn)
    results: list[AuditedEnqueue] = []
    for batch in batches:
        outcome = collector.send(batch)
        with write_transaction(engine, grant) as conn:
            action_id = record_enqueue(
                conn,
                actor=grant.actor,
                outcome=outcome,
                reason=text,
                trigger=trigger,
                related_action_id=related_action_id,
                broker_label=collector.broker_label,
            )
        logs.event(
            _log,
            "collect.enqueue",
            outcome.outcome,
            actor=grant.actor,
            level=logging.INFO if outcome.sent else logging.ERROR,
            tenant_id=batch.tenant_id,
            trigger=trigger,
            action_id=action_id,
            related_action_id=related_action_id,
            rows=len(batch.ids),
        )
        results.append(AuditedEnqueue(outcome, action_id))
    return results


# --- "collect again" -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CollectAgainPlan:
    """What "collect again" would send now: only ids still present and retired; the rest skipped."""

    tenant_id: str
    batches: tuple[CollectionBatch, ...]
    skipped: tuple[str, ...]

    @property
    def count(self) -> int:
        return sum(len(b.ids) for b in self.batches)


@dataclass(frozen=True)
class CollectAgainResult:
    plan: CollectAgainPlan
    enqueued: tuple[AuditedEnqueue, ...]

    @property
    def sent(self) -> tuple[AuditedEnqueue, ...]:
        return tuple(e for e in self.enqueued if e.outcome.sent)

    @property
    def failed(self) -> tuple[AuditedEnqueue, ...]:
        return tuple(e for e in self.enqueued if not e.outcome.sent)


def plan_collect_again(
    conn: sa.Connection,
    *,
    tenant_id: str,
    workspace_ids: Iterable[str] = (),
    binding_ids: Iterable[str] = (),
    home_snapshot_ids: Iterable[str] = (),
) -> CollectAgainPlan:
    """Re-read the rows (a read: no gate) and plan the messages for those still present and retired."""
    rows = retired_for_collection(
        conn,
        tenant_id=tenant_id,
        workspace_ids=workspace_ids,
        binding_ids=binding_ids,
        home_snapshot_ids=home_snapshot_ids,
    )
    batches = plan_collection(
        tenant_id=tenant_id,
        retired_workspaces=rows.workspaces,
        retired_bindings=rows.loose_bindings,
        home_snapshot_ids=rows.home_snapshot_ids,
    )
    return CollectAgainPlan(tenant_id, tuple(batches), rows.skipped)


def collect_again(
    engine: sa.Engine,
    *,
    actor: Actor,
    tenant_id: str,
    workspace_ids: Iterable[str] = (),
    binding_ids: Iterable[str] = (),
    home_snapshot_ids: Iterable[str] = (),
    reason: str,
    collector: Collector,
) -> CollectAgainResult:
    """Re-send the collection task for rows that are already retired (safe: the collector re-reads them).

    Gate as the session cleanup: a reason, then `require_write` (the engine's own write policy, the
    role, the workspace scope) before anything is read or sent; no broker raises `CollectorUnavailable`.
    Each message is audited (trigger `collect_again`) in its own write transaction. Rows that are gone,
    active or in another tenant are skipped, never sent.
    """
    text = audit.require_reason(reason)
    grant = require_write(engine, actor, Role.OPERATOR, tenant_id=tenant_id)
    if not collector.enabled:
        logs.event(
            _log,
            "collect.again",
            "refused",
            actor=actor,
            level=logging.WARNING,
            tenant_id=tenant_id,
            refusal="no_broker",
        )
        raise CollectorUnavailable(NO_BROKER_NOTICE)
    with engine.connect() as conn:
        audit.ensure_audit_tables(conn)
        plan = plan_collect_again(
            conn,
            tenant_id=tenant_id,
            workspace_ids=workspace_ids,
            binding_ids=binding_ids,
            home_snapshot_ids=home_snapshot_ids,
        )
    enqueued = send_and_record(
        engine, grant=grant, batches=plan.batches, reason=text, collector=collector, trigger="collect_again"
    )
    return CollectAgainResult(plan, tuple(enqueued))
