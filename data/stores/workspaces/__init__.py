"""Dify 1.17+ working environments: workspace bindings with their workspace, keyset pages in id order,
rule counts, one binding's and one workspace's detail, and the ids a rule selects.

What Dify's indexes serve (reference section 3): bindings (tenant_id, agent_id, status), (tenant_id,
workspace_id, status), (status, retired_at); workspaces (tenant_id, status), (tenant_id, app_id,
status), (status, retired_at), the owner unique index. A list filter made only of what these serve is
*served* (a direct keyset query); any other condition (a rule other than `uncollected`, owner type
without a run or conversation, an `updated_*` range, app or agent without a workspace) makes it a
*bounded scan*: a page reads at most `scan_limit` candidate bindings in id order (the served
conditions pick the candidates) and shows the matches among them, and says so.

Invariants: never OFFSET for paging (cursors are opaque ids); the tenant id is in every join; reading
a row never raises on bad JSON or unknown values; every document leaves here masked.

Modules, one concern each: `binding_list` (filter, plan, pages), `binding_rows` (a row's columns and
decoration), `facts` (rule facts by id), `rule_targets` (what a rule selects, counts per rule),
`workspace_detail` (one binding, one workspace). Import from the package.
"""

from data.paging import InvalidCursor
from data.stores.id_keyset import Access
from data.stores.workspaces.binding_list import (
    BINDING_AGENT_INDEX,
    BINDING_RETIRED_INDEX,
    BINDING_WORKSPACE_INDEX,
    PAGE_SIZE,
    SCAN_LIMIT,
    WORKSPACE_APP_INDEX,
    WORKSPACE_OWNER_INDEX,
    BindingPage,
    WorkspaceFilter,
    conditions,
    list_bindings,
)
from data.stores.workspaces.binding_rows import BindingRow, decorate, owner_label, row_columns
from data.stores.workspaces.facts import (
    CHUNK,
    active_bindings_of,
    load_binding_facts,
    load_home_facts,
    load_workspace_facts,
)
from data.stores.workspaces.rule_targets import (
    COLLECT_WINDOW,
    COUNT_CAP,
    COUNT_SCAN,
    RuleCount,
    RuleCounts,
    RuleTargets,
    collect_rule_targets,
    rule_counts,
)
from data.stores.workspaces.workspace_detail import (
    BindingDetail,
    CallerPointer,
    OwnerInfo,
    WorkspaceDetail,
    WorkspaceRow,
    binding_snapshot_for_reveal,
    get_binding,
    get_workspace,
    workspaces_matching,
)

__all__ = [
    "BINDING_AGENT_INDEX",
    "BINDING_RETIRED_INDEX",
    "BINDING_WORKSPACE_INDEX",
    "CHUNK",
    "COLLECT_WINDOW",
    "COUNT_CAP",
    "COUNT_SCAN",
    "PAGE_SIZE",
    "SCAN_LIMIT",
    "WORKSPACE_APP_INDEX",
    "WORKSPACE_OWNER_INDEX",
    "Access",
    "BindingDetail",
    "BindingPage",
    "BindingRow",
    "CallerPointer",
    "InvalidCursor",
    "OwnerInfo",
    "RuleCount",
    "RuleCounts",
    "RuleTargets",
    "WorkspaceDetail",
    "WorkspaceFilter",
    "WorkspaceRow",
    "active_bindings_of",
    "binding_snapshot_for_reveal",
    "collect_rule_targets",
    "conditions",
    "decorate",
    "get_binding",
    "get_workspace",
    "list_bindings",
    "load_binding_facts",
    "load_home_facts",
    "load_workspace_facts",
    "owner_label",
    "row_columns",
    "rule_counts",
    "workspaces_matching",
]
