"""Issue 13, "what support staff read and click": the agent page's "what actually runs" cards, banner and
badges; the sidebar id box on every page; absolute shareable links; the overview's charts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from data import cli
from data.demo import DemoIds
from data.models import Agent
from tests.apptest_helpers import all_text, open_page

SHOWCASE = DemoIds.SHOWCASE_AGENT
V4, V6 = DemoIds.SHOWCASE_SNAPSHOTS[3], DemoIds.SHOWCASE_SNAPSHOTS[5]


def no_exception(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def page_links(at) -> dict[str, list[str]]:
    """label -> query strings of the page's `st.page_link`s."""
    found: dict[str, list[str]] = {}
    for link in at.page_link:
        found.setdefault(link.proto.label, []).append(link.proto.query_string)
    return found


def test_drifting_binding_card_shows_pinned_vs_running_and_both_links(demo_app_env: Path) -> None:
    at = open_page("agent", agent=SHOWCASE)
    no_exception(at)
    assert any(s.value == "What actually runs" for s in at.subheader)
    shown = [m.value for m in at.markdown]
    # The drift binding (roster, pinned v4 while v6 is active), in its draft workflow, and the live one.
    assert any(v.startswith(":orange-badge[draft]") for v in shown)
    assert any(v.startswith(":green-badge[live]") for v in shown)
    assert "**Pinned by the node:** v4" in shown and "**Running:** v6" in shown
    assert any(w.value.startswith("Drift:") for w in at.warning)
    found = page_links(at)
    compare = found["Compare pinned vs running"]
    assert f"left_snapshot={V4}&right_snapshot={V6}" in "\n".join(compare)
    inspector = "\n".join(found["Open the node in the bindings inspector"])
    assert f"tenant={DemoIds.TENANT_ACME}&app={DemoIds.APP_TICKET_TRIAGE}&workflow=" in inspector
    assert "&node=" in inspector
    # No banner: the active version is the latest one.
    assert not any("not the latest" in w.value for w in at.warning)


def test_banner_when_the_active_snapshot_is_not_the_latest(demo_app_env: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{demo_app_env / 'demo.sqlite'}")
    with engine.begin() as conn:  # a newer version saved but never made active
        conn.execute(sa.update(Agent).where(Agent.id == SHOWCASE).values(active_config_snapshot_id=V4))
    engine.dispose()
    at = open_page("agent", agent=SHOWCASE)
    no_exception(at)
    banner = next(w.value for w in at.warning if "not the latest" in w.value)
    assert "v4" in banner and "v6" in banner
    assert (
        "agent=" + SHOWCASE + "&left=4&right=6"
        in page_links(at)["Compare the active version with the latest"][0]
    )


def test_invalid_json_badge_and_icons(demo_app_env: Path) -> None:
    at = open_page("agent", agent=DemoIds.INVALID_JSON_AGENT)
    no_exception(at)
    versions = at.dataframe[0].value
    assert "⚠ invalid JSON" in set(versions["config"])
    assert any(m.value.startswith(":red-badge[invalid JSON]") for m in at.markdown)
    # Emoji icons are shown as the emoji; an uploaded image as a small badge, never as its file id.
    at = open_page("agent", agent=SHOWCASE)
    assert at.text[0].value == "🛟 Acme Support Assistant"
    assert set(at.dataframe[0].value["config"]) == {"valid JSON"}
    at = open_page("agent", agent=DemoIds.HUGE_PROMPT_AGENT)
    no_exception(at)
    assert ":gray-badge[image icon]" in [m.value for m in at.markdown]
    assert at.text[0].value == "Compliance Handbook Expert"
    assert "image file" not in all_text(at)


def submit_id(at, value: str):
    at.text_input(key="id-box-q").set_value(value)
    at.form_submit_button(key="id-box-open").click()
    return at.run()


@pytest.mark.parametrize("start", ["overview", "health"])
def test_sidebar_id_box_on_every_page(demo_app_env: Path, start: str) -> None:
    at = submit_id(open_page(start), SHOWCASE)
    no_exception(at)
    assert at.title[0].value == "Agent" and at.query_params["agent"] == SHOWCASE
    at = submit_id(open_page(start), DemoIds.DRIFT_BINDING.upper())  # pasted ids may be upper-case
    no_exception(at)
    assert at.title[0].value == "Node bindings"
    assert at.query_params["tenant"] == DemoIds.TENANT_ACME and at.query_params["node"]
    unknown = "01234567-89ab-7cde-8f01-23456789abcd"
    at = submit_id(open_page(start), unknown)
    no_exception(at)
    assert any(unknown in w.value.replace("\\", "").replace("\u2060", "") for w in at.sidebar.warning)
    assert at.title[0].value == {"overview": "Overview", "health": "Health"}[start]


def test_public_url_makes_shared_links_absolute(
    demo_app_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AGENT_DESK_PUBLIC_URL", "https://desk.example/")
    at = open_page("agent", agent=SHOWCASE)
    no_exception(at)
    assert f"https://desk.example/agent?agent={SHOWCASE}" in [c.value for c in at.code]
    assert cli.main(["check", "--format", "json"]) == 1  # the demo has error-severity findings
    report = json.loads(capsys.readouterr().out)
    urls = [u for c in report["checks"] for s in c["samples"] for u in s["links"].values()]
    assert urls and all(u.startswith("https://desk.example/") for u in urls)
    assert any(u.startswith("https://desk.example/agent?agent=") for u in urls)


def test_overview_shows_status_breakdowns_as_charts(demo_app_env: Path) -> None:
    at = open_page("overview")
    no_exception(at)
    charts = at.get("vega_lite_chart")
    breakdowns = [s for s in at.subheader if " by " in s.value]
    assert breakdowns and len(charts) == len(breakdowns)


def test_absolute_links_only_under_an_http_base() -> None:
    from data import links
    from data.settings import Settings

    rel = links.link("agent", agent=SHOWCASE)
    assert (
        links.absolute(rel, "https://desk.example/ops/") == f"https://desk.example/ops/agent?agent={SHOWCASE}"
    )
    assert links.absolute(rel, None) == rel
    assert links.absolute(rel, "javascript:alert(1)") == rel  # never another scheme
    assert links.origin("http://127.0.0.1:8501/agent?agent=x") == "http://127.0.0.1:8501"
    with pytest.raises(ValueError):
        Settings(AGENT_DESK_PUBLIC_URL="desk.example")
