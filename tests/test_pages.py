"""The page registry (data/pages.py) is the URL contract: tests generated from it, page by page.

Every page builds a link with every parameter and reads it back unchanged; every parameter's bad value
becomes its default with a notice; the registry's paths and parameter names are the ones
shared/design/interfaces.md promises (the one hand-written copy, on purpose: a contract must not move
by accident). The AppTest smoke test of every page with its defaults is
tests/test_app_pages.py::test_every_page_renders_on_the_demo, parametrized from the same registry.
"""

from __future__ import annotations

import base64
import json
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from data import links, pages
from data.pages import CHOSEN, PAGES, url_fields
from data.params import MAX_DATE, MAX_INT, MIN_DATE, MIN_INT
from data.stores import roster as roster_store

ROOT = Path(__file__).resolve().parent.parent

#: shared/design/interfaces.md, "Pages and URL parameters" (plus `binding` on /compare, the diff view's
#: addition documented in the README).
CONTRACT = {
    "/": ("tenant",),
    "/roster": (
        "tenant",
        "q",
        "scope",
        "status",
        "source",
        "kind",
        "updated_from",
        "updated_to",
        "sort",
        "after",
        "before",
    ),
    "/agent": ("agent",),
    "/compare": (
        "agent",
        "left",
        "right",
        "left_snapshot",
        "right_snapshot",
        "left_draft",
        "right_draft",
        "left_binding",
        "right_binding",
        "view",
        "binding",
    ),
    "/bindings": ("tenant", "app", "workflow", "node", "against"),
    "/health": ("tenant", "check"),
    "/sessions": (
        "tenant",
        "app",
        "agent",
        "owner",
        "status",
        "rule",
        "run",
        "conversation",
        "workspace",
        "updated_from",
        "updated_to",
        "after",
        "before",
        "session",
    ),
    "/audit": ("actor", "action", "tenant", "target", "from", "to"),
}
CHOICES = ("first-choice", "second_choice")
CURSOR = base64.urlsafe_b64encode(json.dumps(["id", "0193a000-0000-7000-8000-000000000001"]).encode())


def sample(kind: object, n: int) -> object:
    """A valid value of `kind`, different for each `n` (so a swapped parameter is noticed)."""
    if kind == "uuid":
        return f"0193a000-0000-7000-8000-{n:012d}"
    if kind == "date":
        return date(2026, 1, 1 + n)
    if kind == "int":
        return 10 + n
    if kind == "slug":
        return f"slug_{n}"
    if kind == "text":
        return f"some text & more {n} ✓"
    if kind == "cursor":
        return CURSOR.decode().rstrip("=")
    if kind == CHOSEN:
        return CHOICES[n % 2]
    assert isinstance(kind, tuple)
    return kind[-1]


def samples(page: pages.Page[Any]) -> dict[str, object]:
    return {url: sample(k.kind, n) for n, (url, k) in enumerate(url_fields(page.params).items())}


def choices_of(page: pages.Page[Any]) -> dict[str, tuple[str, ...]]:
    return {url: CHOICES for url, k in url_fields(page.params).items() if k.kind == CHOSEN}


def test_the_registry_is_the_url_contract() -> None:
    assert {p.path: tuple(url_fields(p.params)) for p in PAGES} == CONTRACT
    assert [p.path for p in PAGES if p.default] == ["/"]
    assert len({p.name for p in PAGES}) == len(PAGES)
    assert pages.SORTS == roster_store.SORTS  # the roster's sorts are its store's orderings


def test_the_navigation_has_every_page_once_and_hides_only_detail_pages() -> None:
    grouped = pages.sections()
    listed = [p for group in grouped.values() for p in group]
    assert sorted(p.name for p in listed) == sorted(p.name for p in PAGES)
    assert all(group and any(not p.hidden for p in group) for group in grouped.values())
    assert [p.name for p in PAGES if p.hidden] == ["agent"]  # opened from the roster, a search, a link
    for page in PAGES:
        assert (ROOT / page.script).is_file(), page.script
        assert not page.default or not page.hidden


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_page_builds_a_link_that_reads_back_unchanged(page: pages.Page[Any]) -> None:
    given_values = samples(page)
    url = links.link(page.name, **given_values)
    parts = urlsplit(url)
    assert parts.path == page.path
    raw = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    assert list(raw) == list(CONTRACT[page.path])  # every parameter, in the contract's order
    reading = page.read(raw, choices=choices_of(page))
    assert reading.notices == []
    assert reading.values == given_values
    # The typed way builds the same link, and the query dict is what the link carries.
    model = page.params.model_validate(
        {k: str(v) for k, v in given_values.items()}, context={"choices": _by_attr(page, CHOICES)}
    )
    assert links.link(model) == url
    assert links.query(page.name, **given_values) == raw
    # A link with no parameters is the bare path, and reads back as the defaults.
    assert links.link(page.name) == page.path
    empty = page.read({}, choices=choices_of(page))
    assert (empty.values, empty.notices, empty.model) == ({}, [], page.params())


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_bad_value_becomes_the_default_with_a_notice(page: pages.Page[Any]) -> None:
    defaults = page.params()
    for url, kind in url_fields(page.params).items():
        bad = "not a value \x00" if kind.kind in ("text", "slug") else "9" * 30 + "!"
        reading = page.read({url: bad}, choices=choices_of(page))
        assert reading.values == {}, url
        assert reading.model == defaults, url
        (notice,) = reading.notices
        assert f"`{url}`" in notice, notice


def test_links_refuse_parameters_a_page_does_not_take() -> None:
    with pytest.raises(ValueError, match="takes no parameter"):
        links.link("agent", tenant="x")
    with pytest.raises(ValidationError):
        pages.AgentParams(tenant="x")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="needs the allowed values"):
        pages.HEALTH.read({"check": "x"})


def test_a_model_link_carries_only_the_fields_that_were_set() -> None:
    assert links.link(pages.CompareParams(agent=None, left=1, right=2)) == "/compare?left=1&right=2"
    assert links.link(pages.RosterParams(sort="name")) == "/roster?sort=name"
    assert links.link(pages.RosterParams()) == "/roster"  # the default sort is not written
    assert links.link(pages.AuditParams(from_=date(2026, 1, 2))) == "/audit?from=2026-01-02"


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(PAGES),
    st.dictionaries(
        st.sampled_from(sorted({url for p in PAGES for url in url_fields(p.params)})),
        st.one_of(
            st.text(max_size=40),
            st.sampled_from(["9999-12-31", "2147483648", "\x00", "ImEi", "name", "raw", "2026-01-01"]),
            st.lists(st.text(max_size=10), max_size=3),
        ),
    ),
)
def test_reading_never_raises_and_only_passes_safe_values(page: pages.Page[Any], raw: dict) -> None:
    reading = page.read(raw, choices=choices_of(page))
    for name, value in reading.values.items():
        if isinstance(value, str):
            assert not any(unicodedata.category(c) in ("Cc", "Cs") for c in value), (name, value)
        if isinstance(value, date):
            assert MIN_DATE <= value <= MAX_DATE
        if isinstance(value, int):
            assert MIN_INT <= value <= MAX_INT
    assert len(reading.values) + len(reading.notices) <= len(raw)
    for notice in reading.notices:
        assert len(notice) < 300 and not any(unicodedata.category(c) == "Cc" for c in notice)


def _by_attr(page: pages.Page[Any], values: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    return {
        name: values
        for name, f in page.params.model_fields.items()
        if url_fields(page.params)[f.alias or name].kind == CHOSEN
    }
