"""What each side of a comparison is called, by meaning rather than by id (pure: stores look the facts up).

Rules, first match wins, for each side:

1. Opened from a workflow node binding (`/compare?binding=<id>`, the "compare pinned vs running" links):
   the side that is the snapshot the node pins is "Pinned vN", the one Dify runs for it "Runs vN".
   (When the node pins what runs, the left side is "Pinned" and the right one "Runs".)
2. A draft facing the agent's active snapshot: the draft is its label ("Draft", "Build draft of <account>")
   and the snapshot is "Active".
3. The agent's active snapshot: "Active vN"; any other snapshot: "vN".
4. A draft (not facing the active snapshot): its label; a binding's node-job config: "Binding <label>".

Titles may hold database text (a draft's account name, a node id): the page masks and escapes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SideKind = Literal["snapshot", "draft", "binding"]


@dataclass(frozen=True, slots=True)
class SideFacts:
    """What the title of one side depends on (read by `data.stores.compare`)."""

    kind: str  # a SideKind; "snapshot", "draft" or "binding"
    id: str
    version: int | None = None  # snapshots only
    active: bool = False  # a snapshot that is its agent's active one
    label: str = ""  # the store's description: "Draft", "Build draft of …", "node n1 · v2 …"


@dataclass(frozen=True, slots=True)
class BindingPins:
    """What one workflow node binding pins (`current_snapshot_id`) and what Dify runs for it: the agent's
    active snapshot for a roster binding, the pinned one for an inline binding (None when unknown)."""

    binding_id: str
    node_id: str
    pinned_snapshot_id: str | None
    runs_snapshot_id: str | None

    def role(self, snapshot_id: str, *, prefer: Literal["pinned", "runs"]) -> str | None:
        """ "Pinned", "Runs" or None for a snapshot; `prefer` decides when the node pins what runs."""
        pinned = snapshot_id == self.pinned_snapshot_id
        runs = snapshot_id == self.runs_snapshot_id
        if pinned and runs:
            return "Pinned" if prefer == "pinned" else "Runs"
        return "Pinned" if pinned else "Runs" if runs else None


def _version(side: SideFacts) -> str:
    return f"v{side.version}" if side.version is not None else side.label


def _title(side: SideFacts, other: SideFacts, binding: BindingPins | None, position: str) -> str:
    if side.kind == "snapshot":
        role = binding.role(side.id, prefer="pinned" if position == "left" else "runs") if binding else None
        if role is not None:
            return f"{role} {_version(side)}"
        if side.active and other.kind == "draft":
            return "Active"
        if side.version is None:
            return side.label
        return f"Active v{side.version}" if side.active else f"v{side.version}"
    if side.kind == "binding":
        return f"Binding {side.label}"
    return side.label


def side_titles(left: SideFacts, right: SideFacts, *, binding: BindingPins | None = None) -> tuple[str, str]:
    """The two titles (see the module docstring for the rules)."""
    return _title(left, right, binding, "left"), _title(right, left, binding, "right")


def binding_matches(left: SideFacts, right: SideFacts, binding: BindingPins) -> bool:
    """Whether the binding context names either side (else the page says the parameter was ignored)."""
    return any(
        side.kind == "snapshot" and side.id in (binding.pinned_snapshot_id, binding.runs_snapshot_id)
        for side in (left, right)
    )
