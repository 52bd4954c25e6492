"""Reads for "collect again": which of the given ids are still present and RETIRED, grouped for messages.

Only retired rows are ever handed to Dify's collector (it destroys the backend resource and deletes the
row): an id that is active again (it never is: nobody un-retires), gone (already collected), in another
tenant, or unknown is left out and reported as skipped. Every statement names the tenant. IN lists are
chunked so a long selection never builds one huge statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from data.models.workspaces import AgentHomeSnapshot, AgentWorkspace, AgentWorkspaceBinding

RETIRED = "retired"
CHUNK = 500


@dataclass(frozen=True)
class RetiredRows:
    """The asked-for ids that may be collected now, in `plan_collection`'s shapes."""

    tenant_id: str
    workspaces: dict[str, tuple[str, ...]] = field(default_factory=dict)  # retired workspace -> its bindings
    loose_bindings: dict[str, tuple[str, ...]] = field(default_factory=dict)  # other workspace -> bindings
    home_snapshot_ids: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()  # asked for, but not present and retired in this tenant

    @property
    def count(self) -> int:
        bindings = sum(len(v) for v in (*self.workspaces.values(), *self.loose_bindings.values()))
        return len(self.workspaces) + bindings + len(self.home_snapshot_ids)


def _chunks(ids: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


def _unique(ids: Iterable[str]) -> list[str]:
    return sorted({str(i).strip().lower() for i in ids if i is not None and str(i).strip()})


def retired_for_collection(
    conn: sa.Connection,
    *,
    tenant_id: str,
    workspace_ids: Iterable[str] = (),
    binding_ids: Iterable[str] = (),
    home_snapshot_ids: Iterable[str] = (),
) -> RetiredRows:
    """Re-read the given ids now (primary keys, tenant-scoped) and keep only the retired ones.

    A binding goes with its workspace when that workspace is among the retired ones asked for, else it
    is sent on its own (keyed by its workspace, whose id is then not sent).
    """
    asked_w, asked_b, asked_h = _unique(workspace_ids), _unique(binding_ids), _unique(home_snapshot_ids)
    retired_w: set[str] = set()
    for chunk in _chunks(asked_w):
        retired_w.update(
            conn.execute(
                sa.select(AgentWorkspace.id).where(
                    AgentWorkspace.tenant_id == tenant_id,
                    AgentWorkspace.id.in_(chunk),
                    AgentWorkspace.status == RETIRED,
                )
            ).scalars()
        )
    binding_workspace: dict[str, str] = {}
    for chunk in _chunks(asked_b):
        rows = conn.execute(
            sa.select(AgentWorkspaceBinding.id, AgentWorkspaceBinding.workspace_id).where(
                AgentWorkspaceBinding.tenant_id == tenant_id,
                AgentWorkspaceBinding.id.in_(chunk),
                AgentWorkspaceBinding.status == RETIRED,
            )
        )
        binding_workspace.update({str(r.id): str(r.workspace_id) for r in rows})
    retired_h: set[str] = set()
    for chunk in _chunks(asked_h):
        retired_h.update(
            conn.execute(
                sa.select(AgentHomeSnapshot.id).where(
                    AgentHomeSnapshot.tenant_id == tenant_id,
                    AgentHomeSnapshot.id.in_(chunk),
                    AgentHomeSnapshot.status == RETIRED,
                )
            ).scalars()
        )
    grouped: dict[str, list[str]] = {str(w): [] for w in retired_w}
    loose: dict[str, list[str]] = {}
    for binding_id, workspace_id in sorted(binding_workspace.items()):
        (grouped[workspace_id] if workspace_id in grouped else loose.setdefault(workspace_id, [])).append(
            binding_id
        )
    found = {str(w) for w in retired_w} | set(binding_workspace) | {str(h) for h in retired_h}
    return RetiredRows(
        tenant_id=tenant_id,
        workspaces={w: tuple(b) for w, b in sorted(grouped.items())},
        loose_bindings={w: tuple(b) for w, b in sorted(loose.items())},
        home_snapshot_ids=tuple(sorted(str(h) for h in retired_h)),
        skipped=tuple(i for i in dict.fromkeys([*asked_w, *asked_b, *asked_h]) if i not in found),
    )


def tenants_of(
    conn: sa.Connection,
    *,
    workspace_ids: Sequence[str] = (),
    binding_ids: Sequence[str] = (),
    home_snapshot_ids: Sequence[str] = (),
) -> dict[str, str]:
    """Id -> tenant id of these workspaces, bindings and home snapshots (ids not found are left out):
    how `sessions collect` groups a rule's matches into one "collect again" per tenant."""
    found: dict[str, str] = {}
    for model, ids in (
        (AgentWorkspace, workspace_ids),
        (AgentWorkspaceBinding, binding_ids),
        (AgentHomeSnapshot, home_snapshot_ids),
    ):
        for chunk in _chunks(list(ids)):
            found.update(
                {
                    r.id: r.tenant_id
                    for r in conn.execute(sa.select(model.id, model.tenant_id).where(model.id.in_(chunk)))
                }
            )
    return found
