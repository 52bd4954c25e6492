"""Lists that answer at a glance (issue 13): same-tab row opening, breadcrumbs, counts, datetime columns."""

from __future__ import annotations

from pathlib import Path

from pandas.api.types import is_datetime64_any_dtype

from data import links
from data.demo import DemoIds
from tests.apptest_helpers import all_text, open_page
from ui import grid


def test_links_parse_round_trips_and_refuses_foreign_urls() -> None:
    url = links.link("sessions", tenant=DemoIds.TENANT_ACME, rule="idle")
    assert links.parse(url) == ("sessions", {"tenant": DemoIds.TENANT_ACME, "rule": "idle"})
    assert links.parse("/") == ("overview", {})
    for bad in (
        "https://evil.example/agent?agent=x",
        "//evil.example/agent",
        "/nowhere",
        "/agent?bogus=1",
        "",
    ):
        assert links.parse(bad) is None, bad


def test_grids_are_tall_enough_for_a_page_of_fifty() -> None:
    assert grid.height_for(50) == grid.height_for(500) >= 50 * grid.ROW_PX + grid.HEADER_PX
    assert grid.height_for(0) == grid.height_for(1) < grid.height_for(2)


def test_clicking_a_roster_row_opens_the_agent_in_the_same_tab(demo_app_env: Path) -> None:
    at = open_page("roster", tenant=DemoIds.TENANT_ACME)
    assert not at.exception
    frame = at.dataframe[0].value
    first = frame.iloc[0]
    assert first["open"] == links.link("agent", agent=first["id"])  # kept in the data, hidden in the grid
    assert is_datetime64_any_dtype(frame["updated"])
    at.session_state["roster-table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Agent roster" not in [t.value for t in at.title]
    assert any(links.link("agent", agent=first["id"]) in c.value for c in at.code)  # the agent's link box


def test_sessions_list_counts_matches_and_folds_the_scan_details(demo_app_env: Path) -> None:
    at = open_page("sessions", rule="idle", tenant=DemoIds.TENANT_ACME)
    assert not at.exception
    captions = [c.value.replace("\\", "").replace("\u2060", "") for c in at.caption]
    assert any(" sessions match idle among " in c for c in captions)
    assert any(c.startswith("Every row: ") and "leak rule idle" in c for c in captions)
    assert any(e.label.startswith("How this list was read") for e in at.expander)
    frame = at.dataframe[0].value
    assert is_datetime64_any_dtype(frame["updated"]) and is_datetime64_any_dtype(frame["created"])


def test_bindings_inspector_has_same_tab_breadcrumbs(demo_app_env: Path) -> None:
    at = open_page("bindings", tenant=DemoIds.TENANT_ACME, app=DemoIds.APP_TICKET_TRIAGE)
    assert not at.exception
    crumbs = {el.proto.label: el.proto.query_string for el in at.get("page_link")}
    assert crumbs["Acme Robotics"] == f"tenant={DemoIds.TENANT_ACME}"  # workspace: a same-tab link
    assert any(m.value.startswith("› Support Ticket Triage") for m in at.markdown)  # where you are
    at = open_page("bindings", app=DemoIds.APP_TICKET_TRIAGE, workflow=first_version(at))
    labels = [el.proto.label for el in at.get("page_link")]
    assert "Acme Robotics" in labels and any(label.startswith("› Support Ticket Triage") for label in labels)
    assert "›" in all_text(at)


def first_version(at) -> str:
    return str(next(d.value for d in at.dataframe if "workflow id" in d.value.columns)["workflow id"].iloc[0])
