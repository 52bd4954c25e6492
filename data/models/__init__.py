"""SQLAlchemy models: the mirror of Dify's tables (`DifyBase`) and Agent Desk's own (`AppBase`)."""

from data.models.agent import (
    AGENT_TABLES,
    CORE_AGENT_TABLES,
    Agent,
    AgentConfigRevision,
    AgentConfigSnapshot,
    AgentRuntimeSession,
    WorkflowAgentNodeBinding,
)
from data.models.audit import AuditAction, AuditBatch, AuditTarget  # noqa: F401  (Agent Desk's audit tables)
from data.models.base import DifyBase, naive_utc_now, uuidv7, uuidv7_time
from data.models.check_runs import CheckClaim, CheckFinding, CheckRun  # noqa: F401  (check jobs)
from data.models.core import (
    CORE_TABLES,
    NEWER_CORE_TABLES,
    Account,
    App,
    Conversation,
    Tenant,
    TenantAccountJoin,
    Workflow,
    WorkflowNodeExecution,
    WorkflowPause,
    WorkflowRun,
)
from data.models.drafts import DRAFT_TABLES, AgentConfigDraft, AgentDebugConversation
from data.models.own import AppBase
from data.models.workspaces import WORKSPACE_TABLES, AgentHomeSnapshot, AgentWorkspace, AgentWorkspaceBinding

__all__ = [
    "AGENT_TABLES",
    "CORE_AGENT_TABLES",
    "CORE_TABLES",
    "DRAFT_TABLES",
    "NEWER_CORE_TABLES",
    "WORKSPACE_TABLES",
    "Account",
    "Agent",
    "AgentConfigDraft",
    "AgentConfigRevision",
    "AgentConfigSnapshot",
    "AgentDebugConversation",
    "AgentHomeSnapshot",
    "AgentRuntimeSession",
    "AgentWorkspace",
    "AgentWorkspaceBinding",
    "App",
    "AppBase",
    "Conversation",
    "DifyBase",
    "Tenant",
    "TenantAccountJoin",
    "Workflow",
    "WorkflowAgentNodeBinding",
    "WorkflowNodeExecution",
    "WorkflowPause",
    "WorkflowRun",
    "naive_utc_now",
    "uuidv7",
    "uuidv7_time",
]
