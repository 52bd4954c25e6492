"""The 1.16/1.17 rows the session story has no counterpart for (workspaces generation only)."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from data.demo.context import _Ctx, _Tenant
from data.demo.ids import DemoIds, WorkspaceIds
from data.demo.primitives import _hex, _orm_json, _v4, _v7
from data.demo.workspaces_sink import WorkspacesSink
from data.models import (
    AgentConfigDraft,
    AgentDebugConversation,
    AgentHomeSnapshot,
    AgentWorkspaceBinding,
    Conversation,
)


def _doc(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _latest(sink: WorkspacesSink, agent_id: str) -> tuple[str, dict[str, Any]]:
    """The newest snapshot (the active one: every save moves the pointer) of an agent and its document."""
    snapshot_id, text = sink.snapshot_texts[agent_id][-1]
    return snapshot_id, _doc(text)


def add_story(ctx: _Ctx, tenants: Sequence[_Tenant]) -> None:
    """Drafts, home snapshots, build drafts, debug conversations, and hand-placed leaks (WorkspaceIds)."""
    sink = ctx.sink
    assert isinstance(sink, WorkspacesSink)
    sink.flush()  # close every workspace the story opened: the rows below are placed by hand
    rng = random.Random(f"{ctx.seed}/workspaces/story")
    acme, northwind = tenants[0], tenants[1]
    maya, kenji = acme.members[0], acme.members[1]
    W = WorkspaceIds

    # --- home snapshots -----------------------------------------------------------------------
    for home_id, tenant, agent_id, age, status, retired in (
        (W.HOME_REFERENCED, northwind, DemoIds.GEN_E_AGENT, 40, "active", None),
        (W.HOME_UNREFERENCED, northwind, DemoIds.GEN_E_AGENT, 30, "active", None),
        (W.HOME_RETIRED_UNCOLLECTED, acme, DemoIds.SHOWCASE_AGENT, 20, "retired", ctx.ago(9)),
        (W.HOME_RETIRED_REFERENCED, acme, DemoIds.SHOWCASE_AGENT, 15, "retired", ctx.ago(2)),
    ):
        sink.add(
            AgentHomeSnapshot,
            id=home_id,
            tenant_id=tenant.id,
            agent_id=agent_id,
            snapshot_ref=f"home/{tenant.id[:8]}/{_hex(rng, 24)}",
            created_at=ctx.ago(age),
            status=status,
            retired_at=retired,
        )

    # --- drafts -------------------------------------------------------------------------------
    showcase_id, showcase = _latest(sink, DemoIds.SHOWCASE_AGENT)
    changed = copy.deepcopy(showcase)
    prompt = changed.setdefault("prompt", {})
    prompt["system_prompt"] = (prompt.get("system_prompt") or "") + "\nOffer a callback for billing disputes."
    gen_e_id, gen_e = _latest(sink, DemoIds.GEN_E_AGENT)
    gen_e_draft = _gen_e_draft(gen_e, rng)

    def draft(
        draft_id: str,
        tenant: _Tenant,
        agent_id: str,
        doc: dict[str, Any],
        *,
        base: str | None,
        age: float,
        build_for: Any = None,
        home: str | None = None,
        binding: str | None = None,
    ) -> None:
        at = ctx.ago(age)
        sink.add(
            AgentConfigDraft,
            id=draft_id,
            tenant_id=tenant.id,
            agent_id=agent_id,
            draft_type="debug_build" if build_for else "draft",
            account_id=build_for.id if build_for else None,
            draft_owner_key=build_for.id if build_for else "",
            base_snapshot_id=base,
            config_snapshot=_orm_json(doc),
            created_by=(build_for or maya).id,
            updated_by=(build_for or kenji).id,
            created_at=at - timedelta(days=2),
            updated_at=at,
            home_snapshot_id=home,
            agent_workspace_binding_id=binding,
        )

    draft(W.SHOWCASE_SHARED_DRAFT, acme, DemoIds.SHOWCASE_AGENT, changed, base=showcase_id, age=0.2)
    draft(
        W.SHOWCASE_BUILD_DRAFT,
        acme,
        DemoIds.SHOWCASE_AGENT,
        showcase,
        base=showcase_id,
        age=0.05,
        build_for=maya,
        home=W.HOME_RETIRED_REFERENCED,
        binding=W.BUILD_DRAFT_BINDING,
    )
    draft(
        W.GEN_E_SHARED_DRAFT,
        northwind,
        DemoIds.GEN_E_AGENT,
        gen_e_draft,
        base=gen_e_id,
        age=1,
        home=W.HOME_REFERENCED,
    )
    draft(
        W.MISSING_BASE_DRAFT,
        acme,
        DemoIds.SAVED_AS_NEW_AGENT,
        showcase,
        base=DemoIds.MISSING_SNAPSHOT,
        age=6,
    )
    draft(
        W.MISSING_HOME_DRAFT,
        northwind,
        DemoIds.GEN_E_AGENT,
        gen_e,
        base=gen_e_id,
        age=3,
        build_for=northwind.members[1],
        home=W.MISSING_HOME,
    )
    sink.add(
        Conversation,
        id=W.BUILD_DEBUG_CONVERSATION,
        app_id=DemoIds.APP_SUPPORT_ASSISTANT,
        mode="agent",
        name="Build draft debugging",
        inputs={},
        status="normal",
        from_source="console",
        from_end_user_id=None,
        from_account_id=maya.id,
        is_deleted=False,
        created_at=ctx.ago(0.05),
        updated_at=ctx.ago(0.01),
        agent_workspace_binding_id=W.BUILD_DRAFT_BINDING,
    )
    sink.add(
        AgentDebugConversation,
        id=_v7(ctx.ago(0.05), rng),
        tenant_id=acme.id,
        agent_id=DemoIds.SHOWCASE_AGENT,
        app_id=DemoIds.APP_SUPPORT_ASSISTANT,
        account_id=maya.id,
        conversation_id=W.BUILD_DEBUG_CONVERSATION,
        draft_type="debug_build",
        created_at=ctx.ago(0.05),
        updated_at=ctx.ago(0.01),
    )

    # --- hand-placed workspaces ----------------------------------------------------------------
    def workspace(
        workspace_id: str,
        binding_ids: Sequence[tuple[str, str]],
        *,
        tenant: _Tenant,
        app_id: str,
        owner_type: str,
        owner_id: str,
        agent_id: str,
        age: float,
        version: tuple[str, str] | None = None,
        status: str | None = None,
        retired_age: float | None = None,
        pending: bool = False,
        guard_mismatch: bool = False,
    ) -> None:
        at = ctx.ago(age)
        retired_at = ctx.ago(retired_age) if retired_age is not None else None
        version_id, kind = version or (showcase_id, "snapshot")
        bindings = [
            {
                "id": binding_id,
                "tenant_id": tenant.id,
                "app_id": app_id,
                "workspace_id": workspace_id,
                "agent_id": agent_id,
                "base_home_snapshot_id": None,
                "agent_config_version_id": version_id,
                "agent_config_version_kind": kind,
                "backend_binding_ref": f"run-{_hex(rng, 16)}",
                "session_snapshot": '{"schema_version":1,"layers":[{"name":"history","lifecycle_state":'
                '"suspended","runtime_state":{"messages":[]}}]}',
                "status": binding_status,
                "retired_at": retired_at if binding_status == "retired" else None,
                "pending_form_id": _v4(rng) if pending else None,
                "pending_tool_call_id": f"call_{_hex(rng, 12)}" if pending else None,
                "created_at": at,
                "updated_at": retired_at or at + timedelta(minutes=5),
            }
            for binding_id, binding_status in binding_ids
        ]
        row: dict[str, Any] = {
            "id": workspace_id,
            "tenant_id": tenant.id,
            "app_id": app_id,
            "owner_type": owner_type,
            "owner_id": owner_id,
            "owner_scope_key": "root",
            "backend_workspace_ref": f"sbx-{_hex(rng, 20)}",
            "created_at": at,
            "bindings": bindings,
            "keep": True,
        }
        if status:
            row["status"] = status
        if retired_at:
            row["retired_at"] = retired_at
        sink.write_workspace(row, guard_mismatch=guard_mismatch)

    app = DemoIds.APP_SUPPORT_ASSISTANT
    workspace(
        W.BUILD_DRAFT_WORKSPACE,
        [(W.BUILD_DRAFT_BINDING, "active")],
        tenant=acme,
        app_id=app,
        owner_type="build_draft",
        owner_id=W.SHOWCASE_BUILD_DRAFT,
        agent_id=DemoIds.SHOWCASE_AGENT,
        age=0.05,
        version=(W.SHOWCASE_BUILD_DRAFT, "build_draft"),
    )
    workspace(
        W.MISSING_DRAFT_WORKSPACE,
        [(W.MISSING_DRAFT_BINDING, "active")],
        tenant=acme,
        app_id=app,
        owner_type="build_draft",
        owner_id=W.MISSING_DRAFT,
        agent_id=DemoIds.SHOWCASE_AGENT,
        age=11,
        version=(W.MISSING_DRAFT, "build_draft"),
    )
    workspace(
        W.ARCHIVED_AGENT_WORKSPACE,
        [(W.ARCHIVED_AGENT_BINDING, "active")],
        tenant=acme,
        app_id=DemoIds.APP_RESEARCH_DIGEST,
        owner_type="conversation",
        owner_id=_v4(rng),
        agent_id=DemoIds.ARCHIVED_BOUND_AGENT,
        age=20,
    )
    # The owner exists (a live chat), so the empty workspace is `inconsistent`, not `orphaned`. Its
    # pointer names the retired binding. The one rng draw stays where the owner id used to be drawn.
    sink.add(
        Conversation,
        id=W.EMPTY_CONVERSATION,
        app_id=app,
        mode="agent",
        name="Change my delivery address",
        inputs={},
        status="normal",
        from_source="api",
        from_end_user_id=_v4(rng),
        from_account_id=None,
        is_deleted=False,
        created_at=ctx.ago(5),
        updated_at=ctx.ago(4),
        agent_workspace_binding_id=W.EMPTY_WORKSPACE_BINDING,
    )
    workspace(
        W.EMPTY_WORKSPACE,
        [(W.EMPTY_WORKSPACE_BINDING, "retired")],
        tenant=acme,
        app_id=app,
        owner_type="conversation",
        owner_id=W.EMPTY_CONVERSATION,
        agent_id=DemoIds.SHOWCASE_AGENT,
        age=5,
        status="active",
        retired_age=4,
    )
    workspace(
        W.RETIRED_WORKSPACE,
        [(W.ACTIVE_IN_RETIRED_BINDING, "active")],
        tenant=acme,
        app_id=app,
        owner_type="conversation",
        owner_id=_v4(rng),
        agent_id=DemoIds.SHOWCASE_AGENT,
        age=8,
        status="retired",
        retired_age=7,
    )
    workspace(
        W.GUARD_MISMATCH_WORKSPACE,
        [],
        tenant=acme,
        app_id=app,
        owner_type="conversation",
        owner_id=_v4(rng),
        agent_id=DemoIds.SHOWCASE_AGENT,
        age=9,
        status="retired",
        retired_age=8,
        guard_mismatch=True,
    )
    workspace(
        W.UNCOLLECTED_WORKSPACE,
        [(W.UNCOLLECTED_BINDING, "retired")],
        tenant=northwind,
        app_id=app,
        owner_type="conversation",
        owner_id=_v4(rng),
        agent_id=DemoIds.GEN_E_AGENT,
        age=14,
        status="retired",
        retired_age=12,
        version=(gen_e_id, "snapshot"),
    )
    workspace(
        W.MISSING_APP_WORKSPACE,
        [(W.MISSING_APP_BINDING, "active")],
        tenant=acme,
        app_id=W.MISSING_APP,
        owner_type="conversation",
        owner_id=_v4(rng),
        agent_id=DemoIds.SHOWCASE_AGENT,
        age=16,
    )
    sink.add(
        Conversation,
        id=W.PENDING_FORM_CONVERSATION,
        app_id=app,
        mode="agent",
        name="Refund over the approval limit",
        inputs={"customer_tier": "enterprise"},
        status="normal",
        from_source="api",
        from_end_user_id=_v4(rng),
        from_account_id=None,
        is_deleted=False,
        created_at=ctx.ago(0, hours=3),
        updated_at=ctx.ago(0, hours=2),
        agent_workspace_binding_id=W.PENDING_FORM_BINDING,
    )
    workspace(
        W.PENDING_FORM_WORKSPACE,
        [(W.PENDING_FORM_BINDING, "active")],
        tenant=acme,
        app_id=app,
        owner_type="conversation",
        owner_id=W.PENDING_FORM_CONVERSATION,
        agent_id=DemoIds.SHOWCASE_AGENT,
        age=0.125,
        pending=True,
    )
    # A binding whose workspace does not exist, and a conversation pointing at a binding that does not.
    sink.add(
        AgentWorkspaceBinding,
        id=W.MISSING_WORKSPACE_BINDING,
        tenant_id=acme.id,
        app_id=app,
        workspace_id=W.MISSING_WORKSPACE,
        agent_id=DemoIds.SHOWCASE_AGENT,
        base_home_snapshot_id=None,
        agent_config_version_id=showcase_id,
        agent_config_version_kind="snapshot",
        backend_binding_ref=f"run-{_hex(rng, 16)}",
        session_snapshot=None,
        status="active",
        retired_at=None,
        pending_form_id=None,
        pending_tool_call_id=None,
        created_at=ctx.ago(21),
        updated_at=ctx.ago(21),
    )
    sink.add(
        Conversation,
        id=W.DANGLING_POINTER_CONVERSATION,
        app_id=app,
        mode="agent",
        name="Where is my order?",
        inputs={},
        status="normal",
        from_source="api",
        from_end_user_id=_v4(rng),
        from_account_id=None,
        is_deleted=False,
        created_at=ctx.ago(30),
        updated_at=ctx.ago(29),
        agent_workspace_binding_id=W.DANGLING_BINDING,
    )


def _gen_e_draft(doc: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """The Gen E draft: the CLI tool renamed (same id), a new note, one more file, a knowledge tweak."""
    draft = copy.deepcopy(doc)
    draft["config_note"] = "Draft: add the 2027 template and rename the PDF tool."
    for tool in (draft.get("tools") or {}).get("cli_tools") or []:
        tool["name"] = "pdf-render-v2"
        tool["command"] = "pdf-render --from markdown --to pdf --template 2027"
    files = draft.setdefault("config_files", [])
    files.append(
        {
            "name": "discharge_template_2027.docx",
            "file_kind": "upload_file",
            "file_id": _v4(rng),
            "size": 50211,
            "hash": f"sha256:{_hex(rng, 64)}",
            "mime_type": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        }
    )
    for knowledge_set in (draft.get("knowledge") or {}).get("sets") or []:
        knowledge_set.setdefault("retrieval", {})["top_k"] = 8
    return draft
