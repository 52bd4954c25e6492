"""`python -m data sessions clean|collect` on a Dify 1.17+ database (working environments).

Same exit codes and output shape as the runtime-session cleanup (`data.cli`): 0 done or nothing
found, 1 a batch failed, 2 usage error, 3 refused. `clean` retires (data.services.retire) and, with
`--collect`, hands the retired ids to Dify's collector after each batch; `collect` re-sends the
collection for rows already retired (`--rule uncollected`).
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from data.settings import Settings

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_REFUSED = 0, 1, 2, 3
SHOWN = 50
#: Rules only Dify 1.17+ databases have (the others exist in both generations).
WORKSPACE_ONLY = ("inconsistent", "uncollected")


def is_workspaces_generation(conn: sa.Connection, report: Any) -> bool:
    """Dify 1.17+: detected by the schema check from the tables present (never from a version string)."""
    from data.models.generations import WORKSPACES

    return report.generation == WORKSPACES


def rule_context(report: Any, settings: Settings, now: Any):
    from data.commands.workspaces import rule_context

    return rule_context(report, settings, now)


def _print_preview(preview: Any) -> None:
    for rule, count in preview.per_rule:
        print(f"  {rule}: {count}")
    for warning in preview.warnings:
        print(f"warning: {warning}")


def cmd_clean(
    args: argparse.Namespace,
    settings: Settings,
    engine: sa.Engine,
    report: Any,
    actor: Any,
) -> int:
    from data.actor import NotAllowed, WritesDisabled
    from data.commands import workspaces as commands
    from data.errors import AuditUnavailable
    from data.models import naive_utc_now
    from data.rules.workspace_leaks import RETIRE_RULES
    from data.stores.workspaces import collect_rule_targets

    if args.rule not in RETIRE_RULES:
        print(
            f"error: on Dify 1.17+ `clean` retires rows of {', '.join(RETIRE_RULES)}; "
            + (
                "`uncollected` rows are already retired: use `sessions collect`"
                if args.rule == "uncollected"
                else f"`{args.rule}` is a runtime-session rule"
            ),
            file=sys.stderr,
        )
        return EXIT_USAGE
    now = naive_utc_now()
    ctx = rule_context(report, settings, now)
    updated_before = now - args.older_than if args.older_than else None
    with engine.connect() as conn:
        targets = collect_rule_targets(
            conn, args.rule, ctx, tenant_id=args.tenant, updated_before=updated_before, cap=args.limit
        )
        flt = {
            "rule": args.rule,
            **({"tenant": args.tenant} if args.tenant else {}),
            **({"updated_before": updated_before.isoformat(sep=" ")} if updated_before else {}),
        }
        source = {**flt, "limit": args.limit, "complete": targets.complete, "via": "cli"}
    preview = commands.preview_retire(
        engine,
        ctx,
        workspace_ids=targets.workspace_ids,
        binding_ids=targets.binding_ids,
        source=source,
        rule=args.rule,
    )
    print("filter: " + ", ".join(f"{k}={v}" for k, v in flt.items()))
    print(f"requested: {preview.count}" + ("" if targets.complete else f" (limit {args.limit:,} reached)"))
    _print_preview(preview)
    if not preview.units:
        print("nothing to retire" + ("" if args.dry_run else "\ntransitioned: 0\nskipped: 0"))
        return EXIT_OK
    if args.dry_run:
        lines = [
            f"  would retire workspace {u.workspace_id}"
            for u in preview.units
            if u.retire_workspace or u.workspace_follows
        ]
        lines += [
            f"  would clear active_guard of workspace {u.workspace_id}"
            for u in preview.units
            if u.repair_guard
        ]
        lines += [f"  would retire binding {b}" for b in preview.binding_ids]
        for line in lines[:SHOWN]:
            print(line)
        if len(lines) > SHOWN:
            print(f"  ... and {len(lines) - SHOWN:,} more")
        print("dry run: nothing changed")
        return EXIT_OK
    collect = False
    if args.collect:
        from data.services.collector import NO_BROKER_NOTICE

        collect = commands.collector(settings).enabled
        if not collect:
            print(f"warning: {NO_BROKER_NOTICE}", file=sys.stderr)
    try:
        result = commands.apply_retire(
            engine, settings, actor, preview, ctx, reason=args.reason, collect=collect
        )
    except (NotAllowed, WritesDisabled, AuditUnavailable) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    print(f"transitioned: {len(result.transitioned)}")
    print(
        f"  workspaces retired: {len(result.retired_workspaces)}, bindings retired: {len(result.retired_bindings)}, guards cleared: {len(result.guards_cleared)}"
    )
    reasons = ", ".join(f"{why}: {len(ids)}" for why, ids in result.skipped)
    print(f"skipped: {result.skipped_count}" + (f" ({reasons})" if reasons else ""))
    print(f"audit action: {result.action_id}")
    if collect:
        outcomes = [e for batch in result.collection for e in batch]
        sent = sum(1 for e in outcomes if e.outcome.sent)
        print(f"collection: {sent} sent, {len(outcomes) - sent} failed")
        for e in outcomes:
            if not e.outcome.sent:
                print(f"warning: collection failed: {e.outcome.error}", file=sys.stderr)
        for error in result.collection_errors:
            print(f"warning: collection failed: {error}", file=sys.stderr)
    if result.error:
        print(
            f"error: {result.error}; {len(result.not_processed):,} not processed: run again", file=sys.stderr
        )
        return EXIT_PROBLEMS
    return EXIT_OK


def cmd_collect(
    args: argparse.Namespace,
    settings: Settings,
    engine: sa.Engine,
    report: Any,
    actor: Any,
) -> int:
    from datetime import timedelta

    from data.actor import NotAllowed, WritesDisabled
    from data.commands import workspaces as commands
    from data.errors import AuditUnavailable, CollectorUnavailable
    from data.models import naive_utc_now
    from data.services.collector import NO_BROKER_NOTICE, plan_collect_again
    from data.stores.collection import tenants_of
    from data.stores.workspaces import collect_rule_targets

    now = naive_utc_now()
    ctx = rule_context(report, settings, now)
    older = args.older_than or timedelta(hours=settings.uncollected_hours)
    collector = commands.collector(settings)
    with engine.connect() as conn:
        targets = collect_rule_targets(
            conn, "uncollected", ctx, tenant_id=args.tenant, retired_before=now - older, cap=args.limit
        )
        ws_tenant = tenants_of(
            conn,
            workspace_ids=targets.workspace_ids,
            binding_ids=targets.binding_ids,
            home_snapshot_ids=targets.home_ids,
        )
        grouped: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for kind, ids in (
            ("workspace_ids", targets.workspace_ids),
            ("binding_ids", targets.binding_ids),
            ("home_snapshot_ids", targets.home_ids),
        ):
            for i in ids:
                grouped[ws_tenant[i]][kind].append(i)
        plans = {t: plan_collect_again(conn, tenant_id=t, **ids) for t, ids in grouped.items()}
    print(
        f"filter: rule=uncollected, older_than={older}" + (f", tenant={args.tenant}" if args.tenant else "")
    )
    print(f"requested: {targets.count}" + ("" if targets.complete else f" (limit {args.limit:,} reached)"))
    print(
        f"  workspaces: {len(targets.workspace_ids)}, bindings: {len(targets.binding_ids)}, home snapshots: {len(targets.home_ids)}"
    )
    messages = [b for p in plans.values() for b in p.batches]
    print(f"messages: {len(messages)}")
    if not messages:
        print("nothing to collect")
        return EXIT_OK
    if args.dry_run:
        import json

        for batch in messages[:SHOWN]:
            print("  would send " + json.dumps(collector.preview(batch), sort_keys=True))
        if len(messages) > SHOWN:
            print(f"  ... and {len(messages) - SHOWN:,} more")
        if not collector.enabled:
            print(f"warning: {NO_BROKER_NOTICE}")
        print("dry run: nothing sent")
        return EXIT_OK
    sent = failed = 0
    try:
        for tenant, asked in grouped.items():
            result = commands.collect_again(
                engine, settings, actor, tenant_id=tenant, reason=args.reason, **asked
            )
            sent += len(result.sent)
            failed += len(result.failed)
            for e in result.enqueued:
                print(f"  {e.outcome.outcome} {e.outcome.task_id or ''} audit {e.audit_action_id}".rstrip())
                if not e.outcome.sent:
                    print(f"warning: {e.outcome.error}", file=sys.stderr)
    except (NotAllowed, WritesDisabled, AuditUnavailable, CollectorUnavailable) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    print(f"sent: {sent}")
    print(f"failed: {failed}")
    return EXIT_PROBLEMS if failed else EXIT_OK
