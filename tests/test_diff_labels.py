"""Side titles of /compare (`data.diff.labels`): pure rules, plus the page through AppTest on the demo."""

from __future__ import annotations

from pathlib import Path

from data import links
from data.demo import DemoIds
from data.diff import BindingPins, SideFacts, binding_matches, side_titles
from tests.apptest_helpers import open_page

V4 = SideFacts("snapshot", "s4", 4)
V6_ACTIVE = SideFacts("snapshot", "s6", 6, active=True)
DRAFT = SideFacts("draft", "d1", label="Draft")
BUILD = SideFacts("draft", "d2", label="Build draft of Maya Chen")
PINS = BindingPins("b1", "node-1", pinned_snapshot_id="s4", runs_snapshot_id="s6")


def test_snapshots_are_named_by_version_and_the_active_one_says_so() -> None:
    assert side_titles(V4, V6_ACTIVE) == ("v4", "Active v6")
    assert side_titles(V6_ACTIVE, V4) == ("Active v6", "v4")
    assert side_titles(V4, SideFacts("snapshot", "s5", 5)) == ("v4", "v5")


def test_a_binding_names_its_pinned_and_running_snapshots_on_either_side() -> None:
    assert side_titles(V4, V6_ACTIVE, binding=PINS) == ("Pinned v4", "Runs v6")
    assert side_titles(V6_ACTIVE, V4, binding=PINS) == ("Runs v6", "Pinned v4")
    # Only the side it names changes: another snapshot keeps its version title.
    v5 = SideFacts("snapshot", "s5", 5)
    assert side_titles(V4, v5, binding=PINS) == ("Pinned v4", "v5")
    assert binding_matches(V4, v5, PINS) and not binding_matches(v5, v5, PINS)
    # A node that pins what runs: left is "Pinned", right "Runs".
    same = BindingPins("b2", "node-2", "s6", "s6")
    assert side_titles(V6_ACTIVE, V6_ACTIVE, binding=same) == ("Pinned v6", "Runs v6")
    # Unknown runs (the agent is missing): only the pinned side is named.
    assert side_titles(V4, V6_ACTIVE, binding=BindingPins("b3", "n", "s4", None)) == (
        "Pinned v4",
        "Active v6",
    )


def test_a_draft_facing_the_active_snapshot_is_draft_vs_active() -> None:
    assert side_titles(V6_ACTIVE, DRAFT) == ("Active", "Draft")
    assert side_titles(BUILD, V6_ACTIVE) == ("Build draft of Maya Chen", "Active")
    # Facing another snapshot, or another draft, the draft keeps its label and the snapshot its version.
    assert side_titles(V4, DRAFT) == ("v4", "Draft")
    assert side_titles(DRAFT, BUILD) == ("Draft", "Build draft of Maya Chen")


def test_bindings_and_version_less_sides_keep_their_labels() -> None:
    node = SideFacts("binding", "b1", label="node n1 · v2")
    assert side_titles(node, node) == ("Binding node n1 · v2", "Binding node n1 · v2")
    odd = SideFacts("snapshot", "sx", None, label="Agent ?")
    assert side_titles(odd, V4) == ("Agent ?", "v4")


# --- the page ---------------------------------------------------------------------------------------

PINNED, ACTIVE = DemoIds.SHOWCASE_SNAPSHOTS[3], DemoIds.SHOWCASE_SNAPSHOTS[5]  # v4 pinned, v6 active


def subheaders(at) -> list[str]:
    return [s.value for s in at.subheader]


def test_compare_from_a_binding_says_pinned_and_runs(demo_app_env: Path) -> None:
    at = open_page("compare", left_snapshot=PINNED, right_snapshot=ACTIVE, binding=DemoIds.DRIFT_BINDING)
    assert not at.exception, [e.value for e in at.exception]
    assert subheaders(at)[:2] == ["Pinned v4", "Runs v6"]
    url = "\n".join(c.value for c in at.code)
    assert f"binding={DemoIds.DRIFT_BINDING}" in url


def test_compare_without_or_with_a_foreign_binding_names_versions(demo_app_env: Path) -> None:
    at = open_page("compare", left_snapshot=PINNED, right_snapshot=ACTIVE)
    assert not at.exception
    assert subheaders(at)[:2] == ["v4", "Active v6"]
    # A binding that pins and runs neither side (here: one that pins a missing snapshot) is named and ignored.
    at = open_page(
        "compare", left_snapshot=PINNED, right_snapshot=ACTIVE, binding=DemoIds.MISSING_SNAPSHOT_BINDING
    )
    assert not at.exception
    assert subheaders(at)[:2] == ["v4", "Active v6"]
    assert any("pins and runs neither side" in w.value for w in at.warning)


def test_pinned_vs_running_links_carry_the_binding() -> None:
    url = links.link("compare", left_snapshot=PINNED, right_snapshot=ACTIVE, binding=DemoIds.DRIFT_BINDING)
    assert url == f"/compare?left_snapshot={PINNED}&right_snapshot={ACTIVE}&binding={DemoIds.DRIFT_BINDING}"


def pinned_vs_running_links(at) -> list[str]:
    return [p.proto.query_string for p in at.get("page_link") if "pinned vs running" in p.proto.label]


def test_agent_and_bindings_pages_link_pinned_vs_running_with_the_binding(demo_app_env: Path) -> None:
    at = open_page("agent", agent=DemoIds.SHOWCASE_AGENT)
    assert not at.exception
    expected = f"left_snapshot={PINNED}&right_snapshot={ACTIVE}&binding={DemoIds.DRIFT_BINDING}"
    assert any(expected in q for q in pinned_vs_running_links(at)), pinned_vs_running_links(at)
    binding = next(b for b in at.get("page_link") if "bindings inspector" in b.proto.label)
    params = dict(kv.split("=", 1) for kv in binding.proto.query_string.split("&"))
    at = open_page("bindings", **params)
    assert not at.exception
    assert [q for q in pinned_vs_running_links(at) if q.endswith(f"binding={DemoIds.DRIFT_BINDING}")]
