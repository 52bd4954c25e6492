"""The one safe-text path (ui/render.py): unit tests, and an AST guard that no page or ui module hands a
Streamlit text element a string that did not come through it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from data.masking import MASK_SET, MASK_TOKEN
from ui import render

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "sk-PLANTEDtoken1234567890abcdef"

# --- unit -------------------------------------------------------------------------------------------

# GFM autolink literals as remark-gfm finds them in the text of a parsed document (after escapes).
AUTOLINK = [
    re.compile(r"(?i)(https?://|www(?=\.))[-.\w]+"),
    re.compile(r"[-.\w+]+@[-\w]+(?:\.[-\w]+)+"),
]


def unescaped(md: str) -> str:
    """What a markdown renderer's text node holds: backslash escapes resolved."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", md)


@pytest.mark.parametrize(
    "hostile",
    [
        "https://evil.example/p",
        "see www.evil.example now",
        "WWW.EVIL.EXAMPLE",
        "mail bob@evil.example",
        "[x](https://evil.example/p)",
        "<https://evil.example>",
        "<img src=x onerror=alert(1)> **bold** _it_ `code` ~~s~~ $x$ :smile: :red[x] :material/home:",
        "# heading\n- item\n> quote",
        "mailto:bob@evil.example xmpp:a@b.example",
    ],
)
def test_safe_md_cannot_form_markup_or_autolinks(hostile: str) -> None:
    out = render.safe_md(hostile)
    assert "\n" not in out
    text = unescaped(out)
    for pattern in AUTOLINK:
        assert not pattern.search(text), (hostile, out)
    # Every markdown-special character arrives escaped (or is followed by a word joiner).
    assert not re.search(r"(?<!\\)[<>\[\]*_`~$#]", out), out
    # The visible characters are the (masked) input's (joiners are zero-width).
    assert text.replace(render.WORD_JOINER, "") == render.masked(hostile).replace("\n", " ")


def test_masking_comes_first_everywhere() -> None:
    assert TOKEN not in render.safe_md(f"name {TOKEN}")
    assert TOKEN not in render.plain(f"name {TOKEN}")
    assert MASK_TOKEN in render.plain(f"name {TOKEN}")
    assert render.masked(None) == ""
    # Text the data layer masked is not masked twice (which would mangle its markers).
    already = render.already_masked(f'"api_key": "{MASK_SET}"')
    assert render.plain(already) == f'"api_key": "{MASK_SET}"'


def test_plain_shows_control_characters_and_bidi_is_isolated() -> None:
    assert render.plain("a\x00b") == "a\ufffdb"
    assert render.plain("line1\nline2") == "line1\nline2"
    out = render.safe_md("\u202eevil")
    assert out.startswith("\u2068") and out.endswith("\u2069")


def test_table_masks_every_string_cell_but_keeps_types() -> None:
    from streamlit.testing.v1 import AppTest

    def script() -> None:
        import pandas as pd

        from data.masking import MASK_SET
        from ui import render

        token = "sk-PLANTEDtoken1234567890abcdef"
        frame = pd.DataFrame({"name": [f"x {token}", None], "n": [1, 2], "diff": [f"token: {MASK_SET}", "b"]})
        render.table(frame, masked_columns=("diff",))
        assert token in frame["name"][0]  # the caller's frame is left alone

    at = AppTest.from_function(script).run()
    assert not at.exception, [e.value for e in at.exception]
    shown = at.dataframe[0].value
    assert TOKEN not in shown.to_csv() and MASK_TOKEN in shown["name"][0]
    assert list(shown["n"]) == [1, 2]
    assert shown["diff"][0] == f"token: {MASK_SET}"


# --- the AST guard -------------------------------------------------------------------------------------

#: Elements whose text arguments Streamlit renders as markdown: arg positions and keywords checked.
MARKDOWN_ARGS: dict[str, tuple[tuple[int, ...], tuple[str, ...]]] = {
    **{
        name: ((0,), ("body", "label"))
        for name in (
            "markdown",
            "caption",
            "title",
            "header",
            "subheader",
            "warning",
            "error",
            "info",
            "success",
            "toast",
            "badge",
            "expander",
            "popover",
            "status",
            "spinner",
            "metric",
            "button",
            "link_button",
            "download_button",
            "form_submit_button",
            "checkbox",
            "toggle",
            "selectbox",
            "multiselect",
            "text_input",
            "text_area",
            "number_input",
            "date_input",
            "dialog",
        )
    },
    "radio": ((0, 1), ("label", "options")),  # radio options are markdown too (verified in chromium)
    "tabs": ((0,), ("tabs",)),
    "page_link": ((), ("label",)),
    "progress": ((), ("text",)),
}
#: Elements that show text literally: outside ui/render.py they take constants only (use the helpers).
LITERAL_ELEMENTS = {"text", "code", "json", "write", "dataframe", "data_editor", "table", "html", "latex"}
#: Keywords of every element that are markdown or displayed text.
ALWAYS_CHECKED = ("help", "placeholder", "format_func", "caption")
#: own_identity_md: the signed-in identity in app.py (neutralized, deliberately not e-mail-masked).
SAFE_CALLS = {"safe_md", "plain", "len", "own_identity_md"}
NOT_STREAMLIT = {"re", "json", "pd", "sa", "links", "context", "render", "store", "hashlib", "str"}


def is_safe(node: ast.AST) -> bool:
    """Whether an expression can only produce our own text or text that came through ui/render."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name):
        return node.id.isupper()  # module constants (VIEWS, EXPORT_CAP)
    if isinstance(node, ast.Call):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        return name in SAFE_CALLS
    if isinstance(node, ast.Attribute) and node.attr == "get" and isinstance(node.value, ast.Dict):
        # `{"a": "A", ...}.get` lookups of constants
        return all(is_safe(v) for v in node.value.values if v is not None)
    if isinstance(node, ast.JoinedStr):
        return all(isinstance(v, ast.Constant) or is_safe_formatted(v) for v in node.values)
    if isinstance(node, ast.IfExp):
        return is_safe(node.body) and is_safe(node.orelse)
    if isinstance(node, ast.BoolOp):
        return all(is_safe(v) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return is_safe(node.left) and is_safe(node.right)
    if isinstance(node, ast.List | ast.Tuple):
        return all(is_safe(e) for e in node.elts)
    if isinstance(node, ast.Lambda):
        return is_safe(node.body)
    return False


def is_safe_formatted(node: ast.AST) -> bool:
    """An f-string placeholder: a safe expression, or a number (a numeric format spec such as `:,`)."""
    assert isinstance(node, ast.FormattedValue)
    if is_safe(node.value):
        return True
    spec = node.format_spec
    if isinstance(spec, ast.JoinedStr):
        literal = "".join(v.value for v in spec.values if isinstance(v, ast.Constant))
        return bool(re.fullmatch(r"[<>^=+ 0-9]*[,_]?(\.[0-9]+)?[dfe%]?", literal)) and bool(literal)
    return False


def receiver_is_streamlit(func: ast.Attribute) -> bool:
    base = func.value
    while isinstance(base, ast.Attribute | ast.Subscript | ast.Call):
        base = base.value if not isinstance(base, ast.Call) else base.func
    return not (isinstance(base, ast.Name) and base.id in NOT_STREAMLIT)


def violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        name = node.func.attr
        if not receiver_is_streamlit(node.func):
            continue
        where = f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name}:{node.lineno} {name}"
        if name in LITERAL_ELEMENTS:
            args = [*node.args, *(k.value for k in node.keywords if k.arg in ("body", "data"))]
            found.extend(f"{where}: use ui.render helpers" for a in args if not isinstance(a, ast.Constant))
            continue
        positions, keywords = MARKDOWN_ARGS.get(name, ((), ()))
        if name not in MARKDOWN_ARGS and not any(k.arg in ALWAYS_CHECKED for k in node.keywords):
            continue
        checked = [node.args[i] for i in positions if i < len(node.args)]
        checked += [k.value for k in node.keywords if k.arg in (*keywords, *ALWAYS_CHECKED)]
        found.extend(f"{where}: {ast.unparse(a)[:80]}" for a in checked if not is_safe(a))
    return found


def guarded_files() -> list[Path]:
    files = [ROOT / "app.py", *sorted((ROOT / "app_pages").glob("*.py")), *sorted((ROOT / "ui").glob("*.py"))]
    return [f for f in files if f.name != "render.py"]


def test_every_text_element_gets_safe_text() -> None:
    problems = [v for path in guarded_files() for v in violations(path)]
    assert not problems, "\n".join(problems)


def test_the_guard_catches_unsafe_calls(tmp_path: Path) -> None:
    """Negative controls: each of these must be reported."""
    bad = [
        "st.markdown(name)",
        "st.warning(f'No agent {agent_id}')",
        "cols[0].caption('x' + name)",
        "st.text(agent.name)",
        "st.code(raw)",
        "st.dataframe(frame)",
        "st.page_link('p.py', label=row.name)",
        "st.selectbox('W', opts, format_func=lambda v: names[v])",
        "st.button('x', help=blocked)",
        "st.expander(f'{section}: {count} changes')",
        "st.tabs([f'{name}'])",
    ]
    good = [
        "st.markdown('**x**')",
        "st.warning(safe_md(f'No agent {agent_id}'))",
        "st.caption(f'{count:,} rows')",
        "st.tabs([f'Versions ({len(v)})'])",
        "st.selectbox('S', SORTS, format_func={'a': 'A'}.get)",
        "st.button('x', help=safe_md(blocked) or None)",
    ]
    path = tmp_path / "probe.py"
    for source in bad:
        path.write_text(source + "\n")
        assert violations(path), source
    for source in good:
        path.write_text(source + "\n")
        assert not violations(path), source


# --- the one HTML path (ui/diff_view.py -> render.trusted_html) -------------------------------------

#: The audited HTML builder: the only module that may construct `SafeHtml` (or its fragments).
HTML_BUILDER = ROOT / "ui" / "diff_view.py"


def html_violations(path: Path) -> list[str]:
    """`st.html`/`unsafe_allow_*` anywhere but `render.trusted_html`; `SafeHtml` built outside the builder."""
    tree = ast.parse(path.read_text(), filename=str(path))
    allowed_html: set[int] = set()
    if path.name == "render.py":
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef) and fn.name == "trusted_html":
                allowed_html |= {id(n) for n in ast.walk(fn)}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        where = f"{path.name}:{node.lineno}"
        if name in ("SafeHtml", "_Frag") and path != HTML_BUILDER:
            found.append(f"{where}: {name} is built by ui/diff_view.py only")
        outside = id(node) not in allowed_html
        if name == "html" and isinstance(func, ast.Attribute) and outside and receiver_is_streamlit(func):
            found.append(f"{where}: st.html outside render.trusted_html")
        for keyword in node.keywords:
            if keyword.arg in ("unsafe_allow_html", "unsafe_allow_javascript"):
                found.append(f"{where}: {keyword.arg}")
    return found


def test_html_goes_only_through_the_audited_builder() -> None:
    files = [*guarded_files(), ROOT / "ui" / "render.py"]
    problems = [v for path in files for v in html_violations(path)]
    assert not problems, "\n".join(problems)
    with pytest.raises(TypeError):
        render.trusted_html("<b>not built by ui.diff_view</b>")


def test_the_html_guard_catches_bypasses(tmp_path: Path) -> None:
    path = tmp_path / "probe.py"
    for source in (
        "render.trusted_html(SafeHtml(raw, key))",
        "diff_view.SafeHtml('<script>', k)",
        "st.markdown(x, unsafe_allow_html=True)",
        "st.html('<b>x</b>', unsafe_allow_javascript=True)",
        "container.html(markup)",
    ):
        path.write_text(source + "\n")
        assert html_violations(path), source
    path.write_text("render.trusted_html(diff_view.split_view(result, a, b))\n")
    assert not html_violations(path)
