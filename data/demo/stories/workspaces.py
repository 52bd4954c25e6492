"""The 1.16/1.17 rows the session story has no counterpart for (workspaces generation only).

Drafts (shared and build drafts, with and without unpublished changes, one whose base snapshot is gone),
home snapshots (referenced, unreferenced, retired and never collected, a reference to a missing one),
build-draft workspaces, and every kind of leak and inconsistency (`WorkspaceIds`). The rows are tables
below, placed in order (one seeded RNG stream: the order is part of the data).
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from data.demo.builders import binding_row, conversation_row, workspace_row
from data.demo.context import _Ctx, _Tenant
from data.demo.documents import DOCX_MIME, _stored_file
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

W, D = WorkspaceIds, DemoIds
ACME, NORTHWIND = 0, 1  # tenant indexes
APP = D.APP_SUPPORT_ASSISTANT
#: The session state of a hand-placed binding: a suspended, empty history.
SUSPENDED_HISTORY = (
    '{"schema_version":1,"layers":[{"name":"history","lifecycle_state":"suspended","runtime_state":'
    '{"messages":[]}}]}'
)


@dataclass(frozen=True)
class _Home:
    id: str
    tenant: int
    agent_id: str
    age: float  # days before now
    status: str = "active"
    retired_age: float | None = None


@dataclass(frozen=True)
class _Draft:
    id: str
    tenant: int
    agent_id: str
    doc: str  # which document (`_Story.docs`)
    base: str  # "showcase" / "gen_e" (that agent's active snapshot) or a snapshot id
    age: float
    build_for: tuple[int, int] | None = None  # (tenant, member) whose build draft; None: shared
    home: str | None = None
    binding: str | None = None


@dataclass(frozen=True)
class _PlacedChat:
    """A hand-placed Agent App conversation pointing at a workspace binding."""

    id: str
    name: str
    binding: str
    age: float
    updated_age: float
    inputs: tuple[tuple[str, str], ...] = ()
    console: tuple[int, int] | None = None  # (tenant, member) who chats in the console; None: the API
    debug_build_of: str | None = None  # an agent: this is its build draft's debug conversation


@dataclass(frozen=True)
class _Workspace:
    id: str
    bindings: tuple[tuple[str, str], ...]  # (binding id, status)
    tenant: int
    owner_type: str
    owner_id: str | None  # None: a conversation id drawn from the RNG (an owner that is not a row)
    agent_id: str
    age: float
    app_id: str = APP
    version: tuple[str, str] | str = "showcase"  # "showcase" / "gen_e" or (version id, kind)
    status: str | None = None  # forced status (None: derived from the bindings)
    retired_age: float | None = None
    pending: bool = False
    guard_mismatch: bool = False


@dataclass(frozen=True)
class _LoneBinding:
    """A binding whose workspace does not exist."""

    id: str
    workspace_id: str
    age: float


HOMES = (
    _Home(W.HOME_REFERENCED, NORTHWIND, D.GEN_E_AGENT, 40),
    _Home(W.HOME_UNREFERENCED, NORTHWIND, D.GEN_E_AGENT, 30),
    _Home(W.HOME_RETIRED_UNCOLLECTED, ACME, D.SHOWCASE_AGENT, 20, "retired", retired_age=9),
    _Home(W.HOME_RETIRED_REFERENCED, ACME, D.SHOWCASE_AGENT, 15, "retired", retired_age=2),
)

# fmt: off
DRAFTS = (
    _Draft(W.SHOWCASE_SHARED_DRAFT, ACME, D.SHOWCASE_AGENT, "showcase+callback", base="showcase", age=0.2),
    _Draft(W.SHOWCASE_BUILD_DRAFT, ACME, D.SHOWCASE_AGENT, "showcase", base="showcase", age=0.05,
           build_for=(ACME, 0), home=W.HOME_RETIRED_REFERENCED, binding=W.BUILD_DRAFT_BINDING),
    _Draft(W.GEN_E_SHARED_DRAFT, NORTHWIND, D.GEN_E_AGENT, "gen_e+draft", base="gen_e", age=1,
           home=W.HOME_REFERENCED),
    _Draft(W.MISSING_BASE_DRAFT, ACME, D.SAVED_AS_NEW_AGENT, "showcase", base=D.MISSING_SNAPSHOT, age=6),
    _Draft(W.MISSING_HOME_DRAFT, NORTHWIND, D.GEN_E_AGENT, "gen_e", base="gen_e", age=3,
           build_for=(NORTHWIND, 1), home=W.MISSING_HOME),
)

HAND_PLACED: tuple[_PlacedChat | _Workspace | _LoneBinding, ...] = (
    _PlacedChat(W.BUILD_DEBUG_CONVERSATION, "Build draft debugging", W.BUILD_DRAFT_BINDING, 0.05, 0.01,
          console=(ACME, 0), debug_build_of=D.SHOWCASE_AGENT),
    _Workspace(W.BUILD_DRAFT_WORKSPACE, ((W.BUILD_DRAFT_BINDING, "active"),), ACME, "build_draft",
               W.SHOWCASE_BUILD_DRAFT, D.SHOWCASE_AGENT, 0.05, version=(W.SHOWCASE_BUILD_DRAFT, "build_draft")),
    _Workspace(W.MISSING_DRAFT_WORKSPACE, ((W.MISSING_DRAFT_BINDING, "active"),), ACME, "build_draft",
               W.MISSING_DRAFT, D.SHOWCASE_AGENT, 11, version=(W.MISSING_DRAFT, "build_draft")),
    _Workspace(W.ARCHIVED_AGENT_WORKSPACE, ((W.ARCHIVED_AGENT_BINDING, "active"),), ACME, "conversation",
               None, D.ARCHIVED_BOUND_AGENT, 20, app_id=D.APP_RESEARCH_DIGEST),
    # The owner exists (a live chat), so the empty workspace is `inconsistent`, not `orphaned`. Its
    # pointer names the retired binding.
    _PlacedChat(W.EMPTY_CONVERSATION, "Change my delivery address", W.EMPTY_WORKSPACE_BINDING, 5, 4),
    _Workspace(W.EMPTY_WORKSPACE, ((W.EMPTY_WORKSPACE_BINDING, "retired"),), ACME, "conversation",
               W.EMPTY_CONVERSATION, D.SHOWCASE_AGENT, 5, status="active", retired_age=4),
    _Workspace(W.RETIRED_WORKSPACE, ((W.ACTIVE_IN_RETIRED_BINDING, "active"),), ACME, "conversation",
               None, D.SHOWCASE_AGENT, 8, status="retired", retired_age=7),
    _Workspace(W.GUARD_MISMATCH_WORKSPACE, (), ACME, "conversation",
               None, D.SHOWCASE_AGENT, 9, status="retired", retired_age=8, guard_mismatch=True),
    _Workspace(W.UNCOLLECTED_WORKSPACE, ((W.UNCOLLECTED_BINDING, "retired"),), NORTHWIND, "conversation",
               None, D.GEN_E_AGENT, 14, status="retired", retired_age=12, version="gen_e"),
    _Workspace(W.MISSING_APP_WORKSPACE, ((W.MISSING_APP_BINDING, "active"),), ACME, "conversation",
               None, D.SHOWCASE_AGENT, 16, app_id=W.MISSING_APP),
    _PlacedChat(W.PENDING_FORM_CONVERSATION, "Refund over the approval limit", W.PENDING_FORM_BINDING, 3 / 24, 2 / 24,
          inputs=(("customer_tier", "enterprise"),)),
    _Workspace(W.PENDING_FORM_WORKSPACE, ((W.PENDING_FORM_BINDING, "active"),), ACME, "conversation",
               W.PENDING_FORM_CONVERSATION, D.SHOWCASE_AGENT, 0.125, pending=True),
    # A binding whose workspace does not exist, and a conversation pointing at a binding that does not.
    _LoneBinding(W.MISSING_WORKSPACE_BINDING, W.MISSING_WORKSPACE, 21),
    _PlacedChat(W.DANGLING_POINTER_CONVERSATION, "Where is my order?", W.DANGLING_BINDING, 30, 29),
)
# fmt: on


@dataclass
class _Story:
    """What placing the rows needs: the clock and sink, the RNG, the workspaces, the documents."""

    ctx: _Ctx
    sink: WorkspacesSink
    rng: random.Random
    tenants: Sequence[_Tenant]
    snapshots: dict[str, str]  # "showcase" / "gen_e" -> that agent's active snapshot id
    docs: dict[str, dict[str, Any]]

    def member(self, who: tuple[int, int]) -> str:
        tenant, index = who
        return self.tenants[tenant].members[index].id


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
    for home in HOMES:
        _write_home(ctx, rng, tenants, home)
    story = _Story(ctx, sink, rng, tenants, *_documents(sink, rng))
    for draft in DRAFTS:
        _write_draft(story, draft)
    for entry in HAND_PLACED:
        if isinstance(entry, _PlacedChat):
            _write_chat(story, entry)
        elif isinstance(entry, _Workspace):
            _write_workspace(story, entry)
        else:
            _write_lone_binding(story, entry)


def _documents(sink: WorkspacesSink, rng: random.Random) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """The active snapshots the drafts start from, and the draft documents (the Gen E draft draws)."""
    showcase_id, showcase = _latest(sink, D.SHOWCASE_AGENT)
    changed = copy.deepcopy(showcase)
    prompt = changed.setdefault("prompt", {})
    prompt["system_prompt"] = (prompt.get("system_prompt") or "") + "\nOffer a callback for billing disputes."
    gen_e_id, gen_e = _latest(sink, D.GEN_E_AGENT)
    docs = {
        "showcase": showcase,
        "showcase+callback": changed,
        "gen_e": gen_e,
        "gen_e+draft": _gen_e_draft(gen_e, rng),
    }
    return {"showcase": showcase_id, "gen_e": gen_e_id}, docs


def _write_home(ctx: _Ctx, rng: random.Random, tenants: Sequence[_Tenant], home: _Home) -> None:
    tenant = tenants[home.tenant]
    ctx.sink.add(
        AgentHomeSnapshot,
        id=home.id,
        tenant_id=tenant.id,
        agent_id=home.agent_id,
        snapshot_ref=f"home/{tenant.id[:8]}/{_hex(rng, 24)}",
        created_at=ctx.ago(home.age),
        status=home.status,
        retired_at=ctx.ago(home.retired_age) if home.retired_age is not None else None,
    )


def _write_draft(story: _Story, draft: _Draft) -> None:
    at = story.ctx.ago(draft.age)
    builder = story.member(draft.build_for) if draft.build_for else None
    story.sink.add(
        AgentConfigDraft,
        id=draft.id,
        tenant_id=story.tenants[draft.tenant].id,
        agent_id=draft.agent_id,
        draft_type="debug_build" if builder else "draft",
        account_id=builder,
        draft_owner_key=builder or "",
        base_snapshot_id=story.snapshots.get(draft.base, draft.base),
        config_snapshot=_orm_json(story.docs[draft.doc]),
        created_by=builder or story.member((ACME, 0)),
        updated_by=builder or story.member((ACME, 1)),
        created_at=at - timedelta(days=2),
        updated_at=at,
        home_snapshot_id=draft.home,
        agent_workspace_binding_id=draft.binding,
    )


def _write_chat(story: _Story, chat: _PlacedChat) -> None:
    ctx, rng = story.ctx, story.rng
    account = story.member(chat.console) if chat.console else None
    story.sink.add(
        Conversation,
        **conversation_row(
            conversation_id=chat.id,
            app_id=APP,
            name=chat.name,
            inputs=dict(chat.inputs),
            end_user_id=None if account else _v4(rng),
            account_id=account,
            created_at=ctx.ago(chat.age),
            updated_at=ctx.ago(chat.updated_age),
            binding_id=chat.binding,
        ),
    )
    if chat.debug_build_of and account:
        story.sink.add(
            AgentDebugConversation,
            id=_v7(ctx.ago(chat.age), rng),
            tenant_id=story.tenants[ACME].id,
            agent_id=chat.debug_build_of,
            app_id=APP,
            account_id=account,
            conversation_id=chat.id,
            draft_type="debug_build",
            created_at=ctx.ago(chat.age),
            updated_at=ctx.ago(chat.updated_age),
        )


def _write_workspace(story: _Story, spec: _Workspace) -> None:
    ctx, rng = story.ctx, story.rng
    owner_id = spec.owner_id or _v4(rng)
    tenant = story.tenants[spec.tenant]
    at = ctx.ago(spec.age)
    retired_at = ctx.ago(spec.retired_age) if spec.retired_age is not None else None
    version = spec.version if isinstance(spec.version, tuple) else (story.snapshots[spec.version], "snapshot")
    bindings = [
        binding_row(
            rng,
            binding_id=binding_id,
            tenant_id=tenant.id,
            app_id=spec.app_id,
            workspace_id=spec.id,
            agent_id=spec.agent_id,
            version=version,
            run_ref=None,
            session_snapshot=SUSPENDED_HISTORY,
            status=status,
            retired_at=retired_at if status == "retired" else None,
            pending=spec.pending,
            created_at=at,
            updated_at=retired_at or at + timedelta(minutes=5),
        )
        for binding_id, status in spec.bindings
    ]
    row = workspace_row(
        rng,
        workspace_id=spec.id,
        tenant_id=tenant.id,
        app_id=spec.app_id,
        owner_type=spec.owner_type,
        owner_id=owner_id,
        scope_key="root",
        created_at=at,
        bindings=bindings,
    )
    row["keep"] = True  # written even when retired without a binding left
    if spec.status:
        row["status"] = spec.status
    if retired_at:
        row["retired_at"] = retired_at
    story.sink.write_workspace(row, guard_mismatch=spec.guard_mismatch)


def _write_lone_binding(story: _Story, lone: _LoneBinding) -> None:
    at = story.ctx.ago(lone.age)
    story.sink.add(
        AgentWorkspaceBinding,
        **binding_row(
            story.rng,
            binding_id=lone.id,
            tenant_id=story.tenants[ACME].id,
            app_id=APP,
            workspace_id=lone.workspace_id,
            agent_id=D.SHOWCASE_AGENT,
            version=(story.snapshots["showcase"], "snapshot"),
            run_ref=None,
            session_snapshot=None,
            status="active",
            retired_at=None,
            pending=False,
            created_at=at,
            updated_at=at,
        ),
    )


def _gen_e_draft(doc: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """The Gen E draft: the CLI tool renamed (same id), a new note, one more file, a knowledge tweak."""
    draft = copy.deepcopy(doc)
    draft["config_note"] = "Draft: add the 2027 template and rename the PDF tool."
    for tool in (draft.get("tools") or {}).get("cli_tools") or []:
        tool["name"] = "pdf-render-v2"
        tool["command"] = "pdf-render --from markdown --to pdf --template 2027"
    files = draft.setdefault("config_files", [])
    files.append(_stored_file(rng, "discharge_template_2027.docx", "upload_file", 50211, DOCX_MIME))
    for knowledge_set in (draft.get("knowledge") or {}).get("sets") or []:
        knowledge_set.setdefault("retrieval", {})["top_k"] = 8
    return draft
