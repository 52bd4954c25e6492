"""Row builders: one per row shape that more than one writer (or both generations) produces.

Each returns the column values of one row (the caller hands them to the sink). A builder that draws
from the RNG says so and draws in a fixed order, so every caller keeps the demo byte-identical.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from data.demo.primitives import _compact_json, _hex, _v4


def app_row(
    *,
    app_id: str,
    tenant_id: str,
    name: str,
    mode: str,
    icon: str,
    created_at: datetime,
    updated_at: datetime,
    workflow_id: str | None = None,
) -> dict[str, Any]:
    """An `apps` row (emoji icon, status normal): story and generated apps, and 1.17's hidden
    backing app of a roster agent."""
    return {
        "id": app_id,
        "tenant_id": tenant_id,
        "name": name,
        "mode": mode,
        "icon_type": "emoji",
        "icon": icon,
        "status": "normal",
        "workflow_id": workflow_id,
        "created_at": created_at,
        "updated_at": updated_at,
    }


def conversation_row(
    *,
    conversation_id: str,
    app_id: str,
    name: str,
    inputs: dict[str, Any],
    created_at: datetime,
    updated_at: datetime,
    end_user_id: str | None = None,
    account_id: str | None = None,
    is_deleted: bool = False,
    binding_id: str | None = None,
) -> dict[str, Any]:
    """An Agent App `conversations` row: from the console when an account started it, else the API.
    `binding_id` is 1.17's pointer at the conversation's workspace binding (not in the sessions mirror)."""
    row = {
        "id": conversation_id,
        "app_id": app_id,
        "mode": "agent",
        "name": name,
        "inputs": inputs,
        "status": "normal",
        "from_source": "console" if account_id else "api",
        "from_end_user_id": end_user_id,
        "from_account_id": account_id,
        "is_deleted": is_deleted,
        "created_at": created_at,
        "updated_at": updated_at,
    }
    if binding_id is not None:
        row["agent_workspace_binding_id"] = binding_id
    return row


def session_row(
    *,
    session_id: str,
    tenant_id: str,
    app_id: str,
    agent_id: str | None,
    backend_run_id: str,
    layers: list[dict[str, Any]],
    specs: list[dict[str, Any]],
    snapshot_id: str | None,
    status: str,
    cleaned_at: datetime | None,
    created_at: datetime,
    updated_at: datetime,
    conversation_id: str | None = None,
    workflow: dict[str, str | None] | None = None,
) -> dict[str, Any]:
    """An `agent_runtime_sessions` row of either owner: a conversation, or a workflow run's node
    (`workflow`: workflow_id, workflow_run_id, node_id, node_execution_id, binding_id)."""
    owner = workflow or dict.fromkeys(
        ("workflow_id", "workflow_run_id", "node_id", "node_execution_id", "binding_id")
    )
    return {
        "id": session_id,
        "tenant_id": tenant_id,
        "app_id": app_id,
        "owner_type": "workflow_run" if workflow else "conversation",
        "agent_id": agent_id,
        "backend_run_id": backend_run_id,
        "session_snapshot": _compact_json({"schema_version": 1, "layers": layers}),
        **owner,
        "agent_config_snapshot_id": snapshot_id,
        "composition_layer_specs": _compact_json(specs),
        "conversation_id": conversation_id,
        "status": status,
        "cleaned_at": cleaned_at,
        "created_at": created_at,
        "updated_at": updated_at,
    }


def workspace_row(
    rng: random.Random,
    *,
    workspace_id: str,
    tenant_id: str,
    app_id: str,
    owner_type: str,
    owner_id: str,
    scope_key: str,
    created_at: datetime,
    bindings: list[dict[str, Any]],
) -> dict[str, Any]:
    """An open `agent_workspaces` row with its bindings (written by `WorkspacesSink.write_workspace`).
    Draws the sandbox reference."""
    return {
        "id": workspace_id,
        "tenant_id": tenant_id,
        "app_id": app_id,
        "owner_type": owner_type,
        "owner_id": owner_id,
        "owner_scope_key": scope_key,
        "backend_workspace_ref": f"sbx-{_hex(rng, 20)}",
        "created_at": created_at,
        "bindings": bindings,
    }


def binding_row(
    rng: random.Random,
    *,
    binding_id: str,
    tenant_id: str,
    app_id: str,
    workspace_id: str,
    agent_id: str | None,
    version: tuple[str, str],
    run_ref: str | None,
    session_snapshot: str | None,
    status: str,
    retired_at: datetime | None,
    pending: bool,
    created_at: datetime,
    updated_at: datetime,
) -> dict[str, Any]:
    """An `agent_workspace_bindings` row; `version` is (agent_config_version_id, its kind).
    Draws, in this order: the run reference when `run_ref` is None, then a pending form and tool call."""
    version_id, kind = version
    return {
        "id": binding_id,
        "tenant_id": tenant_id,
        "app_id": app_id,
        "workspace_id": workspace_id,
        "agent_id": agent_id,
        "base_home_snapshot_id": None,
        "agent_config_version_id": version_id,
        "agent_config_version_kind": kind,
        "backend_binding_ref": f"run-{run_ref or _hex(rng, 16)}",
        "session_snapshot": session_snapshot,
        "status": status,
        "retired_at": retired_at,
        "pending_form_id": _v4(rng) if pending else None,
        "pending_tool_call_id": f"call_{_hex(rng, 12)}" if pending else None,
        "created_at": created_at,
        "updated_at": updated_at,
    }
