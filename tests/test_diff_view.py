"""The diff viewer (ui/diff_view.py): hostile strings never become markup (the output is parsed with
html.parser against the builder's allow-list), word highlights, folded runs, next-change anchors, and the
/compare split and unified views through AppTest."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from data.demo import DemoIds
from data.diff import diff_configs
from tests.apptest_helpers import open_page
from ui import diff_view, render
from ui.diff_view import SideLabel

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "</table></div></details><div onclick=alert(1)>",
    '" onmouseover="alert(1)" x="',
    "' onfocus='alert(1)' autofocus='",
    "**bold** [x](https://evil.example/p) `code` # head",
    "https://evil.example/p?a=1&b=2 www.evil.example",
    "mail bob@evil-mail.example",
    "\u202eevil RTL override \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627",
    "<style>*{display:none}</style><a href='javascript:alert(1)'>x</a>",
    "&lt;script&gt; &amp; entity",
]


class Collect(HTMLParser):
    """Every start tag with its attributes, and the text as a browser would show it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        self.in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self.in_style = False

    def handle_data(self, data: str) -> None:
        if not self.in_style:
            self.text.append(data)


def parsed(markup: str) -> Collect:
    parser = Collect()
    parser.feed(markup)
    parser.close()
    return parser


def assert_only_allowed(markup: str) -> Collect:
    out = parsed(markup)
    for tag, attrs in out.tags:
        assert tag in diff_view.TAGS, tag
        for name, value in attrs:
            assert name in diff_view.ATTRS, (tag, name)
            if name == "class":
                assert set((value or "").split()) <= diff_view.CLASSES, value
            elif name == "id":
                assert re.fullmatch(r"change-\d+", value or ""), value
            else:
                assert tag == "a" and re.fullmatch(r"#change-\d+", value or ""), (tag, value)
    return out


def soul(prompt: str, **extra: object) -> str:
    return json.dumps({"prompt": {"system_prompt": prompt}, **extra})


@pytest.mark.parametrize("hostile", HOSTILE)
@pytest.mark.parametrize("build", [diff_view.split_view, diff_view.unified_view])
def test_hostile_text_never_becomes_markup(hostile: str, build) -> None:
    left = soul(f"intro\nkeep {hostile} old\noutro", model={"name": hostile})
    right = soul(
        f"intro\nkeep {hostile} new\noutro", model={"name": hostile + "2", "extra": {hostile: hostile}}
    )
    result = diff_configs(left, right)
    block = build(result, SideLabel(hostile, note=hostile, author=hostile), SideLabel(f"Runs {hostile}"))
    out = assert_only_allowed(block.markup)
    shown = "".join(out.text)
    # Positive control: the (masked) hostile text is shown as text.
    assert render.plain(hostile).split("\u202e")[-1][:12] in shown


def test_invalid_side_is_diffed_as_text_with_the_valid_side_as_pretty_json() -> None:
    right = soul("hello", model={"name": "<b>x</b>"})
    result = diff_configs("{not json <script>", right)
    assert result.text_mode
    out = assert_only_allowed(diff_view.split_view(result, SideLabel("L"), SideLabel("R")).markup)
    shown = "".join(out.text)
    assert '  "prompt": {' in shown and "<b>x</b>" in shown and "{not json <script>" in shown


def test_one_word_change_is_highlighted_on_both_sides() -> None:
    result = diff_configs(soul("You are a helpful agent."), soul("You are a careful agent."))
    for build in (diff_view.split_view, diff_view.unified_view):
        markup = build(result, SideLabel("Pinned v3"), SideLabel("Runs v5")).markup
        assert '<span class="dv-wdel">helpful</span>' in markup
        assert '<span class="dv-wadd">careful</span>' in markup
        assert "Pinned v3" in markup and "Runs v5" in markup
        assert "1 line changed" in markup and "1 lines" not in markup


def test_structured_values_are_pretty_json_not_python_reprs() -> None:
    left = soul("p", model={"name": "a", "params": None})
    right = soul("p", model={"name": "a", "params": {"temperature": 0.2}})
    markup = diff_view.split_view(diff_configs(left, right), SideLabel("L"), SideLabel("R")).markup
    assert "None" not in markup and "{&#x27;" not in markup
    assert "{\n  &quot;temperature&quot;: 0.2\n}" in markup and "null" in markup


def test_unchanged_runs_fold_and_gaps_are_counted() -> None:
    old_lines = [f"line {k}" for k in range(1, 41)]
    new_lines = list(old_lines)
    new_lines[4] = "line five changed"  # line 5
    new_lines[10] = "line eleven changed"  # line 11: 5 equal lines between, one hunk
    new_lines[35] = "line 36 changed"  # a second hunk
    result = diff_configs(soul("\n".join(old_lines)), soul("\n".join(new_lines)))
    for build in (diff_view.split_view, diff_view.unified_view):
        markup = build(result, SideLabel("L"), SideLabel("R")).markup
        # One fold inside a hunk; the three runs between and around hunks unfold too (issue 13).
        assert markup.count('<details class="dv-fold">') == 1
        assert markup.count('<details class="dv-unfold">') == 3
        assert "<summary>show 3 lines unchanged</summary>" in markup
        assert "⋯ 1 line unchanged" in markup  # line 1, before the first hunk
        assert "⋯ 18 lines unchanged" in markup  # lines 15-32, between the hunks
        # Line 40, after the last hunk, is shown only inside the last (folded) run.
        head, _, tail = markup.rpartition('<details class="dv-unfold">')
        assert "⋯ 1 line unchanged" in tail and "line 40" in tail and "line 40" not in head


def unfolded(markup: str) -> list[str]:
    """The text of each unfolded run between hunks (`<details class="dv-unfold">`)."""
    return [
        "".join(parsed(part.split("</details>")[0]).text)
        for part in markup.split('<details class="dv-unfold">')[1:]
    ]


def test_unchanged_text_between_hunks_unfolds_masked_and_escaped() -> None:
    token = "sk-PLANTEDgapToken1234567890abcdef"
    old_lines = [f"line {k}" for k in range(1, 41)]
    old_lines[20] = f"key {token} <img src=x onerror=alert(1)> **bold** [l](http://x)"  # line 21
    new_lines = list(old_lines)
    new_lines[4] = "line five changed"
    new_lines[35] = "line 36 changed"
    result = diff_configs(soul("\n".join(old_lines)), soul("\n".join(new_lines)))
    for build in (diff_view.split_view, diff_view.unified_view):
        markup = build(result, SideLabel("L"), SideLabel("R")).markup
        assert_only_allowed(markup)
        assert token not in markup
        runs = unfolded(markup)
        assert len(runs) == 3  # lines 1, 9-32, 40
        assert "<summary>⋯ 24 lines unchanged · show</summary>" in markup
        between = runs[1]
        assert "line 9" in between and "line 32" in between and "line 33" not in between
        assert "<img src=x onerror=alert(1)> **bold** [l](http://x)" in between
        assert "line 40" in runs[2] and "line 1" in runs[0]
    split = diff_view.split_view(result, SideLabel("L"), SideLabel("R")).markup
    # The unfolded rows carry both sides' line numbers (equal here: the edits kept the line count).
    assert '<span class="dv-no">21</span><span class="dv-t dv-ctx">key ' in split


@pytest.mark.parametrize("build", [diff_view.split_view, diff_view.unified_view])
def test_unfolded_runs_never_show_a_key_block_spanning_lines(build) -> None:
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAplantedPEMbody0001\nplantedPEMbody0002\n-----END RSA PRIVATE KEY-----"
    body = [f"line {k}" for k in range(1, 11)] + pem.split("\n") + [f"tail {k}" for k in range(1, 11)]
    changed = list(body)
    changed[0], changed[-1] = "line one", "tail ten"
    markup = build(
        diff_configs(soul("\n".join(body)), soul("\n".join(changed))), SideLabel("L"), SideLabel("R")
    ).markup
    assert_only_allowed(markup)
    assert "plantedPEMbody" not in markup
    assert "line 8" in "".join(unfolded(markup))  # the run is there, masked as a whole


def test_unfolded_runs_follow_shifted_line_numbers_and_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    old_lines = [f"line {k}" for k in range(1, 31)]
    new_lines = ["inserted a", "inserted b", *old_lines]
    new_lines[-1] = "line 30 changed"
    result = diff_configs(soul("\n".join(old_lines)), soul("\n".join(new_lines)))
    split = diff_view.split_view(result, SideLabel("L"), SideLabel("R")).markup
    # Old line 10 is new line 12 in the run between the two hunks.
    assert (
        '<span class="dv-no">10</span><span class="dv-t dv-ctx">line 10</span><span class="dv-no">12</span>'
        in split
    )
    monkeypatch.setattr(diff_view, "GAP_UNFOLD_MAX", 5)
    capped = diff_view.unified_view(result, SideLabel("L"), SideLabel("R")).markup
    run = unfolded(capped)[0]
    assert "line 4 " not in run and "line 8" in run and "line 9" not in run
    assert "more unchanged: the raw view has the whole text" in run


def test_every_change_has_an_anchor_and_a_next_change_link() -> None:
    left = soul("a", model={"name": "x", "p": 1, "q": 2})
    right = soul("b", model={"name": "y", "p": 3, "q": 4})
    result = diff_configs(left, right)
    n = len(result.changes)
    assert n >= 4
    markup = diff_view.unified_view(result, SideLabel("L"), SideLabel("R")).markup
    assert [int(k) for k in re.findall(r'id="change-(\d+)"', markup)] == list(range(1, n + 1))
    assert [int(k) for k in re.findall(r'href="#change-(\d+)"', markup)] == list(range(2, n + 1))
    assert markup.count("last change") == 1


def test_side_notes_and_authors_are_masked_then_escaped() -> None:
    token = "sk-PLANTEDtoken1234567890abcdef"
    block = diff_view.split_view(
        diff_configs(soul("a"), soul("b")),
        SideLabel(f"<b>{token}</b>", note=token, author="bob@x.example"),
        SideLabel("R"),
    )
    assert token not in block.markup and "bob@x.example" not in block.markup
    assert "&lt;b&gt;" in block.markup


def test_trusted_html_takes_only_the_builders_blocks() -> None:
    with pytest.raises(TypeError):
        render.trusted_html("<b>x</b>")
    with pytest.raises(TypeError):
        diff_view.SafeHtml("<script>alert(1)</script>", object())
    assert diff_view.count_lines(1) == "1 line" and diff_view.count_lines(2) == "2 lines"


# --- the page (AppTest) -------------------------------------------------------------------------------


def html_bodies(at) -> list[str]:
    return [e.proto.body for e in at.get("html")]


@pytest.mark.parametrize("view", ["split", "unified"])
def test_compare_page_shows_the_viewer(demo_app_env: Path, view: str) -> None:
    at = open_page("compare", agent=DemoIds.SHOWCASE_AGENT, left="1", right="6", view=view)
    assert not at.exception, [e.value for e in at.exception]
    bodies = [b for b in html_bodies(at) if 'class="dv"' in b]
    assert len(bodies) == 1
    assert "dv-wdel" in bodies[0] and "dv-wadd" in bodies[0]
    assert 'id="change-1"' in bodies[0]
    assert_only_allowed(bodies[0])
    assert not [d for d in at.dataframe if "op" in d.value.columns]  # the old grid is gone
