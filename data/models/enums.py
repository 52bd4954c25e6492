"""Enums of Dify's agent tables (seed commit 1fc9a7802c) plus the values newer Dify versions write.

Columns holding them are plain VARCHAR: a database may hold values not listed here, which load as
`EnumValue` with `member=None` (see `data.tolerant`).
"""

from enum import StrEnum


class AgentKind(StrEnum):
    """Agent implementation family."""

    DIFY_AGENT = "dify_agent"  # native agent run by the Dify Agent runtime


class AgentScope(StrEnum):
    """Visibility and lifecycle scope of an agent."""

    ROSTER = "roster"  # workspace-visible, reusable from the Agent Roster
    WORKFLOW_ONLY = "workflow_only"  # inline agent owned by one draft workflow node


class AgentSource(StrEnum):
    """What created or imported the agent."""

    AGENT_APP = "agent_app"  # created from an Agent App composer
    WORKFLOW = "workflow"  # created from a workflow Agent Composer
    IMPORTED = "imported"  # imported from an external artifact
    SYSTEM = "system"  # created by system bootstrap or managed templates
    ROSTER = "roster"  # newer Dify: created directly in the roster (not in the seed)


class AgentIconType(StrEnum):
    """How `agents.icon` is to be read."""

    IMAGE = "image"  # an uploaded image file id
    EMOJI = "emoji"  # an emoji character
    LINK = "link"  # an external image URL (shown as a link, never fetched)


class AgentStatus(StrEnum):
    """Soft lifecycle state of an agent."""

    ACTIVE = "active"  # usable in the roster, composer and bindings
    ARCHIVED = "archived"  # soft-deleted; history and bindings kept


class RevisionOperation(StrEnum):
    """Operation recorded by an `agent_config_revisions` row."""

    CREATE_VERSION = "create_version"  # first version of a new agent
    SAVE_CURRENT_VERSION = "save_current_version"  # replaces the current version with a new snapshot
    SAVE_NEW_VERSION = "save_new_version"  # a new version of the same agent
    SAVE_NEW_AGENT = "save_new_agent"  # composer content saved into a brand-new roster agent
    SAVE_TO_ROSTER = "save_to_roster"  # a workflow-only agent promoted into the roster
    RESTORE_VERSION = "restore_version"  # newer Dify (PR #37734): an older version restored
    PUBLISH_DRAFT = "publish_draft"  # newer Dify: the shared draft published as the active version


#: Operations the seed code knows; the others come from newer Dify versions.
SEED_REVISION_OPERATIONS = frozenset(
    {
        RevisionOperation.CREATE_VERSION,
        RevisionOperation.SAVE_CURRENT_VERSION,
        RevisionOperation.SAVE_NEW_VERSION,
        RevisionOperation.SAVE_NEW_AGENT,
        RevisionOperation.SAVE_TO_ROSTER,
    }
)


class BindingType(StrEnum):
    """How a workflow node is bound to an agent."""

    ROSTER_AGENT = "roster_agent"  # the node runs a shared roster agent (its live active snapshot)
    INLINE_AGENT = "inline_agent"  # the node owns a workflow-only agent (the pinned snapshot)


class SessionStatus(StrEnum):
    """Lifecycle state of an agent-backend session snapshot."""

    ACTIVE = "active"  # may be resumed by a later run in the same scope
    CLEANED = "cleaned"  # retired: must not be submitted to the agent backend again


class SessionOwnerType(StrEnum):
    """Which product surface owns a runtime session row."""

    WORKFLOW_RUN = "workflow_run"  # one workflow agent node execution scope
    CONVERSATION = "conversation"  # one Agent App conversation (multi-turn chat)


class WorkflowRunStatus(StrEnum):
    """`workflow_runs.status` (Dify's WorkflowExecutionStatus)."""

    SCHEDULED = "scheduled"  # defined, unused
    RUNNING = "running"  # executing now
    SUCCEEDED = "succeeded"  # finished without errors
    FAILED = "failed"  # finished with an unhandled error
    STOPPED = "stopped"  # stopped by a user or by Dify
    PARTIAL_SUCCEEDED = "partial-succeeded"  # finished; errors were handled
    PAUSED = "paused"  # waiting (e.g. for a human); will resume


#: Dify's "ended" set: a session of such a run should have been retired by the terminal cleanup.
ENDED_RUN_STATUSES = frozenset(
    {
        WorkflowRunStatus.SUCCEEDED,
        WorkflowRunStatus.FAILED,
        WorkflowRunStatus.STOPPED,
        WorkflowRunStatus.PARTIAL_SUCCEEDED,
    }
)


class WorkspaceOwnerType(StrEnum):
    """Who owns an `agent_workspaces` row (Dify 1.17+)."""

    CONVERSATION = "conversation"  # an Agent App / chatflow conversation (conversations.id)
    WORKFLOW_RUN = "workflow_run"  # one workflow run (workflow_runs.id), scope = node:binding
    BUILD_DRAFT = "build_draft"  # one account's build draft (agent_config_drafts.id, debug_build)


class LifecycleStatus(StrEnum):
    """Status of a workspace, a workspace binding or a home snapshot (Dify 1.17+)."""

    ACTIVE = "active"  # in use (or usable)
    RETIRED = "retired"  # waiting for Dify's collector to destroy the backend resource and delete the row


class DraftType(StrEnum):
    """`agent_config_drafts.draft_type` (Dify 1.16+)."""

    DRAFT = "draft"  # the shared console draft (draft_owner_key '')
    DEBUG_BUILD = "debug_build"  # one account's build draft (draft_owner_key = account id)


class ConfigVersionKind(StrEnum):
    """What `agent_workspace_bindings.agent_config_version_id` names."""

    SNAPSHOT = "snapshot"  # an agent_config_snapshots.id
    DRAFT = "draft"  # the shared draft's id
    BUILD_DRAFT = "build_draft"  # a debug_build draft's id
