"""A stand-in for Dify's Celery worker: one task registered under exactly Dify's name, on Dify's queue.

Run by `tests.celery_worker` as a real worker process (`celery -A tests.fake_dify_collector worker
-Q retention --pool solo`). The task destroys nothing: it appends what it received (the keyword
arguments exactly as delivered, the task name and the routing key) as JSON to a Redis list the test
reads. On `worker_ready` it pushes a sentinel so the test waits for readiness without sleeping.

Environment: FAKE_DIFY_BROKER_URL (the broker), FAKE_DIFY_RECORD_URL (where to record; default: the
broker), FAKE_DIFY_RECORD_KEY / FAKE_DIFY_READY_KEY (the lists).
"""

from __future__ import annotations

import json
import os

import redis
from celery import Celery
from celery.signals import worker_ready

TASK_NAME = "tasks.collect_agent_resources_task.collect_agent_resources"
QUEUE = "retention"
BROKER_URL = os.environ.get("FAKE_DIFY_BROKER_URL", "redis://127.0.0.1:6379/0")
RECORD_URL = os.environ.get("FAKE_DIFY_RECORD_URL", BROKER_URL)
RECORD_KEY = os.environ.get("FAKE_DIFY_RECORD_KEY", "fake_dify:received")
READY_KEY = os.environ.get("FAKE_DIFY_READY_KEY", "fake_dify:ready")

app = Celery("fake_dify", broker=BROKER_URL)
app.conf.update(
    task_serializer="json",
    accept_content=["json"],  # as Dify: a pickle message would be rejected
    result_backend=None,
    task_ignore_result=True,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
)


def _record(entry: dict) -> None:
    client = redis.Redis.from_url(RECORD_URL)
    try:
        client.rpush(RECORD_KEY, json.dumps(entry, sort_keys=True))
    finally:
        client.close()


@app.task(name=TASK_NAME, queue=QUEUE, bind=True)
def collect_agent_resources(
    self,
    *,
    tenant_id: str,
    binding_ids: list[str],
    workspace_ids: list[str],
    home_snapshot_ids: list[str],
    purge_agent_ids: list[str] | None = None,
) -> None:
    """Dify's signature (keyword arguments only); records the raw request instead of destroying."""
    _record(
        {
            "task": self.name,
            "args": list(self.request.args or ()),
            "kwargs": dict(self.request.kwargs or {}),
            "routing_key": (self.request.delivery_info or {}).get("routing_key"),
        }
    )


@worker_ready.connect
def _announce_ready(**_: object) -> None:
    client = redis.Redis.from_url(RECORD_URL)
    try:
        client.rpush(READY_KEY, str(os.getpid()))
    finally:
        client.close()
