"""Deterministic demo data: what a Dify database's agent tables look like after months of real use.

The story (scale S, the embedded demo): three workspaces.

* **Acme Robotics** runs customer support on Dify. Its showcase agent, "Acme Support Assistant", is a
  roster agent behind an Agent App, edited many times (every edit kind, including the newer
  `restore_version` / `publish_draft`). The chatflow "Support Ticket Triage" uses it through a roster
  binding that still pins an older snapshot (drift), an inline ticket classifier, and an escalation
  node that was promoted with save-to-roster (the old workflow-only agent stays behind, active and
  unreferenced). "Weekly Market Research Digest" still binds an agent that has since been archived,
  so its recent scheduled runs fail. "Employee Onboarding Flow" (never published) has dangling
  bindings: an agent that was deleted by hand, a missing snapshot, another agent's snapshot. Acme
  also owns the hostile rows: HTML/markdown and RTL names, snapshots with invalid or non-object JSON,
  a 200 KB prompt, unknown enum values.
* **Northwind Health** has a patient intake Agent App, a clinical intake chatflow, an agent written by
  a newer Dify (Gen E soul, source `roster`), imported and system agents, and a name reused after
  archiving.
* **Globex Research Lab** runs a literature review pipeline; one of its agents has snapshots that
  data migration 89919253ca7a rewrote (compact, unsorted keys, ASCII escapes).

Runtime sessions cover both owners and both statuses, from minutes to months old: finished runs that
still hold ACTIVE sessions (leaks), paused and running runs, a conversation with two active sessions
for different snapshots (superseded), deleted and missing conversations, missing runs and agents.

On top of the story, every scale adds generated "blocks" per workspace (roster agents, Agent Apps
with conversations, workflow apps with draft and published bindings and runs), streamed into the
database in chunks, so scale L (benchmark size) never holds more than one block in memory.

Rules the data follows (see shared/reference/dify-agent-schema.md):

* Every timestamp is `now` minus an offset drawn from the seeded RNG, so a frozen `now` freezes the
  data and another `now` shifts every timestamp by the same delta. The same (now, scale, seed) gives
  byte-identical rows. Only `random.Random` is used (no clock, no uuid4()).
* Agent-table ids are UUIDv7 carrying their row's creation millisecond; core-table ids are
  RNG-drawn UUIDv4. The well-known ids in `DemoIds` are fixed strings (their v7 millisecond is a
  fixed 2026-05-29 instant and does not follow `now`).
* Snapshot JSON is AgentSoulConfig as Dify's ORM stores it: compact, key-sorted, defaults
  materialized. Versions and revisions follow section 6 (max+1 numbering, `previous_snapshot_id`
  only for `save_current_version`, `restore_version` creates no snapshot).
* The computed `agents.roster_unique_name` is never written; active roster names are unique per
  workspace (the database enforces it).
"""

from __future__ import annotations

import copy
import json
import random
import unicodedata
import uuid
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import sqlalchemy as sa

from data.models import (
    DRAFT_TABLES,
    WORKSPACE_TABLES,
    Account,
    Agent,
    AgentConfigRevision,
    AgentConfigSnapshot,
    AgentRuntimeSession,
    App,
    Conversation,
    Tenant,
    TenantAccountJoin,
    Workflow,
    WorkflowAgentNodeBinding,
    WorkflowNodeExecution,
    WorkflowPause,
    WorkflowRun,
)
from data.models.base import DifyBase, uuidv7
from data.models.generations import DEFAULT_GENERATION, SESSIONS, check_generation, column_in_generation

# ============================================================================================
# Public API: scales, well-known ids, summary
# ============================================================================================

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
    # The workspaces generation (Dify 1.16+ / 1.17+ tables; data.demo_workspaces).
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


# ============================================================================================
# Writing rows: chunked Core inserts
# ============================================================================================

_MODELS: tuple[type[DifyBase], ...] = (
    Tenant,
    Account,
    TenantAccountJoin,
    App,
    Workflow,
    WorkflowRun,
    WorkflowPause,
    Conversation,
    Agent,
    AgentConfigSnapshot,
    AgentConfigRevision,
    WorkflowAgentNodeBinding,
    AgentRuntimeSession,
    *DRAFT_TABLES,
    *WORKSPACE_TABLES,
    WorkflowNodeExecution,
)


class _Sink:
    """Buffers rows per table and inserts them in chunks (executemany / insertmanyvalues).

    Writes only the columns the mirror of `generation` has (the sessions mirror is the seed)."""

    def __init__(self, conn: sa.Connection, chunk_size: int = CHUNK_SIZE, generation: str = SESSIONS) -> None:
        self.conn = conn
        self.chunk_size = chunk_size
        self.buffers: dict[str, list[dict[str, Any]]] = {m.__tablename__: [] for m in _MODELS}
        self.counts: dict[str, int] = {m.__tablename__: 0 for m in _MODELS}
        # Computed columns (agents.roster_unique_name) are generated by the database: never written.
        self.column_sets = {
            m.__tablename__: frozenset(c.name for c in m.__table__.columns if c.computed is None)
            for m in _MODELS
        }
        self.columns = {
            m.__tablename__: tuple(
                c.name
                for c in m.__table__.columns
                if c.computed is None and column_in_generation(c, generation)
            )
            for m in _MODELS
        }
        self.tables = {m.__tablename__: m.__table__ for m in _MODELS}

    def add(self, model: type[DifyBase], **values: Any) -> None:
        name = model.__tablename__
        unknown = values.keys() - self.column_sets[name]
        if unknown:
            raise KeyError(f"{name}: no such column(s) {sorted(unknown)}")
        # Every row carries every column (executemany needs uniform keys); unset ones are NULL.
        row = {c: values.get(c) for c in self.columns[name]}
        buffer = self.buffers[name]
        buffer.append(row)
        if len(buffer) >= self.chunk_size:
            self.flush(name)

    def flush(self, name: str | None = None) -> None:
        for table_name in [name] if name else list(self.buffers):
            rows = self.buffers[table_name]
            if rows:
                self.conn.execute(sa.insert(self.tables[table_name]), rows)
                self.counts[table_name] += len(rows)
                self.buffers[table_name] = []


# ============================================================================================
# Small helpers: time, ids, JSON
# ============================================================================================

_EPOCH = datetime(1970, 1, 1)


def _ms(at: datetime) -> int:
    return (at - _EPOCH) // timedelta(milliseconds=1)


def _v7(at: datetime, rng: random.Random) -> str:
    """Agent-table id: UUIDv7 of the row's creation millisecond, random bits from the seeded RNG."""
    return uuidv7(_ms(at), rng)


def _v4(rng: random.Random) -> str:
    """Core-table id: a UUIDv4 drawn from the seeded RNG."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A random instant in [start, end] (microsecond resolution); `end` when the range is empty."""
    span = (end - start) // timedelta(microseconds=1)
    if span <= 0:
        return end
    return start + timedelta(microseconds=rng.randrange(span + 1))


def _spread(rng: random.Random, start: datetime, end: datetime, n: int) -> list[datetime]:
    """n sorted random instants in [start, end]."""
    return sorted(_between(rng, start, end) for _ in range(n))


def _hex(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(4 * n):0{n}x}"


def _orm_json(doc: Any) -> str:
    """How Dify's JSONModelColumn stores a document: compact, sorted at every level, UTF-8 kept."""
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _migrated_json(doc: Any) -> str:
    """How data migration 89919253ca7a rewrote snapshots: compact, NOT sorted, ASCII escapes."""
    return json.dumps(doc, separators=(",", ":"))


def _compact_json(doc: Any) -> str:
    """pydantic `model_dump_json()` / plain json.dumps: compact, declaration order, UTF-8 kept."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="microseconds") + "Z"


# ============================================================================================
# Catalogs: the vocabulary the data is written in
# ============================================================================================
# The tables below are data, laid out one entry per line: the formatter is told to leave them be.


@dataclass(frozen=True)
class _Tool:
    key: str
    label: str
    plugin_id: str
    provider: str
    tool_name: str
    credential_type: str  # api-key | oauth2 | unauthorized
    runtime_parameters: dict[str, Any]


@dataclass(frozen=True)
class _Model:
    plugin_id: str
    provider: str
    model: str


@dataclass(frozen=True)
class _Output:
    name: str
    type: str
    required: bool = True
    description: str | None = None
    on_failure: str = "stop"  # stop | default_value | fail_branch
    retries: int = 0


@dataclass(frozen=True)
class _Persona:
    """An agent archetype: its name, prompt, tools, the job it does in workflows, what users ask it."""

    key: str
    name: str
    description: str
    emoji: str
    background: str
    prompt: tuple[str, ...]  # system prompt lines; "{company}" is the workspace's company
    tools: tuple[str, ...]
    job_prompt: str
    outputs: tuple[_Output, ...]
    request: str  # a user message; placeholders {first} {last} {email} {phone} {order} {company}
    reply: str


# fmt: off
TOOLS = {t.key: t for t in (
    _Tool("tavily", "Tavily search", "langgenius/tavily", "tavily", "tavily_search", "api-key",
          {"max_results": 5, "search_depth": "advanced"}),
    _Tool("google", "Google search", "langgenius/google", "google", "google_search", "api-key", {"num": 8}),
    _Tool("jina", "Jina reader", "langgenius/jina", "jina", "jina_reader", "api-key", {"summary": True}),
    _Tool("wikipedia", "Wikipedia", "langgenius/wikipedia", "wikipedia", "wikipedia_search", "unauthorized",
          {"language": "en"}),
    _Tool("arxiv", "arXiv search", "langgenius/arxiv", "arxiv", "arxiv_search", "unauthorized", {"max_results": 10}),
    _Tool("zendesk", "Zendesk ticket lookup", "langgenius/zendesk", "zendesk", "get_ticket", "api-key",
          {"include_comments": True}),
    _Tool("slack", "Slack message", "langgenius/slack", "slack", "send_message", "oauth2",
          {"channel": "#support-escalations"}),
    _Tool("github", "GitHub issue", "langgenius/github", "github", "create_issue", "api-key",
          {"repo": "acme/field-service", "labels": ["from-agent"]}),
    _Tool("jira", "Jira issue", "langgenius/jira", "jira", "create_issue", "api-key",
          {"project_key": "OPS", "issue_type": "Task"}),
    _Tool("notion", "Notion search", "langgenius/notion", "notion", "search_pages", "oauth2", {"page_size": 5}),
    _Tool("gmail", "Gmail draft", "langgenius/gmail", "gmail", "create_draft", "oauth2", {"format": "html"}),
    _Tool("code", "Python sandbox", "langgenius/code_interpreter", "code_interpreter", "run_python", "unauthorized",
          {"timeout_seconds": 30}),
    _Tool("calendar", "Google Calendar", "langgenius/google_calendar", "google_calendar", "create_event", "oauth2",
          {"calendar_id": "primary"}),
    _Tool("sql", "SQL query", "langgenius/database", "database", "sql_query", "api-key",
          {"max_rows": 200, "read_only": True}),
)}

MODELS = (
    _Model("langgenius/openai", "openai", "gpt-4o"),
    _Model("langgenius/openai", "openai", "gpt-4o-mini"),
    _Model("langgenius/openai", "openai", "gpt-4.1"),
    _Model("langgenius/anthropic", "anthropic", "claude-sonnet-4-20250514"),
    _Model("langgenius/anthropic", "anthropic", "claude-3-5-haiku-20241022"),
    _Model("langgenius/deepseek", "deepseek", "deepseek-chat"),
    _Model("langgenius/gemini", "google", "gemini-2.5-flash"),
    _Model("langgenius/tongyi", "tongyi", "qwen-max"),
)

PERSONAS = (
    _Persona(
        "support", "Support Assistant", "Answers customer questions about orders, returns and warranty.",
        "🛟", "#E0F2FE",
        ("You are the customer support assistant of {company}.",
         "Answer in the customer's language and keep replies under 150 words unless asked for detail.",
         "Always look up the order or ticket before promising anything.",
         "Never share internal notes, other customers' data or credentials.",
         "If a refund exceeds 500 EUR, hand over to a human agent with a short summary.",
         "Cite the knowledge base article you used, like [KB-123].",
         "End with one clear next step for the customer."),
        ("zendesk", "tavily"),
        "Answer the customer's latest message using the ticket history and the knowledge base.",
        (_Output("answer", "string"), _Output("needs_human", "boolean", required=False)),
        "Hi, this is {first} {last} ({email}). My order {order} still hasn't arrived, can you check? "
        "You can call me at {phone}.",
        "Thanks {first}! Order {order} left our warehouse and is with the carrier; tracking shows delivery "
        "tomorrow. If it does not arrive, reply here and I will open a replacement request.",
    ),
    _Persona(
        "classifier", "Ticket Classifier", "Labels incoming tickets by product, urgency and language.",
        "🏷️", "#FEF3C7",
        ("You classify support tickets for {company}.",
         "Return exactly one product area, one urgency (low, normal, high, critical) and the language.",
         "Treat safety incidents and outages as critical.",
         "Do not answer the customer; only classify.",
         "If the ticket is spam, set product area to 'spam'."),
        (),
        "Classify the incoming ticket. Use the customer's words, not your assumptions.",
        (_Output("product_area", "string"), _Output("urgency", "string"), _Output("language", "string", False)),
        "Ticket from {first} {last} <{email}>: the gripper on our arm (serial RA-{order}) stopped mid-cycle "
        "and shows error E42. Production line is down!",
        '{{"product_area": "robot-arms", "urgency": "critical", "language": "en"}}',
    ),
    _Persona(
        "escalation", "Escalation Concierge", "Hands difficult cases to the right human with a crisp summary.",
        "🧭", "#FCE7F3",
        ("You prepare escalations for the {company} support team.",
         "Summarize the case in five bullet points: customer, product, problem, what was tried, ask.",
         "Pick the on-call contact from the human contacts list by product area.",
         "Never promise compensation; the human decides.",
         "Ask the human for approval before sending anything to the customer."),
        ("slack", "zendesk"),
        "Escalate the case to the right on-call person and wait for their decision.",
        (_Output("summary", "string"), _Output("decision", "string", required=False)),
        "Customer {first} {last} ({email}, {phone}) demands a refund of 2,400 EUR for order {order}.",
        "Escalated to on-call with a five-point summary; waiting for approval before replying.",
    ),
    _Persona(
        "research", "Market Research Analyst", "Collects market news and competitor moves from the web.",
        "🔎", "#DCFCE7",
        ("You are a market research analyst for {company}.",
         "Search the web for news from the last seven days only.",
         "For every claim, keep the source URL and publication date.",
         "Prefer primary sources (press releases, filings) over blogs.",
         "Group findings by competitor, then by theme.",
         "Flag anything that affects pricing or supply chains."),
        ("tavily", "jina"),
        "Research this week's news about our competitors and the robotics market.",
        (_Output("findings", "array"), _Output("sources", "array", required=False)),
        "Focus on collaborative robots in the EU market this week; {first} {last} from sales asked.",
        "Found 7 items: two product launches, one price cut, four funding rounds. Sources attached.",
    ),
    _Persona(
        "writer", "Report Writer", "Turns research notes into a readable weekly report.",
        "📝", "#EDE9FE",
        ("You write the weekly report for {company}'s leadership team.",
         "Start with a three-sentence executive summary.",
         "Use headings per theme and at most five bullets per heading.",
         "Keep the sources as footnotes.",
         "Write in plain English; avoid hype words like 'revolutionary'."),
        ("notion",),
        "Write the weekly digest from the research findings of the previous node.",
        (_Output("report", "string"), _Output("title", "string", required=False)),
        "Please write this week's digest; {first} wants it in Notion by Friday.",
        "# Weekly Market Digest\n\nExecutive summary: demand for cobots keeps rising ...",
    ),
    _Persona(
        "compliance", "Compliance Reviewer", "Checks documents against internal policy before they go out.",
        "⚖️", "#F1F5F9",
        ("You review outgoing documents for {company} against the compliance policy.",
         "List every sentence that makes a forward-looking statement.",
         "Flag personal data that is not needed for the purpose.",
         "Answer 'approved' only when nothing is flagged.",
         "Quote the policy section for each finding."),
        (),
        "Review the report for compliance issues before it is published.",
        (_Output("verdict", "string"), _Output("findings", "array", required=False, on_failure="default_value")),
        "Review the attached report drafted by {first} {last}.",
        "verdict: changes needed. Two forward-looking statements (section 4.2).",
    ),
    _Persona(
        "onboarding", "Onboarding Buddy", "Welcomes new hires and walks them through their first week.",
        "👋", "#FFEDD5",
        ("You are the onboarding buddy for new employees at {company}.",
         "Greet the new hire by first name and explain the first-week schedule.",
         "Answer HR questions from the onboarding guide only.",
         "For laptop or account problems, open an IT ticket.",
         "Be warm, concise, and never discuss salaries."),
        ("calendar", "jira"),
        "Welcome the new hire and create their first-week calendar.",
        (_Output("welcome_message", "string"), _Output("events", "array", required=False)),
        "New hire: {first} {last}, personal email {email}, phone {phone}, starts Monday in Berlin.",
        "Welcome {first}! Your first week: Monday IT setup at 9:00, Tuesday team lunch ...",
    ),
    _Persona(
        "incident", "Incident Commander", "Coordinates outage response and writes status updates.",
        "🚨", "#FEE2E2",
        ("You coordinate incident response for {company}'s cloud services.",
         "Keep a timeline with UTC timestamps.",
         "Post a status update every 30 minutes while the incident is open.",
         "Never speculate about root cause in customer-facing updates.",
         "Assign owners for every action item."),
        ("slack", "github"),
        "Draft the next status update from the incident timeline.",
        (_Output("status_update", "string"), _Output("severity", "string", retries=2)),
        "PagerDuty alert: API latency p99 above 4s since 09:12 UTC. On-call is {first} {last} ({phone}).",
        "Investigating: elevated API latency since 09:12 UTC. Next update in 30 minutes.",
    ),
    _Persona(
        "sql", "Data Analyst", "Answers business questions with read-only SQL.",
        "📊", "#E0E7FF",
        ("You answer business questions for {company} with read-only SQL.",
         "Show the query you ran and a short interpretation.",
         "Never run statements that modify data.",
         "Round money to two decimals and state the currency.",
         "If the question is ambiguous, state your assumption first."),
        ("sql", "code"),
        "Answer the analytics question with a query and a chart description.",
        (_Output("answer", "string"), _Output("query", "string", required=False)),
        "How many orders did customer {first} {last} ({email}) place in 2026?",
        "12 orders in 2026 (query: SELECT count(*) FROM orders WHERE customer_id = ...).",
    ),
    _Persona(
        "meetings", "Meeting Summarizer", "Turns meeting transcripts into decisions and action items.",
        "🗒️", "#FAE8FF",
        ("You summarize meetings at {company}.",
         "Output decisions, action items with owners and due dates, and open questions.",
         "Do not include small talk.",
         "Use the attendees' first names only."),
        ("notion", "gmail"),
        "Summarize the transcript into decisions and action items.",
        (_Output("summary", "string"), _Output("action_items", "array")),
        "Transcript of the weekly sync; attendees include {first} {last} <{email}>.",
        "Decisions: ship v2.3 on Tuesday. Actions: {first} to update the release notes by Friday.",
    ),
    _Persona(
        "recruiting", "Recruiting Screener", "Screens applications against the job description.",
        "🧑‍💼", "#CCFBF1",
        ("You screen job applications for {company}.",
         "Score each requirement from 0 to 3 and justify in one sentence.",
         "Ignore name, gender, age, nationality and photos.",
         "Never reject; recommend 'interview' or 'hold' only."),
        ("gmail",),
        "Screen the application against the job description.",
        (_Output("recommendation", "string"), _Output("scores", "object")),
        "Application from {first} {last} ({email}, {phone}) for Senior Robotics Engineer.",
        "Recommendation: interview. Strong ROS2 experience (3/3), limited safety certification (1/3).",
    ),
    _Persona(
        "contracts", "Contract Clause Checker", "Finds risky clauses in supplier contracts.",
        "📑", "#FEF9C3",
        ("You check supplier contracts for {company}'s procurement team.",
         "Flag unlimited liability, auto-renewal and exclusivity clauses.",
         "Quote the clause and explain the risk in one sentence.",
         "You are not a lawyer; recommend legal review for anything flagged high."),
        (),
        "Check the contract for risky clauses.",
        (_Output("flags", "array"), _Output("risk", "string", on_failure="fail_branch")),
        "Supplier contract from {last} GmbH, contact {first} {last} <{email}>.",
        "High risk: clause 14.2 auto-renews for 36 months without notice.",
    ),
    _Persona(
        "intake", "Clinical Intake Assistant", "Collects symptoms and routes patients to the right clinic.",
        "🩺", "#DBEAFE",
        ("You do patient intake for {company}.",
         "Ask about symptoms, duration and medication, one question at a time.",
         "If the patient describes chest pain or difficulty breathing, tell them to call emergency services.",
         "Never give a diagnosis.",
         "Summarize for the nurse using SOAP headings."),
        ("calendar",),
        "Collect the intake information and propose a clinic and slot.",
        (_Output("soap_summary", "string"), _Output("clinic", "string")),
        "Patient {first} {last}, DOB 1984-03-12, phone {phone}: persistent cough for two weeks.",
        "Summary for the nurse (S: cough 2 weeks, no fever ...). Suggested: respiratory clinic, Tue 10:30.",
    ),
    _Persona(
        "papers", "Paper Summarizer", "Summarizes research papers for the lab's reading group.",
        "📚", "#ECFCCB",
        ("You summarize research papers for {company}'s reading group.",
         "Give the problem, method, main result and one limitation.",
         "Quote numbers exactly as in the paper.",
         "Link the arXiv id.",
         "Keep it under 200 words."),
        ("arxiv", "jina"),
        "Summarize each paper found by the previous node.",
        (_Output("summaries", "array"), _Output("reading_list", "string", required=False)),
        "Summarize the new diffusion-policy papers; {first} {last} presents on Thursday.",
        "3 papers. (1) arXiv:2605.01234: diffusion policies for bimanual grasping, +12% success ...",
    ),
    _Persona(
        "releases", "Release Notes Writer", "Writes customer-facing release notes from merged pull requests.",
        "🚀", "#F5F5F4",
        ("You write release notes for {company}'s products.",
         "Group changes as New, Improved, Fixed.",
         "Write for customers, not engineers; no PR numbers.",
         "Mention breaking changes first, in bold."),
        ("github",),
        "Write release notes from the merged pull requests.",
        (_Output("notes", "string"),),
        "Release 2.3 is tagged; ping {first} {last} ({email}) when the notes are ready.",
        "**Breaking:** the v1 REST API is removed. New: fleet dashboard. Fixed: 14 bugs.",
    ),
)
PERSONA = {p.key: p for p in PERSONAS}

#: Prompt lines an edit may add or swap in.
EXTRA_PROMPT_LINES = (
    "Think step by step, but only show the final answer.",
    "If the request is ambiguous, ask exactly one clarifying question.",
    "Use bullet points for lists of three or more items.",
    'Do not invent numbers; say "I don\'t know" when the data is missing.',
    "Format dates as YYYY-MM-DD and amounts with their currency.",
    "Keep a neutral, friendly tone; no emojis in formal documents.",
    "When you call a tool, explain in one sentence why.",
    "Prefer the most recent source when two sources disagree.",
    "Mask personal data (emails, phone numbers) in summaries.",
    "Stop and escalate if the user mentions legal action or a safety incident.",
    "Reply in German when the user writes in German (Umlaute bitte korrekt: ä, ö, ü, ß).",
    "Never paste more than 20 lines of raw data; summarize instead.",
)

FIRST_NAMES = (
    "Maya", "Omar", "Lena", "Kenji", "Priya", "Diego", "Sofia", "Tomás", "Amara", "Jonas", "Hannah", "Wei",
    "Fatima", "Lucas", "Aiko", "Mateo", "Zoe", "Noah", "Chloé", "Arjun", "Ingrid", "Kwame", "Yusuf", "Elif",
    "Rafael", "Nadia", "Sven", "Mei", "Olga", "Tariq", "Camila", "Björn", "Leila", "Hugo", "Anika", "Pedro",
)
LAST_NAMES = (
    "Chen", "Haddad", "Fischer", "Watanabe", "Raman", "Alvarez", "Rossi", "Novák", "Okafor", "Berg",
    "Schmidt", "Zhang", "Khan", "Martin", "Tanaka", "García", "Dubois", "Müller", "Patel", "Kowalski",
    "Nguyen", "Mensah", "Yılmaz", "Santos", "Andersson", "Ivanova", "O'Brien", "Kim", "Silva", "Larsen",
)
TEAMS = (
    "EMEA", "Americas", "APAC", "Tier 2", "Enterprise", "Partners", "Night Shift", "Field Service", "Pilot",
    "Sandbox", "Internal", "Beta", "Finance", "Legal", "Ops", "Marketing",
)
WORKFLOW_APP_NAMES = (
    ("Lead Qualification", "workflow"), ("Invoice Dispute Handling", "advanced-chat"),
    ("RMA Processing", "workflow"), ("Partner Portal Assistant", "advanced-chat"),
    ("Weekly KPI Report", "workflow"), ("IT Helpdesk", "advanced-chat"), ("Contract Review", "workflow"),
    ("Release Train", "workflow"), ("Incident Postmortem Drafts", "workflow"),
    ("Field Technician Copilot", "advanced-chat"), ("Candidate Screening", "workflow"),
    ("Knowledge Base Gardener", "workflow"), ("Sales Call Follow-up", "workflow"),
    ("Warranty Claims", "advanced-chat"),
)
EDIT_NOTES = {
    "prompt": ("Tightened the wording", "Clarified the escalation rule", "Shorter answers",
               "Added a rule after a bad answer in production", "Reworded for the new policy"),
    "tool_add": ("Added {tool}", "Needs {tool} for lookups", "Enable {tool} (requested by the team)"),
    "tool_remove": ("Removed {tool}", "Dropped {tool}: it was never used", "Removed {tool} (credential revoked)"),
    "model": ("Switched to {model}", "Try {model} for cost", "{model} handles tool calls better"),
    "temperature": ("Temperature {old} -> {new}", "Lower temperature for consistent answers",
                    "More creative answers"),
    "env": ("Added {name} variable", "Configure {name}"),
    "secret": ("Added {name} secret reference", "Rotate {name}"),
    "knowledge": ("Attached '{dataset}' knowledge", "Use '{dataset}' for answers"),
    "contact": ("Added {name} as human contact", "On-call rotation: {name}"),
}
FOLLOW_UPS = (
    "Thanks! One more question: can I change the delivery address?",
    "That didn't work, the page says 'session expired'.",
    "Can you send me that as a PDF?",
    "Please escalate, this is urgent.",
    "ok",
    "Great, that solved it. 👍",
    "Mi puoi rispondere in italiano?",
)
# fmt: on


# ============================================================================================
# Workspaces and the documents stored in JSON columns
# ============================================================================================


@dataclass(frozen=True)
class _Person:
    id: str
    name: str
    email: str


@dataclass
class _Tenant:
    """A workspace while it is being generated: members, datasets, credential ids, names in use."""

    index: int
    id: str
    name: str
    company: str
    domain: str
    created_at: datetime
    members: list[_Person] = field(default_factory=list)
    datasets: list[tuple[str, str]] = field(default_factory=list)  # (id, name)
    credentials: dict[str, str] = field(default_factory=dict)  # tool key / model provider -> credential id
    persona_uses: dict[str, int] = field(default_factory=dict)  # for unique roster names
    reserved: set[str] = field(default_factory=set)  # roster names the story uses

    def member(self, rng: random.Random) -> _Person:
        return rng.choice(self.members)


def _blank_soul() -> dict[str, Any]:
    """AgentSoulConfig (Gen C) with every default, in model declaration order."""
    return {
        "schema_version": 1,
        "prompt": {"system_prompt": ""},
        "skills_files": {"files": [], "skills": []},
        "tools": {"dify_tools": [], "cli_tools": []},
        "knowledge": {"datasets": [], "query_mode": None, "query_config": {}},
        "human": {"contacts": [], "tools": []},
        "env": {"variables": [], "secret_refs": []},
        "sandbox": {"provider": None, "config": {}},
        "memory": {"scope": None, "budget": None, "artifacts": []},
        "model": None,
        "app_features": {},
        "app_variables": [],
        "misc_legacy": {},
    }


def _tool_entry(tool: _Tool, tenant: _Tenant) -> dict[str, Any]:
    """A `tools.dify_tools[]` entry as Gen D materializes it (credential ref, never the secret)."""
    authorized = tool.credential_type != "unauthorized"
    return {
        "enabled": True,
        "provider_type": "plugin",
        "provider_id": None,
        "plugin_id": tool.plugin_id,
        "provider": tool.provider,
        "tool_name": tool.tool_name,
        "credential_type": tool.credential_type,
        "credential_ref": {
            "type": "tool",
            "id": tenant.credentials[tool.key] if authorized else None,
            "provider": f"{tool.plugin_id}/{tool.provider}" if authorized else None,
        },
        "name": None,
        "description": None,
        "runtime_parameters": dict(tool.runtime_parameters),
    }


def _model_entry(model: _Model, tenant: _Tenant, temperature: float, max_tokens: int) -> dict[str, Any]:
    return {
        "plugin_id": model.plugin_id,
        "model_provider": model.provider,
        "model": model.model,
        "credential_ref": {
            "type": "provider",
            "id": tenant.credentials[model.provider],
            "provider": model.provider,
        },
        "model_settings": {"temperature": temperature, "max_tokens": max_tokens},
    }


def _contact(person: _Person) -> dict[str, Any]:
    return {"id": person.id, "name": person.name, "email": person.email, "channel": "email"}


def _secret_value(rng: random.Random) -> str:
    # Looks like a provider key on purpose: the masking layer must hide it.
    return f"sk-demo-{_hex(rng, 32)}"


def _persona_soul(
    persona: _Persona, tenant: _Tenant, rng: random.Random, *, agent_app: bool
) -> dict[str, Any]:
    """A first version built from a persona: its prompt and tools, a model, maybe knowledge."""
    doc = _blank_soul()
    doc["prompt"]["system_prompt"] = "\n".join(line.format(company=tenant.company) for line in persona.prompt)
    doc["tools"]["dify_tools"] = [
        _tool_entry(TOOLS[key], tenant) for key in persona.tools if rng.random() < 0.8
    ]
    if rng.random() < 0.9:  # a few agents have no model chosen yet (Gen B+ allows None)
        doc["model"] = _model_entry(
            rng.choice(MODELS), tenant, rng.choice((0.2, 0.3, 0.5, 0.7)), rng.choice((1024, 2048, 4096))
        )
    if rng.random() < 0.4:
        dataset_id, dataset_name = rng.choice(tenant.datasets)
        doc["knowledge"] = {
            "datasets": [{"id": dataset_id, "name": dataset_name}],
            "query_mode": "generated_query",
            "query_config": {"top_k": 4},
        }
    if agent_app:
        doc["memory"]["scope"] = "conversation"
        doc["app_features"] = {
            "opening_statement": f"Hi! I'm the {tenant.company} {persona.name.lower()}. How can I help?",
            "suggested_questions": ["Where is my order?", "How do I return an item?"],
        }
        doc["app_variables"] = [
            {"name": "customer_tier", "type": "select", "required": False, "default": "free"}
        ]
    return doc


def _mutate(doc: dict[str, Any], rng: random.Random, tenant: _Tenant) -> tuple[dict[str, Any], str]:
    """One realistic edit between two versions; returns the new document and what changed."""
    new = copy.deepcopy(doc)
    tools = new["tools"]["dify_tools"]
    present = {t["tool_name"] for t in tools}
    addable = [t for t in TOOLS.values() if t.tool_name not in present]
    kinds = ["prompt", "prompt", "prompt", "env", "secret", "knowledge", "contact"]
    if addable:
        kinds.append("tool_add")
    if tools:
        kinds.append("tool_remove")
    if new["model"]:
        kinds += ["model", "temperature"]
    kind = rng.choice(kinds)
    notes = EDIT_NOTES[kind]
    if kind == "prompt":
        lines = new["prompt"]["system_prompt"].split("\n")
        action = rng.random()
        if action < 0.45 and len(lines) > 1:  # rewrite one line
            lines[rng.randrange(1, len(lines))] = rng.choice(EXTRA_PROMPT_LINES)
        elif action < 0.8 or len(lines) < 4:  # add a rule
            lines.insert(rng.randrange(1, len(lines) + 1), rng.choice(EXTRA_PROMPT_LINES))
        else:  # drop a rule
            del lines[rng.randrange(1, len(lines))]
        new["prompt"]["system_prompt"] = "\n".join(lines)
        return new, rng.choice(notes)
    if kind == "tool_add":
        tool = rng.choice(addable)
        tools.append(_tool_entry(tool, tenant))
        return new, rng.choice(notes).format(tool=tool.label)
    if kind == "tool_remove":
        removed = tools.pop(rng.randrange(len(tools)))
        label = next(
            (t.label for t in TOOLS.values() if t.tool_name == removed["tool_name"]), removed["tool_name"]
        )
        return new, rng.choice(notes).format(tool=label)
    if kind == "model":
        model = rng.choice([m for m in MODELS if m.model != new["model"]["model"]])
        settings = new["model"]["model_settings"]
        new["model"] = _model_entry(model, tenant, settings["temperature"], settings["max_tokens"])
        return new, rng.choice(notes).format(model=model.model)
    if kind == "temperature":
        settings = new["model"]["model_settings"]
        old = settings["temperature"]
        settings["temperature"] = rng.choice([t for t in (0.0, 0.2, 0.3, 0.5, 0.7, 1.0) if t != old])
        return new, rng.choice(notes).format(old=old, new=settings["temperature"])
    if kind == "env":
        name, value = rng.choice(
            (
                ("REGION", "eu-west-1"),
                ("SUPPORT_PORTAL_URL", f"https://support.{tenant.domain}"),
                ("ESCALATION_SLA_HOURS", "4"),
                ("DEFAULT_LOCALE", "en-GB"),
                ("WEBHOOK_TOKEN", f"whsec_demo_{_hex(rng, 24)}"),
            )
        )
        new["env"]["variables"] = [v for v in new["env"]["variables"] if v["name"] != name] + [
            {"name": name, "value": value}
        ]
        return new, rng.choice(notes).format(name=name)
    if kind == "secret":
        name = rng.choice(("OPENAI_API_KEY", "ZENDESK_API_TOKEN", "GITHUB_TOKEN", "CRM_API_KEY"))
        new["env"]["secret_refs"] = [s for s in new["env"]["secret_refs"] if s["name"] != name] + [
            {"name": name, "ref": f"secret-ref-{_hex(rng, 8)}", "value": _secret_value(rng)}
        ]
        return new, rng.choice(notes).format(name=name)
    if kind == "knowledge":
        dataset_id, dataset_name = rng.choice(tenant.datasets)
        datasets = [d for d in new["knowledge"]["datasets"] if d["id"] != dataset_id]
        new["knowledge"] = {
            "datasets": [*datasets, {"id": dataset_id, "name": dataset_name}],
            "query_mode": rng.choice(("generated_query", "user_query")),
            "query_config": {"top_k": rng.choice((3, 4, 6)), "score_threshold": 0.5},
        }
        return new, rng.choice(notes).format(dataset=dataset_name)
    person = tenant.member(rng)  # contact
    new["human"]["contacts"] = [c for c in new["human"]["contacts"] if c["id"] != person.id] + [
        _contact(person)
    ]
    return new, rng.choice(notes).format(name=person.name)


def _output_doc(out: _Output) -> dict[str, Any]:
    """A DeclaredOutputConfig with its defaults materialized, in declaration order."""
    default = {"string": "", "number": 0, "boolean": False, "object": {}, "array": []}.get(out.type)
    return {
        "id": None,
        "name": out.name,
        "type": out.type,
        "description": out.description,
        "required": out.required,
        "file": None,
        "array_item": {"type": "string", "description": None} if out.type == "array" else None,
        "check": None,
        "failure_strategy": {
            "retry": {
                "enabled": out.retries > 0,
                "max_retries": out.retries,
                "retry_interval_ms": 1000 if out.retries else 0,
            },
            "on_failure": out.on_failure,
            "default_value": default if out.on_failure == "default_value" else None,
        },
    }


def _job_doc(
    persona: _Persona,
    *,
    previous: tuple[str, str] | None,
    contacts: Sequence[_Person] = (),
    mode: str = "tell_agent_what_to_do",
) -> dict[str, Any]:
    """A WorkflowNodeJobConfig (defaults materialized, declaration order)."""
    return {
        "schema_version": 1,
        "mode": mode,
        "workflow_prompt": persona.job_prompt,
        "previous_node_output_refs": [{"node_id": previous[0], "output": previous[1]}] if previous else [],
        "declared_outputs": [_output_doc(o) for o in persona.outputs],
        "human_contacts": [_contact(p) for p in contacts],
        "metadata": {},
    }


def _customer(rng: random.Random) -> dict[str, str]:
    """A fictional end user (PII-shaped: name, email, phone, order number)."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    handle = f"{first}.{last}".lower().replace("'", "").replace(" ", "")
    return {
        "first": first,
        "last": last,
        "email": f"{handle}@{rng.choice(('mail.example', 'inbox.example', 'post.example'))}",
        "phone": f"+1 415 555 {rng.randrange(100, 200):04d}",
        "order": f"#{rng.randrange(10000, 99999)}",
    }


# ============================================================================================
# Agents, snapshots and revisions
# ============================================================================================


@dataclass
class _Version:
    id: str
    number: int
    at: datetime
    doc: Any  # the soul document behind the stored text


@dataclass
class _AgentRec:
    """What later generators need to know about a written agent."""

    id: str
    tenant: _Tenant
    name: str
    scope: str
    status: str
    created_at: datetime
    archived_at: datetime | None
    persona: _Persona
    versions: list[_Version]
    times: list[datetime] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.times = [v.at for v in self.versions]

    def version_at(self, at: datetime) -> _Version | None:
        """The active snapshot at `at` (every snapshot-creating save moves the active pointer)."""
        i = bisect_right(self.times, at)
        return self.versions[i - 1] if i else None

    def version_by_id(self, snapshot_id: str | None) -> _Version | None:
        return next((v for v in self.versions if v.id == snapshot_id), None)

    def runnable_at(self, at: datetime) -> bool:
        """Dify's resolver refuses archived (or unknown-status) agents."""
        if self.status == "active":
            return True
        return self.status == "archived" and self.archived_at is not None and at < self.archived_at


class _AgentBuilder:
    """Writes one agent's snapshots and revisions the way Dify's services do (section 6)."""

    def __init__(
        self,
        ctx: _Ctx,
        rng: random.Random,
        tenant: _Tenant,
        *,
        created_at: datetime,
        agent_id: str | None = None,
        migrated_before: datetime | None = None,
    ) -> None:
        self.ctx, self.rng, self.tenant = ctx, rng, tenant
        self.created_at = created_at
        self.id = agent_id or _v7(created_at, rng)
        self.versions: list[_Version] = []
        self.revisions = 0
        # Snapshots older than this were rewritten by migration 89919253ca7a (unsorted text).
        self.migrated_before = migrated_before

    def save(
        self,
        op: str,
        at: datetime,
        doc: Any,
        *,
        by: str | None,
        note: str | None = None,
        snapshot_id: str | None = None,
        revision_id: str | None = None,
        text: str | None = None,
    ) -> _Version:
        """A snapshot-creating save: version = max + 1, then its revision (max + 1)."""
        version = _Version(snapshot_id or _v7(at, self.rng), len(self.versions) + 1, at, doc)
        if text is None:
            migrated = self.migrated_before is not None and at < self.migrated_before
            text = _migrated_json(doc) if migrated else _orm_json(doc)
        self.ctx.sink.add(
            AgentConfigSnapshot,
            id=version.id,
            tenant_id=self.tenant.id,
            agent_id=self.id,
            version=version.number,
            config_snapshot=text,
            summary=None,
            version_note=note,
            created_by=by,
            created_at=at,
            updated_at=at,
        )
        # Seed code sets previous_snapshot_id only for save_current_version (the snapshot it replaces).
        previous = self.versions[-1].id if op == "save_current_version" and self.versions else None
        self._revision(
            op, at, current=version.id, previous=previous, by=by, note=note, revision_id=revision_id
        )
        self.versions.append(version)
        return version

    def restore(
        self,
        target: _Version,
        at: datetime,
        *,
        by: str | None,
        note: str | None = None,
        revision_id: str | None = None,
    ) -> None:
        """Newer Dify's restore: copies the target into the draft, records `restore_version` pointing
        at the target, creates no snapshot and does not move the active pointer."""
        self._revision(
            "restore_version", at, current=target.id, previous=None, by=by, note=note, revision_id=revision_id
        )

    def _revision(
        self,
        op: str,
        at: datetime,
        *,
        current: str,
        previous: str | None,
        by: str | None,
        note: str | None,
        revision_id: str | None,
    ) -> None:
        self.revisions += 1
        self.ctx.sink.add(
            AgentConfigRevision,
            id=revision_id or _v7(at, self.rng),
            tenant_id=self.tenant.id,
            agent_id=self.id,
            previous_snapshot_id=previous,
            current_snapshot_id=current,
            revision=self.revisions,
            operation=op,
            summary=None,
            version_note=note,
            created_by=by,
            created_at=at,
        )

    def finish(
        self,
        *,
        name: str,
        scope: str,
        source: str,
        persona: _Persona,
        created_by: str | None,
        description: str | None = None,
        icon: tuple[str | None, str | None, str | None] = (None, None, None),
        app_id: str | None = None,
        workflow_id: str | None = None,
        workflow_node_id: str | None = None,
        status: str = "active",
        archived_at: datetime | None = None,
        archived_by: str | None = None,
        updated_by: str | None = None,
    ) -> _AgentRec:
        """Writes the agents row: active snapshot = the newest one; updated_at = the last change."""
        last_change = max(
            [self.created_at, *(v.at for v in self.versions), *([archived_at] if archived_at else [])]
        )
        icon_type, icon_value, background = icon
        self.ctx.sink.add(
            Agent,
            id=self.id,
            tenant_id=self.tenant.id,
            name=name,
            description=persona.description if description is None else description,
            icon_type=icon_type,
            icon=icon_value,
            icon_background=background,
            agent_kind="dify_agent",
            scope=scope,
            source=source,
            app_id=app_id,
            workflow_id=workflow_id,
            workflow_node_id=workflow_node_id,
            active_config_snapshot_id=self.versions[-1].id if self.versions else None,
            status=status,
            created_by=created_by,
            updated_by=updated_by or created_by,
            archived_by=archived_by,
            archived_at=archived_at,
            created_at=self.created_at,
            updated_at=last_change,
        )
        return _AgentRec(
            self.id, self.tenant, name, scope, status, self.created_at, archived_at, persona, self.versions
        )


def _evolve(
    b: _AgentBuilder,
    rng: random.Random,
    doc: dict[str, Any],
    times: Sequence[datetime],
    *,
    first_op: str,
    first_note: str | None,
    newer_ops: bool,
    system: bool = False,
) -> None:
    """Generated version history: a first save, then edits (save current / save new, and with
    newer Dify sometimes restore_version followed by publish_draft). A system-created agent's first
    version has no creator; people edit it afterwards."""
    tenant = b.tenant
    b.save(first_op, times[0], doc, by=None if system else tenant.member(rng).id, note=first_note)
    restored: _Version | None = None
    for at in times[1:]:
        by = tenant.member(rng).id
        if restored is not None:  # the restored draft gets published (with a small fix, sometimes)
            doc, note = _mutate(restored.doc, rng, tenant) if rng.random() < 0.5 else (restored.doc, None)
            b.save("publish_draft", at, doc, by=by, note=note or f"Publish restored v{restored.number}")
            restored = None
            continue
        if newer_ops and len(b.versions) >= 3 and rng.random() < 0.12:
            restored = b.versions[rng.randrange(len(b.versions) - 1)]
            b.restore(restored, at, by=by, note=f"Restore v{restored.number}")
            continue
        doc, note = _mutate(doc, rng, tenant)
        if rng.random() < 0.3:  # a second change in the same save
            doc, _ = _mutate(doc, rng, tenant)
        op = "save_current_version" if rng.random() < 0.5 else "save_new_version"
        b.save(op, at, doc, by=by, note=note if rng.random() < 0.8 else None)


def _icon(
    rng: random.Random, persona: _Persona, tenant: _Tenant
) -> tuple[str | None, str | None, str | None]:
    """icon_type / icon / icon_background: emoji, uploaded image (file id) or external link."""
    roll = rng.random()
    if roll < 0.6:
        return "emoji", persona.emoji, persona.background
    if roll < 0.8:
        return "image", _v4(rng), None
    if roll < 0.95:
        return "link", f"https://cdn.{tenant.domain}/agents/{persona.key}-{_hex(rng, 6)}.png", None
    return None, None, None


def _roster_name(tenant: _Tenant, persona: _Persona) -> str:
    """Unique among the workspace's generated roster agents: "Name", "Name · EMEA", "Name · EMEA 2"."""
    while True:
        n = tenant.persona_uses.get(persona.key, 0)
        tenant.persona_uses[persona.key] = n + 1
        if n == 0:
            name = persona.name
        else:
            team, round_ = TEAMS[(n - 1) % len(TEAMS)], (n - 1) // len(TEAMS)
            name = f"{persona.name} · {team}" + (f" {round_ + 1}" if round_ else "")
        if name not in tenant.reserved:
            return name


# ============================================================================================
# Workflow apps: draft and published rows, graphs, node bindings
# ============================================================================================


@dataclass
class _Ctx:
    now: datetime
    seed: int
    sink: _Sink

    def ago(self, days: float = 0, hours: float = 0, minutes: float = 0) -> datetime:
        return self.now - timedelta(days=days, hours=hours, minutes=minutes)


@dataclass
class _BindEvent:
    """From `at` on, the node is bound like this (until the next event)."""

    at: datetime
    binding_type: str  # roster_agent | inline_agent
    agent: _AgentRec | None
    agent_id: str | None = None  # overrides agent.id: a dangling reference
    snapshot_id: str | None = None  # overrides the computed snapshot: a dangling or foreign reference


@dataclass
class _Node:
    node_id: str
    title: str
    persona: _Persona
    added_at: datetime
    job: dict[str, Any]
    events: list[_BindEvent]
    draft_binding_id: str | None = None  # a well-known id for the draft binding

    def event_at(self, at: datetime) -> _BindEvent | None:
        current = None
        for event in self.events:
            if event.at <= at:
                current = event
        return current


@dataclass
class _BindingRec:
    id: str
    node: _Node
    event: _BindEvent
    snapshot_id: str | None

    @property
    def agent_id(self) -> str | None:
        if self.event.agent_id:
            return self.event.agent_id
        return self.event.agent.id if self.event.agent else None


@dataclass
class _WorkflowRow:
    id: str
    version: str  # "draft" or str(publish time)
    at: datetime
    bindings: dict[str, _BindingRec]  # node_id -> binding, in graph order


@dataclass
class _AppRec:
    id: str
    tenant: _Tenant
    name: str
    mode: str
    created_at: datetime
    draft: _WorkflowRow
    published: list[_WorkflowRow]

    def published_at(self, at: datetime) -> _WorkflowRow | None:
        """The published row live at `at` (apps.workflow_id then)."""
        live = None
        for row in self.published:
            if row.at <= at:
                live = row
        return live


def _write_app(
    ctx: _Ctx,
    tenant: _Tenant,
    *,
    app_id: str,
    name: str,
    mode: str,
    created_at: datetime,
    updated_at: datetime,
    icon: str,
    workflow_id: str | None = None,
) -> None:
    ctx.sink.add(
        App,
        id=app_id,
        tenant_id=tenant.id,
        name=name,
        mode=mode,
        icon_type="emoji",
        icon=icon,
        status="normal",
        workflow_id=workflow_id,
        created_at=created_at,
        updated_at=updated_at,
    )


def _graph(mode: str, start_id: str, nodes: Sequence[_Node]) -> str:
    """Canvas JSON: start -> agent-v2 nodes -> end (workflow) or answer (chatflow)."""
    last_id, last_type, last_title = (
        ("answer", "answer", "Answer") if mode == "advanced-chat" else ("end", "end", "End")
    )
    chain = [
        (start_id, "start", "Start"),
        *((n.node_id, "agent-v2", n.title) for n in nodes),
        (last_id, last_type, last_title),
    ]
    graph_nodes = [
        {
            "id": node_id,
            "type": "custom",
            "position": {"x": 80 + 320 * i, "y": 240},
            "data": {"type": node_type, "title": title, "desc": "", "selected": False},
        }
        for i, (node_id, node_type, title) in enumerate(chain)
    ]
    edges = [
        {
            "id": f"{a[0]}-source-{b[0]}-target",
            "type": "custom",
            "source": a[0],
            "target": b[0],
            "sourceHandle": "source",
            "targetHandle": "target",
        }
        for a, b in pairwise(chain)
    ]
    return _compact_json({"nodes": graph_nodes, "edges": edges, "viewport": {"x": 0, "y": 0, "zoom": 1}})


def _binding_snapshot(event: _BindEvent, row_at: datetime) -> str | None:
    """What `current_snapshot_id` holds for a binding row written at `row_at`.

    Inline bindings follow every composer save of their agent; roster bindings keep the snapshot that
    was active when the node was (re)bound, which is how they come to lag (section 7)."""
    if event.snapshot_id:
        return event.snapshot_id
    if event.agent is None:
        return None
    version = event.agent.version_at(row_at if event.binding_type == "inline_agent" else event.at)
    return version.id if version else None


def _write_workflow_app(
    ctx: _Ctx,
    rng: random.Random,
    tenant: _Tenant,
    *,
    app_id: str,
    draft_id: str,
    name: str,
    mode: str,
    icon: str,
    created_at: datetime,
    created_by: _Person,
    publishes: Sequence[tuple[str, datetime]],
    nodes: Sequence[_Node],
) -> _AppRec:
    """The app, its draft workflow row, every published copy, and one binding per agent node per row."""
    start_id = str(_ms(created_at))
    wf_type = "workflow" if mode == "workflow" else "chat"

    def write_row(row_id: str, version: str, at: datetime, updated_at: datetime) -> _WorkflowRow:
        present = [n for n in nodes if n.added_at <= at]
        ctx.sink.add(
            Workflow,
            id=row_id,
            tenant_id=tenant.id,
            app_id=app_id,
            type=wf_type,
            version=version,
            graph=_graph(mode, start_id, present),
            marked_name="",
            created_by=created_by.id,
            created_at=created_at if version == "draft" else at,
            updated_at=updated_at,
        )
        bindings: dict[str, _BindingRec] = {}
        for node in present:
            event = node.event_at(at)
            if event is None:
                continue
            snapshot_id = _binding_snapshot(event, at)
            if version == "draft":
                # The draft binding row was created with the node and updated by later composer saves.
                inline_saves = (
                    [v.at for v in event.agent.versions]
                    if event.agent and event.binding_type == "inline_agent"
                    else []
                )
                created, updated = node.added_at, max([event.at, *[t for t in inline_saves if t <= at]])
                binding_id = node.draft_binding_id or _v7(created, rng)
            else:
                created = updated = at  # publish copies every draft binding into a new row
                binding_id = _v7(at, rng)
            binding = _BindingRec(binding_id, node, event, snapshot_id)
            ctx.sink.add(
                WorkflowAgentNodeBinding,
                id=binding_id,
                tenant_id=tenant.id,
                app_id=app_id,
                workflow_id=row_id,
                workflow_version=version,
                node_id=node.node_id,
                binding_type=event.binding_type,
                agent_id=binding.agent_id,
                current_snapshot_id=snapshot_id,
                node_job_config=_orm_json(node.job),
                created_by=created_by.id,
                updated_by=created_by.id,
                created_at=created,
                updated_at=updated,
            )
            bindings[node.node_id] = binding
        return _WorkflowRow(row_id, version, at, bindings)

    published = [write_row(row_id, str(at), at, at) for row_id, at in publishes]
    last_edit = max([created_at, *(n.added_at for n in nodes), *(e.at for n in nodes for e in n.events)])
    draft = write_row(draft_id, "draft", ctx.now, last_edit)
    _write_app(
        ctx,
        tenant,
        app_id=app_id,
        name=name,
        mode=mode,
        icon=icon,
        created_at=created_at,
        updated_at=max([last_edit, *(at for _, at in publishes)]),
        workflow_id=published[-1].id if published else None,
    )
    return _AppRec(app_id, tenant, name, mode, created_at, draft, published)


# ============================================================================================
# Runtime sessions, workflow runs, conversations
# ============================================================================================

_ENDED = ("succeeded", "failed", "stopped", "partial-succeeded")


def _layer(
    name: str, runtime_state: dict[str, Any] | None = None, state: str = "suspended"
) -> dict[str, Any]:
    return {"name": name, "lifecycle_state": state, "runtime_state": runtime_state or {}}


def _spec(name: str, type_: str, config: Any, origin: str | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "type": type_,
        "deps": {},
        "metadata": {"origin": origin} if origin else {},
        "config": config,
    }


def _history(turns: Sequence[tuple[datetime, str, str]], model: str, tool: str | None) -> dict[str, Any]:
    """pydantic-ai style message history: the user's words (PII) and the model's replies."""
    messages: list[dict[str, Any]] = []
    for at, user_text, reply in turns:
        messages.append(
            {
                "parts": [{"content": user_text, "timestamp": _iso(at), "part_kind": "user-prompt"}],
                "kind": "request",
            }
        )
        if tool:
            messages.append(
                {
                    "parts": [
                        {
                            "tool_name": tool,
                            "args": {"query": user_text[:60]},
                            "tool_call_id": f"call_{_ms(at):x}",
                            "part_kind": "tool-call",
                        }
                    ],
                    "model_name": model,
                    "timestamp": _iso(at),
                    "kind": "response",
                }
            )
        messages.append(
            {
                "parts": [{"content": reply, "part_kind": "text"}],
                "model_name": model,
                "timestamp": _iso(at),
                "kind": "response",
            }
        )
    return {"messages": messages}


def _soul_bits(doc: Any) -> tuple[str, str, str | None]:
    """(system prompt, model name, first tool name) of a soul document, tolerating odd documents."""
    if not isinstance(doc, dict):
        return "", "gpt-4o-mini", None
    prompt = (doc.get("prompt") or {}).get("system_prompt", "")
    model = (doc.get("model") or {}).get("model", "gpt-4o-mini")
    tools = (doc.get("tools") or {}).get("dify_tools") or []
    return prompt, model, tools[0]["tool_name"] if tools else None


def _write_workflow_session(
    ctx: _Ctx,
    rng: random.Random,
    app: _AppRec,
    row: _WorkflowRow,
    binding: _BindingRec,
    *,
    run_id: str,
    run_at: datetime,
    saved_at: datetime,
    status: str,
    cleaned_at: datetime | None,
    backend_run_id: str,
    session_id: str | None = None,
    snapshot_id: str | None = None,
    doc: Any = None,
    invoke_from: str = "web-app",
    user_id: str | None = None,
) -> None:
    """One `workflow_run` session: the node's layers (suspended) and the non-plugin layer specs."""
    node = binding.node
    customer = _customer(rng)
    user_text = node.persona.request.format(company=app.tenant.company, **customer)
    reply = node.persona.reply.format(**customer)
    prompt, model, tool = _soul_bits(doc)
    node_execution_id = _v4(rng)
    context = {
        "tenant_id": app.tenant.id,
        "user_id": user_id or _v4(rng),
        "user_from": "account" if invoke_from == "debugger" else "end-user",
        "app_id": app.id,
        "workflow_id": row.id,
        "workflow_run_id": run_id,
        "node_id": node.node_id,
        "node_execution_id": node_execution_id,
        "agent_id": binding.agent_id,
        "agent_config_version_id": snapshot_id,
        "invoke_from": invoke_from,
        "trace_id": _hex(rng, 32),
    }
    outputs = node.job["declared_outputs"]
    specs = [
        *([_spec("agent_soul_prompt", "plain.prompt", {"prefix": prompt}, "agent_soul")] if prompt else []),
        _spec(
            "workflow_node_job_prompt",
            "plain.prompt",
            {"prefix": node.job["workflow_prompt"]},
            "workflow_node_job",
        ),
        _spec("workflow_user_prompt", "plain.prompt", {"user": user_text}, "workflow_user_prompt"),
        _spec("execution_context", "dify.execution_context", context),
        _spec("history", "pydantic_ai.history", None, "agent_session_history"),
    ]
    layers = [_layer(s["name"]) for s in specs[:-1]]
    layers.append(_layer("history", _history([(saved_at, user_text, reply)], model, tool)))
    layers.append(_layer("llm"))  # plugin layers are in the snapshot, never in the specs (credentials)
    if tool:
        layers.append(_layer("tools"))
    if outputs:
        schema = {
            "type": "object",
            "properties": {o["name"]: {"type": o["type"]} for o in outputs},
            "required": [o["name"] for o in outputs if o["required"]],
        }
        specs.append(_spec("output", "dify.output", {"json_schema": schema}))
        layers.append(_layer("output"))
    created = min(run_at + timedelta(seconds=rng.uniform(0.2, 3)), saved_at)
    ctx.sink.add(
        AgentRuntimeSession,
        id=session_id or _v7(created, rng),
        tenant_id=app.tenant.id,
        app_id=app.id,
        owner_type="workflow_run",
        agent_id=binding.agent_id,
        backend_run_id=backend_run_id,
        session_snapshot=_compact_json({"schema_version": 1, "layers": layers}),
        workflow_id=row.id,
        workflow_run_id=run_id,
        node_id=node.node_id,
        node_execution_id=node_execution_id,
        binding_id=binding.id,
        agent_config_snapshot_id=snapshot_id,
        composition_layer_specs=_compact_json(specs),
        conversation_id=None,
        status=status,
        cleaned_at=cleaned_at,
        created_at=created,
        updated_at=cleaned_at or saved_at,
    )


def _session_target(binding: _BindingRec, at: datetime) -> tuple[str | None, Any] | None:
    """(snapshot id, soul doc) the node runs at `at`, or None when Dify's resolver refuses to run it."""
    event = binding.event
    agent = event.agent
    if agent is None:  # dangling: the agent existed when the run happened and was deleted since
        return (binding.snapshot_id, None) if binding.agent_id else None
    if not agent.runnable_at(at):
        return None
    if event.binding_type == "roster_agent":  # roster bindings run the agent's live active snapshot
        version = agent.version_at(at)
        return (version.id, version.doc) if version else None
    version = agent.version_by_id(binding.snapshot_id)  # inline bindings run the pinned snapshot
    return binding.snapshot_id, version.doc if version else None


def _write_run(
    ctx: _Ctx,
    rng: random.Random,
    app: _AppRec,
    *,
    at: datetime,
    status: str,
    debug: bool = False,
    run_id: str | None = None,
    reached: Sequence[str] | None = None,
    leaked: Sequence[str] = (),
    session_ids: dict[str, str] | None = None,
    actor: _Person | None = None,
    leak_rate: float = 0.0,
) -> str | None:
    """A workflow run and the sessions its agent nodes saved, cleaned or left behind (section 8.1)."""
    row = app.draft if debug else (app.published_at(at) or app.draft)
    debug = row is app.draft
    if not row.bindings:
        return None
    run_id = run_id or _v4(rng)
    # A debug run used the draft as it was then: only nodes that existed at `at`.
    nodes = [node_id for node_id, b in row.bindings.items() if b.node.added_at <= at]
    if not nodes:
        return None
    if reached is None:
        # Where the run got to: all agent nodes when it finished, a prefix when it stopped early.
        reached = (
            nodes if status in ("succeeded", "partial-succeeded") else nodes[: rng.randint(1, len(nodes))]
        )
    duration = timedelta(seconds=rng.uniform(4, 40) * len(reached))
    ended = status in _ENDED
    finished_at = min(at + duration, ctx.now) if ended else None
    actor = actor or app.tenant.member(rng)
    end_user = _v4(rng)
    ctx.sink.add(
        WorkflowRun,
        id=run_id,
        tenant_id=app.tenant.id,
        app_id=app.id,
        workflow_id=row.id,
        type="workflow" if app.mode == "workflow" else "chat",
        triggered_from="debugging" if debug else rng.choice(("app-run", "app-run", "schedule", "webhook")),
        version=row.version,
        status=status,
        created_by_role="account" if debug else "end_user",
        created_by=actor.id if debug else end_user,
        created_at=at,
        finished_at=finished_at,
    )
    if status == "paused" or (ended and rng.random() < 0.04):
        # A paused run waits for a human (resumed_at NULL); a few finished runs paused and were resumed.
        paused_at = min(at + duration, ctx.now) if status == "paused" else at + duration / 2
        # Only a paused run has no finished_at here (every other one reached this branch by ending).
        resumed_at = None if finished_at is None else _between(rng, paused_at, finished_at)
        ctx.sink.add(
            WorkflowPause,
            id=_v7(paused_at, rng),
            workflow_id=row.id,
            workflow_run_id=run_id,
            resumed_at=resumed_at,
            state_object_key=f"workflow_pauses/{app.tenant.id}/{run_id}.json",
            created_at=paused_at,
            updated_at=resumed_at or paused_at,
        )
    step_end = finished_at or ctx.now
    for i, node_id in enumerate(reached):
        binding = row.bindings[node_id]
        target = _session_target(binding, at)
        if target is None:
            continue
        snapshot_id, doc = target
        saved_at = min(at + duration * (i + 1) / len(reached), step_end)
        backend_run_id = _v4(rng)
        if finished_at is None or node_id in leaked or rng.random() < leak_rate:  # None: not ended
            # Still running / paused (legitimately ACTIVE), or the terminal cleanup never happened.
            session_status, cleaned_at = "active", None
        else:
            # The terminal cleanup layer marks the row cleaned a moment after the run ended.
            session_status, cleaned_at = (
                "cleaned",
                min(finished_at + timedelta(seconds=rng.uniform(0.05, 2)), ctx.now),
            )
        _write_workflow_session(
            ctx,
            rng,
            app,
            row,
            binding,
            run_id=run_id,
            run_at=at,
            saved_at=saved_at,
            status=session_status,
            cleaned_at=cleaned_at,
            backend_run_id=backend_run_id,
            session_id=(session_ids or {}).get(node_id),
            snapshot_id=snapshot_id,
            doc=doc,
            invoke_from="debugger" if debug else "web-app",
            user_id=actor.id if debug else end_user,
        )
    return run_id


def _random_run_status(rng: random.Random, age: timedelta) -> str:
    """Mostly succeeded; running only when minutes old, paused (waiting for a human) within days."""
    if age < timedelta(minutes=15) and rng.random() < 0.6:
        return "running"
    if age < timedelta(days=6) and rng.random() < 0.08:
        return "paused"
    return rng.choices(("succeeded", "failed", "stopped", "partial-succeeded"), (80, 9, 4, 7))[0]


def _write_conversation(
    ctx: _Ctx,
    rng: random.Random,
    tenant: _Tenant,
    app_id: str,
    agent: _AgentRec,
    *,
    turns: Sequence[datetime],
    conversation_id: str | None = None,
    is_deleted: bool = False,
    session_ids: Sequence[str] = (),
    superseded_cleaned: bool | None = None,
    write_row: bool = True,
    name: str | None = None,
) -> None:
    """An Agent App conversation and its `conversation` sessions: one per snapshot it ran on.

    When the agent got a new version mid-conversation, the old session is either left ACTIVE (seed
    code with the 4-column index) or cleaned (newer code retires superseded sessions)."""
    conversation_id = conversation_id or _v4(rng)
    customer = _customer(rng)
    console = rng.random() < 0.2
    first_message = agent.persona.request.format(company=tenant.company, **customer)
    if write_row:
        ctx.sink.add(
            Conversation,
            id=conversation_id,
            app_id=app_id,
            mode="agent",
            name=name or first_message[:60],
            inputs={"customer_tier": rng.choice(("free", "pro", "enterprise"))},
            status="normal",
            from_source="console" if console else "api",
            from_end_user_id=None if console else _v4(rng),
            from_account_id=tenant.member(rng).id if console else None,
            is_deleted=is_deleted,
            created_at=turns[0],
            updated_at=turns[-1],
        )
    # Group the turns by the snapshot that was active (and the agent runnable) when they happened.
    groups: list[tuple[_Version, list[datetime]]] = []
    for at in turns:
        version = agent.version_at(at) if agent.runnable_at(at) else None
        if version is None:
            continue
        if groups and groups[-1][0].id == version.id:
            groups[-1][1].append(at)
        else:
            groups.append((version, [at]))
    reply = agent.persona.reply.format(**customer)
    for i, (version, times) in enumerate(groups):
        prompt, model, tool = _soul_bits(version.doc)
        latest = i == len(groups) - 1
        cleaned = not latest and (
            superseded_cleaned if superseded_cleaned is not None else rng.random() < 0.5
        )
        cleaned_at = (
            min(groups[i + 1][1][0] + timedelta(seconds=rng.uniform(1, 5)), ctx.now) if cleaned else None
        )
        newer = times[0] > ctx.now - timedelta(days=60)  # newer Dify also stores the runtime layer specs
        specs = (
            []
            if not newer
            else [
                _spec("agent_soul_prompt", "plain.prompt", {"prefix": prompt}, "agent_soul"),
                _spec(
                    "execution_context",
                    "dify.execution_context",
                    {
                        "tenant_id": tenant.id,
                        "app_id": app_id,
                        "conversation_id": conversation_id,
                        "agent_id": agent.id,
                        "agent_config_version_id": version.id,
                        "invoke_from": "debugger" if console else "web-app",
                    },
                ),
                _spec("history", "pydantic_ai.history", None, "agent_session_history"),
            ]
        )
        history = [
            (t, first_message if j == 0 and i == 0 else rng.choice(FOLLOW_UPS), reply)
            for j, t in enumerate(times)
        ]
        layers = [
            _layer("agent_soul_prompt"),
            _layer("execution_context"),
            _layer("history", _history(history, model, tool)),
            _layer("llm"),
            *([_layer("tools")] if tool else []),
        ]
        ctx.sink.add(
            AgentRuntimeSession,
            id=session_ids[i] if i < len(session_ids) else _v7(times[0], rng),
            tenant_id=tenant.id,
            app_id=app_id,
            owner_type="conversation",
            agent_id=agent.id,
            backend_run_id=_v4(rng),
            session_snapshot=_compact_json({"schema_version": 1, "layers": layers}),
            workflow_id=None,
            workflow_run_id=None,
            node_id=None,
            node_execution_id=None,
            binding_id=None,
            agent_config_snapshot_id=version.id,
            composition_layer_specs=_compact_json(specs),
            conversation_id=conversation_id,
            status="cleaned" if cleaned else "active",
            cleaned_at=cleaned_at,
            created_at=times[0],
            updated_at=cleaned_at or times[-1],
        )


# ============================================================================================
# The story: three workspaces with hand-placed, well-known rows
# ============================================================================================

#: When data migration 89919253ca7a ran (relative to `now`): older rows it touched are unsorted.
MIGRATION_AGE = timedelta(days=98)

# fmt: off
TENANT_SPECS = (
    # id, workspace name, company (in prompts), email domain, plan, age in days
    (DemoIds.TENANT_ACME, "Acme Robotics", "Acme Robotics", "acme-robotics.example", "team", 640),
    (DemoIds.TENANT_NORTHWIND, "Northwind Health", "Northwind Health", "northwind-health.example", "professional", 420),
    (DemoIds.TENANT_GLOBEX, "Globex Research Lab", "the Globex lab", "globex-lab.example", "sandbox", 300),
)
MEMBERS = (
    # tenant index, name, role, fixed id, account status
    (0, "Maya Chen", "owner", DemoIds.ACCOUNT_OWNER, "active"),
    (0, "Omar Haddad", "admin", None, "active"),
    (0, "Lena Fischer", "editor", None, "active"),
    (0, "Kenji Watanabe", "editor", None, "active"),
    (0, "Aiko Tanaka", "normal", None, "active"),
    (1, "Priya Raman", "owner", None, "active"),
    (1, "Diego Alvarez", "editor", None, "active"),
    (1, "Fatima Khan", "admin", None, "active"),
    (1, "Hugo Dubois", "dataset_operator", None, "active"),
    (1, "Elif Yılmaz", "normal", None, "pending"),
    (2, "Sofia Rossi", "owner", None, "active"),
    (2, "Maya Chen", "admin", DemoIds.ACCOUNT_OWNER, "active"),  # one person, two workspaces
    (2, "Amara Okafor", "editor", None, "active"),
    (2, "Wei Zhang", "editor", None, "active"),
    (2, "Sven Andersson", "normal", None, "banned"),
)
DATASETS = (
    ("Product FAQ", "Return Policy 2026", "Robot Arm Service Manuals", "Spare Parts Catalog",
     "Internal Escalation Playbook", "Sales Playbook Q3", "Engineering Handbook"),
    ("Patient FAQ", "Clinic Opening Hours", "ICD-10 Coding Guide", "Insurance Pre-authorization Rules",
     "Discharge Templates", "HR Onboarding Guide"),
    ("arXiv Reading List", "Lab Protocols", "Grant Guidelines 2026", "Instrument Manuals", "Internal Wiki"),
)
# fmt: on


def _email(name: str, domain: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return f"{ascii_name.lower().replace(' ', '.')}@{domain}"


def _write_tenants(ctx: _Ctx, rng: random.Random, scale: Scale) -> list[_Tenant]:
    """Workspaces, their members (accounts + joins), datasets and credential ids."""
    tenants = []
    for index, (tenant_id, name, company, domain, plan, age) in enumerate(TENANT_SPECS):
        created = ctx.ago(age)
        ctx.sink.add(
            Tenant,
            id=tenant_id,
            name=name,
            plan=plan,
            status="normal",
            created_at=created,
            updated_at=ctx.ago(rng.uniform(1, 30)),
        )
        tenant = _Tenant(index, tenant_id, name, company, domain, created)
        tenant.datasets = [(_v4(rng), dataset) for dataset in DATASETS[index]]
        tenant.credentials = {key: _v4(rng) for key in [*TOOLS, *sorted({m.provider for m in MODELS})]}
        tenants.append(tenant)

    accounts: dict[str, _Person] = {}

    def join(tenant: _Tenant, name: str, role: str, account_id: str | None, status: str) -> None:
        person = accounts.get(account_id or "")
        if person is None:
            person = _Person(account_id or _v4(rng), name, _email(name, tenant.domain))
            joined = tenant.created_at + timedelta(days=rng.uniform(0, 60))
            ctx.sink.add(
                Account,
                id=person.id,
                name=name,
                email=person.email,
                status=status,
                created_at=joined,
                updated_at=ctx.ago(rng.uniform(0, 20)),
            )
            accounts[person.id] = person
        ctx.sink.add(
            TenantAccountJoin,
            id=_v4(rng),
            tenant_id=tenant.id,
            account_id=person.id,
            role=role,
            created_at=tenant.created_at + timedelta(days=rng.uniform(0, 60)),
            updated_at=ctx.ago(rng.uniform(20, 90)),
        )
        if status == "active":
            tenant.members.append(person)

    for tenant_index, name, role, account_id, status in MEMBERS:
        join(tenants[tenant_index], name, role, account_id, status)
    # Jonas Berg created agents at Acme, then left: his account exists, his membership does not.
    ctx.sink.add(
        Account,
        id=DemoIds.ACCOUNT_DEPARTED,
        name="Jonas Berg",
        email="jonas.berg@acme-robotics.example",
        status="closed",
        created_at=ctx.ago(600),
        updated_at=ctx.ago(150),
    )
    for tenant in tenants:
        for _ in range(scale.extra_accounts_per_tenant):
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            join(tenant, name, rng.choice(("editor", "normal", "normal")), None, "active")
    return tenants


def _story(ctx: _Ctx, scale: Scale) -> list[_Tenant]:
    rng = random.Random(f"{ctx.seed}/story")
    tenants = _write_tenants(ctx, rng, scale)
    _story_acme(ctx, rng, tenants[0])
    _story_northwind(ctx, rng, tenants[1])
    _story_globex(ctx, rng, tenants[2])
    return tenants


def _node_id(at: datetime, offset: int = 0) -> str:
    """Dify's canvas names nodes after the browser's Date.now() when they are added."""
    return str(_ms(at) + offset)


def _inline_agent(
    ctx: _Ctx,
    rng: random.Random,
    tenant: _Tenant,
    persona: _Persona,
    *,
    app_id: str,
    draft_id: str,
    node_id: str,
    created: datetime,
    edits: Sequence[datetime],
    name: str | None = None,
    agent_id: str | None = None,
    doc: dict[str, Any] | None = None,
) -> _AgentRec:
    """A workflow-only agent created by the node composer's first save (v1 create_version)."""
    b = _AgentBuilder(ctx, rng, tenant, created_at=created, agent_id=agent_id)
    doc = doc or _persona_soul(persona, tenant, rng, agent_app=False)
    _evolve(b, rng, doc, [created, *edits], first_op="create_version", first_note=None, newer_ops=False)
    return b.finish(
        name=name or f"Workflow Agent {node_id}",
        scope="workflow_only",
        source="workflow",
        persona=persona,
        created_by=tenant.member(rng).id,
        icon=("emoji", persona.emoji, persona.background),
        app_id=app_id,
        workflow_id=draft_id,
        workflow_node_id=node_id,
    )


# --- Acme Robotics ---------------------------------------------------------------------------


def _story_acme(ctx: _Ctx, rng: random.Random, t: _Tenant) -> None:
    maya, omar, lena, kenji = t.members[:4]
    showcase = _acme_showcase(ctx, rng, t, maya, omar, lena)
    _acme_triage(ctx, rng, t, showcase, omar, lena)
    _acme_research_digest(ctx, rng, t, kenji, maya)
    _acme_onboarding(ctx, rng, t, lena)
    _acme_hostile_agents(ctx, rng, t, maya, kenji)
    # Legacy (pre-agent-v2) apps: no agents, just neighbours in the app list.
    _write_app(
        ctx,
        t,
        app_id=_v4(rng),
        name="FAQ Chatbot (legacy)",
        mode="chat",
        icon="💬",
        created_at=ctx.ago(500),
        updated_at=ctx.ago(300),
    )
    _write_app(
        ctx,
        t,
        app_id=_v4(rng),
        name="Sales Copilot (ReAct)",
        mode="agent-chat",
        icon="🤝",
        created_at=ctx.ago(410),
        updated_at=ctx.ago(220),
    )


def _acme_showcase(
    ctx: _Ctx, rng: random.Random, t: _Tenant, maya: _Person, omar: _Person, lena: _Person
) -> _AgentRec:
    """The showcase agent: one of every edit kind, with realistic changes between versions."""
    persona = PERSONA["support"]
    ids = DemoIds.SHOWCASE_SNAPSHOTS
    t.reserved.add("Acme Support Assistant")
    b = _AgentBuilder(ctx, rng, t, created_at=ctx.ago(95), agent_id=DemoIds.SHOWCASE_AGENT)

    v1 = _persona_soul(persona, t, random.Random(1), agent_app=True)
    v1["tools"]["dify_tools"] = []
    v1["knowledge"] = _blank_soul()["knowledge"]
    v1["model"] = _model_entry(MODELS[0], t, 0.7, 2048)
    b.save(
        "create_version",
        ctx.ago(95),
        v1,
        by=maya.id,
        note="First draft of the support assistant",
        snapshot_id=ids[0],
    )

    v2 = copy.deepcopy(v1)
    v2["prompt"]["system_prompt"] = v2["prompt"]["system_prompt"].replace(
        "If a refund exceeds 500 EUR", "If a refund exceeds 200 EUR (finance rule FIN-7)"
    )
    b.save(
        "save_current_version",
        ctx.ago(88),
        v2,
        by=lena.id,
        note="Fix refund threshold: 200 EUR, per finance",
        snapshot_id=ids[1],
    )

    v3 = copy.deepcopy(v2)
    v3["tools"]["dify_tools"] = [_tool_entry(TOOLS["zendesk"], t), _tool_entry(TOOLS["tavily"], t)]
    v3["knowledge"] = {
        "datasets": [{"id": t.datasets[1][0], "name": t.datasets[1][1]}],
        "query_mode": "generated_query",
        "query_config": {"top_k": 4},
    }
    b.save(
        "save_new_version",
        ctx.ago(74),
        v3,
        by=omar.id,
        note="Add ticket lookup, web search and the 2026 return policy",
        snapshot_id=ids[2],
    )

    v4 = copy.deepcopy(v3)
    v4["model"] = _model_entry(MODELS[1], t, 0.3, 2048)
    v4["env"] = {
        "variables": [
            {"name": "REGION", "value": "eu-west-1"},
            {"name": "SUPPORT_PORTAL_URL", "value": f"https://support.{t.domain}"},
        ],
        "secret_refs": [
            {"name": "ZENDESK_API_TOKEN", "ref": "secret-ref-zendesk-prod", "value": _secret_value(rng)}
        ],
    }
    b.save(
        "save_current_version",
        ctx.ago(60),
        v4,
        by=omar.id,
        note="Cheaper model, temperature 0.7 -> 0.3; Zendesk token from env",
        snapshot_id=ids[3],
    )

    v5 = copy.deepcopy(v4)
    slack = _tool_entry(TOOLS["slack"], t)
    slack["runtime_parameters"]["bot_token"] = (
        f"xoxb-demo-{_hex(rng, 24)}"  # a secret pasted where it shouldn't be
    )
    v5["tools"]["dify_tools"] = [v5["tools"]["dify_tools"][0], slack]
    v5["human"]["contacts"] = [_contact(omar)]
    v5["knowledge"]["datasets"].append({"id": t.datasets[2][0], "name": t.datasets[2][1]})
    lines = v5["prompt"]["system_prompt"].split("\n")
    lines[2] = "Always look up the ticket in Zendesk before promising anything; quote the ticket id."
    lines[5] = "Cite the service manual section or knowledge base article you used, like [KB-123]."
    lines.insert(6, "Stop and escalate in #support-escalations if the user mentions a safety incident.")
    v5["prompt"]["system_prompt"] = "\n".join(lines)
    b.save(
        "save_new_version",
        ctx.ago(41),
        v5,
        by=lena.id,
        note="Escalate to #support-escalations; drop web search (it invented part numbers)",
        snapshot_id=ids[4],
    )

    # Newer Dify: restore v3 into the draft (a revision, no snapshot), then publish the draft.
    b.restore(
        b.versions[2],
        ctx.ago(20),
        by=maya.id,
        note="Restore v3 to compare after the CSAT dip",
        revision_id=DemoIds.SHOWCASE_RESTORE_REVISION,
    )
    v6 = copy.deepcopy(v3)
    v6["model"] = _model_entry(MODELS[3], t, 0.3, 4096)
    v6["env"] = copy.deepcopy(v4["env"])
    b.save(
        "publish_draft",
        ctx.ago(19),
        v6,
        by=maya.id,
        note="Publish restored v3 on Claude Sonnet 4",
        snapshot_id=ids[5],
    )

    _write_app(
        ctx,
        t,
        app_id=DemoIds.APP_SUPPORT_ASSISTANT,
        name="Acme Support Assistant",
        mode="agent",
        icon="🛟",
        created_at=ctx.ago(96),
        updated_at=ctx.ago(19),
    )
    agent = b.finish(
        name="Acme Support Assistant",
        scope="roster",
        source="agent_app",
        persona=persona,
        created_by=maya.id,
        updated_by=maya.id,
        app_id=DemoIds.APP_SUPPORT_ASSISTANT,
        icon=("emoji", "🛟", "#E0F2FE"),
        description="Answers customer questions about orders, returns and warranty for Acme's robot "
        "arms. Hands refunds over 200 EUR to a human.",
    )

    app = DemoIds.APP_SUPPORT_ASSISTANT
    # Two ACTIVE sessions in one conversation: v5 (superseded when v6 was published) and v6.
    _write_conversation(
        ctx,
        rng,
        t,
        app,
        agent,
        conversation_id=DemoIds.CONVERSATION_SUPERSEDED,
        turns=[ctx.ago(22), ctx.ago(22, minutes=-6), ctx.ago(hours=2)],
        name="Refund for order #48213",
        session_ids=[DemoIds.SUPERSEDED_SESSION, DemoIds.SUPERSEDING_SESSION],
        superseded_cleaned=False,
    )
    _write_conversation(
        ctx,
        rng,
        t,
        app,
        agent,
        conversation_id=DemoIds.CONVERSATION_DELETED,
        is_deleted=True,
        turns=[ctx.ago(6), ctx.ago(5, hours=23)],
        session_ids=[DemoIds.DELETED_CONVERSATION_SESSION],
    )
    _write_conversation(
        ctx,
        rng,
        t,
        app,
        agent,
        conversation_id=DemoIds.MISSING_CONVERSATION,
        write_row=False,
        turns=[ctx.ago(12, hours=5), ctx.ago(12)],
        session_ids=[DemoIds.MISSING_CONVERSATION_SESSION],
    )
    _write_conversation(
        ctx, rng, t, app, agent, turns=[ctx.ago(36), ctx.ago(35)], session_ids=[DemoIds.IDLE_SESSION]
    )
    # Spans v4 -> v5; a newer Dify retired the superseded session (cleaned), unlike the one above.
    _write_conversation(
        ctx,
        rng,
        t,
        app,
        agent,
        turns=[ctx.ago(45), ctx.ago(44, hours=20), ctx.ago(30)],
        superseded_cleaned=True,
    )
    for _ in range(8):
        start = ctx.ago(rng.uniform(0.1, 94))
        _write_conversation(
            ctx,
            rng,
            t,
            app,
            agent,
            turns=_spread(
                rng, start, min(start + timedelta(hours=rng.uniform(0, 30)), ctx.now), rng.randint(1, 4)
            ),
        )
    return agent


def _acme_triage(
    ctx: _Ctx, rng: random.Random, t: _Tenant, showcase: _AgentRec, omar: _Person, lena: _Person
) -> None:
    """Chatflow: inline classifier, roster answer node (drifting), escalation promoted to the roster."""
    app_id, draft_id = DemoIds.APP_TICKET_TRIAGE, _v4(rng)
    created = ctx.ago(80)
    classify_id, answer_id, escalate_id = (
        _node_id(created, 1000),
        _node_id(created, 2000),
        _node_id(ctx.ago(35)),
    )

    classifier = _inline_agent(
        ctx,
        rng,
        t,
        PERSONA["classifier"],
        app_id=app_id,
        draft_id=draft_id,
        node_id=classify_id,
        created=created,
        edits=[ctx.ago(64), ctx.ago(30)],
        name="Ticket Classifier",
        agent_id=DemoIds.TICKET_CLASSIFIER_AGENT,
    )
    # The escalation node started inline, then save-to-roster created a roster agent from it. The
    # inline agent stays behind: active, workflow_only, and no longer referenced by any binding.
    left_behind = _inline_agent(
        ctx,
        rng,
        t,
        PERSONA["escalation"],
        app_id=app_id,
        draft_id=draft_id,
        node_id=escalate_id,
        created=ctx.ago(35),
        edits=[ctx.ago(33)],
        agent_id=DemoIds.LEFT_BEHIND_INLINE_AGENT,
    )
    t.reserved.add("Escalation Concierge")
    b = _AgentBuilder(ctx, rng, t, created_at=ctx.ago(30), agent_id=DemoIds.SAVED_TO_ROSTER_AGENT)
    b.save(
        "save_to_roster",
        ctx.ago(30),
        left_behind.versions[-1].doc,
        by=omar.id,
        note="Saved to roster from Support Ticket Triage",
    )
    promoted_doc = copy.deepcopy(left_behind.versions[-1].doc)
    promoted_doc["human"]["contacts"] = [_contact(omar), _contact(lena)]
    b.save("save_new_version", ctx.ago(10), promoted_doc, by=lena.id, note="On-call rotation: Omar and Lena")
    promoted = b.finish(
        name="Escalation Concierge",
        scope="roster",
        source="workflow",
        persona=PERSONA["escalation"],
        created_by=omar.id,
        icon=("emoji", "🧭", "#FCE7F3"),
    )

    nodes = [
        _Node(
            classify_id,
            "Classify ticket",
            PERSONA["classifier"],
            created,
            _job_doc(PERSONA["classifier"], previous=(_node_id(created), "sys.query")),
            [_BindEvent(created, "inline_agent", classifier)],
        ),
        # Rebound 45 days ago (showcase v4 active then); v5 and v6 came later: the binding lags.
        _Node(
            answer_id,
            "Answer customer",
            PERSONA["support"],
            ctx.ago(78),
            _job_doc(PERSONA["support"], previous=(classify_id, "product_area")),
            [
                _BindEvent(ctx.ago(78), "roster_agent", showcase),
                _BindEvent(ctx.ago(45), "roster_agent", showcase),
            ],
            draft_binding_id=DemoIds.DRIFT_BINDING,
        ),
        _Node(
            escalate_id,
            "Escalate to a human",
            PERSONA["escalation"],
            ctx.ago(35),
            _job_doc(PERSONA["escalation"], previous=(answer_id, "needs_human"), contacts=[omar, lena]),
            [
                _BindEvent(ctx.ago(35), "inline_agent", left_behind),
                _BindEvent(ctx.ago(30), "roster_agent", promoted),
            ],
        ),
    ]
    publishes = [(_v4(rng), ctx.ago(76)), (_v4(rng), ctx.ago(50)), (_v4(rng), ctx.ago(25))]
    app = _write_workflow_app(
        ctx,
        rng,
        t,
        app_id=app_id,
        draft_id=draft_id,
        name="Support Ticket Triage",
        mode="advanced-chat",
        icon="🎫",
        created_at=created,
        created_by=omar,
        publishes=publishes,
        nodes=nodes,
    )
    for at in _spread(rng, ctx.ago(75), ctx.ago(1), 14):
        _write_run(
            ctx,
            rng,
            app,
            at=at,
            status=_random_run_status(rng, ctx.now - at),
            leak_rate=0.1,
            debug=rng.random() < 0.15,
        )
    # One run of each other ended status, so even the smallest dataset shows them all.
    for days, status in ((60, "failed"), (48, "stopped"), (33, "partial-succeeded")):
        _write_run(ctx, rng, app, at=ctx.ago(days, hours=3), status=status)
    _write_run(
        ctx,
        rng,
        app,
        at=ctx.ago(3),
        status="succeeded",
        run_id=DemoIds.RUN_SUCCEEDED_LEAKED,
        reached=[classify_id, answer_id],
        leaked=[answer_id],
        session_ids={answer_id: DemoIds.FINISHED_RUN_SESSION},
    )
    _write_run(
        ctx,
        rng,
        app,
        at=ctx.ago(2),
        status="paused",
        run_id=DemoIds.RUN_PAUSED,
        reached=[classify_id, answer_id, escalate_id],
        session_ids={escalate_id: DemoIds.PAUSED_RUN_SESSION},
    )
    _write_run(
        ctx,
        rng,
        app,
        at=ctx.ago(minutes=4),
        status="running",
        run_id=DemoIds.RUN_RUNNING,
        reached=[classify_id],
        session_ids={classify_id: DemoIds.RUNNING_RUN_SESSION},
    )
    # A session whose workflow run row is gone (runs archived / removed by retention tooling).
    row = app.published[-1]
    binding = row.bindings[classify_id]
    version = classifier.version_by_id(binding.snapshot_id)
    _write_workflow_session(
        ctx,
        rng,
        app,
        row,
        binding,
        run_id=DemoIds.MISSING_RUN,
        run_at=ctx.ago(9),
        saved_at=ctx.ago(9, minutes=-1),
        status="active",
        cleaned_at=None,
        backend_run_id=_v4(rng),
        session_id=DemoIds.MISSING_RUN_SESSION,
        snapshot_id=binding.snapshot_id,
        doc=version.doc if version else None,
    )


def _acme_research_digest(ctx: _Ctx, rng: random.Random, t: _Tenant, kenji: _Person, maya: _Person) -> None:
    """Workflow: a node saved as a new roster agent, and a node bound to an agent archived since."""
    app_id, draft_id = DemoIds.APP_RESEARCH_DIGEST, _v4(rng)
    created = ctx.ago(150)
    research_id, writer_id, review_id = (
        _node_id(created, 1000),
        _node_id(created, 2000),
        _node_id(ctx.ago(140)),
    )

    researcher = _inline_agent(
        ctx,
        rng,
        t,
        PERSONA["research"],
        app_id=app_id,
        draft_id=draft_id,
        node_id=research_id,
        created=created,
        edits=_spread(rng, ctx.ago(149), ctx.ago(20), 3),
        name="Market Researcher",
    )
    writer_inline = _inline_agent(
        ctx,
        rng,
        t,
        PERSONA["writer"],
        app_id=app_id,
        draft_id=draft_id,
        node_id=writer_id,
        created=created,
        edits=[ctx.ago(140)],
    )
    # "Save as new agent": the node now uses a new roster agent; the inline one stays behind too.
    t.reserved.add("Market Report Writer")
    b = _AgentBuilder(ctx, rng, t, created_at=ctx.ago(120), agent_id=DemoIds.SAVED_AS_NEW_AGENT)
    _evolve(
        b,
        rng,
        writer_inline.versions[-1].doc,
        [ctx.ago(120), *_spread(rng, ctx.ago(110), ctx.ago(15), 3)],
        first_op="save_new_agent",
        first_note="Saved as a new agent from Weekly Market Research Digest",
        newer_ops=False,
    )
    writer = b.finish(
        name="Market Report Writer",
        scope="roster",
        source="workflow",
        persona=PERSONA["writer"],
        created_by=kenji.id,
        icon=("emoji", "📝", "#EDE9FE"),
    )
    # Jonas Berg built the reviewer before he left; Maya archived it 15 days ago. The draft still binds it.
    t.reserved.add("Legacy Compliance Reviewer")
    b = _AgentBuilder(ctx, rng, t, created_at=ctx.ago(200), agent_id=DemoIds.ARCHIVED_BOUND_AGENT)
    b.save(
        "create_version",
        ctx.ago(200),
        _persona_soul(PERSONA["compliance"], t, rng, agent_app=False),
        by=DemoIds.ACCOUNT_DEPARTED,
        note="Reviewer for outgoing reports",
    )
    reviewer = b.finish(
        name="Legacy Compliance Reviewer",
        scope="roster",
        source="agent_app",
        persona=PERSONA["compliance"],
        created_by=DemoIds.ACCOUNT_DEPARTED,
        status="archived",
        archived_at=ctx.ago(15),
        archived_by=maya.id,
        updated_by=maya.id,
        icon=("emoji", "⚖️", "#F1F5F9"),
    )

    nodes = [
        _Node(
            research_id,
            "Research the week",
            PERSONA["research"],
            created,
            _job_doc(PERSONA["research"], previous=None, mode="let_agent_figure_it_out"),
            [_BindEvent(created, "inline_agent", researcher)],
        ),
        _Node(
            writer_id,
            "Write the digest",
            PERSONA["writer"],
            created,
            _job_doc(PERSONA["writer"], previous=(research_id, "findings")),
            [
                _BindEvent(created, "inline_agent", writer_inline),
                _BindEvent(ctx.ago(120), "roster_agent", writer),
            ],
        ),
        _Node(
            review_id,
            "Compliance review",
            PERSONA["compliance"],
            ctx.ago(140),
            _job_doc(PERSONA["compliance"], previous=(writer_id, "report")),
            [_BindEvent(ctx.ago(140), "roster_agent", reviewer)],
            draft_binding_id=DemoIds.ARCHIVED_AGENT_BINDING,
        ),
    ]
    app = _write_workflow_app(
        ctx,
        rng,
        t,
        app_id=app_id,
        draft_id=draft_id,
        name="Weekly Market Research Digest",
        mode="workflow",
        icon="📈",
        created_at=created,
        created_by=kenji,
        publishes=[(_v4(rng), ctx.ago(145)), (_v4(rng), ctx.ago(100))],
        nodes=nodes,
    )
    # Scheduled every Monday; since the reviewer was archived the review node refuses to run.
    for week in range(20):
        at = ctx.ago(139 - 7 * week, hours=rng.uniform(0, 0.2))
        status = "failed" if at > ctx.ago(15) else _random_run_status(rng, ctx.now - at)
        _write_run(ctx, rng, app, at=at, status=status, leak_rate=0.05)


def _acme_onboarding(ctx: _Ctx, rng: random.Random, t: _Tenant, lena: _Person) -> None:
    """Never-published workflow whose draft bindings point at things that are not there."""
    app_id, draft_id = DemoIds.APP_ONBOARDING, _v4(rng)
    created = ctx.ago(45)
    welcome_id, it_id, buddy_id = _node_id(created, 1000), _node_id(created, 2000), _node_id(created, 3000)
    it_helper = _inline_agent(
        ctx,
        rng,
        t,
        PERSONA["onboarding"],
        app_id=app_id,
        draft_id=draft_id,
        node_id=it_id,
        created=ctx.ago(44),
        edits=[ctx.ago(43)],
        name="IT Setup Helper",
    )
    t.reserved.add("New Hire Buddy")
    b = _AgentBuilder(ctx, rng, t, created_at=ctx.ago(60))
    _evolve(
        b,
        rng,
        _persona_soul(PERSONA["onboarding"], t, rng, agent_app=False),
        [ctx.ago(60), ctx.ago(50)],
        first_op="create_version",
        first_note="Buddy for new hires",
        newer_ops=False,
    )
    buddy = b.finish(
        name="New Hire Buddy",
        scope="roster",
        source="agent_app",
        persona=PERSONA["onboarding"],
        created_by=lena.id,
        icon=("emoji", "👋", "#FFEDD5"),
    )
    persona = PERSONA["onboarding"]
    nodes = [
        # The agent was deleted by hand (Dify never hard-deletes agents): binding and session remain.
        _Node(
            welcome_id,
            "Welcome message",
            persona,
            created,
            _job_doc(persona, previous=None),
            [
                _BindEvent(
                    created,
                    "roster_agent",
                    None,
                    agent_id=DemoIds.MISSING_AGENT,
                    snapshot_id=DemoIds.MISSING_AGENT_SNAPSHOT,
                )
            ],
            draft_binding_id=DemoIds.DANGLING_AGENT_BINDING,
        ),
        _Node(
            it_id,
            "IT setup",
            persona,
            ctx.ago(44),
            _job_doc(persona, previous=(welcome_id, "welcome_message")),
            [_BindEvent(ctx.ago(44), "inline_agent", it_helper, snapshot_id=DemoIds.MISSING_SNAPSHOT)],
            draft_binding_id=DemoIds.MISSING_SNAPSHOT_BINDING,
        ),
        # Points at a snapshot of the showcase agent: the snapshot exists but belongs to another agent.
        _Node(
            buddy_id,
            "Assign a buddy",
            persona,
            created,
            _job_doc(persona, previous=(it_id, "events")),
            [_BindEvent(created, "roster_agent", buddy, snapshot_id=DemoIds.SHOWCASE_SNAPSHOTS[1])],
            draft_binding_id=DemoIds.FOREIGN_SNAPSHOT_BINDING,
        ),
    ]
    app = _write_workflow_app(
        ctx,
        rng,
        t,
        app_id=app_id,
        draft_id=draft_id,
        name="Employee Onboarding Flow",
        mode="workflow",
        icon="🧳",
        created_at=created,
        created_by=lena,
        publishes=[],
        nodes=nodes,
    )
    _write_run(
        ctx,
        rng,
        app,
        at=ctx.ago(40),
        status="succeeded",
        debug=True,
        actor=lena,
        reached=[welcome_id],
        leaked=[welcome_id],
        session_ids={welcome_id: DemoIds.ORPHANED_SESSION},
    )


def _huge_prompt(rng: random.Random) -> str:
    """A ~200 KB policy handbook pasted into a system prompt (it happens)."""
    topics = (
        "Export control",
        "Data retention",
        "Customer refunds",
        "Safety incidents",
        "Supplier audits",
        "Travel expenses",
        "Access reviews",
        "Incident disclosure",
    )
    parts = ["You are the compliance handbook expert of Acme Robotics. Answer only from the handbook below."]
    section = 0
    while sum(len(p) + 1 for p in parts) < 205_000:
        section += 1
        topic = topics[section % len(topics)]
        parts.append(f"\n## §{section}. {topic}")
        for clause in range(1, 9):
            parts.append(
                f"{section}.{clause} {rng.choice(EXTRA_PROMPT_LINES)} Applies to {topic.lower()} cases "
                f"above {rng.randrange(1, 50) * 100} EUR; record the decision in the register within "
                f"{rng.choice((2, 5, 10))} business days."
            )
    return "\n".join(parts)


def _acme_hostile_agents(ctx: _Ctx, rng: random.Random, t: _Tenant, maya: _Person, kenji: _Person) -> None:
    """Rows that break naive renderers and parsers."""
    support = PERSONA["support"]

    def simple(
        agent_id: str,
        name: str,
        created: datetime,
        *,
        description: str | None = None,
        source: str = "agent_app",
        status: str = "active",
        icon: tuple[str | None, str | None, str | None] = ("emoji", "🤖", "#E5E7EB"),
        last: tuple[str, str | None, str | None, str | None] | None = None,
    ) -> None:
        """v1 from a persona, v2 an edit; `last` = (operation, note, snapshot id, raw text) overrides v2."""
        t.reserved.add(name)
        b = _AgentBuilder(ctx, rng, t, created_at=created, agent_id=agent_id)
        doc = _persona_soul(support, t, rng, agent_app=False)
        b.save("create_version", created, doc, by=kenji.id, note="First version")
        op, note, snapshot_id, text = last or ("save_new_version", "Second version", None, None)
        doc2, _ = _mutate(doc, rng, t)
        revision_id = DemoIds.UNKNOWN_OPERATION_REVISION if op == DemoIds.UNKNOWN_OPERATION else None
        b.save(
            op,
            created + timedelta(days=3),
            doc2,
            by=maya.id,
            note=note,
            snapshot_id=snapshot_id,
            text=text,
            revision_id=revision_id,
        )
        b.finish(
            name=name,
            scope="roster",
            source=source,
            persona=support,
            created_by=kenji.id,
            description=description,
            status=status,
            icon=icon,
        )

    simple(
        DemoIds.HOSTILE_NAME_AGENT,
        DemoIds.HOSTILE_NAME,
        ctx.ago(12),
        description="Harmless <b>looking</b> description <script>alert('desc')</script> with a "
        "[link](javascript:alert(2)) and `code`.",
        last=("save_new_version", "**Bold** note <script>alert('note')</script>", None, None),
    )
    simple(
        DemoIds.RTL_NAME_AGENT,
        DemoIds.RTL_NAME,
        ctx.ago(11),
        icon=("emoji", "🧑\u200d💻", "#FEF3C7"),
        description="وكيل دعم ثنائي اللغة — סוכן תמיכה דו-לשוני (bilingual support agent).",
    )
    broken = (
        '{"app_features":{},"app_variables":[],"env":{"secret_refs":[],"variables":[]},"human":{"contacts":[],'
        '"tools":[]},"knowledge":{"datasets":[],"query_config":{},"query_mode":null},"prompt":{"system_prompt":'
        '"You optimize warehouse slotting for spare parts.\\nUse the '
    )  # truncated mid-string by a bad import
    simple(
        DemoIds.INVALID_JSON_AGENT,
        "Warehouse Slotting Optimizer",
        ctx.ago(30),
        source="imported",
        last=(
            "save_new_version",
            "Re-imported from slotting-optimizer.yml",
            DemoIds.INVALID_JSON_SNAPSHOT,
            broken,
        ),
    )
    simple(
        DemoIds.NON_OBJECT_JSON_AGENT,
        "Quote Generator",
        ctx.ago(28),
        source="imported",
        last=("save_new_version", "Bulk fix script (oops)", DemoIds.NON_OBJECT_JSON_SNAPSHOT, "[]"),
    )
    simple(
        DemoIds.UNKNOWN_ENUM_AGENT,
        "Marketplace Sales Agent",
        ctx.ago(16),
        source=DemoIds.UNKNOWN_SOURCE,
        status=DemoIds.UNKNOWN_STATUS,
        icon=("emoji", "🛒", "#DCFCE7"),
        last=(DemoIds.UNKNOWN_OPERATION, "Merged v1 with the marketplace template", None, None),
    )

    # The 200 KB prompt: two versions differing by one line (a diff must stay fast).
    t.reserved.add("Compliance Handbook Expert")
    b = _AgentBuilder(ctx, rng, t, created_at=ctx.ago(26), agent_id=DemoIds.HUGE_PROMPT_AGENT)
    doc = _blank_soul()
    doc["prompt"]["system_prompt"] = _huge_prompt(rng)
    doc["model"] = _model_entry(MODELS[2], t, 0.0, 4096)
    b.save("create_version", ctx.ago(26), doc, by=maya.id, note="Paste the full handbook")
    doc2 = copy.deepcopy(doc)
    doc2["prompt"]["system_prompt"] = doc2["prompt"]["system_prompt"].replace(
        "Answer only from the handbook below.",
        "Answer only from the handbook below; quote the section number.",
    )
    b.save(
        "save_current_version",
        ctx.ago(25),
        doc2,
        by=maya.id,
        note="Quote section numbers",
        snapshot_id=DemoIds.HUGE_PROMPT_SNAPSHOT,
    )
    paragraph = (
        "This agent answers questions about the Acme compliance handbook (2026 edition). It covers export "
        "control, data retention, refunds, safety incidents, supplier audits, travel and access reviews. "
    )
    b.finish(
        name="Compliance Handbook Expert",
        scope="roster",
        source="agent_app",
        persona=PERSONA["compliance"],
        created_by=maya.id,
        description=paragraph * (64_000 // len(paragraph) + 1),
        icon=("image", _v4(rng), None),
    )


# --- Northwind Health ------------------------------------------------------------------------


GEN_E_CLI_TOOL_ID = _wk4("700", 1)


def _gen_e_soul(t: _Tenant, rng: random.Random, *, note: str, top_k: int) -> dict[str, Any]:
    """A soul written by a newer Dify (Gen E, section 5.5): config_skills/config_files instead of
    skills_files, knowledge `sets`, typed sandbox and app features, CLI tools with their own env."""
    dataset_id, dataset_name = t.datasets[4]
    return {
        "schema_version": 1,
        "prompt": {
            "system_prompt": "You write discharge summaries for Northwind Health.\n"
            "Use the 2026 discharge template.\nList medication changes first.\nNever invent lab values."
        },
        "config_skills": [
            {
                "name": "discharge-letter",
                "description": "Letter layout and tone",
                "file_kind": "tool_file",
                "file_id": _v4(rng),
                "size": 18234,
                "hash": f"sha256:{_hex(rng, 64)}",
                "mime_type": "text/markdown",
            }
        ],
        "config_files": [
            {
                "name": "discharge_template_2026.docx",
                "file_kind": "upload_file",
                "file_id": _v4(rng),
                "size": 48120,
                "hash": f"sha256:{_hex(rng, 64)}",
                "mime_type": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            }
        ],
        "config_note": note,
        "tools": {
            "dify_tools": [],
            "cli_tools": [
                {
                    "id": GEN_E_CLI_TOOL_ID,  # Gen E: the stable id a rename keeps
                    "name": "pdf-render",
                    "command": "pdf-render --from markdown --to pdf",
                    "install_commands": ["pip install pdf-render==1.4.2"],
                    "env": {
                        "variables": [{"name": "RENDER_DPI", "value": "300"}],
                        "secret_refs": [{"name": "PDF_SERVICE_TOKEN", "value": _secret_value(rng)}],
                    },
                    "authorization_status": "authorized",
                    "risk_level": "low",
                }
            ],
        },
        "knowledge": {
            "sets": [
                {
                    "id": _v4(rng),
                    "name": "Clinical references",
                    "description": "Templates and coding guides",
                    "datasets": [{"id": dataset_id, "name": dataset_name, "description": None}],
                    "query": {"mode": "generated_query", "value": None},
                    "retrieval": {
                        "mode": "multiple",
                        "top_k": top_k,
                        "score_threshold": 0.5,
                        "reranking_enable": True,
                        "reranking_model": {"provider": "cohere", "model": "rerank-v3.5"},
                        "weights": None,
                        "model": None,
                    },
                    "metadata_filtering": {"mode": "disabled", "model_config": None, "conditions": None},
                }
            ]
        },
        "human": {"contacts": [_contact(t.members[0])], "tools": []},
        "env": {"variables": [{"name": "WARD", "value": "cardiology"}], "secret_refs": []},
        "sandbox": {
            "provider": "docker",
            "config": {
                "image": "python:3.12-slim",
                "working_dir": "/workspace",
                "env": [{"name": "TZ", "value": "UTC"}],
                "cpu": 1,
            },
        },
        "memory": {"scope": None, "budget": None, "artifacts": []},
        "model": _model_entry(MODELS[3], t, 0.2, 4096),
        "app_features": {
            "opening_statement": None,
            "suggested_questions": [],
            "speech_to_text": {"enabled": False},
            "text_to_speech": {"enabled": False},
            "file_upload": {"enabled": True},
        },
        "app_variables": [],
        "misc_legacy": {},
    }


def _story_northwind(ctx: _Ctx, rng: random.Random, t: _Tenant) -> None:
    priya, diego, fatima = t.members[:3]
    intake = PERSONA["intake"]

    # Agent App: the composer's first save records save_new_version (section 6).
    t.reserved.add("Patient Intake Assistant")
    app_id = _v4(rng)
    b = _AgentBuilder(ctx, rng, t, created_at=ctx.ago(120))
    _evolve(
        b,
        rng,
        _persona_soul(intake, t, rng, agent_app=True),
        [ctx.ago(120), *_spread(rng, ctx.ago(118), ctx.ago(3), 6)],
        first_op="save_new_version",
        first_note=None,
        newer_ops=True,
    )
    _write_app(
        ctx,
        t,
        app_id=app_id,
        name="Patient Intake Assistant",
        mode="agent",
        icon="🩺",
        created_at=ctx.ago(120),
        updated_at=b.versions[-1].at,
    )
    intake_agent = b.finish(
        name="Patient Intake Assistant",
        scope="roster",
        source="agent_app",
        persona=intake,
        created_by=priya.id,
        app_id=app_id,
        icon=("emoji", "🩺", "#DBEAFE"),
    )
    for _ in range(10):
        start = ctx.ago(rng.uniform(0.05, 119))
        _write_conversation(
            ctx,
            rng,
            t,
            app_id,
            intake_agent,
            turns=_spread(
                rng, start, min(start + timedelta(days=rng.uniform(0, 9)), ctx.now), rng.randint(1, 5)
            ),
        )

    # Written by a newer Dify: Gen E soul, source `roster`, versions published from the shared draft.
    t.reserved.add("Discharge Summary Writer")
    b = _AgentBuilder(ctx, rng, t, created_at=ctx.ago(40), agent_id=DemoIds.GEN_E_AGENT)
    b.save("create_version", ctx.ago(40), _gen_e_soul(t, rng, note="First cut", top_k=4), by=fatima.id)
    b.save(
        "publish_draft",
        ctx.ago(21),
        _gen_e_soul(t, rng, note="Reviewed by the ward lead", top_k=6),
        by=fatima.id,
        note="Reviewed by the ward lead",
    )
    gen_e = b.finish(
        name="Discharge Summary Writer",
        scope="roster",
        source="roster",
        persona=PERSONA["writer"],
        created_by=fatima.id,
        icon=("emoji", "🏥", "#DBEAFE"),
        description="Drafts discharge summaries from the ward notes (newer Dify agent).",
    )

    # Imported (icon is an external link), system-created (no creator, uploaded image icon).
    for name, source, icon, by, note, persona in (
        (
            "Insurance Pre-auth Checker",
            "imported",
            ("link", f"https://cdn.{t.domain}/agents/preauth.png", None),
            diego.id,
            "Imported from preauth-checker.agent.yml",
            PERSONA["contracts"],
        ),
        (
            "Dify Starter: Appointment Reminder",
            "system",
            ("image", _v4(rng), None),
            None,
            "Created from the starter template",
            PERSONA["onboarding"],
        ),
    ):
        t.reserved.add(name)
        b = _AgentBuilder(ctx, rng, t, created_at=ctx.ago(rng.uniform(60, 200)))
        b.save(
            "create_version", b.created_at, _persona_soul(persona, t, rng, agent_app=False), by=by, note=note
        )
        b.finish(name=name, scope="roster", source=source, persona=persona, created_by=by, icon=icon)

    # A name freed by archiving and taken again (roster_unique_name is NULL for archived agents).
    t.reserved.add("Billing Helper")
    for created, status in ((ctx.ago(90), "archived"), (ctx.ago(45), "active")):
        b = _AgentBuilder(ctx, rng, t, created_at=created)
        b.save(
            "create_version", created, _persona_soul(PERSONA["support"], t, rng, agent_app=False), by=diego.id
        )
        b.finish(
            name="Billing Helper",
            scope="roster",
            source="agent_app",
            persona=PERSONA["support"],
            created_by=diego.id,
            status=status,
            archived_at=ctx.ago(50) if status == "archived" else None,
            archived_by=priya.id if status == "archived" else None,
        )

    # Chatflow: an inline intake agent and the Gen E writer bound from the roster.
    app_id, draft_id, created = _v4(rng), _v4(rng), ctx.ago(70)
    intake_node, writer_node = _node_id(created, 1000), _node_id(ctx.ago(38))
    inline = _inline_agent(
        ctx,
        rng,
        t,
        intake,
        app_id=app_id,
        draft_id=draft_id,
        node_id=intake_node,
        created=created,
        edits=_spread(rng, ctx.ago(69), ctx.ago(5), 3),
        name="Intake Questions",
    )
    nodes = [
        _Node(
            intake_node,
            "Collect symptoms",
            intake,
            created,
            _job_doc(intake, previous=(_node_id(created), "sys.query")),
            [_BindEvent(created, "inline_agent", inline)],
        ),
        _Node(
            writer_node,
            "Draft discharge summary",
            PERSONA["writer"],
            ctx.ago(38),
            _job_doc(PERSONA["writer"], previous=(intake_node, "soap_summary"), contacts=[priya]),
            [_BindEvent(ctx.ago(38), "roster_agent", gen_e)],
        ),
    ]
    app = _write_workflow_app(
        ctx,
        rng,
        t,
        app_id=app_id,
        draft_id=draft_id,
        name="Clinical Intake Triage",
        mode="advanced-chat",
        icon="🏥",
        created_at=created,
        created_by=diego,
        publishes=[(_v4(rng), ctx.ago(60)), (_v4(rng), ctx.ago(20))],
        nodes=nodes,
    )
    for at in _spread(rng, ctx.ago(59), ctx.ago(minutes=30), 12):
        _write_run(ctx, rng, app, at=at, status=_random_run_status(rng, ctx.now - at), leak_rate=0.15)


# --- Globex Research Lab ---------------------------------------------------------------------


def _story_globex(ctx: _Ctx, rng: random.Random, t: _Tenant) -> None:
    sofia, maya, amara = t.members[:3]
    papers = PERSONA["papers"]

    # Snapshots older than the migration were rewritten by 89919253ca7a: unsorted keys, \\u escapes.
    t.reserved.add("Lab Notebook Assistant")
    b = _AgentBuilder(
        ctx,
        rng,
        t,
        created_at=ctx.ago(200),
        agent_id=DemoIds.UNSORTED_JSON_AGENT,
        migrated_before=ctx.now - MIGRATION_AGE,
    )
    doc = _blank_soul()
    doc["prompt"]["system_prompt"] = (
        "You keep the lab notebook for Dr. Müller's group.\n"
        "Record temperatures in °C and concentrations in µg/mL.\n"
        "Flag deviations from the protocol with ⚠️."
    )
    doc["model"] = _model_entry(MODELS[4], t, 0.2, 2048)
    _evolve(
        b,
        rng,
        doc,
        [ctx.ago(200), ctx.ago(150), ctx.ago(120), ctx.ago(60)],
        first_op="create_version",
        first_note="Notebook helper for the wet lab",
        newer_ops=False,
    )
    b.finish(
        name="Lab Notebook Assistant",
        scope="roster",
        source="agent_app",
        persona=papers,
        created_by=sofia.id,
        icon=("emoji", "🧪", "#ECFCCB"),
    )

    # Another agent with a restore + publish (newer Dify operations).
    t.reserved.add("Paper Summarizer")
    b = _AgentBuilder(ctx, rng, t, created_at=ctx.ago(90))
    doc = _persona_soul(papers, t, rng, agent_app=False)
    b.save("create_version", ctx.ago(90), doc, by=sofia.id, note="Reading group summaries")
    doc2, note = _mutate(doc, rng, t)
    b.save("save_new_version", ctx.ago(70), doc2, by=amara.id, note=note)
    doc3, note = _mutate(doc2, rng, t)
    b.save("save_current_version", ctx.ago(50), doc3, by=amara.id, note=note)
    b.restore(b.versions[0], ctx.ago(30), by=sofia.id, note="Back to v1: summaries got too long")
    b.save("publish_draft", ctx.ago(29), doc, by=sofia.id, note="Publish restored v1")
    summarizer = b.finish(
        name="Paper Summarizer",
        scope="roster",
        source="agent_app",
        persona=papers,
        created_by=sofia.id,
        icon=("emoji", "📚", "#ECFCCB"),
    )

    app_id, draft_id, created = _v4(rng), _v4(rng), ctx.ago(110)
    search_id, summary_id, critique_id = (
        _node_id(created, 1000),
        _node_id(created, 2000),
        _node_id(ctx.ago(80)),
    )
    scout = _inline_agent(
        ctx,
        rng,
        t,
        PERSONA["research"],
        app_id=app_id,
        draft_id=draft_id,
        node_id=search_id,
        created=created,
        edits=_spread(rng, ctx.ago(100), ctx.ago(8), 4),
        name="arXiv Scout",
    )
    critic = _inline_agent(
        ctx,
        rng,
        t,
        PERSONA["compliance"],
        app_id=app_id,
        draft_id=draft_id,
        node_id=critique_id,
        created=ctx.ago(80),
        edits=[ctx.ago(70)],
    )
    nodes = [
        _Node(
            search_id,
            "Find new papers",
            PERSONA["research"],
            created,
            _job_doc(PERSONA["research"], previous=None),
            [_BindEvent(created, "inline_agent", scout)],
        ),
        _Node(
            summary_id,
            "Summarize papers",
            papers,
            ctx.ago(85),
            _job_doc(papers, previous=(search_id, "findings")),
            [_BindEvent(ctx.ago(85), "roster_agent", summarizer)],
        ),
        _Node(
            critique_id,
            "Critique methods",
            PERSONA["compliance"],
            ctx.ago(80),
            _job_doc(PERSONA["compliance"], previous=(summary_id, "summaries"), contacts=[maya]),
            [_BindEvent(ctx.ago(80), "inline_agent", critic)],
        ),
    ]
    app = _write_workflow_app(
        ctx,
        rng,
        t,
        app_id=app_id,
        draft_id=draft_id,
        name="Literature Review Pipeline",
        mode="workflow",
        icon="🔬",
        created_at=created,
        created_by=sofia,
        publishes=[(_v4(rng), ctx.ago(105)), (_v4(rng), ctx.ago(75)), (_v4(rng), ctx.ago(28))],
        nodes=nodes,
    )
    for at in _spread(rng, ctx.ago(104), ctx.ago(1), 10):
        _write_run(ctx, rng, app, at=at, status=_random_run_status(rng, ctx.now - at), leak_rate=0.1)
    # Waiting for a human for almost four weeks: paused, so its ACTIVE sessions are legitimate but idle.
    _write_run(ctx, rng, app, at=ctx.ago(26), status="paused", actor=maya)


# ============================================================================================
# Generated blocks (every scale): roster agents, Agent Apps, workflow apps, runs
# ============================================================================================


def _versions_count(rng: random.Random, maximum: int) -> int:
    """1..maximum, skewed towards few versions (most agents are edited a handful of times)."""
    return 1 + int(rng.random() ** 1.4 * maximum)


def _bulk_roster_agent(ctx: _Ctx, rng: random.Random, scale: Scale, t: _Tenant) -> _AgentRec:
    persona = rng.choice(PERSONAS)
    created = _between(rng, max(t.created_at, ctx.ago(400)), ctx.ago(hours=2))
    archived_at = _between(rng, created, ctx.now) if rng.random() < 0.08 else None
    times = [
        created,
        *_spread(rng, created, archived_at or ctx.now, _versions_count(rng, scale.max_versions) - 1),
    ]
    # (source, first operation, has an Agent App); seed roster creation records source agent_app.
    source, first_op, with_app = rng.choices(
        (
            ("agent_app", "save_new_version", True),
            ("agent_app", "create_version", False),
            ("workflow", "save_new_agent", False),
            ("imported", "create_version", False),
            ("system", "create_version", False),
            ("roster", "create_version", False),
        ),
        (35, 20, 20, 10, 5, 10),
    )[0]
    by = None if source == "system" else t.member(rng).id
    migrated = ctx.now - MIGRATION_AGE if rng.random() < 0.1 else None
    b = _AgentBuilder(ctx, rng, t, created_at=created, migrated_before=migrated)
    note = {
        "imported": f"Imported from {persona.key}-agent.yml",
        "system": "Created from the starter template",
        "workflow": "Saved as a new agent from the workflow composer",
    }.get(source)
    _evolve(
        b,
        rng,
        _persona_soul(persona, t, rng, agent_app=with_app),
        times,
        first_op=first_op,
        first_note=note,
        newer_ops=source in ("agent_app", "roster") and created > ctx.ago(150),
        system=source == "system",
    )
    name = _roster_name(t, persona)
    app_id = _v4(rng) if with_app else None
    if app_id:
        _write_app(
            ctx,
            t,
            app_id=app_id,
            name=name,
            mode="agent",
            icon=persona.emoji,
            created_at=created,
            updated_at=b.versions[-1].at,
        )
    agent = b.finish(
        name=name,
        scope="roster",
        source=source,
        persona=persona,
        created_by=by,
        app_id=app_id,
        icon=_icon(rng, persona, t),
        status="archived" if archived_at else "active",
        archived_at=archived_at,
        archived_by=t.member(rng).id if archived_at else None,
    )
    if app_id:
        for _ in range(rng.randint(0, 2 * scale.conversations_per_agent_app)):
            start = _between(rng, created, archived_at or ctx.now)
            end = min(start + timedelta(hours=rng.expovariate(1 / 20)), ctx.now)
            _write_conversation(
                ctx,
                rng,
                t,
                app_id,
                agent,
                turns=_spread(rng, start, end, rng.randint(1, 6)),
                is_deleted=rng.random() < 0.03,
            )
    return agent


def _bulk_workflow_app(
    ctx: _Ctx, rng: random.Random, scale: Scale, t: _Tenant, pool: Sequence[_AgentRec]
) -> None:
    base, mode = rng.choice(WORKFLOW_APP_NAMES)
    name = f"{base} ({rng.choice(TEAMS)})"
    app_id, draft_id = _v4(rng), _v4(rng)
    created = _between(rng, max(t.created_at, ctx.ago(300)), ctx.ago(2))
    author = t.member(rng)
    publishes = [
        (_v4(rng), at)
        for at in _spread(
            rng,
            created + timedelta(hours=1),
            ctx.ago(hours=1),
            rng.choices((0, 1, 2, 3), (10, 30, 35, 25))[0],
        )
    ]
    nodes: list[_Node] = []
    previous: tuple[str, str] | None = None
    for i in range(rng.randint(1, 4)):
        # Most nodes exist from the start; some were added later (absent from older published rows).
        added = (
            created + timedelta(minutes=i + 1)
            if rng.random() < 0.7
            else _between(rng, created, ctx.ago(hours=1))
        )
        node_id = _node_id(added, i)
        candidates = [a for a in pool if a.created_at <= added and a.runnable_at(added)]
        if candidates and rng.random() < 0.45:
            agent = rng.choice(candidates)
            persona = agent.persona
            events = [_BindEvent(added, "roster_agent", agent)]
            if rng.random() < 0.2:  # re-saved in the composer later: refreshes the pinned snapshot
                events.append(_BindEvent(_between(rng, added, ctx.now), "roster_agent", agent))
        else:
            persona = rng.choice(PERSONAS)
            # Some inline agents get promoted (save_to_roster / save_new_agent); the node then binds
            # the new roster agent and the inline agent stays behind, no longer edited.
            roll = rng.random()
            promoted_at = _between(rng, added, ctx.ago(hours=1)) if roll < 0.12 else None
            max_edits = max(1, scale.max_versions // 2)
            edits = _spread(rng, added, promoted_at or ctx.now, _versions_count(rng, max_edits) - 1)
            inline = _inline_agent(
                ctx,
                rng,
                t,
                persona,
                app_id=app_id,
                draft_id=draft_id,
                node_id=node_id,
                created=added,
                edits=edits,
                name=None if rng.random() < 0.6 else f"{persona.name} ({base})",
            )
            events = [_BindEvent(added, "inline_agent", inline)]
            if promoted_at is not None:
                b = _AgentBuilder(ctx, rng, t, created_at=promoted_at)
                more = _spread(rng, promoted_at, ctx.now, _versions_count(rng, max_edits) - 1)
                _evolve(
                    b,
                    rng,
                    inline.versions[-1].doc,
                    [promoted_at, *more],
                    first_op="save_to_roster" if roll < 0.08 else "save_new_agent",
                    first_note=f"Saved from {base}",
                    newer_ops=False,
                )
                promoted = b.finish(
                    name=_roster_name(t, persona),
                    scope="roster",
                    source="workflow",
                    persona=persona,
                    created_by=author.id,
                    icon=_icon(rng, persona, t),
                )
                events.append(_BindEvent(promoted_at, "roster_agent", promoted))
        nodes.append(
            _Node(
                node_id,
                persona.name,
                persona,
                added,
                _job_doc(persona, previous=previous or (_node_id(created), "sys.query")),
                events,
            )
        )
        previous = (node_id, persona.outputs[0].name)
    app = _write_workflow_app(
        ctx,
        rng,
        t,
        app_id=app_id,
        draft_id=draft_id,
        name=name,
        mode=mode,
        icon="🧩",
        created_at=created,
        created_by=author,
        publishes=publishes,
        nodes=nodes,
    )
    for at in _spread(
        rng, created, ctx.now, rng.randint(scale.runs_per_app // 2, scale.runs_per_app * 3 // 2)
    ):
        _write_run(
            ctx,
            rng,
            app,
            at=at,
            status=_random_run_status(rng, ctx.now - at),
            debug=rng.random() < 0.15,
            leak_rate=0.08,
        )


def _bulk(ctx: _Ctx, scale: Scale, tenants: Sequence[_Tenant]) -> None:
    """Blocks of generated data; each block has its own RNG stream and is forgotten once written."""
    for t in tenants:
        for block in range(scale.blocks_per_tenant):
            rng = random.Random(f"{ctx.seed}/bulk/{t.index}/{block}")
            pool = [_bulk_roster_agent(ctx, rng, scale, t) for _ in range(scale.roster_agents_per_block)]
            for _ in range(scale.workflow_apps_per_block):
                _bulk_workflow_app(ctx, rng, scale, t, pool)


# ============================================================================================
# Entry point
# ============================================================================================


def seed_demo(
    conn: sa.Connection,
    *,
    now: datetime,
    scale: str = "S",
    seed: int = 7,
    generation: str = DEFAULT_GENERATION,
) -> DemoSummary:
    """Insert the demo dataset of one schema generation through `conn` (the caller owns the
    transaction) and count the rows.

    `now` is naive UTC (an aware datetime is converted); every timestamp is relative to it. The same
    (now, scale, seed, generation) always produces identical rows. The tables must exist and be empty.
    `sessions` writes runtime sessions; `workspaces` (`data.demo_workspaces`) turns the same story into
    working environments and adds what Dify 1.16/1.17 added (drafts, home snapshots, ...).
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; expected one of {', '.join(SCALES)}")
    if now.tzinfo is not None:
        now = now.astimezone(UTC).replace(tzinfo=None)
    if check_generation(generation) == SESSIONS:
        sink = _Sink(conn)
    else:
        from data import demo_workspaces

        sink = demo_workspaces.WorkspacesSink(conn, now=now, seed=seed)
    ctx = _Ctx(now=now, seed=seed, sink=sink)
    tenants = _story(ctx, SCALES[scale])
    _bulk(ctx, SCALES[scale], tenants)
    if generation != SESSIONS:
        demo_workspaces.add_story(ctx, tenants)
    sink.flush()
    return DemoSummary(scale=scale, seed=seed, **sink.counts)
