"""One agent and everything about it: identity, versions, revisions, bindings; and pasted-id lookup."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from data.diff import diff_configs
from data.models import (
    Account,
    Agent,
    AgentConfigDraft,
    AgentConfigRevision,
    AgentConfigSnapshot,
    AgentHomeSnapshot,
    AgentRuntimeSession,
    AgentWorkspace,
    AgentWorkspaceBinding,
    App,
    Conversation,
    Tenant,
    Workflow,
    WorkflowAgentNodeBinding,
    WorkflowRun,
)
from data.models.enums import DraftType
from data.read_context import ReadContext
from data.stores.scope import in_scope
from data.tolerant import EnumValue, JsonResult, parse_json

#: Columns Dify added to `agents` after the seed that the agent page shows (read only when present).
AGENT_NEWER_COLUMNS = ("role", "active_config_has_model", "backing_app_id", "active_config_is_published")
#: Drafts shown per agent (one shared draft plus one build draft per account: a cap, not a page).
MAX_DRAFTS = 200
#: Versions whose stored config text is parsed for the "invalid JSON" badge (newest first): a bound on the
#: text read per agent page (snapshots can be hundreds of KB); older versions show "not checked".
MAX_JSON_CHECKS = 50


@dataclass(frozen=True)
class AgentIdentity:
    id: str
    tenant_id: str
    workspace: str
    name: str
    description: str
    icon_type: EnumValue | None
    icon: str | None
    icon_background: str | None
    scope: EnumValue
    status: EnumValue
    source: EnumValue
    kind: EnumValue
    app_id: str | None
    app_name: str | None
    workflow_id: str | None
    workflow_node_id: str | None
    active_config_snapshot_id: str | None
    roster_unique_name: str | None
    created_at: datetime
    created_by: str | None
    updated_at: datetime
    updated_by: str | None
    archived_at: datetime | None
    archived_by: str | None
    # Dify 1.15+/1.16+ columns: None when the database lacks the column (then the page says nothing).
    role: str | None = None
    has_model: bool | None = None
    published: bool | None = None
    backing_app_id: str | None = None
    backing_app_name: str | None = None
    #: The backing app id names no apps row (only known when the apps table is there).
    backing_app_missing: bool = False
    #: Which of AGENT_NEWER_COLUMNS this database has.
    newer_columns: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Version:
    snapshot_id: str
    version: int
    created_at: datetime
    created_by: str | None
    version_note: str | None
    size: int  # characters of the stored config text
    operations: tuple[EnumValue, ...]  # operations of the revisions that produced this snapshot
    is_active: bool
    #: Why the stored config cannot be used (invalid JSON, not an object, ...); None when it parses, or
    #: when it was not checked (`json_checked` False: older than the newest MAX_JSON_CHECKS versions).
    config_error: str | None = None
    json_checked: bool = True


@dataclass(frozen=True)
class Revision:
    id: str
    revision: int
    operation: EnumValue
    previous_snapshot_id: str | None
    previous_version: int | None
    current_snapshot_id: str
    current_version: int | None  # None: the snapshot is missing (or belongs to another agent)
    created_at: datetime
    created_by: str | None
    version_note: str | None


@dataclass(frozen=True)
class AgentBinding:
    id: str
    tenant_id: str
    workspace: str
    app_id: str
    app_name: str | None
    workflow_id: str
    workflow_version: str
    workflow_label: str
    node_id: str
    binding_type: EnumValue
    pinned_snapshot_id: str | None
    pinned_version: int | None
    runs_snapshot_id: str | None  # what Dify actually runs (reference, section 7)
    runs_version: int | None
    #: The workflow row is the app's published one users run (`apps.workflow_id`); False for drafts and
    #: older published versions; None when the apps table is absent (then nobody can tell).
    is_live: bool | None = None

    @property
    def drifts(self) -> bool:
        return self.pinned_snapshot_id != self.runs_snapshot_id


@dataclass(frozen=True)
class Snapshot:
    id: str
    tenant_id: str
    agent_id: str
    version: int
    created_at: datetime
    created_by: str | None
    version_note: str | None
    config: JsonResult


def _names(conn: sa.Connection, ids: set[str | None], *, has_accounts: bool) -> dict[str, str]:
    wanted = sorted(i for i in ids if i)
    if not has_accounts or not wanted:
        return {}
    return dict(conn.execute(sa.select(Account.id, Account.name).where(Account.id.in_(wanted))).all())


def get_agent(
    conn: sa.Connection,
    agent_id: str,
    *,
    read: ReadContext,
    has_core: frozenset[str] = frozenset(),
    newer_columns: frozenset[str] = frozenset(),
) -> AgentIdentity | None:
    """One agent with names resolved. `newer_columns`: which of AGENT_NEWER_COLUMNS exist (the schema
    report's `has_column`); only those are selected, so a seed-era database runs the seed query."""
    a = conn.execute(sa.select(Agent).where(Agent.id == agent_id, *in_scope(Agent.tenant_id, read))).first()
    if a is None:
        return None
    wanted = [name for name in AGENT_NEWER_COLUMNS if name in newer_columns]
    newer = (
        conn.execute(sa.select(*(getattr(Agent, name) for name in wanted)).where(Agent.id == agent_id))
        .one()
        ._asdict()
        if wanted
        else {}
    )
    people = _names(conn, {a.created_by, a.updated_by, a.archived_by}, has_accounts="accounts" in has_core)
    workspace = a.tenant_id
    if "tenants" in has_core:
        workspace = (
            conn.execute(sa.select(Tenant.name).where(Tenant.id == a.tenant_id)).scalar() or a.tenant_id
        )
    app_name = None
    if a.app_id and "apps" in has_core:
        app_name = conn.execute(
            sa.select(App.name).where(App.id == a.app_id, App.tenant_id == a.tenant_id)
        ).scalar()
    backing_id = newer.get("backing_app_id")
    backing_name, backing_missing = None, False
    if backing_id and "apps" in has_core:
        backing_name = conn.execute(
            sa.select(App.name).where(App.id == backing_id, App.tenant_id == a.tenant_id)
        ).scalar()
        backing_missing = backing_name is None
    has_model, published = newer.get("active_config_has_model"), newer.get("active_config_is_published")
    return AgentIdentity(
        id=a.id,
        tenant_id=a.tenant_id,
        workspace=workspace,
        name=a.name,
        description=a.description,
        icon_type=a.icon_type,
        icon=a.icon,
        icon_background=a.icon_background,
        scope=a.scope,
        status=a.status,
        source=a.source,
        kind=a.agent_kind,
        app_id=a.app_id,
        app_name=app_name,
        workflow_id=a.workflow_id,
        workflow_node_id=a.workflow_node_id,
        active_config_snapshot_id=a.active_config_snapshot_id,
        roster_unique_name=a.roster_unique_name,
        created_at=a.created_at,
        created_by=people.get(a.created_by, a.created_by),
        updated_at=a.updated_at,
        updated_by=people.get(a.updated_by, a.updated_by),
        archived_at=a.archived_at,
        archived_by=people.get(a.archived_by, a.archived_by),
        role=newer.get("role"),
        has_model=None if has_model is None else bool(has_model),
        published=None if published is None else bool(published),
        backing_app_id=backing_id,
        backing_app_name=backing_name,
        backing_app_missing=backing_missing,
        newer_columns=frozenset(wanted),
    )


def list_versions(
    conn: sa.Connection, *, tenant_id: str, agent_id: str, active_snapshot_id: str | None, has_accounts: bool
) -> list[Version]:
    """Every snapshot of the agent, newest version first, with the operations that produced it."""
    snapshots = conn.execute(
        sa.select(
            AgentConfigSnapshot.id,
            AgentConfigSnapshot.version,
            AgentConfigSnapshot.created_at,
            AgentConfigSnapshot.created_by,
            AgentConfigSnapshot.version_note,
            sa.func.length(AgentConfigSnapshot.config_snapshot).label("size"),
        )
        .where(AgentConfigSnapshot.tenant_id == tenant_id, AgentConfigSnapshot.agent_id == agent_id)
        .order_by(AgentConfigSnapshot.version.desc())
    ).all()
    operations: dict[str, list[EnumValue]] = {}
    for snapshot_id, operation in conn.execute(
        sa.select(AgentConfigRevision.current_snapshot_id, AgentConfigRevision.operation)
        .where(AgentConfigRevision.tenant_id == tenant_id, AgentConfigRevision.agent_id == agent_id)
        .order_by(AgentConfigRevision.revision)
    ):
        operations.setdefault(snapshot_id, []).append(operation)
    people = _names(conn, {s.created_by for s in snapshots}, has_accounts=has_accounts)
    checked = [s.id for s in snapshots[:MAX_JSON_CHECKS]]
    errors = (
        {
            snapshot_id: parse_json(text, expect_object=True).error
            for snapshot_id, text in conn.execute(
                sa.select(AgentConfigSnapshot.id, AgentConfigSnapshot.config_snapshot).where(
                    AgentConfigSnapshot.tenant_id == tenant_id, AgentConfigSnapshot.id.in_(checked)
                )
            )
        }
        if checked
        else {}
    )
    return [
        Version(
            snapshot_id=s.id,
            version=s.version,
            created_at=s.created_at,
            created_by=people.get(s.created_by, s.created_by),
            version_note=s.version_note,
            size=int(s.size or 0),
            operations=tuple(operations.get(s.id, ())),
            is_active=s.id == active_snapshot_id,
            config_error=errors.get(s.id),
            json_checked=s.id in errors,
        )
        for s in snapshots
    ]


def list_revisions(
    conn: sa.Connection, *, tenant_id: str, agent_id: str, has_accounts: bool
) -> list[Revision]:
    """The revision timeline, newest first; versions resolved only among this agent's snapshots."""
    versions = dict(
        conn.execute(
            sa.select(AgentConfigSnapshot.id, AgentConfigSnapshot.version).where(
                AgentConfigSnapshot.tenant_id == tenant_id, AgentConfigSnapshot.agent_id == agent_id
            )
        ).all()
    )
    rows = conn.execute(
        sa.select(AgentConfigRevision)
        .where(AgentConfigRevision.tenant_id == tenant_id, AgentConfigRevision.agent_id == agent_id)
        .order_by(AgentConfigRevision.revision.desc())
    ).all()
    people = _names(conn, {r.created_by for r in rows}, has_accounts=has_accounts)
    return [
        Revision(
            id=r.id,
            revision=r.revision,
            operation=r.operation,
            previous_snapshot_id=r.previous_snapshot_id,
            previous_version=versions.get(r.previous_snapshot_id),
            current_snapshot_id=r.current_snapshot_id,
            current_version=versions.get(r.current_snapshot_id),
            created_at=r.created_at,
            created_by=people.get(r.created_by, r.created_by),
            version_note=r.version_note,
        )
        for r in rows
    ]


def workflow_label(version: str, marked_name: str | None = None) -> str:
    if marked_name:
        return f"{marked_name} ({version})"
    return "Draft" if version == "draft" else f"Published {version}"


def bindings_for_agent(
    conn: sa.Connection,
    *,
    tenant_id: str,
    agent_id: str,
    active_snapshot_id: str | None,
    has_core: frozenset[str] = frozenset(),
) -> list[AgentBinding]:
    """Bindings referencing the agent (index `workflow_agent_node_binding_agent_idx`), draft first."""
    rows = conn.execute(
        sa.select(WorkflowAgentNodeBinding).where(
            WorkflowAgentNodeBinding.tenant_id == tenant_id, WorkflowAgentNodeBinding.agent_id == agent_id
        )
    ).all()
    snapshot_ids = {r.current_snapshot_id for r in rows if r.current_snapshot_id} | (
        {active_snapshot_id} if active_snapshot_id else set()
    )
    versions = (
        dict(
            conn.execute(
                sa.select(AgentConfigSnapshot.id, AgentConfigSnapshot.version).where(
                    AgentConfigSnapshot.tenant_id == tenant_id,
                    AgentConfigSnapshot.agent_id == agent_id,
                    AgentConfigSnapshot.id.in_(sorted(snapshot_ids)),
                )
            ).all()
        )
        if snapshot_ids
        else {}
    )
    app_names: dict[str, str] = {}
    live_workflows: dict[str, str | None] = {}  # app id -> apps.workflow_id (the published one users run)
    if "apps" in has_core and rows:
        for app_id, name, live in conn.execute(
            sa.select(App.id, App.name, App.workflow_id).where(
                App.tenant_id == tenant_id, App.id.in_(sorted({r.app_id for r in rows}))
            )
        ):
            app_names[app_id] = name
            live_workflows[app_id] = live
    marked: dict[str, str] = {}
    if "workflows" in has_core and rows:
        marked = dict(
            conn.execute(
                sa.select(Workflow.id, Workflow.marked_name).where(
                    Workflow.tenant_id == tenant_id, Workflow.id.in_(sorted({r.workflow_id for r in rows}))
                )
            ).all()
        )
    workspace = tenant_id
    if "tenants" in has_core:
        workspace = conn.execute(sa.select(Tenant.name).where(Tenant.id == tenant_id)).scalar() or tenant_id
    result = []
    for r in rows:
        runs = active_snapshot_id if r.binding_type == "roster_agent" else r.current_snapshot_id
        result.append(
            AgentBinding(
                id=r.id,
                tenant_id=r.tenant_id,
                workspace=workspace,
                app_id=r.app_id,
                app_name=app_names.get(r.app_id),
                workflow_id=r.workflow_id,
                workflow_version=r.workflow_version,
                workflow_label=workflow_label(r.workflow_version, marked.get(r.workflow_id)),
                node_id=r.node_id,
                binding_type=r.binding_type,
                pinned_snapshot_id=r.current_snapshot_id,
                pinned_version=versions.get(r.current_snapshot_id),
                runs_snapshot_id=runs,
                runs_version=None if runs is None else versions.get(runs),
                is_live=(
                    None
                    if "apps" not in has_core
                    else r.workflow_version != "draft" and live_workflows.get(r.app_id) == r.workflow_id
                ),
            )
        )
    result.sort(key=lambda b: (b.workflow_version != "draft", _neg(b.workflow_version), b.node_id))
    return result


def _neg(text: str) -> tuple:
    # Published version strings are timestamps: newest first.
    return tuple(-ord(c) for c in text)


def get_snapshot(conn: sa.Connection, snapshot_id: str, *, tenant_id: str | None = None) -> Snapshot | None:
    query = sa.select(AgentConfigSnapshot).where(AgentConfigSnapshot.id == snapshot_id)
    if tenant_id:
        query = query.where(AgentConfigSnapshot.tenant_id == tenant_id)
    row = conn.execute(query).first()
    if row is None:
        return None
    return Snapshot(
        id=row.id,
        tenant_id=row.tenant_id,
        agent_id=row.agent_id,
        version=row.version,
        created_at=row.created_at,
        created_by=row.created_by,
        version_note=row.version_note,
        config=parse_json(row.config_snapshot, expect_object=True),
    )


# --- drafts and home snapshots (Dify 1.16+ / 1.17+) ------------------------------------------------

#: Draft states against the agent's active snapshot.
UNPUBLISHED = "unpublished changes"
UNCHANGED = "no changes"
NO_ACTIVE = "no active snapshot"


def draft_label(draft_type: EnumValue, owner: str | None) -> str:
    """`Draft` for the shared console draft, `Build draft of <account>` for a debug_build draft."""
    if draft_type == DraftType.DEBUG_BUILD:
        return f"Build draft of {owner or 'an unknown account'}"
    if draft_type == DraftType.DRAFT:
        return "Draft"
    return f"Draft ({draft_type.raw})"  # a draft type this version of Agent Desk does not know


@dataclass(frozen=True)
class Draft:
    """One row of `agent_config_drafts`, compared with the agent's active snapshot.

    `state` is UNPUBLISHED exactly when the semantic diff (`data.diff`, normalized documents) of the
    active snapshot and the draft is not empty; NO_ACTIVE when the agent has no (existing) active one."""

    id: str
    tenant_id: str
    draft_type: EnumValue
    label: str
    owner: str | None  # the build draft's account (name when known)
    base_snapshot_id: str | None
    base_version: int | None  # None with a base id: not one of this agent's snapshots (or missing)
    home_snapshot_id: str | None  # None: the backend's default home (or the column is absent)
    created_at: datetime
    updated_at: datetime
    updated_by: str | None
    state: str
    summary: str  # the diff's one-line summary vs the active snapshot

    @property
    def unpublished(self) -> bool:
        return self.state == UNPUBLISHED


def list_drafts(
    conn: sa.Connection,
    *,
    tenant_id: str,
    agent_id: str,
    active_snapshot_id: str | None,
    has_accounts: bool,
    has_home: bool = False,
) -> list[Draft]:
    """The agent's drafts (index `agent_config_draft_tenant_agent_idx`): the shared draft first, then
    build drafts, newest edit first. `has_home`: the 1.17 `home_snapshot_id` column is there."""
    columns = [
        AgentConfigDraft.id,
        AgentConfigDraft.tenant_id,
        AgentConfigDraft.draft_type,
        AgentConfigDraft.account_id,
        AgentConfigDraft.base_snapshot_id,
        AgentConfigDraft.config_snapshot,
        AgentConfigDraft.created_at,
        AgentConfigDraft.updated_at,
        AgentConfigDraft.updated_by,
    ]
    if has_home:
        columns.append(AgentConfigDraft.home_snapshot_id)
    rows = conn.execute(
        sa.select(*columns)
        .where(AgentConfigDraft.tenant_id == tenant_id, AgentConfigDraft.agent_id == agent_id)
        .order_by(AgentConfigDraft.updated_at.desc())
        .limit(MAX_DRAFTS)
    ).all()
    if not rows:
        return []
    versions = dict(
        conn.execute(
            sa.select(AgentConfigSnapshot.id, AgentConfigSnapshot.version).where(
                AgentConfigSnapshot.tenant_id == tenant_id, AgentConfigSnapshot.agent_id == agent_id
            )
        ).all()
    )
    active_text = None
    if active_snapshot_id:
        active_text = conn.execute(
            sa.select(AgentConfigSnapshot.config_snapshot).where(
                AgentConfigSnapshot.id == active_snapshot_id, AgentConfigSnapshot.tenant_id == tenant_id
            )
        ).scalar()
    people = _names(
        conn, {r.account_id for r in rows} | {r.updated_by for r in rows}, has_accounts=has_accounts
    )
    drafts = []
    for r in rows:
        if active_text is None:
            state, summary = NO_ACTIVE, ""
        else:
            result = diff_configs(active_text, r.config_snapshot, "soul")
            state, summary = (UNCHANGED if result.equal else UNPUBLISHED), result.summary
        owner = people.get(r.account_id, r.account_id) if r.account_id else None
        drafts.append(
            Draft(
                id=r.id,
                tenant_id=r.tenant_id,
                draft_type=r.draft_type,
                label=draft_label(r.draft_type, owner),
                owner=owner,
                base_snapshot_id=r.base_snapshot_id,
                base_version=versions.get(r.base_snapshot_id),
                home_snapshot_id=r.home_snapshot_id if has_home else None,
                created_at=r.created_at,
                updated_at=r.updated_at,
                updated_by=people.get(r.updated_by, r.updated_by),
                state=state,
                summary=summary,
            )
        )
    drafts.sort(key=lambda d: d.draft_type != DraftType.DRAFT)  # stable: newest edit first within a type
    return drafts


@dataclass(frozen=True)
class HomeSnapshotUse:
    """A home snapshot of the agent (or one its snapshots / drafts name) and who references it.

    `status` None: no `agent_home_snapshots` row has this id (a dangling reference). A referenced home
    snapshot must never be retired: every new run of that config would fail."""

    id: str
    status: EnumValue | None
    created_at: datetime | None
    retired_at: datetime | None
    other_agent_id: str | None  # the row belongs to another agent (referenced from this one)
    snapshot_versions: tuple[int, ...]
    drafts: tuple[str, ...]  # labels of the drafts that reference it

    @property
    def referenced(self) -> bool:
        return bool(self.snapshot_versions or self.drafts)

    @property
    def retired_but_referenced(self) -> bool:
        return self.referenced and self.status is not None and self.status.raw == "retired"


def list_home_snapshots(
    conn: sa.Connection,
    *,
    tenant_id: str,
    agent_id: str,
    drafts: tuple[Draft, ...] = (),
    has_snapshot_home: bool = False,
) -> list[HomeSnapshotUse]:
    """The agent's home snapshots (index `agent_home_snapshot_tenant_agent_idx`), newest first, with the
    agent's snapshots (when `agent_config_snapshots.home_snapshot_id` exists) and `drafts` that name
    them; then the ids those reference that are not the agent's own rows (another agent's, or missing)."""
    rows = conn.execute(
        sa.select(
            AgentHomeSnapshot.id,
            AgentHomeSnapshot.status,
            AgentHomeSnapshot.created_at,
            AgentHomeSnapshot.retired_at,
        )
        .where(AgentHomeSnapshot.tenant_id == tenant_id, AgentHomeSnapshot.agent_id == agent_id)
        .order_by(AgentHomeSnapshot.created_at.desc())
    ).all()
    by_snapshot: dict[str, list[int]] = {}
    if has_snapshot_home:
        for version, home_id in conn.execute(
            sa.select(AgentConfigSnapshot.version, AgentConfigSnapshot.home_snapshot_id)
            .where(
                AgentConfigSnapshot.tenant_id == tenant_id,
                AgentConfigSnapshot.agent_id == agent_id,
                AgentConfigSnapshot.home_snapshot_id.is_not(None),
            )
            .order_by(AgentConfigSnapshot.version)
        ):
            if home_id is not None:  # excluded in SQL already; narrows the column's Optional type
                by_snapshot.setdefault(home_id, []).append(version)
    by_draft: dict[str, list[str]] = {}
    for d in drafts:
        if d.home_snapshot_id:
            by_draft.setdefault(d.home_snapshot_id, []).append(d.label)
    own = {r.id for r in rows}
    others = sorted((by_snapshot.keys() | by_draft.keys()) - own)
    found = (
        {
            r.id: r
            for r in conn.execute(
                sa.select(
                    AgentHomeSnapshot.id,
                    AgentHomeSnapshot.agent_id,
                    AgentHomeSnapshot.status,
                    AgentHomeSnapshot.created_at,
                    AgentHomeSnapshot.retired_at,
                ).where(AgentHomeSnapshot.tenant_id == tenant_id, AgentHomeSnapshot.id.in_(others))
            )
        }
        if others
        else {}
    )

    def use(home_id: str, row: Any, other: str | None) -> HomeSnapshotUse:
        return HomeSnapshotUse(
            id=home_id,
            status=row.status if row is not None else None,
            created_at=row.created_at if row is not None else None,
            retired_at=row.retired_at if row is not None else None,
            other_agent_id=other,
            snapshot_versions=tuple(by_snapshot.get(home_id, ())),
            drafts=tuple(by_draft.get(home_id, ())),
        )

    result = [use(r.id, r, None) for r in rows]
    for home_id in others:
        row = found.get(home_id)
        result.append(use(home_id, row, row.agent_id if row is not None else None))
    return result


# --- pasted-id search -------------------------------------------------------------------------


@dataclass(frozen=True)
class IdMatch:
    """What a pasted id is, and the view that shows it (a page name and its URL parameters)."""

    kind: str
    page: str
    params: dict[str, str]
    label: str


def resolve_id(  # noqa: C901 (known debt, ARCHITECTURE.md)
    conn: sa.Connection,
    value: str,
    *,
    has_core: frozenset[str] = frozenset(),
    agent_tables: frozenset[str] | None = None,
    read: ReadContext,
) -> IdMatch | None:
    """Contract order: agent, snapshot, revision, binding, runtime session, (Dify 1.16+/1.17+: draft,
    home snapshot, workspace, workspace binding), app, workflow, workflow run, conversation. Core ids
    reach agent tables through the core tables' primary keys first. `has_core` / `agent_tables`: the
    optional core and agent tables present (the schema report's); a missing one is never queried.
    `agent_tables=None` (unknown) means the seed's: runtime sessions, nothing newer. `read`: the reader's
    workspace scope is in every lookup's WHERE, so an id of another workspace resolves to nothing (the id
    box never tells a workspace-scoped role that the record exists elsewhere)."""
    present = frozenset({"agent_runtime_sessions"}) if agent_tables is None else agent_tables
    agent = conn.execute(
        sa.select(Agent.id).where(Agent.id == value, *in_scope(Agent.tenant_id, read))
    ).scalar()
    if agent:
        return IdMatch("agent", "agent", {"agent": agent}, "agent")
    snap = conn.execute(
        sa.select(AgentConfigSnapshot.agent_id, AgentConfigSnapshot.version).where(
            AgentConfigSnapshot.id == value, *in_scope(AgentConfigSnapshot.tenant_id, read)
        )
    ).first()
    if snap:
        return IdMatch("snapshot", "agent", {"agent": snap.agent_id}, f"snapshot (version {snap.version})")
    rev = conn.execute(
        sa.select(AgentConfigRevision.agent_id, AgentConfigRevision.revision).where(
            AgentConfigRevision.id == value, *in_scope(AgentConfigRevision.tenant_id, read)
        )
    ).first()
    if rev:
        return IdMatch("revision", "agent", {"agent": rev.agent_id}, f"revision {rev.revision}")
    binding = conn.execute(
        sa.select(
            WorkflowAgentNodeBinding.tenant_id,
            WorkflowAgentNodeBinding.app_id,
            WorkflowAgentNodeBinding.workflow_id,
            WorkflowAgentNodeBinding.node_id,
        ).where(WorkflowAgentNodeBinding.id == value, *in_scope(WorkflowAgentNodeBinding.tenant_id, read))
    ).first()
    if binding:
        return IdMatch(
            "binding",
            "bindings",
            {
                "tenant": binding.tenant_id,
                "app": binding.app_id,
                "workflow": binding.workflow_id,
                "node": binding.node_id,
            },
            f"binding of node {binding.node_id}",
        )
    if "agent_runtime_sessions" in present:
        session = conn.execute(
            sa.select(AgentRuntimeSession.tenant_id).where(
                AgentRuntimeSession.id == value, *in_scope(AgentRuntimeSession.tenant_id, read)
            )
        ).first()
        if session:
            return IdMatch(
                "session", "sessions", {"tenant": session.tenant_id, "session": value}, "runtime session"
            )
    newer = _resolve_newer_id(conn, value, present, read)
    if newer:
        return newer
    if "apps" in has_core:
        app = conn.execute(
            sa.select(App.tenant_id).where(App.id == value, *in_scope(App.tenant_id, read))
        ).first()
        if app:
            return IdMatch("app", "bindings", {"tenant": app.tenant_id, "app": value}, "app")
    if "workflows" in has_core:
        wf = conn.execute(
            sa.select(Workflow.tenant_id, Workflow.app_id).where(
                Workflow.id == value, *in_scope(Workflow.tenant_id, read)
            )
        ).first()
        if wf:
            return IdMatch(
                "workflow",
                "bindings",
                {"tenant": wf.tenant_id, "app": wf.app_id, "workflow": value},
                "workflow version",
            )
    if "workflow_runs" in has_core:
        run = conn.execute(
            sa.select(WorkflowRun.tenant_id).where(
                WorkflowRun.id == value, *in_scope(WorkflowRun.tenant_id, read)
            )
        ).first()
        if run:
            return IdMatch(
                "workflow_run",
                "sessions",
                {"tenant": run.tenant_id, "run": value},
                "workflow run (its sessions)",
            )
    if "conversations" in has_core and "apps" in has_core:
        conv = conn.execute(
            sa.select(App.tenant_id)
            .select_from(Conversation)
            .join(App, App.id == Conversation.app_id)
            .where(Conversation.id == value, *in_scope(App.tenant_id, read))
        ).first()
        if conv:
            return IdMatch(
                "conversation",
                "sessions",
                {"tenant": conv.tenant_id, "conversation": value},
                "conversation (its sessions)",
            )
    return None


def _resolve_newer_id(
    conn: sa.Connection, value: str, present: frozenset[str], read: ReadContext
) -> IdMatch | None:
    """Drafts and home snapshots open their agent; workspaces and workspace bindings the sessions view."""
    if "agent_config_drafts" in present:
        draft = conn.execute(
            sa.select(AgentConfigDraft.agent_id, AgentConfigDraft.draft_type).where(
                AgentConfigDraft.id == value, *in_scope(AgentConfigDraft.tenant_id, read)
            )
        ).first()
        if draft:
            kind = "build draft" if draft.draft_type == DraftType.DEBUG_BUILD else "shared draft"
            return IdMatch("draft", "agent", {"agent": draft.agent_id}, kind)
    if "agent_home_snapshots" in present:
        home = conn.execute(
            sa.select(AgentHomeSnapshot.agent_id).where(
                AgentHomeSnapshot.id == value, *in_scope(AgentHomeSnapshot.tenant_id, read)
            )
        ).first()
        if home:
            return IdMatch("home_snapshot", "agent", {"agent": home.agent_id}, "home snapshot")
    if "agent_workspaces" in present:
        ws = conn.execute(
            sa.select(AgentWorkspace.tenant_id).where(
                AgentWorkspace.id == value, *in_scope(AgentWorkspace.tenant_id, read)
            )
        ).first()
        if ws:
            return IdMatch(
                "workspace", "sessions", {"tenant": ws.tenant_id, "workspace": value}, "working environment"
            )
    if "agent_workspace_bindings" in present:
        wb = conn.execute(
            sa.select(AgentWorkspaceBinding.tenant_id).where(
                AgentWorkspaceBinding.id == value, *in_scope(AgentWorkspaceBinding.tenant_id, read)
            )
        ).first()
        if wb:
            return IdMatch(
                "workspace_binding",
                "sessions",
                {"tenant": wb.tenant_id, "session": value},
                "working-environment binding",
            )
    return None
