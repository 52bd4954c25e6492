"""SQL of the integrity checks; `data.services.integrity` names, grades and links what these find.

Dify declares no foreign keys, so every reference between the agent tables can dangle. Each check
here reads one *driving* table and tests every row it reads:

* The driving read filters by workspace only (for one workspace, a seek on a `tenant_id`-leading
  index Dify ships; for all, the table from its start) and stops after `Scope.scan_limit` rows: no
  check ever reads more rows than that from its driving table. Candidate conditions (e.g. "has a
  snapshot id") are tested on the rows read, never inside the bounded read, so they cannot make it
  read more.
* "Names a row that does not exist" is tested set-based, one statement per window: the window LEFT
  JOINs the referenced rows it names, fetched by one primary-key index scan of the window's keys
  (`id = ANY(<the window's ids as an array>)` on PostgreSQL), and `WHERE t.id IS NULL` makes it an
  anti-join (see `base._lookup` and `_find`). Never a scan of the referenced table, never a probe per
  row. Tests of a property of the referenced row (archived agent, snapshot of another agent) and the
  sample rows' extra columns still probe per row with correlated scalar subqueries (`_exists`): there
  the join is an inner join, which the planner may turn around into a nested loop that repeats the
  key-list index scan for every row of the window (measured at L: a statement timeout).
* A `Finding` says how many rows were read and whether the bound was reached (then its count is a
  lower bound: "≥ N").
JSON is never cast in SQL (a cast aborts the query on the first bad text). Where the database has a
validity test that never raises (`pg_input_is_valid` on PostgreSQL 16+, `JSON_VALID` on MySQL and
MariaDB, `json_valid` on SQLite), it rejects the surely-fine texts and Python parses only the
candidates; elsewhere (PostgreSQL 15) every text is streamed in batches and parsed in Python.

Windows (background jobs, `data.services.check_jobs`): a `Scope` may carry a key range
(`key_after`, `key_upto`]: the driving read then covers exactly that range of its driving key (the
uuidv7 `id`, or `agent_id` for the gap checks), so a job walks a table window by window in key order
and can resume after the last key it saw. `only_ids` re-reads given rows (an incremental run
re-verifies what the last run found). `table` restricts a multi-table check to one driving table.

Modules, one family of checks each: `base` (scope, findings, the bounded driving read and its probes),
`bindings`, `agents` (snapshots, revisions, numbering gaps), `sessions`, `stored_values` (enums, JSON),
`newer` (drafts, working environments, home snapshots). Import from the package.
"""

from data.stores.integrity.agents import (
    agent_active_snapshot_foreign,
    agent_active_snapshot_missing,
    revision_gaps,
    revision_missing_snapshot,
    snapshot_missing_agent,
    version_gaps,
    workflow_only_agent_unreferenced,
)
from data.stores.integrity.base import (
    DRAFTS,
    MAX_LISTED_GAPS,
    SAMPLE_LIMIT,
    SCAN_LIMIT,
    SEED_TABLES,
    STREAM_BATCH,
    Anomaly,
    Finding,
    Revision,
    Scope,
    Session,
    Snapshot,
    table_estimate,
    window_upto,
)
from data.stores.integrity.bindings import (
    archived_agent_bound_in_draft,
    binding_foreign_snapshot,
    binding_missing_agent,
    binding_missing_snapshot,
)
from data.stores.integrity.newer import (
    agent_backing_app_missing,
    binding_pointer_missing,
    draft_missing_base_snapshot,
    home_snapshot_reference_missing,
    workspace_binding_missing_workspace,
)
from data.stores.integrity.sessions import (
    session_missing_agent,
    session_missing_binding,
    session_missing_snapshot,
    session_owner_mismatch,
)
from data.stores.integrity.stored_values import JsonColumn, invalid_json, json_prefilter, unknown_enum_values

__all__ = [
    "DRAFTS",
    "MAX_LISTED_GAPS",
    "SAMPLE_LIMIT",
    "SCAN_LIMIT",
    "SEED_TABLES",
    "STREAM_BATCH",
    "Anomaly",
    "Finding",
    "JsonColumn",
    "Revision",
    "Scope",
    "Session",
    "Snapshot",
    "agent_active_snapshot_foreign",
    "agent_active_snapshot_missing",
    "agent_backing_app_missing",
    "archived_agent_bound_in_draft",
    "binding_foreign_snapshot",
    "binding_missing_agent",
    "binding_missing_snapshot",
    "binding_pointer_missing",
    "draft_missing_base_snapshot",
    "home_snapshot_reference_missing",
    "invalid_json",
    "json_prefilter",
    "revision_gaps",
    "revision_missing_snapshot",
    "session_missing_agent",
    "session_missing_binding",
    "session_missing_snapshot",
    "session_owner_mismatch",
    "snapshot_missing_agent",
    "table_estimate",
    "unknown_enum_values",
    "version_gaps",
    "window_upto",
    "workflow_only_agent_unreferenced",
    "workspace_binding_missing_workspace",
]
