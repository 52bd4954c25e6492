"""Fixed ids of the rows the demo promises (tests and docs rely on them)."""

from __future__ import annotations


def _wk7(category: str, n: int) -> str:
    """A well-known agent-table id: UUIDv7 layout, fixed millisecond (2026-05-29 11:02 UTC)."""
    return f"019e7365-ec40-7de0-8{category}-{n:012x}"


def _wk4(category: str, n: int) -> str:
    """A well-known core-table id: UUIDv4 layout."""
    return f"a9e3c1d2-7b40-4de0-8{category}-{n:012x}"


class DemoIds:
    """Fixed ids of the rows the story promises; tests and docs rely on them."""

    # --- workspaces and people (core tables: UUIDv4) ---
    TENANT_ACME = _wk4("100", 1)  # "Acme Robotics": the main story
    TENANT_NORTHWIND = _wk4("100", 2)  # "Northwind Health"
    TENANT_GLOBEX = _wk4("100", 3)  # "Globex Research Lab"
    ACCOUNT_OWNER = _wk4("200", 1)  # Maya Chen, owner of Acme (and admin of Globex)
    ACCOUNT_DEPARTED = _wk4("200", 2)  # Jonas Berg: created Acme agents, no longer a member (no join row)

    # --- apps and runs (core tables) ---
    APP_SUPPORT_ASSISTANT = _wk4("300", 1)  # Agent App (mode `agent`) of the showcase agent
    APP_TICKET_TRIAGE = _wk4("300", 2)  # chatflow (advanced-chat): drift, save-to-roster, leaks
    APP_RESEARCH_DIGEST = _wk4("300", 3)  # workflow binding an archived agent
    APP_ONBOARDING = _wk4("300", 4)  # workflow, never published, dangling bindings
    RUN_SUCCEEDED_LEAKED = _wk4("400", 1)  # succeeded 3 days ago, one session left ACTIVE
    RUN_PAUSED = _wk4("400", 2)  # paused for a human (workflow_pauses row, resumed_at NULL)
    RUN_RUNNING = _wk4("400", 3)  # started minutes ago
    CONVERSATION_SUPERSEDED = _wk4("500", 1)  # two ACTIVE sessions for two snapshots
    CONVERSATION_DELETED = _wk4("500", 2)  # is_deleted = true, session still ACTIVE
    MISSING_RUN = _wk4("f00", 1)  # referenced by a session, no workflow_runs row
    MISSING_CONVERSATION = _wk4("f00", 2)  # referenced by a session, no conversations row

    # --- agents (UUIDv7 layout) ---
    SHOWCASE_AGENT = _wk7("a00", 1)  # "Acme Support Assistant": roster, 6 snapshots, 7 revisions
    TICKET_CLASSIFIER_AGENT = _wk7("a00", 2)  # workflow_only inline agent of the triage chatflow
    LEFT_BEHIND_INLINE_AGENT = _wk7("a00", 3)  # workflow_only, active, unreferenced after save-to-roster
    SAVED_TO_ROSTER_AGENT = _wk7("a00", 4)  # "Escalation Concierge": v1 by save_to_roster
    SAVED_AS_NEW_AGENT = _wk7("a00", 5)  # "Market Report Writer": v1 by save_new_agent
    ARCHIVED_BOUND_AGENT = _wk7("a00", 6)  # archived, still bound in a draft
    HOSTILE_NAME_AGENT = _wk7("a00", 7)  # name is HTML + markdown (HOSTILE_NAME)
    RTL_NAME_AGENT = _wk7("a00", 8)  # Arabic + Hebrew + emoji + zero-width joiner (RTL_NAME)
    INVALID_JSON_AGENT = _wk7("a00", 9)  # active snapshot text is not JSON
    NON_OBJECT_JSON_AGENT = _wk7("a00", 10)  # active snapshot text is `[]`
    HUGE_PROMPT_AGENT = _wk7("a00", 11)  # 200 KB system prompt, 64 KB description
    UNKNOWN_ENUM_AGENT = _wk7("a00", 12)  # status `suspended`, source `marketplace`
    GEN_E_AGENT = _wk7("a00", 13)  # Northwind: soul in the newer Gen E shape, source `roster`
    UNSORTED_JSON_AGENT = _wk7("a00", 14)  # Globex: snapshots rewritten by migration 89919253ca7a
    MISSING_AGENT = _wk7("f00", 1)  # deleted by hand: still named by a binding and a session

    # --- snapshots and revisions ---
    SHOWCASE_SNAPSHOTS = tuple(_wk7("b00", n) for n in range(1, 7))  # versions 1..6 (6 is active)
    INVALID_JSON_SNAPSHOT = _wk7("b00", 0x101)
    NON_OBJECT_JSON_SNAPSHOT = _wk7("b00", 0x102)
    HUGE_PROMPT_SNAPSHOT = _wk7("b00", 0x103)
    MISSING_SNAPSHOT = _wk7("f00", 2)  # referenced by a binding, no row
    MISSING_AGENT_SNAPSHOT = _wk7("f00", 3)  # the deleted agent's snapshot, no row
    SHOWCASE_RESTORE_REVISION = _wk7("c00", 1)  # restore_version of v3 (creates no snapshot)
    UNKNOWN_OPERATION_REVISION = _wk7("c00", 2)  # operation `merge_versions` (unknown to every Dify)

    # --- bindings ---
    DRIFT_BINDING = _wk7("d00", 1)  # roster binding pinning showcase v4 while v6 is active
    DANGLING_AGENT_BINDING = _wk7("d00", 2)  # agent_id = MISSING_AGENT
    MISSING_SNAPSHOT_BINDING = _wk7("d00", 3)  # current_snapshot_id = MISSING_SNAPSHOT
    FOREIGN_SNAPSHOT_BINDING = _wk7("d00", 4)  # current_snapshot_id = a showcase snapshot, other agent
    ARCHIVED_AGENT_BINDING = _wk7("d00", 5)  # draft binding of ARCHIVED_BOUND_AGENT

    # --- runtime sessions ---
    FINISHED_RUN_SESSION = _wk7("e00", 1)  # ACTIVE, run succeeded 3 days ago (leak)
    PAUSED_RUN_SESSION = _wk7("e00", 2)  # ACTIVE, run paused (legitimate)
    RUNNING_RUN_SESSION = _wk7("e00", 3)  # ACTIVE, run running (legitimate)
    SUPERSEDED_SESSION = _wk7("e00", 4)  # ACTIVE, conversation moved on to a newer snapshot
    SUPERSEDING_SESSION = _wk7("e00", 5)  # ACTIVE, the newer one of the same conversation
    ORPHANED_SESSION = _wk7("e00", 6)  # ACTIVE, agent_id = MISSING_AGENT
    MISSING_RUN_SESSION = _wk7("e00", 7)  # ACTIVE, workflow_run_id = MISSING_RUN
    MISSING_CONVERSATION_SESSION = _wk7("e00", 8)  # ACTIVE, conversation_id = MISSING_CONVERSATION
    DELETED_CONVERSATION_SESSION = _wk7("e00", 9)  # ACTIVE, conversation is_deleted
    IDLE_SESSION = _wk7("e00", 10)  # ACTIVE, untouched for five weeks

    # --- literal texts ---
    HOSTILE_NAME = "<img src=x onerror=alert(1)> **bold** [x](javascript:alert(1))"
    RTL_NAME = "مساعد الدعم 🧑\u200d💻 עוזר תמיכה"
    UNKNOWN_STATUS = "suspended"
    UNKNOWN_SOURCE = "marketplace"
    UNKNOWN_OPERATION = "merge_versions"


GEN_E_CLI_TOOL_ID = _wk4("700", 1)


class WorkspaceIds:
    """Fixed ids of the working-environment rows the story promises (workspaces generation only).

    Bindings that replace a runtime session keep the session's id (`DemoIds.*_SESSION`)."""

    # --- drafts (agent_config_drafts) ---
    SHOWCASE_SHARED_DRAFT = _wk7("1d0", 1)  # Acme showcase: shared draft with unpublished changes vs v6
    SHOWCASE_BUILD_DRAFT = _wk7("1d0", 2)  # Maya's build draft of the showcase: same config as v6
    GEN_E_SHARED_DRAFT = _wk7("1d0", 3)  # Northwind Gen E: renamed CLI tool, new note, one more file
    MISSING_BASE_DRAFT = _wk7("1d0", 4)  # base_snapshot_id names no snapshot (health)
    MISSING_HOME_DRAFT = _wk7("1d0", 5)  # home_snapshot_id names no home snapshot (health)
    MISSING_DRAFT = _wk7("f00", 0x11)  # owner of a build_draft workspace, no row (leak)

    # --- home snapshots (agent_home_snapshots) ---
    HOME_REFERENCED = _wk7("1e0", 1)  # referenced by the Gen E snapshots and its draft
    HOME_UNREFERENCED = _wk7("1e0", 2)  # active, nobody references it
    HOME_RETIRED_UNCOLLECTED = _wk7("1e0", 3)  # retired 9 days ago, never collected
    HOME_RETIRED_REFERENCED = _wk7("1e0", 4)  # retired, yet the showcase build draft still names it
    MISSING_HOME = _wk7("f00", 0x10)  # named by a draft, no row

    # --- workspaces and their bindings ---
    BUILD_DRAFT_WORKSPACE = _wk7("1f0", 1)  # active, owner = SHOWCASE_BUILD_DRAFT (legitimate)
    BUILD_DRAFT_BINDING = _wk7("1f1", 1)
    MISSING_DRAFT_WORKSPACE = _wk7("1f0", 2)  # active, its build draft is gone (leak)
    MISSING_DRAFT_BINDING = _wk7("1f1", 2)
    ARCHIVED_AGENT_WORKSPACE = _wk7("1f0", 3)  # active conversation workspace of an archived agent
    ARCHIVED_AGENT_BINDING = _wk7("1f1", 3)  # active binding of ARCHIVED_BOUND_AGENT (leak)
    EMPTY_WORKSPACE = _wk7("1f0", 4)  # active, no active binding (inconsistent)
    EMPTY_WORKSPACE_BINDING = _wk7("1f1", 4)  # its only binding, retired
    RETIRED_WORKSPACE = _wk7("1f0", 5)  # retired, yet one binding is still active (inconsistent)
    ACTIVE_IN_RETIRED_BINDING = _wk7("1f1", 5)
    GUARD_MISMATCH_WORKSPACE = _wk7("1f0", 6)  # status retired but active_guard 1 (inconsistent)
    UNCOLLECTED_WORKSPACE = _wk7("1f0", 7)  # retired 12 days ago with its binding, never collected
    UNCOLLECTED_BINDING = _wk7("1f1", 7)
    MISSING_APP_WORKSPACE = _wk7("1f0", 8)  # active, its app no longer exists (leak)
    MISSING_APP_BINDING = _wk7("1f1", 8)
    PENDING_FORM_WORKSPACE = _wk7("1f0", 9)  # a live chat waiting for a human: never touch
    PENDING_FORM_BINDING = _wk7("1f1", 9)
    DANGLING_BINDING = _wk7("f00", 0x12)  # named by a conversation pointer and a workspace-less binding
    MISSING_WORKSPACE_BINDING = _wk7("1f1", 10)  # workspace_id names no workspace (health)
    MISSING_WORKSPACE = _wk7("f00", 0x13)

    # --- core rows ---
    PENDING_FORM_CONVERSATION = _wk4("510", 1)  # live conversation, waiting for a human-input form
    DANGLING_POINTER_CONVERSATION = _wk4("510", 2)  # agent_workspace_binding_id names nothing
    BUILD_DEBUG_CONVERSATION = _wk4("510", 3)  # Maya's build-draft debug conversation
    EMPTY_CONVERSATION = _wk4("510", 4)  # owner of EMPTY_WORKSPACE: a real, live chat (so: inconsistent)
    MISSING_APP = _wk4("f10", 1)  # named by MISSING_APP_WORKSPACE, no apps row
    MISSING_BACKING_APP = _wk4("f10", 2)  # backing_app_id of SAVED_AS_NEW_AGENT, no apps row
