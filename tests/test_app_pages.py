"""AppTest: every page renders on the demo; roster, detail and compare behave through their URLs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from data.demo import DemoIds
from tests.apptest_helpers import PAGES, all_text, markdown_sources, open_page

FIXTURES = Path(__file__).parent / "fixtures"


def no_exception(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_page_renders_on_the_demo(demo_app_env: Path, page: str) -> None:
    at = open_page(page)
    no_exception(at)
    assert any("Demo database" in c.value for c in at.caption)


def test_overview_counts_and_workspace_filter(demo_app_env: Path) -> None:
    at = open_page("overview")
    no_exception(at)
    metrics = {m.label: m.value for m in at.metric}
    assert set(metrics) == {
        "agents",
        "agent_config_snapshots",
        "agent_config_revisions",
        "workflow_agent_node_bindings",
        "agent_runtime_sessions",
    }
    all_agents = int(metrics["agents"].replace(",", ""))
    at = open_page("overview", tenant=DemoIds.TENANT_NORTHWIND)
    no_exception(at)
    assert int(at.metric[0].value.replace(",", "")) < all_agents


def test_roster_filters_round_trip_through_the_url(demo_app_env: Path) -> None:
    at = open_page("roster", tenant=DemoIds.TENANT_ACME, scope="workflow_only", sort="name")
    no_exception(at)
    frame = at.dataframe[0].value
    assert len(frame) > 0
    assert set(frame["scope"]) == {"workflow_only"}
    assert set(frame["workspace"]) == {"Acme Robotics"}
    assert list(frame["name"]) == sorted(frame["name"])
    # Changing a filter in the form writes it to the URL.
    at.text_input[0].set_value("classifier")
    at.button[0].click()  # form submit
    at.run()
    assert at.query_params["q"] == ["classifier"] or at.query_params["q"] == "classifier"


def test_roster_invalid_parameters_are_ignored_with_a_notice(demo_app_env: Path) -> None:
    at = open_page("roster", tenant="not-a-uuid", sort="sideways", after="garbage")
    no_exception(at)
    warnings = " ".join(w.value for w in at.warning)
    assert "tenant" in warnings and "sort" in warnings
    assert len(at.dataframe[0].value) > 0


def test_roster_pagination_by_cursor(demo_app_env: Path) -> None:
    at = open_page("roster")
    first = list(at.dataframe[0].value["id"])
    next_button = next(b for b in at.button if b.label == "Next page →")
    next_button.click().run()
    no_exception(at)
    assert "after" in at.query_params
    second = list(at.dataframe[0].value["id"])
    assert second and not set(first) & set(second)


def test_compare_next_pair_moves_both_sides_in_one_click(demo_app_env: Path) -> None:
    """Paging buttons set the URL in their on_click (one script run per click): the next pair is v4 vs v5."""
    at = open_page("compare", agent=DemoIds.SHOWCASE_AGENT, left="3", right="4")
    next(b for b in at.button if b.label == "Next pair →").click().run()
    no_exception(at)
    assert (at.query_params["left"], at.query_params["right"]) == ("4", "5")
    assert [s.value for s in at.subheader][:2] == ["v4", "v5"]


def test_pasted_id_opens_the_matching_view(demo_app_env: Path) -> None:
    at = open_page("roster", q=DemoIds.SHOWCASE_SNAPSHOTS[0])
    no_exception(at)
    assert any(DemoIds.SHOWCASE_AGENT in c.value for c in at.code)  # agent detail link box
    at = open_page("roster", q=DemoIds.DRIFT_BINDING)
    no_exception(at)
    assert any(DemoIds.DRIFT_BINDING in c.value or "bindings?" in c.value for c in at.code)


def test_agent_detail_sections(demo_app_env: Path) -> None:
    at = open_page("agent", agent=DemoIds.SHOWCASE_AGENT)
    no_exception(at)
    versions = at.dataframe[0].value
    assert list(versions["version"]) == [6, 5, 4, 3, 2, 1]
    assert versions.loc[versions["version"] == 6, "active"].item() == "● active"
    revisions = at.dataframe[1].value
    assert len(revisions) == 7
    bindings = at.dataframe[2].value
    assert "⚠ drift" in set(bindings["drift"])
    code = "\n".join(c.value for c in at.code)
    assert f"/sessions?tenant={DemoIds.TENANT_ACME}&agent={DemoIds.SHOWCASE_AGENT}" in code
    assert "[masked" in code and "sk-demo-" not in code  # secrets in the soul are masked


def test_hostile_name_is_shown_literally(demo_app_env: Path) -> None:
    at = open_page("agent", agent=DemoIds.HOSTILE_NAME_AGENT)
    no_exception(at)
    assert any(DemoIds.HOSTILE_NAME in t.value for t in at.text)
    for body in markdown_sources(at):
        # Interpreted elements only ever get the name escaped: no live link, tag or emphasis.
        assert not re.search(r"(?<!\\)\[x(?<!\\)\]\(javascript", body)
        assert not re.search(r"(?<!\\)<img", body)
        assert not re.search(r"(?<!\\)\*(?<!\\)\*bold", body)


def test_invalid_json_snapshot_shows_raw_text_and_error(demo_app_env: Path) -> None:
    at = open_page("agent", agent=DemoIds.INVALID_JSON_AGENT)
    no_exception(at)
    assert any("cannot be used" in e.value for e in at.error)


def test_unknown_agent_shows_not_found_and_search(demo_app_env: Path) -> None:
    at = open_page("agent", agent="00000000-0000-4000-8000-000000000000")
    no_exception(at)
    assert any("No agent has id" in w.value for w in at.warning)
    assert at.text_input[0].label.startswith("Search")


def test_compare_default_pair_is_previous_vs_active(demo_app_env: Path) -> None:
    at = open_page("compare", agent=DemoIds.SHOWCASE_AGENT)
    no_exception(at)
    assert [s.value for s in at.selectbox[:2]] == [5, 6]


def test_compare_deep_link_opens_the_pair_and_view(demo_app_env: Path) -> None:
    at = open_page("compare", agent=DemoIds.SHOWCASE_AGENT, left="2", right="4", view="unified")
    no_exception(at)
    assert [s.value for s in at.selectbox[:2]] == [2, 4]
    assert at.radio[0].value == "unified"
    assert any(c.language == "diff" for c in at.code)


def test_compare_snapshots_and_bindings(demo_app_env: Path) -> None:
    at = open_page(
        "compare", left_snapshot=DemoIds.SHOWCASE_SNAPSHOTS[0], right_snapshot=DemoIds.INVALID_JSON_SNAPSHOT
    )
    no_exception(at)
    assert any("not a JSON object" in w.value for w in at.warning)
    at = open_page(
        "compare", left_binding=DemoIds.DRIFT_BINDING, right_binding=DemoIds.DRIFT_BINDING, view="split"
    )
    no_exception(at)
    assert any("No changes" in s.value for s in at.success)


def test_real_dify_database_starts_and_banner_names_it(pg_url: str, app_env_for) -> None:
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql((FIXTURES / "real_dify.sql").read_text())
    engine.dispose()
    app_env_for(pg_url)
    at = open_page("overview")
    no_exception(at)
    banner = " ".join(c.value for c in at.caption)
    assert "newer than the seed" in banner and "4 columns" in banner
    assert "Demo database" not in banner
    at = open_page("agent", agent="01930000-0000-7000-8000-000000000002")
    no_exception(at)
    assert "pbkdf2-hash-PLANTED" not in all_text(at)


def test_missing_agent_table_gives_a_readable_error_page(pg_url: str, app_env_for) -> None:
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql((FIXTURES / "real_dify.sql").read_text())
        conn.exec_driver_sql("DROP TABLE workflow_agent_node_bindings")
    engine.dispose()
    app_env_for(pg_url)
    at = open_page("overview")
    no_exception(at)
    assert any("does not have the Dify agent tables" in e.value for e in at.error)
    assert any("workflow_agent_node_bindings" in m.value.replace("\\", "") for m in at.markdown)


def test_every_page_script_is_in_the_registry() -> None:
    """app.py's navigation is built from the registry; no page script is left outside it."""
    scripts = {f"app_pages/{p.name}" for p in (Path(__file__).parent.parent / "app_pages").glob("*.py")}
    assert scripts == set(PAGES.values())


NAME_TOKEN = "sk-PLANTEDnameToken1234567890abc"


@pytest.mark.parametrize(
    ("page", "params"),
    [
        ("roster", {"q": "Token agent"}),
        ("agent", {"agent": DemoIds.SHOWCASE_AGENT}),
        ("compare", {"agent": DemoIds.SHOWCASE_AGENT}),
        ("sessions", {"tenant": DemoIds.TENANT_ACME}),
        ("overview", {"tenant": DemoIds.TENANT_ACME}),
        ("bindings", {"tenant": DemoIds.TENANT_ACME}),
    ],
)
def test_a_token_in_a_name_is_masked_on_pages_as_in_the_export(
    demo_app_env: Path, page: str, params: dict[str, str]
) -> None:
    """The known case of issue 12: a `sk-` token in an agent (and workspace, app) name was masked in the
    CSV export but shown on pages. Every page output now goes through ui.render, which masks first."""
    from data.models import Agent
    from data.models.core import App, Tenant

    engine = sa.create_engine(f"sqlite:///{demo_app_env / 'demo.sqlite'}")
    with engine.begin() as conn:
        conn.execute(
            sa.update(Agent)
            .where(Agent.id == DemoIds.SHOWCASE_AGENT)
            .values(name=f"Token agent {NAME_TOKEN}")
        )
        conn.execute(
            sa.update(Tenant).where(Tenant.id == DemoIds.TENANT_ACME).values(name=f"Acme {NAME_TOKEN}")
        )
        conn.execute(sa.update(App).values(name=f"App {NAME_TOKEN}"))
    engine.dispose()
    at = open_page(page, **params)
    no_exception(at)
    text = all_text(at)
    assert NAME_TOKEN not in text, page
    assert "[masked token]" in text.replace("\\", "")  # positive control: the name is on the page
