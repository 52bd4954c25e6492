"""Scales (how much generated data per workspace) and the summary of what was written."""

from __future__ import annotations

from dataclasses import dataclass, fields

CHUNK_SIZE = 1000


@dataclass(frozen=True)
class Scale:
    """How much generated data to add to the story, per workspace (3 workspaces)."""

    name: str
    description: str
    blocks_per_tenant: int  # a block = some roster agents + workflow apps that bind them
    roster_agents_per_block: int
    workflow_apps_per_block: int
    extra_accounts_per_tenant: int
    max_versions: int  # versions per generated agent: 1..max_versions, skewed low
    runs_per_app: int  # workflow runs per generated workflow app (mean)
    conversations_per_agent_app: int  # conversations per generated Agent App (mean)


SCALES: dict[str, Scale] = {
    "S": Scale(
        name="S",
        description="embedded demo and tests: the story plus one generated block per workspace "
        "(~70 agents, ~190 snapshots, ~80 bindings, ~220 sessions; well under a second on SQLite)",
        blocks_per_tenant=1,
        roster_agents_per_block=8,
        workflow_apps_per_block=3,
        extra_accounts_per_tenant=2,
        max_versions=6,
        runs_per_app=4,
        conversations_per_agent_app=2,
    ),
    "M": Scale(
        name="M",
        description="about 10x S: ~750 agents, ~3,400 snapshots, ~1,000 bindings, ~3,000 sessions (~1 s)",
        blocks_per_tenant=10,
        roster_agents_per_block=16,
        workflow_apps_per_block=5,
        extra_accounts_per_tenant=12,
        max_versions=12,
        runs_per_app=8,
        conversations_per_agent_app=4,
    ),
    "L": Scale(
        name="L",
        description="benchmark: ~110,000 agents, ~1,000,000 snapshots, ~230,000 bindings, ~1,000,000 sessions "
        "(streamed; a few minutes)",
        blocks_per_tenant=2000,
        roster_agents_per_block=8,
        workflow_apps_per_block=6,
        extra_accounts_per_tenant=60,
        max_versions=30,
        runs_per_app=13,
        conversations_per_agent_app=8,
    ),
}


@dataclass(frozen=True)
class DemoSummary:
    """Rows written per table (field names are the table names)."""

    scale: str
    seed: int
    tenants: int = 0
    accounts: int = 0
    tenant_account_joins: int = 0
    apps: int = 0
    workflows: int = 0
    workflow_runs: int = 0
    workflow_pauses: int = 0
    conversations: int = 0
    agents: int = 0
    agent_config_snapshots: int = 0
    agent_config_revisions: int = 0
    workflow_agent_node_bindings: int = 0
    agent_runtime_sessions: int = 0
    # The workspaces generation (Dify 1.16+ / 1.17+ tables; data.demo.workspaces_sink).
    agent_config_drafts: int = 0
    agent_debug_conversations: int = 0
    agent_workspaces: int = 0
    agent_workspace_bindings: int = 0
    agent_home_snapshots: int = 0
    workflow_node_executions: int = 0

    def counts(self) -> dict[str, int]:
        """Table name -> rows written."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("scale", "seed")}

    def __str__(self) -> str:
        return ", ".join(f"{name}={count:,}" for name, count in self.counts().items())
