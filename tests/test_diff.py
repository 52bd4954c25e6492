"""Tests of the semantic config diff (`data.diff`): no database needed."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.diff import (
    DOCUMENT_SECTION,
    MASKED_CHANGE,
    NODE_JOB_DEFAULT,
    SOUL_DEFAULT,
    SOUL_SECTIONS,
    WORD_DIFF_MAX_LINE_CHARS,
    Change,
    DiffResult,
    Segment,
    diff_configs,
    diff_documents,
    diff_text,
    normalize_document,
    normalized_json,
    split_rows,
    stable_pairs,
    unified_lines,
    word_segments,
)
from data.masking import MASK_EMPTY, MASK_SET, MASK_TOKEN, mask_text

PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def soul(**sections: Any) -> dict[str, Any]:
    """The stored blank soul with some sections replaced."""
    doc = copy.deepcopy(SOUL_DEFAULT)
    doc.update(copy.deepcopy(sections))
    return doc


def dumps(doc: Any) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


def tavily(**extra: Any) -> dict[str, Any]:
    """The credentialed plugin tool of the reference's example 1."""
    tool = {
        "credential_ref": {"id": "0197a1c2-6c4f", "provider": "langgenius/tavily/tavily", "type": "tool"},
        "credential_type": "api-key",
        "enabled": True,
        "plugin_id": "langgenius/tavily",
        "provider": "tavily",
        "provider_type": "plugin",
        "runtime_parameters": {"max_results": 5},
        "tool_name": "tavily_search",
    }
    tool.update(extra)
    return tool


def tool(plugin: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"plugin_id": plugin, "tool_name": name, "enabled": True, **extra}


def by_display(result: DiffResult) -> dict[str, Change]:
    return {c.display: c for c in result.changes}


def every_output(result: DiffResult, *texts: str | None, kind: str = "soul") -> str:
    """Everything a page could show for a diff, as one string."""
    parts = [str(result), repr(result)]
    parts += [repr(c) for c in result.changes]
    parts += unified_lines(result)
    parts += [repr(row) for row in split_rows(result)]
    parts += [normalized_json(t, kind) for t in texts]
    return "\n".join(parts)


def resolve(doc: Any, path: tuple[str | int, ...]) -> Any:
    """The value at `path`; KeyError / IndexError / TypeError when it does not exist."""
    for key in path:
        if isinstance(key, int):
            if not isinstance(doc, list):
                raise TypeError(key)
            doc = doc[key]
        else:
            if not isinstance(doc, dict):
                raise TypeError(key)
            doc = doc[key]
    return doc


# --- equality, defaults ------------------------------------------------------------------------


def test_identical_configs_are_equal_with_explicit_no_changes() -> None:
    text = dumps(
        soul(prompt={"system_prompt": "Be brief."}, tools={"cli_tools": [], "dify_tools": [tavily()]})
    )
    result = diff_configs(text, text, "soul")
    assert result.equal is True
    assert result.changes == ()
    assert result.summary == "no changes"
    assert set(result.counts_by_kind.values()) == {0}
    assert sum(result.counts_by_section.values()) == 0
    assert list(result.counts_by_section)[:4] == ["schema_version", "prompt", "model", "tools"]
    assert "# no changes" in unified_lines(result)
    assert split_rows(result)[-1].left == "no changes"


def test_missing_keys_equal_materialized_defaults_and_are_noted() -> None:
    result = diff_configs("{}", dumps(SOUL_DEFAULT), "soul")
    assert result.equal, result.changes
    assert "filled default for tools.cli_tools on left side" not in result.notes  # whole tools section
    assert "filled default for tools on left side" in result.notes
    assert "filled default for model on left side" in result.notes
    assert not any("right side" in note for note in result.notes)
    partial = diff_configs('{"tools": {"dify_tools": []}, "prompt": {}}', dumps(SOUL_DEFAULT), "soul")
    assert partial.equal
    assert "filled default for tools.cli_tools on left side" in partial.notes
    assert "filled default for prompt.system_prompt on left side" in partial.notes


def test_missing_model_equals_null_but_not_a_model() -> None:
    assert diff_configs('{"model": null}', "{}", "soul").equal
    model = {"model": "gpt-4o-mini", "model_provider": "openai", "plugin_id": "langgenius/openai"}
    result = diff_configs(dumps({"model": model}), "{}", "soul")
    assert [(c.display, c.kind, c.new) for c in result.changes] == [("model", "changed", None)]
    assert result.changes[0].old == model


def test_stored_null_is_data_not_a_default() -> None:
    result = diff_configs('{"tools": null}', "{}", "soul")
    assert [(c.display, c.kind, c.old) for c in result.changes] == [("tools", "changed", None)]
    assert result.changes[0].new == {"cli_tools": [], "dify_tools": []}


def test_missing_list_with_content_on_other_side_is_an_addition() -> None:
    result = diff_configs("{}", dumps({"tools": {"cli_tools": [{"name": "git"}]}}), "soul")
    assert [(c.display, c.kind, c.new) for c in result.changes] == [
        ("tools.cli_tools[git]", "added", {"name": "git"})
    ]
    assert result.counts_by_section["tools"] == 1


def test_node_job_defaults() -> None:
    assert diff_configs("{}", dumps(NODE_JOB_DEFAULT), "node_job").equal
    result = diff_configs("{}", '{"mode": "let_agent_figure_it_out"}', "node_job")
    assert [(c.display, c.old, c.new) for c in result.changes] == [
        ("mode", "tell_agent_what_to_do", "let_agent_figure_it_out")
    ]


def test_declared_output_defaults_are_filled_per_type() -> None:
    stored = {
        "declared_outputs": [
            {
                "array_item": None,
                "check": None,
                "description": None,
                "failure_strategy": {
                    "default_value": None,
                    "on_failure": "stop",
                    "retry": {"enabled": False, "max_retries": 0, "retry_interval_ms": 0},
                },
                "file": None,
                "id": None,
                "name": "summary",
                "required": True,
                "type": "string",
            },
            {
                "array_item": {"description": None, "type": "object"},
                "check": None,
                "description": None,
                "failure_strategy": {
                    "default_value": None,
                    "on_failure": "stop",
                    "retry": {"enabled": False, "max_retries": 0, "retry_interval_ms": 0},
                },
                "file": None,
                "id": None,
                "name": "items",
                "required": True,
                "type": "array",
            },
            {
                "array_item": None,
                "check": None,
                "description": None,
                "failure_strategy": None,
                "file": {"extensions": [], "mime_types": []},
                "id": None,
                "name": "report",
                "required": True,
                "type": "file",
            },
        ]
    }
    sparse = {
        "declared_outputs": [
            {"name": "summary", "type": "string"},
            {"name": "items", "type": "array"},
            {"name": "report", "type": "file", "failure_strategy": {"retry": {"enabled": False}}},
        ]
    }
    result = diff_configs(dumps(sparse), dumps(stored), "node_job")
    assert result.equal, result.changes
    assert any(n.startswith("filled defaults for declared_outputs[summary] (") for n in result.notes)
    assert any("failure_strategy.retry.max_retries" in n for n in result.notes)
    # A real difference in a defaulted field still shows.
    sparse["declared_outputs"][0]["required"] = False
    changed = diff_configs(dumps(sparse), dumps(stored), "node_job")
    assert [(c.display, c.old, c.new) for c in changed.changes] == [
        ("declared_outputs[summary].required", False, True)
    ]


def test_gen_e_soul_gets_no_defaults() -> None:
    doc = {"config_note": "n", "knowledge": {"sets": []}}
    normalized, notes = normalize_document(doc, "soul", "right")
    assert normalized == doc
    assert notes == ("newer (Gen E) soul shape on right side: no defaults filled",)
    result = diff_configs(dumps(doc), dumps({**doc, "tools": {"cli_tools": [], "dify_tools": []}}), "soul")
    assert [(c.display, c.kind) for c in result.changes] == [("tools", "added")]


def test_normalize_document_does_not_mutate_input() -> None:
    doc = {"tools": {"dify_tools": []}, "declared_outputs": [{"name": "x", "type": "string"}]}
    before = copy.deepcopy(doc)
    normalize_document(doc, "soul")
    normalize_document(doc, "node_job")
    diff_documents(doc, {}, "node_job")
    assert doc == before


def test_unknown_kind_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match="unknown config kind"):
        diff_configs("{}", "{}", "agent")


# --- per-section diffs -------------------------------------------------------------------------

SECTION_CASES = [
    ("schema_version", {"schema_version": 2}, "schema_version", "changed", 1, 2),
    (
        "model",
        {"model": {"model": "a", "model_provider": "p", "plugin_id": "x/p"}},
        "model",
        "changed",
        None,
        None,
    ),
    (
        "knowledge",
        {"knowledge": {"query_mode": "user_query"}},
        "knowledge.query_mode",
        "changed",
        None,
        "user_query",
    ),
    ("sandbox", {"sandbox": {"provider": "e2b"}}, "sandbox.provider", "changed", None, "e2b"),
    ("memory", {"memory": {"scope": "conversation"}}, "memory.scope", "changed", None, "conversation"),
    (
        "skills_files",
        {"skills_files": {"files": [{"id": "f1"}]}},
        "skills_files.files[0]",
        "added",
        None,
        {"id": "f1"},
    ),
    (
        "app_features",
        {"app_features": {"opening_statement": "Hi"}},
        "app_features.opening_statement",
        "added",
        None,
        "Hi",
    ),
    ("misc_legacy", {"misc_legacy": {"x": 1}}, "misc_legacy.x", "added", None, 1),
    ("human", {"human": {"tools": [{"name": "ask"}]}}, "human.tools[0]", "added", None, {"name": "ask"}),
    (
        "app_variables",
        {"app_variables": [{"name": "tier", "type": "select"}]},
        "app_variables[tier]",
        "added",
        None,
        {"name": "tier", "type": "select"},
    ),
]


@pytest.mark.parametrize(("section", "right", "display", "kind", "old", "new"), SECTION_CASES)
def test_each_soul_section(
    section: str, right: dict[str, Any], display: str, kind: str, old: Any, new: Any
) -> None:
    result = diff_configs(dumps(SOUL_DEFAULT), dumps(right), "soul")
    assert len(result.changes) == 1, result.changes
    change = result.changes[0]
    assert (change.section, change.display, change.kind) == (section, display, kind)
    if section != "model":
        assert (change.old, change.new) == (old, new)
    assert result.counts_by_section[section] == 1
    assert result.counts_by_kind[kind] == 1
    assert result.summary == f"1 change: 1 {kind}"


def test_node_job_sections() -> None:
    left = {
        "declared_outputs": [{"name": "summary", "type": "string"}, {"name": "tags", "type": "array"}],
        "previous_node_output_refs": [{"node_id": "1", "output": "text"}],
        "human_contacts": [{"id": "acct-1", "name": "Ops"}],
        "metadata": {"file_refs": []},
        "workflow_prompt": "Summarize.",
    }
    right = copy.deepcopy(left)
    right["declared_outputs"].reverse()
    right["declared_outputs"][0]["required"] = False  # tags
    right["previous_node_output_refs"][0]["output"] = "json"
    right["human_contacts"][0]["name"] = "Ops team"
    right["metadata"]["agent_soul"] = {"id": "s1"}
    right["workflow_prompt"] = "Summarize briefly."
    result = diff_configs(dumps(left), dumps(right), "node_job")
    got = {(c.display, c.kind) for c in result.changes}
    assert got == {
        ("workflow_prompt", "changed"),
        ("declared_outputs[summary]", "moved"),  # of a swap, one item counts as moved
        ("declared_outputs[tags].required", "changed"),
        ("previous_node_output_refs[0].output", "changed"),
        ("human_contacts[#0].name", "changed"),
        ("metadata.agent_soul", "added"),
    }
    assert [c.section for c in result.changes] == [
        "workflow_prompt",
        "declared_outputs",
        "declared_outputs",
        "previous_node_output_refs",
        "human_contacts",
        "metadata",
    ]
    prompt = result.changes[0]
    assert prompt.text is not None
    assert prompt.text.changed == 1


def test_unknown_sections_are_diffed_not_dropped() -> None:
    result = diff_configs(
        dumps({"config_skills": [{"name": "a"}], "zz_custom": {"k": [1, 2]}}),
        dumps({"config_skills": [{"name": "b"}], "zz_custom": {"k": [2, 1]}, "extra": True}),
        "soul",
    )
    got = [(c.section, c.display, c.kind) for c in result.changes]
    assert ("config_skills", "config_skills[0].name", "changed") in got
    assert ("zz_custom", "zz_custom.k[1]", "moved") in got or ("zz_custom", "zz_custom.k[0]", "moved") in got
    assert ("extra", "extra", "added") in got
    assert result.counts_by_section["config_skills"] == 1
    assert result.counts_by_section["extra"] == 1
    # Unknown sections follow the known ones, alphabetically.
    sections = list(result.counts_by_section)
    assert sections.index("misc_legacy") < sections.index("config_skills") < sections.index("extra")


# --- list matching -----------------------------------------------------------------------------


def test_dify_tools_matched_by_identity_and_reported_with_identity_path() -> None:
    left = soul(tools={"cli_tools": [], "dify_tools": [tavily(), tool("a/b", "t1")]})
    right = soul(tools={"cli_tools": [], "dify_tools": [tool("a/b", "t1"), tavily(enabled=False)]})
    result = diff_configs(dumps(left), dumps(right), "soul")
    changes = by_display(result)
    enabled = changes["tools.dify_tools[langgenius/tavily/tavily_search].enabled"]
    assert (enabled.kind, enabled.old, enabled.new) == ("changed", True, False)
    assert enabled.path == ("tools", "dify_tools", 1, "enabled")
    assert enabled.old_path == ("tools", "dify_tools", 0, "enabled")
    assert result.counts_by_kind == {"added": 0, "removed": 0, "changed": 1, "moved": 1}


def test_dify_tool_identity_falls_back_to_provider_id_then_provider() -> None:
    left = soul(
        tools={
            "dify_tools": [{"provider_id": "pid", "tool_name": "x"}, {"provider": "prov", "tool_name": "y"}]
        }
    )
    right = soul(
        tools={
            "dify_tools": [
                {"provider": "prov", "tool_name": "y", "k": 1},
                {"provider_id": "pid", "tool_name": "x"},
            ]
        }
    )
    result = diff_configs(dumps(left), dumps(right), "soul")
    got = {(c.display, c.kind) for c in result.changes}
    assert ("tools.dify_tools[prov/y].k", "added") in got
    moved = got - {("tools.dify_tools[prov/y].k", "added")}
    assert moved in ({("tools.dify_tools[prov/y]", "moved")}, {("tools.dify_tools[pid/x]", "moved")})


def test_reorder_is_moved_not_removed_and_added() -> None:
    names = ["git", "jq", "curl"]
    left = soul(tools={"cli_tools": [{"name": n} for n in names]})
    right = soul(tools={"cli_tools": [{"name": n} for n in reversed(names)]})
    result = diff_configs(dumps(left), dumps(right), "soul")
    assert result.counts_by_kind == {"added": 0, "removed": 0, "changed": 0, "moved": 2}
    moves = {c.display: (c.old, c.new) for c in result.changes}
    # One item keeps its place in the longest stable run; the other two moved.
    assert len(moves) == 2
    for display, (old, new) in moves.items():
        name = display.removeprefix("tools.cli_tools[").removesuffix("]")
        assert names.index(name) == old
        assert list(reversed(names)).index(name) == new


def test_swap_reports_one_move_and_insertion_reports_no_move() -> None:
    swap = diff_configs(
        dumps(soul(env={"variables": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]})),
        dumps(soul(env={"variables": [{"name": "B", "value": "2"}, {"name": "A", "value": "1"}]})),
        "soul",
    )
    assert [c.kind for c in swap.changes] == ["moved"]
    insert = diff_configs(
        dumps(soul(env={"variables": [{"name": "A"}, {"name": "B"}]})),
        dumps(soul(env={"variables": [{"name": "Z"}, {"name": "A"}, {"name": "B"}]})),
        "soul",
    )
    assert [(c.display, c.kind, c.path) for c in insert.changes] == [
        ("env.variables[Z]", "added", ("env", "variables", 0))
    ]


def test_removed_item_path_points_into_left_document() -> None:
    result = diff_configs(
        dumps(soul(knowledge={"datasets": [{"id": "d1", "name": "A"}, {"id": "d2", "name": "B"}]})),
        dumps(soul(knowledge={"datasets": [{"id": "d2", "name": "B2"}]})),
        "soul",
    )
    changes = by_display(result)
    assert changes["knowledge.datasets[d1]"].kind == "removed"
    assert changes["knowledge.datasets[d1]"].path == ("knowledge", "datasets", 0)
    assert changes["knowledge.datasets[d1]"].old == {"id": "d1", "name": "A"}
    assert changes["knowledge.datasets[d2].name"].path == ("knowledge", "datasets", 0, "name")
    assert changes["knowledge.datasets[d2].name"].old_path == ("knowledge", "datasets", 1, "name")


def test_scalar_lists_match_by_value() -> None:
    result = diff_configs(
        dumps(soul(app_features={"suggested_questions": ["Reset", "Billing", "Hours"]})),
        dumps(soul(app_features={"suggested_questions": ["Billing", "Reset", "Refunds"]})),
        "soul",
    )
    kinds = sorted((c.kind, c.old, c.new) for c in result.changes)
    assert kinds == [("added", None, "Refunds"), ("moved", 0, 1), ("removed", "Hours", None)] or kinds == [
        ("added", None, "Refunds"),
        ("moved", 1, 0),
        ("removed", "Hours", None),
    ]


def test_lists_without_identity_fall_back_to_position() -> None:
    result = diff_configs(
        dumps(
            {
                "previous_node_output_refs": [
                    {"node_id": "1", "output": "text"},
                    {"node_id": "2", "output": "a"},
                ]
            }
        ),
        dumps({"previous_node_output_refs": [{"node_id": "1", "output": "json"}]}),
        "node_job",
    )
    assert [(c.display, c.kind) for c in result.changes] == [
        ("previous_node_output_refs[1]", "removed"),
        ("previous_node_output_refs[0].output", "changed"),
    ]


def test_duplicate_identities_fall_back_without_losing_changes() -> None:
    left = soul(tools={"cli_tools": [{"name": "git", "v": 1}, {"name": "git", "v": 2}]})
    right = soul(tools={"cli_tools": [{"name": "git", "v": 1}, {"name": "git", "v": 3}]})
    result = diff_configs(dumps(left), dumps(right), "soul")
    assert [(c.display, c.old, c.new) for c in result.changes] == [("tools.cli_tools[1].v", 2, 3)]


def test_contacts_matched_by_email_without_showing_it() -> None:
    left = soul(
        human={"contacts": [{"email": "alice.planted@example.com", "name": "Alice"}, {"id": "acct-9"}]}
    )
    right = soul(
        human={"contacts": [{"id": "acct-9"}, {"email": "alice.planted@example.com", "name": "Alice B"}]}
    )
    result = diff_configs(dumps(left), dumps(right), "soul")
    assert {(c.display, c.kind) for c in result.changes} == {
        ("human.contacts[#1]", "moved"),
        ("human.contacts[#1].name", "changed"),
    }
    assert "alice.planted" not in every_output(result, dumps(left), dumps(right))


def test_stable_pairs_keeps_longest_ordered_run() -> None:
    assert stable_pairs([(0, 0), (1, 1), (2, 2)]) == {(0, 0), (1, 1), (2, 2)}
    assert len(stable_pairs([(0, 2), (1, 0), (2, 1)])) == 2
    assert stable_pairs([]) == set()


# --- text diffs --------------------------------------------------------------------------------


def long_prompt(lines: int = 200) -> list[str]:
    return [f"Rule {k}: the agent must follow instruction number {k} carefully." for k in range(lines)]


def test_long_prompt_line_and_word_diff() -> None:
    old = long_prompt()
    new = list(old)
    new[100] = "Rule 100: the agent must ignore instruction number 100 carefully."
    new.insert(150, "A brand new rule.")
    result = diff_configs(
        dumps(soul(prompt={"system_prompt": "\n".join(old)})),
        dumps(soul(prompt={"system_prompt": "\n".join(new)})),
        "soul",
    )
    (change,) = result.changes
    assert change.display == "prompt.system_prompt"
    assert change.text is not None
    text = change.text
    assert (text.changed, text.added, text.removed) == (1, 1, 0)
    assert (text.old_line_count, text.new_line_count) == (200, 201)
    assert len(text.hunks) == 2
    first = text.hunks[0]
    assert first.header() == "@@ -98,7 +98,7 @@"
    changed = [line for line in first.lines if line.op == "changed"]
    assert len(changed) == 1
    assert (changed[0].old_no, changed[0].new_no) == (101, 101)
    assert Segment("delete", "follow") in changed[0].segments
    assert Segment("insert", "ignore") in changed[0].segments
    assert "".join(s.text for s in changed[0].segments if s.op != "insert") == old[100]
    assert "".join(s.text for s in changed[0].segments if s.op != "delete") == new[100]
    added = [line for line in text.hunks[1].lines if line.op == "added"]
    assert [(a.new_no, a.new_text) for a in added] == [(151, "A brand new rule.")]
    # Only context lines are kept, not the 200-line bulk.
    assert sum(len(h.lines) for h in text.hunks) == 7 + 7
    assert change.old.startswith("Rule 0: the agent") and change.old.endswith("(200 lines)")
    lines = unified_lines(result)
    assert "- " + old[100] in lines and "+ " + new[100] in lines
    rows = [r for r in split_rows(result) if r.row == "line" and r.op == "changed"]
    assert rows[0].left_segments and all(s.op != "insert" for s in rows[0].left_segments)


def test_inserted_line_before_edit_pairs_by_similarity() -> None:
    text = diff_text(
        "intro\nalpha beta gamma delta\noutro", "intro\nsomething new\nalpha beta gamma epsilon\noutro"
    )
    ops = [(line.op, line.old_text, line.new_text) for line in text.hunks[0].lines]
    assert ("added", None, "something new") in ops
    assert ("changed", "alpha beta gamma delta", "alpha beta gamma epsilon") in ops


def test_multiline_or_long_strings_anywhere_are_text_diffed_short_ones_are_not() -> None:
    long_old = "word " * 60
    result = diff_configs(
        dumps(soul(app_features={"opening_statement": "Hi\nthere", "note": long_old, "short": "a"})),
        dumps(soul(app_features={"opening_statement": "Hi\nfriend", "note": long_old + "!", "short": "b"})),
        "soul",
    )
    changes = by_display(result)
    assert changes["app_features.opening_statement"].text is not None
    assert changes["app_features.note"].text is not None
    assert changes["app_features.short"].text is None
    assert (changes["app_features.short"].old, changes["app_features.short"].new) == ("a", "b")


def test_word_diff_cap_on_huge_lines() -> None:
    old = "x" * WORD_DIFF_MAX_LINE_CHARS
    assert word_segments(old, old + "y") == (Segment("delete", old), Segment("insert", old + "y"))


def test_prompt_emptied_and_filled() -> None:
    result = diff_configs(dumps(soul()), dumps(soul(prompt={"system_prompt": "a\nb"})), "soul")
    (change,) = result.changes
    assert change.text is not None
    assert (change.text.added, change.text.removed, change.text.old_line_count) == (2, 0, 0)
    assert change.text.hunks[0].header() == "@@ -0,0 +1,2 @@"


# --- invalid and non-object inputs -------------------------------------------------------------


def test_invalid_json_on_one_side_is_diffed_as_text() -> None:
    right = dumps(soul(prompt={"system_prompt": "hello"}))
    result = diff_configs('{"prompt": {"system_prompt": "hello"', right, "soul")
    assert result.text_mode
    assert result.left_error is not None and result.left_error.startswith("invalid JSON")
    assert result.right_error is None
    (change,) = result.changes
    assert (change.display, change.section, change.path) == (DOCUMENT_SECTION, DOCUMENT_SECTION, ())
    assert change.text is not None and change.text.hunks
    assert result.counts_by_section == {DOCUMENT_SECTION: 1}
    assert "compared as text" in result.summary
    assert any(line.startswith("# left: invalid JSON") for line in unified_lines(result))


def test_invalid_json_on_both_sides() -> None:
    same = diff_configs("not json\nline 2", "not json\nline 2", "soul")
    assert same.equal and same.text_mode
    assert same.left_error and same.right_error
    result = diff_configs("not json\nline 2\nline 3", "not json\nline two\nline 3", "soul")
    (change,) = result.changes
    assert change.text is not None
    lines = change.text.hunks[0].lines
    assert [(line.op, line.old_text, line.new_text) for line in lines] == [
        ("equal", "not json", "not json"),
        ("changed", "line 2", "line two"),
        ("equal", "line 3", "line 3"),
    ]


def test_non_object_json_and_null_inputs() -> None:
    result = diff_configs("[]", "{}", "soul")
    assert result.text_mode
    assert result.left_error == "JSON is a list, not an object"
    assert result.right_error is None
    assert not result.equal
    both_null = diff_configs(None, None, "soul")
    assert both_null.equal and both_null.left_error == "no value (NULL)"
    one_null = diff_configs(None, "{}", "node_job")
    assert one_null.text_mode and one_null.changes[0].text is not None
    assert one_null.changes[0].text.added == len(normalized_json("{}", "node_job").split("\n"))


# --- masking -----------------------------------------------------------------------------------

PLANTED = {
    "secret_ref": ("PLANTED-secretref-AAAA1111", "PLANTED-secretref-BBBB2222"),
    "env_value": ("PLANTED-envvalue-AAAA1111", "PLANTED-envvalue-BBBB2222"),
    "env_default": ("PLANTED-envdefault-AAAA11", "PLANTED-envdefault-BBBB22"),
    "api_key": ("PLANTED-apikey-AAAA1111", "PLANTED-apikey-BBBB2222"),
    "runtime": ("PLANTED-runtime-AAAA1111", "PLANTED-runtime-BBBB2222"),
    "sandbox": ("PLANTED-sandbox-AAAA1111", "PLANTED-sandbox-BBBB2222"),
    "email": ("planted.alice@example.com", "planted.bobby@example.com"),
    "contact_name": ("PLANTED Alice Person", "PLANTED Bobby Person"),
    "prompt_token": ("sk-PLANTEDpromptAAAA1111", "sk-PLANTEDpromptBBBB2222"),
    "cli_secret": ("PLANTED-clisecret-AAAA11", "PLANTED-clisecret-BBBB22"),
    "credentials": ("PLANTED-credential-AAAA1", "PLANTED-credential-BBBB2"),
}
ALL_PLANTED = [value for pair in PLANTED.values() for value in pair]


def secret_soul(side: int) -> dict[str, Any]:
    """A soul holding one planted value per sensitive place; side 0 and 1 differ only in those values
    (same lengths), plus a visible change so the diff is not trivially empty."""

    def v(name: str) -> str:
        return PLANTED[name][side]

    return soul(
        prompt={
            "system_prompt": f"You are an agent.\nUse the key {v('prompt_token')} for search.\nBe brief."
        },
        env={
            "secret_refs": [{"name": "GITHUB_TOKEN", "ref": "secret-ref-123", "value": v("secret_ref")}],
            "variables": [{"name": "REGION", "value": v("env_value"), "default": v("env_default")}],
        },
        misc_legacy={"moderation": {"api_key": v("api_key"), "enabled": side == 1}},
        tools={
            "cli_tools": [{"name": "gh", "env": {"secret_refs": [{"name": "GH", "value": v("cli_secret")}]}}],
            "dify_tools": [tavily(runtime_parameters={"query_prefix": v("runtime")})],
        },
        sandbox={"provider": "e2b", "config": {"image": "python", "env": {"X": v("sandbox")}}},
        human={"contacts": [{"id": "acct-1", "email": v("email"), "name": v("contact_name")}], "tools": []},
        model={
            "model": "m",
            "model_provider": "p",
            "plugin_id": "x/p",
            "model_settings": {"credentials": v("credentials"), "max_tokens": 100},
        },
    )


def assert_no_planted(output: str) -> None:
    leaked = [value for value in ALL_PLANTED if value in output]
    # Partial leaks count too: a distinctive half of a value.
    leaked += [value for value in ALL_PLANTED if value[-8:] in output]
    assert leaked == [], f"planted values leaked: {leaked}"


def test_changed_secrets_same_length_are_reported_but_never_shown() -> None:
    left, right = dumps(secret_soul(0)), dumps(secret_soul(1))
    result = diff_configs(left, right, "soul")
    assert_no_planted(every_output(result, left, right))
    changes = by_display(result)
    for display in (
        "env.secret_refs[GITHUB_TOKEN].value",
        "env.variables[REGION].value",
        "env.variables[REGION].default",
        "misc_legacy.moderation.api_key",
        "tools.dify_tools[langgenius/tavily/tavily_search].runtime_parameters.query_prefix",
        "sandbox.config.env.X",
        "human.contacts[#0].email",
        "human.contacts[#0].name",
        "tools.cli_tools[gh].env.secret_refs[GH].value",
        "model.model_settings.credentials",
    ):
        change = changes[display]
        assert (change.kind, change.old, change.new, change.masked) == (
            "changed",
            MASKED_CHANGE,
            MASKED_CHANGE,
            True,
        )
    visible = changes["misc_legacy.moderation.enabled"]
    assert (visible.old, visible.new, visible.masked) == (False, True, False)
    prompt = changes["prompt.system_prompt"]
    assert prompt.text is not None and prompt.text.changed == 1 and prompt.masked
    (line,) = [x for h in prompt.text.hunks for x in h.lines if x.op == "changed"]
    assert MASK_TOKEN in (line.old_text or "") and line.old_text == line.new_text
    assert result.counts_by_kind["changed"] == 12


def test_added_and_removed_secrets_show_only_set_or_empty() -> None:
    left, right = dumps(soul()), dumps(secret_soul(0))
    for a, b in ((left, right), (right, left)):
        result = diff_configs(a, b, "soul")
        assert_no_planted(every_output(result, a, b))
    added = by_display(diff_configs(left, right, "soul"))
    secret_refs = added["env.secret_refs[GITHUB_TOKEN]"]
    assert secret_refs.kind == "added"
    assert secret_refs.new == {"name": "GITHUB_TOKEN", "ref": "secret-ref-123", "value": MASK_SET}
    removed = by_display(diff_configs(right, left, "soul"))["env.secret_refs[GITHUB_TOKEN]"]
    assert removed.kind == "removed" and removed.old["value"] == MASK_SET
    # A secret added as a key of its own shows set / empty only.
    extra = diff_configs(
        dumps(soul()), dumps(soul(misc_legacy={"api_key": "", "token": "PLANTED-tok-1234"})), "soul"
    )
    got = {(c.display, c.new) for c in extra.changes}
    assert got == {("misc_legacy.api_key", MASK_EMPTY), ("misc_legacy.token", MASK_SET)}


def test_node_job_contacts_and_metadata_masking() -> None:
    left = {
        "human_contacts": [{"id": "c1", "email": PLANTED["email"][0]}],
        "metadata": {"token": "PLANTED-meta-1111"},
    }
    right = {
        "human_contacts": [{"id": "c1", "email": PLANTED["email"][1]}],
        "metadata": {"token": "PLANTED-meta-2222"},
    }
    a, b = dumps(left), dumps(right)
    result = diff_configs(a, b, "node_job")
    output = every_output(result, a, b, kind="node_job")
    assert_no_planted(output)
    assert "PLANTED-meta" not in output
    assert {(c.display, c.old) for c in result.changes} == {
        ("human_contacts[#0].email", MASKED_CHANGE),
        ("metadata.token", MASKED_CHANGE),
    }


def test_text_mode_masks_tokens_and_the_valid_side_by_path() -> None:
    invalid = f'{{"prompt": "use {PLANTED["prompt_token"][0]}", broken'
    valid = dumps(secret_soul(1))
    result = diff_configs(invalid, valid, "soul")
    assert result.text_mode
    assert_no_planted(every_output(result, invalid, valid))
    both_invalid = diff_configs(invalid, invalid.replace("AAAA1111", "BBBB2222"), "soul")
    assert not both_invalid.equal  # compared raw, so a changed token is a change
    assert_no_planted(every_output(both_invalid, invalid))


@pytest.mark.parametrize(
    "template",
    [
        "intro\nAuthorization: Bearer\n    {secret}\noutro {edit}",
        "intro {edit}\npassword\n\n=\n\n  {secret}\noutro",
        "{edit}\ntoken:\n{secret}",
        "line\napi_key =\n\n\n'{secret}'\nmore {edit}",
    ],
)
def test_tokens_split_across_lines_never_leak(template: str) -> None:
    secret = "PLANTEDsplit123456"
    old = template.format(secret=secret, edit="a")
    new = template.format(secret=secret.replace("123456", "654321"), edit="b")
    assert secret not in mask_text(old)  # the policy hides it in the whole text
    result = diff_configs(
        dumps(soul(prompt={"system_prompt": old})), dumps(soul(prompt={"system_prompt": new}))
    )
    output = every_output(result)
    assert "PLANTEDsplit" not in output
    assert result.changes[0].text is not None


def test_window_masking_when_only_the_value_line_changes() -> None:
    # The keyword is more blank lines above the edited line than the hunk's context: the masking window
    # must still reach it.
    value_line = ["password", "", " ", "", ":", "", "", "", "", "PLANTEDwindowAAAA", "x"]
    old = "\n".join(["filler"] * 20 + value_line + ["filler"] * 20)
    new = old.replace("PLANTEDwindowAAAA", "PLANTEDwindowBBBB")
    assert "PLANTEDwindow" not in mask_text(old)
    text = diff_text(old, new)
    assert "PLANTEDwindow" not in repr(text)
    assert text.changed == 1 and text.masked


@PROPERTY
@given(
    st.lists(
        st.sampled_from(
            [
                "password",
                "token",
                "Bearer",
                ":",
                "=",
                "'",
                '"',
                " ",
                "  ",
                "\n",
                "\n\n",
                "word",
                "SECRETVALUE1",
                "x",
            ]
        ),
        max_size=30,
    ),
    st.integers(min_value=0, max_value=29),
)
def test_text_diff_shows_nothing_the_policy_hides(fragments: list[str], cut: int) -> None:
    old = "".join(fragments)
    new = "".join([*fragments[:cut], "edited\n", *fragments[cut:]])
    text = diff_text(old, new)
    lines = [line for hunk in text.hunks for line in hunk.lines]
    # Whatever the policy hides in a whole text must not appear in any line shown for that side.
    if "SECRETVALUE1" not in mask_text(old):
        assert not any("SECRETVALUE1" in (line.old_text or "") for line in lines)
        assert not any("SECRETVALUE1" in s.text for line in lines for s in line.segments if s.op == "delete")
    if "SECRETVALUE1" not in mask_text(new):
        assert not any("SECRETVALUE1" in (line.new_text or "") for line in lines)
        assert not any("SECRETVALUE1" in s.text for line in lines for s in line.segments if s.op == "insert")


# --- raw / unified / split views ---------------------------------------------------------------


def test_normalized_json_is_sorted_filled_and_masked() -> None:
    text = dumps(
        {"tools": {"dify_tools": [tavily()]}, "env": {"variables": [{"name": "A", "value": "PLANTED-x-1"}]}}
    )
    out = normalized_json(text, "soul")
    parsed = json.loads(out)
    assert list(parsed) == sorted(parsed)
    assert parsed["tools"]["cli_tools"] == []
    assert parsed["model"] is None
    assert parsed["env"]["variables"][0] == {"name": "A", "value": MASK_SET}
    assert out.startswith('{\n  "app_features"')
    assert normalized_json("not json sk-PLANTEDabcdefghijkl", "soul") == "not json " + MASK_TOKEN
    assert normalized_json("[1, 2]", "soul") == "[\n  1,\n  2\n]"
    assert normalized_json(None, "soul") == ""


def test_unified_and_split_views() -> None:
    left = soul(tools={"dify_tools": [tavily()]}, app_variables=[{"name": "a"}, {"name": "b"}])
    right = soul(tools={"dify_tools": [tavily(enabled=False)]}, app_variables=[{"name": "b"}, {"name": "a"}])
    result = diff_configs(dumps(left), dumps(right), "soul")
    lines = unified_lines(result)
    assert lines[:2] == ["--- left", "+++ right"]
    at = lines.index("@@ tools.dify_tools[langgenius/tavily/tavily_search].enabled (changed) @@")
    assert lines[at + 1 : at + 3] == ["- true", "+ false"]
    assert any(line.startswith("~ moved from index ") for line in lines)
    rows = split_rows(result)
    change_rows = [r for r in rows if r.row == "change"]
    assert [(r.path, r.left, r.right) for r in change_rows] == [
        ("tools.dify_tools[langgenius/tavily/tavily_search].enabled", "true", "false")
    ]
    assert [r.row for r in rows].count("moved") == 1


# --- properties --------------------------------------------------------------------------------

_names = st.sampled_from(["a", "b", "c", "git", "jq"])
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from(["", "x", "y", "line\nbreak", "sk-PLANTEDprop0000"]),
)
_json = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_names, inner, max_size=3)),
    max_leaves=8,
)
_dify_tool = st.fixed_dictionaries(
    {"plugin_id": st.sampled_from(["p/1", "p/2"]), "tool_name": _names},
    optional={"enabled": st.booleans(), "runtime_parameters": st.dictionaries(_names, _scalars, max_size=2)},
)
_named = st.fixed_dictionaries(
    {"name": _names}, optional={"value": _scalars, "type": st.sampled_from(["s", "n"])}
)
_soul_doc = st.fixed_dictionaries(
    {},
    optional={
        "prompt": st.fixed_dictionaries(
            {}, optional={"system_prompt": st.sampled_from(["", "a\nb", "a\nc\nb"])}
        ),
        "model": st.one_of(st.none(), st.dictionaries(_names, _scalars, max_size=2)),
        "tools": st.fixed_dictionaries(
            {},
            optional={
                "dify_tools": st.lists(_dify_tool, max_size=4),
                "cli_tools": st.lists(_named, max_size=3),
            },
        ),
        "env": st.fixed_dictionaries(
            {},
            optional={"variables": st.lists(_named, max_size=3), "secret_refs": st.lists(_named, max_size=3)},
        ),
        "human": st.fixed_dictionaries(
            {}, optional={"contacts": st.lists(st.fixed_dictionaries({"email": _names}), max_size=3)}
        ),
        "app_features": st.dictionaries(_names, _json, max_size=3),
        "app_variables": st.lists(_named, max_size=3),
        "sandbox": st.fixed_dictionaries({}, optional={"config": st.dictionaries(_names, _json, max_size=2)}),
        "zz_unknown": _json,
        "schema_version": st.integers(1, 2),
    },
)


@PROPERTY
@given(_soul_doc)
def test_property_diff_with_itself_is_no_changes(doc: dict[str, Any]) -> None:
    text = json.dumps(doc)
    result = diff_configs(text, text, "soul")
    assert result.equal and result.summary == "no changes" and result.changes == ()


@PROPERTY
@given(st.text(max_size=40))
def test_property_any_text_with_itself_is_no_changes(text: str) -> None:
    assert diff_configs(text, text, "node_job").equal


@PROPERTY
@given(_soul_doc, _soul_doc)
def test_property_paths_exist_and_counts_add_up(a: dict[str, Any], b: dict[str, Any]) -> None:
    result = diff_configs(json.dumps(a), json.dumps(b), "soul")
    left, _ = normalize_document(a, "soul")
    right, _ = normalize_document(b, "soul")
    for change in result.changes:
        if change.kind == "removed":
            resolve(left, change.path)
            assert change.new_path is None
        else:
            resolve(right, change.path)
            assert change.path == change.new_path
        if change.kind in ("changed", "moved"):
            assert change.old_path is not None
            resolve(left, change.old_path)
        assert change.section == change.path[0]
    assert sum(result.counts_by_section.values()) == len(result.changes)
    assert sum(result.counts_by_kind.values()) == len(result.changes)
    assert result.equal == (len(result.changes) == 0)
    assert "sk-PLANTEDprop0000" not in every_output(result)
    if result.equal:
        assert left == right or _same_json(left, right)


def _same_json(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


@PROPERTY
@given(st.lists(_dify_tool, max_size=6, unique_by=lambda t: (t["plugin_id"], t["tool_name"])), st.randoms())
def test_property_shuffling_identity_lists_only_moves(tools: list[dict[str, Any]], rnd: Any) -> None:
    shuffled = list(tools)
    rnd.shuffle(shuffled)
    result = diff_documents({"tools": {"dify_tools": tools}}, {"tools": {"dify_tools": shuffled}}, "soul")
    assert {c.kind for c in result.changes} <= {"moved"}
    order = [tools.index(t) for t in shuffled]
    assert len(result.changes) == len(tools) - _lis_length(order)


def _lis_length(seq: list[int]) -> int:
    best = [1] * len(seq)
    for i in range(len(seq)):
        for j in range(i):
            if seq[j] < seq[i]:
                best[i] = max(best[i], best[j] + 1)
    return max(best, default=0)


@PROPERTY
@given(st.text(alphabet="ab \n.", max_size=30), st.text(alphabet="ab \n.", max_size=30))
def test_property_word_segments_rebuild_both_lines(old: str, new: str) -> None:
    segments = word_segments(old, new)
    assert "".join(s.text for s in segments if s.op != "insert") == old
    assert "".join(s.text for s in segments if s.op != "delete") == new


@PROPERTY
@given(
    st.lists(st.sampled_from(["a", "b", "c", "", "d e"]), max_size=12),
    st.lists(st.sampled_from(["a", "b", "x", ""]), max_size=12),
)
def test_property_text_diff_line_counts(old_lines: list[str], new_lines: list[str]) -> None:
    old, new = "\n".join(old_lines), "\n".join(new_lines)
    text = diff_text(old, new)
    old_count = len(old.split("\n")) if old else 0
    new_count = len(new.split("\n")) if new else 0
    assert (text.old_line_count, text.new_line_count) == (old_count, new_count)
    shown_old = sum(1 for h in text.hunks for x in h.lines if x.old_no is not None and x.op != "equal")
    shown_new = sum(1 for h in text.hunks for x in h.lines if x.new_no is not None and x.op != "equal")
    assert shown_old == text.removed + text.changed
    assert shown_new == text.added + text.changed
    assert (old == new) == (not text.hunks)
    for hunk in text.hunks:
        assert sum(1 for x in hunk.lines if x.old_no is not None) == hunk.old_count
        assert sum(1 for x in hunk.lines if x.new_no is not None) == hunk.new_count
        for line in hunk.lines:
            if line.old_no is not None:
                assert old.split("\n")[line.old_no - 1] == line.old_text
            if line.new_no is not None:
                assert new.split("\n")[line.new_no - 1] == line.new_text


# --- Gen E soul sections (reference §5.5) ----------------------------------------------------------

CLI_ID = "7f1c2a9e-0000-4000-8000-00000000c011"


def gen_e(**sections: Any) -> dict[str, Any]:
    """A small Gen E soul: config_* sections, knowledge sets, a CLI tool with a stable id."""
    doc: dict[str, Any] = {
        "schema_version": 1,
        "prompt": {"system_prompt": "Write discharge letters."},
        "config_note": "First cut",
        "config_skills": [{"name": "letter", "file_kind": "tool_file", "file_id": "f-skill-1", "size": 10}],
        "config_files": [
            {"name": "template.docx", "file_kind": "upload_file", "file_id": "f-file-1", "size": 5}
        ],
        "tools": {
            "dify_tools": [],
            "cli_tools": [
                {
                    "id": CLI_ID,
                    "name": "pdf-render",
                    "command": "pdf-render --to pdf",
                    "env": {"secret_refs": [{"name": "PDF_TOKEN", "value": "s3cret-left-value-0001"}]},
                }
            ],
        },
        "knowledge": {"sets": [{"id": "set-a", "retrieval": {"top_k": 4}}, {"id": "set-b", "retrieval": {}}]},
    }
    doc.update(copy.deepcopy(sections))
    return doc


def test_gen_e_renamed_cli_tool_is_one_change_under_its_id() -> None:
    left = gen_e()
    right = copy.deepcopy(left)
    right["tools"]["cli_tools"][0]["name"] = "pdf-render-v2"
    result = diff_documents(left, right, "soul")
    assert [(c.display, c.kind, c.old, c.new) for c in result.changes] == [
        (f"tools.cli_tools[{CLI_ID}].name", "changed", "pdf-render", "pdf-render-v2")
    ]
    # Older CLI tools without an id still match by name (and an id never collides with a name).
    named = soul(tools={"cli_tools": [{"name": CLI_ID, "v": 1}], "dify_tools": []})
    with_id = soul(tools={"cli_tools": [{"id": CLI_ID, "name": "x", "v": 1}], "dify_tools": []})
    kinds = sorted(c.kind for c in diff_documents(named, with_id, "soul").changes)
    assert kinds == ["added", "removed"]


def test_gen_e_changed_cli_tool_env_secret_shows_changed_masked() -> None:
    left = gen_e()
    right = copy.deepcopy(left)
    right["tools"]["cli_tools"][0]["env"]["secret_refs"][0]["value"] = "s3cret-right-value-0002"
    right["tools"]["cli_tools"][0]["name"] = "pdf-render-v2"  # renamed too: still the same tool
    result = diff_configs(dumps(left), dumps(right), "soul")
    changes = by_display(result)
    secret = changes[f"tools.cli_tools[{CLI_ID}].env.secret_refs[PDF_TOKEN].value"]
    assert (secret.kind, secret.old, secret.new, secret.masked) == (
        "changed",
        MASKED_CHANGE,
        MASKED_CHANGE,
        True,
    )
    assert len(result.changes) == 2
    output = every_output(result, dumps(left), dumps(right))
    assert "s3cret-left" not in output and "s3cret-right" not in output


def test_gen_e_file_entries_match_by_file_id_and_sets_by_id() -> None:
    left = gen_e(files={"skills": [], "files": []})
    right = gen_e(
        config_note="Second cut",
        config_files=[
            {"name": "template-2027.docx", "file_kind": "upload_file", "file_id": "f-file-1", "size": 5},
            {"name": "extra.pdf", "file_kind": "upload_file", "file_id": "f-file-2", "size": 7},
        ],
        config_skills=[{"name": "letter", "file_kind": "tool_file", "file_id": "f-skill-9", "size": 10}],
        knowledge={"sets": [{"id": "set-b", "retrieval": {}}, {"id": "set-a", "retrieval": {"top_k": 8}}]},
        files={"skills": [], "files": [{"name": "n.md", "file_id": "f-3"}]},
    )
    got = {(c.section, c.display, c.kind) for c in diff_documents(left, right, "soul").changes}
    assert ("config_note", "config_note", "changed") in got
    # Renamed, same file: one change, shown under the new name (as every identity label is).
    assert ("config_files", "config_files[template-2027.docx].name", "changed") in got
    assert ("config_files", "config_files[extra.pdf]", "added") in got
    # A re-upload is another file: the old one removed, the new one added.
    assert ("config_skills", "config_skills[letter]", "removed") in got
    assert ("config_skills", "config_skills[letter]", "added") in got
    assert ("knowledge", "knowledge.sets[set-a].retrieval.top_k", "changed") in got
    assert any(c[1].startswith("knowledge.sets[") and c[2] == "moved" for c in got)
    assert ("files", "files.files[n.md]", "added") in got


def test_gen_e_sections_are_known_and_seed_sections_unchanged() -> None:
    result = diff_documents(gen_e(), gen_e(config_note="x"), "soul")
    sections = list(result.counts_by_section)
    assert sections[-4:] == ["config_note", "config_skills", "config_files", "files"]
    assert "skills_files" not in sections and result.counts_by_section["config_note"] == 1
    seed = diff_documents(soul(), soul(prompt={"system_prompt": "x"}), "soul")
    assert list(seed.counts_by_section) == list(SOUL_SECTIONS)
