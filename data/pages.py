"""The page registry: one declaration per page is the URL contract (shared/design/interfaces.md).

Each `Page` declares its URL path, title, icon, place in the navigation (a section, or a hidden detail
page reachable by URL and links only), its script under `app_pages/`, and a pydantic model of its URL
parameters. Everything else comes from here: `app.py` builds `st.navigation` from `PAGES`, `data.links`
builds every link from the models, each page reads its parameters with `Page.read`, and the tests are
generated from the registry (tests/test_pages.py).

Reading is tolerant, with the invariants of `data.params` (tests/test_params_fuzz.py): a missing
parameter takes the model's default; a bad value is dropped (so it takes the default too) with a notice
the page shows; nothing a reader gets carries a control character or is out of range.

Pure: no streamlit, no database code. The allowed values of a few parameters belong to layers above
(the integrity checks' names, the leak rules and owner types of this database's Dify generation), so
those fields are `Chosen` and the page passes the values when it reads (`read(..., choices=...)`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, ValidationInfo
from pydantic_core import PydanticCustomError

from data.params import MAX_DATE, MAX_INT, MIN_DATE, MIN_INT, given_text, invalid_notice, parse_value

# --- parameter kinds --------------------------------------------------------------------------------

#: The kind of a field whose allowed values the page passes when it reads (`Page.read(choices=...)`).
CHOSEN = "chosen"
_ERROR = "url_parameter"


@dataclass(frozen=True)
class Kind:
    """How one URL parameter is read: a `data.params` kind ("uuid", "date", "int", "slug", "text",
    "cursor"), a tuple of allowed values, or CHOSEN."""

    kind: object

    @property
    def label(self) -> str:
        """ "choice" for any set of allowed values, else the kind's name (what the fuzz test drives)."""
        return self.kind if isinstance(self.kind, str) and self.kind != CHOSEN else "choice"


def _checker(kind: object) -> Callable[[Any, ValidationInfo], Any]:
    def check(value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return None
        allowed = kind
        if kind == CHOSEN:
            given = ((info.context or {}).get("choices") or {}).get(info.field_name)
            allowed = tuple(given) if given is not None else "slug"  # no choices: at least a safe slug
        problem: str | None
        if isinstance(value, str):
            parsed, problem = parse_value(value.strip(), allowed)
        elif allowed == "int" and isinstance(value, int) and not isinstance(value, bool):
            parsed, problem = value, None if MIN_INT <= value <= MAX_INT else "out of range"
        elif allowed == "date" and isinstance(value, date):
            parsed, problem = value, None if MIN_DATE <= value <= MAX_DATE else "out of range"
        else:
            parsed, problem = None, "not a text value"
        if problem is not None:
            raise PydanticCustomError(_ERROR, "{problem}", {"problem": problem})
        return parsed

    return check


Uuid = Annotated[str | None, Kind("uuid"), BeforeValidator(_checker("uuid"))]
Day = Annotated[date | None, Kind("date"), BeforeValidator(_checker("date"))]
Int = Annotated[int | None, Kind("int"), BeforeValidator(_checker("int"))]
#: Enum-like values, known or not (a newer Dify writes new ones).
Slug = Annotated[str | None, Kind("slug"), BeforeValidator(_checker("slug"))]
Text = Annotated[str | None, Kind("text"), BeforeValidator(_checker("text"))]
Cursor = Annotated[str | None, Kind("cursor"), BeforeValidator(_checker("cursor"))]
Chosen = Annotated[str | None, Kind(CHOSEN), BeforeValidator(_checker(CHOSEN))]

SORTS = ("updated", "name", "created")
VIEWS = ("summary", "split", "unified", "raw")
RosterSort = Annotated[Literal["updated", "name", "created"], Kind(SORTS), BeforeValidator(_checker(SORTS))]
CompareView = Annotated[
    Literal["summary", "split", "unified", "raw"], Kind(VIEWS), BeforeValidator(_checker(VIEWS))
]


# --- the models of each page's URL parameters ---------------------------------------------------------


class PageParams(BaseModel):
    """A page's URL parameters. Field order is the order links write them in; a field's alias is its
    URL name where that is not a Python name (`from`)."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_by_name=True, validate_by_alias=True)
    page: ClassVar[str]


class OverviewParams(PageParams):
    page = "overview"
    tenant: Uuid = None


class RosterParams(PageParams):
    page = "roster"
    tenant: Uuid = None
    q: Text = None  # a name substring or any pasted id
    scope: Slug = None
    status: Slug = None
    source: Slug = None
    kind: Slug = None
    updated_from: Day = None
    updated_to: Day = None
    sort: RosterSort = "updated"
    after: Cursor = None
    before: Cursor = None


class AgentParams(PageParams):
    page = "agent"
    agent: Uuid = None


class CompareParams(PageParams):
    page = "compare"
    agent: Uuid = None
    left: Int = None  # stored `version` integers of the agent's snapshots
    right: Int = None
    left_snapshot: Uuid = None  # snapshot ids (any agents): they win over left/right
    right_snapshot: Uuid = None
    left_draft: Uuid = None  # agent_config_drafts ids (Dify 1.16+)
    right_draft: Uuid = None
    left_binding: Uuid = None  # binding ids: their node-job configs
    right_binding: Uuid = None
    view: CompareView = "summary"
    binding: Uuid = None  # extension: the node binding whose pinned vs running snapshots these sides are


class BindingsParams(PageParams):
    page = "bindings"
    tenant: Uuid = None
    app: Uuid = None
    workflow: Uuid = None  # a workflows.id: the draft or one published version
    node: Text = None
    against: Uuid = None  # another workflows.id of the same app


class HealthParams(PageParams):
    page = "health"
    tenant: Uuid = None
    check: Chosen = None  # an integrity check's name (data.services.integrity.ALL_CHECK_NAMES)


class SessionsParams(PageParams):
    page = "sessions"
    tenant: Uuid = None
    app: Uuid = None
    agent: Uuid = None
    owner: Chosen = None  # owner types of this database's generation
    status: Slug = None  # known or not (a newer Dify may write other values)
    rule: Chosen = None  # leak rules of this database's generation
    run: Uuid = None
    conversation: Uuid = None
    workspace: Uuid = None  # Dify 1.17+: an agent_workspaces id
    updated_from: Day = None
    updated_to: Day = None
    after: Cursor = None
    before: Cursor = None
    session: Uuid = None  # one row's detail: a runtime session id, or on 1.17+ a workspace binding id


class AuditParams(PageParams):
    page = "audit"
    actor: Text = None
    action: Slug = None
    tenant: Uuid = None
    target: Uuid = None  # any id
    from_: Day = Field(None, alias="from")
    to: Day = None


# --- the pages ----------------------------------------------------------------------------------------

M = TypeVar("M", bound=PageParams)


@dataclass(frozen=True)
class Reading(Generic[M]):
    """What a page read from its URL: the typed model (defaults filled in), the valid parameters the
    URL gave by URL name (what a link back to this view carries), and the notices to show."""

    model: M
    values: dict[str, object]
    notices: list[str]


@dataclass(frozen=True)
class Page(Generic[M]):
    name: str  # the key links and tests use: "roster"
    url_path: str  # "roster" (served at /roster); "" for the default page at /
    title: str
    icon: str
    section: str  # the navigation section
    script: str  # relative to app.py: "app_pages/roster.py"
    params: type[M]
    hidden: bool = False  # a detail page: in no menu, reachable by URL, links and switch_page

    @property
    def path(self) -> str:
        return "/" + self.url_path

    @property
    def default(self) -> bool:
        return self.url_path == ""

    def read(
        self, raw: Mapping[str, Any], *, choices: Mapping[str, tuple[str, ...]] | None = None
    ) -> Reading[M]:
        """The page's parameters from `raw` (st.query_params, or any mapping of URL name to a string or
        a list of strings: the last one counts). Never raises on any input; `choices` gives the allowed
        values of every `Chosen` field (a missing one is a programming error)."""
        fields = url_fields(self.params)
        missing = [url for url, kind in fields.items() if kind.kind == CHOSEN and url not in (choices or {})]
        if missing:
            raise ValueError(f"{self.name}: read() needs the allowed values of {missing}")
        texts: dict[str, str] = {}
        notices: dict[str, str] = {}
        for url in fields:
            text, notice = given_text(raw, url)
            if notice is not None:
                notices[url] = notice
            if text is not None:
                texts[url] = text
        context = {"choices": {_attr(self.params, url): tuple(v) for url, v in (choices or {}).items()}}
        try:
            model = self.params.model_validate(texts, context=context)
        except ValidationError as exc:
            for error in exc.errors():
                url = str(error["loc"][0])
                notices[url] = invalid_notice(url, error["msg"], texts[url])
            texts = {url: text for url, text in texts.items() if url not in notices}
            model = self.params.model_validate(texts, context=context)
        values = {url: getattr(model, _attr(self.params, url)) for url in fields if url in texts}
        return Reading(model, values, [notices[url] for url in fields if url in notices])


PAGES: tuple[Page[Any], ...] = (
    Page("overview", "", "Overview", "🏠", "Agents", "app_pages/overview.py", OverviewParams),
    Page("roster", "roster", "Roster", "🗂️", "Agents", "app_pages/roster.py", RosterParams),
    Page("agent", "agent", "Agent", "🤖", "Agents", "app_pages/agent.py", AgentParams, hidden=True),
    Page("compare", "compare", "Compare", "🔀", "Agents", "app_pages/compare.py", CompareParams),
    Page("bindings", "bindings", "Bindings", "🔗", "Agents", "app_pages/bindings.py", BindingsParams),
    Page("health", "health", "Health", "🩺", "Operations", "app_pages/health.py", HealthParams),
    Page("sessions", "sessions", "Sessions", "🧹", "Operations", "app_pages/sessions.py", SessionsParams),
    Page("audit", "audit", "Audit", "📜", "Operations", "app_pages/audit.py", AuditParams),
)
BY_NAME: dict[str, Page[Any]] = {p.name: p for p in PAGES}

OVERVIEW: Page[OverviewParams] = BY_NAME["overview"]
ROSTER: Page[RosterParams] = BY_NAME["roster"]
AGENT: Page[AgentParams] = BY_NAME["agent"]
COMPARE: Page[CompareParams] = BY_NAME["compare"]
BINDINGS: Page[BindingsParams] = BY_NAME["bindings"]
HEALTH: Page[HealthParams] = BY_NAME["health"]
SESSIONS: Page[SessionsParams] = BY_NAME["sessions"]
AUDIT: Page[AuditParams] = BY_NAME["audit"]


def page_of(params: PageParams) -> Page[Any]:
    return BY_NAME[type(params).page]


def sections() -> dict[str, list[Page[Any]]]:
    """The navigation: section label -> its pages in registry order (hidden ones included: Streamlit
    must know a page to serve its URL)."""
    grouped: dict[str, list[Page[Any]]] = {}
    for page in PAGES:
        grouped.setdefault(page.section, []).append(page)
    return grouped


def url_fields(model: type[PageParams]) -> dict[str, Kind]:
    """URL name -> how it is read, in declaration (link) order."""
    return {(f.alias or name): _kind(f.metadata, name) for name, f in model.model_fields.items()}


def _kind(metadata: list[Any], name: str) -> Kind:
    for item in metadata:
        if isinstance(item, Kind):
            return item
    raise TypeError(f"URL parameter {name!r} declares no Kind")


def _attr(model: type[PageParams], url: str) -> str:
    for name, f in model.model_fields.items():
        if (f.alias or name) == url:
            return name
    raise ValueError(f"{model.page} takes no parameter {url!r}")
