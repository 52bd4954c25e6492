"""Runtime sessions (Dify 1.15-1.16): filtered, keyset-paginated in id order, bounded wherever no index serves the filter.

What Dify's indexes serve (shared/notes/scale-facts.md): the primary key (id order = creation order,
the ids being UUIDv7), workspace + workflow run (`agent_runtime_session_workflow_lookup_idx`),
workspace + conversation (`agent_runtime_session_conversation_lookup_idx`) and the backend run id.
There is no index on status, updated_at, app or agent. So:

* no filter: a keyset walk of the primary key;
* a `run` or `conversation` filter: a seek on the lookup index (the workspace is taken from the
  filter, else from the run / conversation row, else every workspace: `tenant_id IN (...)`);
* anything else: a *bounded scan*. A page reads at most `scan_limit` rows in id order below (or
  above) its cursor, returns the matches among them, and says so (`Access`). The next page continues
  where the window ended. The page also gets the exact `CREATE INDEX CONCURRENTLY` that would serve
  the filter; if such an index exists (found by `session_indexes`), the window counts only the rows
  that index yields, so equality filters fill their page at once. The app never creates indexes.

No OFFSET paging: cursors are opaque ids. (A bounded window's far edge is found with an OFFSET of at most
`scan_limit` primary-key entries: an index-only walk.) Reading a row never raises on bad JSON or unknown
enum values.

Modules, one concern each: `filter` (the filter and its SQL), `index_plan` (indexes, access plans),
`rows` (a list row's columns and decoration), `session_list` (pages, "everything matching"),
`session_detail` (one session). Import from the package: `from data.stores import sessions`.
"""

from data.paging import InvalidCursor
from data.snapshot_layers import LIST_PARSE_CHARS, MAX_RAW_CHARS, Layer, LayerSummary, parse_layers
from data.stores.id_keyset import Access
from data.stores.sessions.filter import (
    ID_CLOCK_MARGIN,
    OWNER_TYPES,
    STATUSES,
    S,
    SessionFilter,
    conditions,
    id_ceiling,
    uuidv7_floor,
)
from data.stores.sessions.index_plan import (
    CONVERSATION_LOOKUP_INDEX,
    MAX_WORKSPACES,
    PRIMARY_KEY,
    SCAN_LIMIT,
    WORKFLOW_LOOKUP_INDEX,
    IndexInfo,
    Plan,
    plan_access,
    session_indexes,
    suggest_index,
    usable_index,
)
from data.stores.sessions.rows import SessionRow, decorate, owner_label, row_columns
from data.stores.sessions.session_detail import (
    BindingInfo,
    ConversationInfo,
    LayerSpec,
    RunInfo,
    SessionDetail,
    get_session,
)
from data.stores.sessions.session_list import (
    COLLECT_WINDOW,
    PAGE_SIZE,
    Collected,
    SessionPage,
    collect_ids,
    explain_page,
    list_sessions,
)

__all__ = [
    "COLLECT_WINDOW",
    "CONVERSATION_LOOKUP_INDEX",
    "ID_CLOCK_MARGIN",
    "LIST_PARSE_CHARS",
    "MAX_RAW_CHARS",
    "MAX_WORKSPACES",
    "OWNER_TYPES",
    "PAGE_SIZE",
    "PRIMARY_KEY",
    "SCAN_LIMIT",
    "STATUSES",
    "WORKFLOW_LOOKUP_INDEX",
    "Access",
    "BindingInfo",
    "Collected",
    "ConversationInfo",
    "IndexInfo",
    "InvalidCursor",
    "Layer",
    "LayerSpec",
    "LayerSummary",
    "Plan",
    "RunInfo",
    "S",
    "SessionDetail",
    "SessionFilter",
    "SessionPage",
    "SessionRow",
    "collect_ids",
    "conditions",
    "decorate",
    "explain_page",
    "get_session",
    "id_ceiling",
    "list_sessions",
    "owner_label",
    "parse_layers",
    "plan_access",
    "row_columns",
    "session_indexes",
    "suggest_index",
    "usable_index",
    "uuidv7_floor",
]
