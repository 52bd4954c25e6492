"""What the layers of a session snapshot say: names, lifecycle states, a runtime history.

Shared by the 1.15-1.16 runtime sessions and the 1.17+ workspace bindings (both keep a
`session_snapshot` document). Pure and tolerant: never raises on bad JSON or odd entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from data.tolerant import parse_json

#: A list page parses layer states only from snapshots up to this size; bigger ones on the detail page.
LIST_PARSE_CHARS = 256_000
#: Characters of an unusable (non-JSON) snapshot shown, token-scrubbed, on a detail page.
MAX_RAW_CHARS = 20_000


@dataclass(frozen=True)
class Layer:
    name: str
    state: str  # lifecycle_state (or `state`, older agenton); "?" when absent


@dataclass(frozen=True)
class LayerSummary:
    layers: tuple[Layer, ...]
    error: str | None = None  # the snapshot text is not a usable snapshot document

    def label(self) -> str:
        text = ", ".join(f"{layer.name}: {layer.state}" for layer in self.layers)
        if self.error:
            return f"⚠ {self.error}" + (f" · {text}" if text else "")
        return text


def parse_layers(text: str | None) -> LayerSummary:
    """Layer names and lifecycle states from a `session_snapshot` text; tolerant, never raises."""
    parsed = parse_json(text, expect_object=True)
    if not parsed.ok:
        return LayerSummary((), parsed.error)
    layers = parsed.value.get("layers")
    if not isinstance(layers, list):
        return LayerSummary((), "no `layers` list in the snapshot")
    result = []
    odd = 0
    for layer in layers:
        if not isinstance(layer, dict):
            odd += 1
            continue
        state = layer.get("lifecycle_state", layer.get("state"))
        result.append(Layer(str(layer.get("name", "?")), "?" if state is None else str(state)))
    return LayerSummary(tuple(result), f"{odd} layer entries are not objects" if odd else None)


def has_history_state(snapshot: Any) -> bool:
    """Whether a parsed snapshot has a `history` layer with runtime state (revealing it is audited)."""
    return (
        isinstance(snapshot, dict)
        and isinstance(snapshot.get("layers"), list)
        and any(
            isinstance(layer, dict) and layer.get("name") == "history" and layer.get("runtime_state")
            for layer in snapshot["layers"]
        )
    )
