"""Deterministic demo data: what a Dify database's agent tables look like after months of real use.

The story (scale S, the embedded demo): three workspaces.

* **Acme Robotics** runs customer support on Dify. Its showcase agent, "Acme Support Assistant", is a
  roster agent behind an Agent App, edited many times (every edit kind, including the newer
  `restore_version` / `publish_draft`). The chatflow "Support Ticket Triage" uses it through a roster
  binding that still pins an older snapshot (drift), an inline ticket classifier, and an escalation
  node that was promoted with save-to-roster (the old workflow-only agent stays behind, active and
  unreferenced). "Weekly Market Research Digest" still binds an agent that has since been archived,
  so its recent scheduled runs fail. "Employee Onboarding Flow" (never published) has dangling
  bindings: an agent that was deleted by hand, a missing snapshot, another agent's snapshot. Acme
  also owns the hostile rows: HTML/markdown and RTL names, snapshots with invalid or non-object JSON,
  a 200 KB prompt, unknown enum values.
* **Northwind Health** has a patient intake Agent App, a clinical intake chatflow, an agent written by
  a newer Dify (Gen E soul, source `roster`), imported and system agents, and a name reused after
  archiving.
* **Globex Research Lab** runs a literature review pipeline; one of its agents has snapshots that
  data migration 89919253ca7a rewrote (compact, unsorted keys, ASCII escapes).

Runtime sessions cover both owners and both statuses, from minutes to months old: finished runs that
still hold ACTIVE sessions (leaks), paused and running runs, a conversation with two active sessions
for different snapshots (superseded), deleted and missing conversations, missing runs and agents.

On top of the story, every scale adds generated "blocks" per workspace (roster agents, Agent Apps
with conversations, workflow apps with draft and published bindings and runs), streamed into the
database in chunks, so scale L (benchmark size) never holds more than one block in memory.

Rules the data follows (see shared/reference/dify-agent-schema.md):

* Every timestamp is `now` minus an offset drawn from the seeded RNG, so a frozen `now` freezes the
  data and another `now` shifts every timestamp by the same delta. The same (now, scale, seed) gives
  byte-identical rows. Only `random.Random` is used (no clock, no uuid4()).
* Agent-table ids are UUIDv7 carrying their row's creation millisecond; core-table ids are
  RNG-drawn UUIDv4. The well-known ids in `DemoIds` are fixed strings (their v7 millisecond is a
  fixed 2026-05-29 instant and does not follow `now`).
* Snapshot JSON is AgentSoulConfig as Dify's ORM stores it: compact, key-sorted, defaults
  materialized. Versions and revisions follow section 6 (max+1 numbering, `previous_snapshot_id`
  only for `save_current_version`, `restore_version` creates no snapshot).
* The computed `agents.roster_unique_name` is never written; active roster names are unique per
  workspace (the database enforces it).

Where it lives: `ids.py` (the well-known ids), `scales.py` (scales, the summary), `catalog.py` (the
vocabulary: tools, models, personas, names), `documents.py` (the JSON documents), `builders.py` (one
builder per core row shape both generations write), `agents.py`, `workflows.py`, `sessions.py` (the row
writers), `tenants.py`, `stories/` (one module per workspace, plus the 1.17-only rows), `bulk.py`
(generated blocks), `sink.py` / `workspaces_sink.py` (how rows reach the database per generation) and
`seed.py` (orchestration).
"""

from __future__ import annotations

from data.demo.catalog import PERSONA
from data.demo.documents import _blank_soul, _job_doc
from data.demo.ids import GEN_E_CLI_TOOL_ID, DemoIds, WorkspaceIds
from data.demo.primitives import _orm_json
from data.demo.scales import CHUNK_SIZE, SCALES, DemoSummary, Scale
from data.demo.seed import seed_demo

__all__ = [
    "CHUNK_SIZE",
    "GEN_E_CLI_TOOL_ID",
    "PERSONA",
    "SCALES",
    "DemoIds",
    "DemoSummary",
    "Scale",
    "WorkspaceIds",
    "_blank_soul",
    "_job_doc",
    "_orm_json",
    "seed_demo",
]
