"""Compare (`/compare`): a semantic, masked diff of two Agent Soul versions, any two snapshots or drafts
(Dify 1.16+; a draft may face a snapshot), or two bindings' node-job configs."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data import links, pages
from data.diff import (
    DiffResult,
    binding_matches,
    diff_configs,
    format_value,
    normalized_json,
    side_titles,
    unified_lines,
)
from data.stores import compare as compare_store
from data.stores import roster as roster_store
from ui import context, diff_view, render
from ui.render import already_masked, notice_invalid, page_url_box, replace_params, safe_md, set_params, utc

VIEWS = pages.VIEWS

report = context.schema_report()
has_accounts = report.has_table("accounts")
params = pages.COMPARE.read(dict(st.query_params))
values = dict(params.values)
notice_invalid(params.notices)
view = params.model.view
st.title("Compare")


def pick_agent() -> None:
    with st.form("compare-pick"):
        q = st.text_input("Find an agent by name")
        if st.form_submit_button("Search") and q.strip():
            st.session_state["compare-search"] = q.strip()
    query = st.session_state.get("compare-search")
    if query:
        page = context.read(
            roster_store.list_roster,
            roster_store.RosterFilter(tenant_id=context.scoped_tenant(None), name_query=query),
            has_tenants=report.has_table("tenants"),
            has_accounts=has_accounts,
        )
        for row in page.rows[:20]:
            st.page_link(
                "app_pages/compare.py",
                label=safe_md(f"{row.name} · {row.workspace}"),
                query_params={"agent": row.id},
            )


# --- resolve the two sides --------------------------------------------------------------------
read = context.read_context()  # lookups by id answer "not found" outside the role's workspace
left = right = None
kind = "soul"
versions = None
if values.get("left_binding") or values.get("right_binding"):
    kind = "node_job"
    if not (values.get("left_binding") and values.get("right_binding")):
        st.warning("Comparing bindings needs both `left_binding` and `right_binding`.")
        st.stop()
    left = context.read(compare_store.binding_side, values["left_binding"], has_accounts, read=read)
    right = context.read(compare_store.binding_side, values["right_binding"], has_accounts, read=read)
elif any(values.get(f"{name}_{what}") for name in ("left", "right") for what in ("snapshot", "draft")):
    sides = []
    for name in ("left", "right"):
        snapshot_id, draft_id = values.get(f"{name}_snapshot"), values.get(f"{name}_draft")
        if not (snapshot_id or draft_id):
            st.warning(
                "Comparing snapshots or drafts needs a left side (`left_snapshot` or `left_draft`) "
                "and a right side (`right_snapshot` or `right_draft`)."
            )
            st.stop()
        if snapshot_id and draft_id:
            notice_invalid(
                [f"Both {name}_snapshot and {name}_draft were given; the {name} side is the draft."]
            )
        if draft_id:
            if not report.has_table("agent_config_drafts"):
                st.warning(
                    "This database has no `agent_config_drafts` table (Dify 1.16 and later have it): "
                    "a draft cannot be compared here."
                )
                st.stop()
            sides.append(context.read(compare_store.draft_side, draft_id, has_accounts, read=read))
        else:
            sides.append(context.read(compare_store.snapshot_side, snapshot_id, has_accounts, read=read))
    left, right = sides
elif values.get("agent"):
    versions = context.read(compare_store.agent_versions, values["agent"], read=read)
    if versions is None:
        st.warning(safe_md(f"No agent has id {values['agent']}."))
        context.scope_note()
        pick_agent()
        st.stop()
    pair = compare_store.default_pair(versions)
    if pair is None:
        st.info("This agent has no snapshots.")
        st.stop()
    left_version = values.get("left", pair[0])
    right_version = values.get("right", pair[1])
    for name, number in (("left", left_version), ("right", right_version)):
        if number not in versions.versions:
            notice_invalid(
                [f"Version {number} ({name}) does not exist for this agent; showing the default pair."]
            )
            left_version, right_version = pair
    render.text(f"Agent: {versions.name}")
    pick = st.columns([1, 1, 1, 1, 2])
    choices = list(versions.versions)
    new_left = pick[0].selectbox("Left version", choices, index=choices.index(left_version))
    new_right = pick[1].selectbox("Right version", choices, index=choices.index(right_version))
    if (new_left, new_right) != (left_version, right_version):
        set_params(agent=versions.agent_id, left=new_left, right=new_right, view=values.get("view"))
    position = choices.index(right_version)
    if position >= 2:
        pick[2].button(
            "← Previous pair",
            on_click=replace_params,
            kwargs={
                "agent": versions.agent_id,
                "left": choices[position - 2],
                "right": choices[position - 1],
                "view": values.get("view"),
            },
        )
    if position + 1 < len(choices):
        pick[3].button(
            "Next pair →",
            on_click=replace_params,
            kwargs={
                "agent": versions.agent_id,
                "left": choices[position],
                "right": choices[position + 1],
                "view": values.get("view"),
            },
        )
    left_id = context.read(
        compare_store.snapshot_id_for_version, agent_id=versions.agent_id, version=left_version, read=read
    )
    right_id = context.read(
        compare_store.snapshot_id_for_version, agent_id=versions.agent_id, version=right_version, read=read
    )
    left = context.read(compare_store.snapshot_side, left_id, has_accounts, read=read) if left_id else None
    right = context.read(compare_store.snapshot_side, right_id, has_accounts, read=read) if right_id else None
else:
    st.info("Pick an agent to compare its versions.")
    pick_agent()
    st.stop()

if left is None or right is None:
    st.error("One side of this comparison does not exist (its row is missing).")
    context.scope_note()
    st.stop()

# --- headers ----------------------------------------------------------------------------------
pins = None
if values.get("binding"):
    if left.kind == "snapshot" and right.kind == "snapshot":
        pins = context.read(compare_store.binding_pins, values["binding"], tenant_id=left.tenant_id)
    if pins is None or not binding_matches(left.facts(), right.facts(), pins):
        notice_invalid(
            [
                f"Binding {values['binding']} pins and runs neither side of this comparison (or is not in "
                "this workspace): the sides are named by version."
            ]
        )
        pins = None
titles = side_titles(left.facts(), right.facts(), binding=pins)
for column, side, title in zip(st.columns(2), (left, right), titles, strict=True):
    with column:
        st.subheader(safe_md(title))
        # One compact block per side (the labels are ours, every value goes through safe_md), so the changes
        # start on the first screen.
        operations = ", ".join(op.label() for op in side.operations)
        st.markdown(
            f"**What:** {safe_md(side.label)}"
            + (f" · **Operations:** {safe_md(operations)}" if side.operations else "")
            + f"  \n**Note:** {safe_md(side.note or '—')}"
            + f"  \n**{safe_md(side.author_label)}:** {safe_md(side.author or '—')}"
            + f" · **{safe_md(side.time_label)}:** {safe_md(utc(side.created_at))}"
        )

result: DiffResult = diff_configs(left.text, right.text, kind)  # ~6 ms for two 200 KB configs
chosen = st.radio("View", VIEWS, index=VIEWS.index(view), horizontal=True, label_visibility="collapsed")
if chosen != view:
    set_params(**{**values, "view": None if chosen == "summary" else chosen})

if result.left_error:
    st.warning(safe_md(f"Left side is not a JSON object ({result.left_error}); compared as text."))
if result.right_error:
    st.warning(safe_md(f"Right side is not a JSON object ({result.right_error}); compared as text."))
for note in result.notes:
    st.caption(safe_md(note))
if result.equal:
    st.success("No changes: the normalized documents are equal.")
else:
    changed = [
        f"{section}: {count:,} change{'s' if count != 1 else ''}"
        for section, count in result.counts_by_section.items()
        if count
    ]
    st.caption(safe_md(f"{result.summary} — " + " · ".join(changed)))

if view == "summary":
    for section, count in result.counts_by_section.items():
        if not count:
            continue
        with st.expander(
            f"{safe_md(section)}: {count:,} change{'s' if count != 1 else ''}", expanded=count <= 10
        ):
            rows = []
            for change in result.changes_in(section):
                # JSON, not Python reprs; nothing on the side where the value does not exist.
                old = "" if change.kind == "added" else format_value(change.old)
                new = "" if change.kind == "removed" else format_value(change.new)
                if change.kind == "moved":
                    old, new = f"index {change.old}", f"index {change.new}"
                if change.text is not None:
                    old = diff_view.count_lines(change.text.removed + change.text.changed)
                    new = diff_view.count_lines(change.text.added + change.text.changed)
                rows.append({"path": change.display, "change": change.kind, "old": old, "new": new})
            render.table(  # the diff masked every value it shows
                pd.DataFrame(rows, columns=["path", "change", "old", "new"]),
                masked_columns=("path", "old", "new"),
                hide_index=True,
                width="stretch",
            )
            for change in result.changes_in(section):
                if change.text is not None and change.text.hunks:
                    render.trusted_html(diff_view.text_change_view(change))
elif view in ("split", "unified"):
    labels = [
        diff_view.SideLabel(title, side.note, side.author, side.author_label)
        for title, side in zip(titles, (left, right), strict=True)
    ]
    build = diff_view.split_view if view == "split" else diff_view.unified_view
    render.trusted_html(build(result, *labels))
    if view == "unified":
        with st.expander("Plain text (for copying)"):
            render.code(already_masked("\n".join(unified_lines(result))), language="diff")
else:
    raw_cols = st.columns(2)
    render.code(already_masked(normalized_json(left.text, kind)), "json", container=raw_cols[0])
    render.code(already_masked(normalized_json(right.text, kind)), "json", container=raw_cols[1])

page_url_box(links.link("compare", **values))
