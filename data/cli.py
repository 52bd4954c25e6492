"""`python -m data ...`: Agent Desk for scripts and cron (see the interface contract).

Exit codes: 0 done / nothing found, 1 problems found, 2 usage error, 3 refused.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from datetime import timedelta
from typing import NoReturn

import sqlalchemy as sa

from data import links, logs, migrate
from data.actor import Actor, Role
from data.db import SeedRefused, create_engine, create_migration_engine, seed_database
from data.schema_check import check_schema
from data.settings import Settings, load_settings

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_REFUSED = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse exits 2 itself; keep the contract explicit
        self.print_usage(sys.stderr)
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m data", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    m = commands.add_parser(
        "migrate", help="apply the app's own migration branch (safe on a real Dify database)"
    )
    m.add_argument(
        "--demo", action="store_true", help="also create the mirror of Dify's tables in an empty database"
    )
    _add_generation(m)

    d = commands.add_parser("demo", help="fill an empty demo or benchmark database with demo data")
    d.add_argument("--scale", choices=("S", "M", "L"), default="S")
    _add_generation(d)

    s = commands.add_parser("schema", help="print what the schema check detects (extension)")
    s.add_argument("--format", choices=("text", "json"), default="text")

    c = commands.add_parser("check", help="integrity checks; exit 1 when an error-severity check finds rows")
    c.add_argument("--tenant", type=_uuid_arg, help="only this workspace")
    c.add_argument("--format", choices=("text", "json"), default="text")
    c.add_argument(
        "--fresh",
        action="store_true",
        help="run the whole-table checks now (else: the latest stored results)",
    )
    c.add_argument("--full", action="store_true", help="with --fresh: a full run, not incremental")
    c.add_argument(
        "--check", action="append", dest="checks", metavar="NAME", help="only this check (repeatable)"
    )
    c.add_argument("--table", help="only this driving table (with --fresh: run just its windows)")

    _add_sessions_parser(commands)
    return parser


def _add_sessions_parser(commands: argparse._SubParsersAction) -> None:
    from data.rules.workspace_leaks import RULE_NAMES as WORKSPACE_RULE_NAMES
    from data.services.leaks import RULE_NAMES

    sessions = commands.add_parser("sessions", help="runtime sessions / working environments: leak cleanup")
    actions = sessions.add_subparsers(dest="sessions_command", required=True, parser_class=_Parser)
    clean = actions.add_parser(
        "clean",
        help="clean the ACTIVE sessions a leak rule matches (Dify 1.17+: retire working environments)",
    )
    clean.add_argument(
        "--rule", required=True, choices=tuple(dict.fromkeys((*RULE_NAMES, *WORKSPACE_RULE_NAMES)))
    )
    clean.add_argument("--tenant", type=_uuid_arg, help="only this workspace")
    clean.add_argument("--older-than", type=_duration_arg, help="updated_at older than e.g. 7d, 12h, 30m")
    clean.add_argument("--reason", required=True, help="why (recorded in the audit log)")
    clean.add_argument("--actor", help="who (audited as cli:<name>); default: the OS user")
    mode = clean.add_mutually_exclusive_group(required=True)
    mode.add_argument("--dry-run", action="store_true", help="preview only: change nothing")
    mode.add_argument("--yes", action="store_true", help="apply (needs AGENT_DESK_ALLOW_WRITES off the demo)")
    clean.add_argument("--limit", type=int, default=10_000, help="clean at most N rows (default 10,000)")
    clean.add_argument(
        "--collect", action="store_true", help="Dify 1.17+: also send the retired ids to Dify's collector"
    )
    # Dify 1.17+ (data/cli_workspaces.py): re-send the collection of rows already retired.
    collect = actions.add_parser("collect", help="Dify 1.17+: re-send collection of retired rows (audited)")
    collect.add_argument("--rule", required=True, choices=("uncollected",))
    collect.add_argument("--tenant", type=_uuid_arg, help="only this workspace")
    collect.add_argument("--older-than", type=_duration_arg, help="retired_at older than (default 24h)")
    collect.add_argument("--reason", required=True, help="why (recorded in the audit log)")
    collect.add_argument("--actor", help="who (audited as cli:<name>); default: the OS user")
    collect_mode = collect.add_mutually_exclusive_group(required=True)
    collect_mode.add_argument("--dry-run", action="store_true", help="show the messages only: send nothing")
    collect_mode.add_argument(
        "--yes", action="store_true", help="send (needs AGENT_DESK_ALLOW_WRITES off the demo)"
    )
    collect.add_argument("--limit", type=int, default=10_000, help="at most N rows (default 10,000)")


def _add_generation(parser: argparse.ArgumentParser) -> None:
    from data.models.generations import DEFAULT_GENERATION, GENERATIONS

    parser.add_argument(
        "--generation",
        choices=GENERATIONS,
        default=DEFAULT_GENERATION,
        help="which Dify schema generation the mirror and demo build: sessions (Dify 1.15-1.16, agent "
        f"runtime sessions) or workspaces (Dify 1.17+, working environments); default {DEFAULT_GENERATION}",
    )


def _uuid_arg(text: str) -> str:
    from data.tolerant import normalize_uuid

    value = normalize_uuid(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"not a workspace id: {text!r}")
    return value


def _duration_arg(text: str) -> timedelta:
    match = re.fullmatch(r"\s*(\d+)\s*([wdhm])\s*", text)
    if not match or int(match[1]) <= 0:
        raise argparse.ArgumentTypeError(f"not a duration like 7d, 12h or 30m: {text!r}")
    unit = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}[match[2]]
    return timedelta(**{unit: int(match[1])})


def _engine(settings: Settings) -> sa.Engine:
    """The app's guarded engine (reads, and writes only through the gate)."""
    return create_engine(settings.write_url, settings)


READ_ONLY_REFUSAL = "refused: read-only mode (AGENT_DESK_READ_ONLY) is on: no migrations, no seeding"


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    if settings.read_only:  # before anything: not even the demo directory is created
        print(READ_ONLY_REFUSAL, file=sys.stderr)
        return EXIT_REFUSED
    if settings.is_demo:
        settings.demo_db_path.parent.mkdir(parents=True, exist_ok=True)
    # Migrations run DDL, so they use the separate unguarded path; the mirror refuses Dify databases.
    engine = create_migration_engine(settings)
    try:
        if args.demo:
            migrate.upgrade_mirror(engine, args.generation)
        migrate.upgrade(engine, "app")
    except migrate.MigrationRefused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    finally:
        engine.dispose()
    print("migrated: " + ", ".join(f"{b}={migrate.current_safe(engine, b)}" for b in ("mirror", "app")))
    return EXIT_OK


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    if settings.read_only:
        print(READ_ONLY_REFUSAL, file=sys.stderr)
        return EXIT_REFUSED
    if settings.is_demo:
        settings.demo_db_path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_migration_engine(settings)
    try:
        summary = seed_database(engine, scale=args.scale, generation=args.generation)
    except SeedRefused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    finally:
        engine.dispose()
    print(f"seeded scale {args.scale}, generation {args.generation}: {summary}")
    return EXIT_OK


def cmd_schema(args: argparse.Namespace, settings: Settings) -> int:
    engine = _engine(settings)
    try:
        with engine.connect() as conn:
            report = check_schema(conn)
    finally:
        engine.dispose()
    if args.format == "json":
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(report.summary())
        print(f"generation: {report.generation or 'none'} ({report.generation_label})")
        print(f"newer columns and tables: {report.newer_summary()}")
        unavailable = report.runtime_unavailable()
        if report.ok and unavailable and not report.has_workspaces:
            print(f"note: {unavailable}")
        for line in report.problems():
            print(f"problem: {line}")
    return EXIT_OK if report.ok else EXIT_REFUSED


def cmd_sessions(args: argparse.Namespace, settings: Settings) -> int:  # noqa: C901 (known debt, ARCHITECTURE.md)
    """`sessions clean`: collect the rule's matches (window by window), preview, then apply if --yes."""
    from data.actor import NotAllowed, WritesDisabled
    from data.commands import sessions as commands
    from data.db import ensure_demo_database, os_user, upgrade_demo_own_tables
    from data.errors import AuditUnavailable
    from data.guard import block_reason
    from data.models import naive_utc_now
    from data.rules.session_leaks import RULE_NAMES
    from data.stores.sessions import SessionFilter, collect_ids

    if not args.reason.strip() or args.limit < 1:
        print("error: --reason must not be empty and --limit must be positive", file=sys.stderr)
        return EXIT_USAGE
    actor = Actor(identity=f"cli:{args.actor or os_user()}", role=Role.OPERATOR, local_mode=True)
    if settings.is_demo and not ensure_demo_database(settings):
        upgrade_demo_own_tables(settings)  # the embedded demo may predate Agent Desk's own tables
    engine = _engine(settings)
    block = block_reason(engine, actor)  # the gate's own policy, for the early message only
    if args.yes and block:
        engine.dispose()
        print(f"refused: {block}", file=sys.stderr)
        return EXIT_REFUSED
    try:
        with engine.connect() as conn:
            report = check_schema(conn)
            if not report.ok:
                print("refused: " + "; ".join(report.problems()), file=sys.stderr)
                return EXIT_REFUSED
            from data import cli_workspaces  # Dify 1.17+: working environments (issue 11)

            workspaces = cli_workspaces.is_workspaces_generation(conn, report)
        if workspaces:
            command = (
                cli_workspaces.cmd_collect if args.sessions_command == "collect" else cli_workspaces.cmd_clean
            )
            return command(args, settings, engine, report, actor)  # the gate is in the services
        if args.sessions_command == "collect" or args.rule not in RULE_NAMES or args.collect:
            print(
                "error: this database holds runtime sessions (Dify 1.15/1.16): `collect`, `--collect` and "
                f"the rules {', '.join(sorted(set(cli_workspaces.WORKSPACE_ONLY)))} are for Dify 1.17+",
                file=sys.stderr,
            )
            return EXIT_USAGE
        if not report.has_sessions:
            print(f"refused: {report.runtime_unavailable()}", file=sys.stderr)
            return EXIT_REFUSED
        with engine.connect() as conn:
            now = naive_utc_now()
            ctx = commands.rule_context(report, settings, now)
            flt = SessionFilter(
                tenant_id=args.tenant,
                rule=args.rule,
                updated_before=now - args.older_than if args.older_than else None,
            )
            collected = collect_ids(conn, flt, ctx, cap=args.limit)
            source = {**flt.describe(), "limit": args.limit, "complete": collected.complete, "via": "cli"}
        preview = commands.preview_cleanup(engine, collected.ids, ctx, source=source, rule=args.rule)
        print("filter: " + ", ".join(f"{k}={v}" for k, v in flt.describe().items()))
        print(
            f"requested: {preview.count}" + ("" if collected.complete else f" (limit {args.limit:,} reached)")
        )
        for rule, count in preview.per_rule:
            print(f"  {rule}: {count}")
        for warning in preview.warnings:
            print(f"warning: {warning}")
        if not preview.requested:  # nothing found: nothing to do, nothing to audit
            print("nothing to clean" + ("" if args.dry_run else "\ntransitioned: 0\nskipped: 0"))
            return EXIT_OK
        if args.dry_run:
            for session_id in preview.to_clean[:50]:
                print(f"  would clean {session_id}")
            if preview.count > 50:
                print(f"  ... and {preview.count - 50:,} more")
            print("dry run: nothing changed")
            return EXIT_OK
        result = commands.apply_cleanup(engine, settings, actor, preview, reason=args.reason)
    except (NotAllowed, WritesDisabled, AuditUnavailable) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    finally:
        engine.dispose()
    print(f"transitioned: {len(result.transitioned)}")
    reasons = ", ".join(f"{why}: {len(ids)}" for why, ids in result.skipped)
    print(f"skipped: {result.skipped_count}" + (f" ({reasons})" if reasons else ""))
    print(f"audit action: {result.action_id}")
    if result.error:
        print(
            f"error: {result.error}; {len(result.not_processed):,} not processed: run again", file=sys.stderr
        )
        return EXIT_PROBLEMS
    return EXIT_OK


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    """The integrity checks (guarded engine: reads, and Agent Desk's own check-job tables): 1 when an
    error-severity check finds rows or could not run.

    Index-backed checks of one workspace run live. The others are jobs (data.services.check_jobs):
    `--fresh` runs them now (incremental where possible; `--full` for a full run; a job another
    process runs is waited for, not started twice); otherwise the latest stored results are printed
    with their age, and only checks never run for this scope run now. Without the check-job tables
    (a real Dify database where `python -m data migrate` has not run) every check runs live, unstored.

    Who runs the jobs: the CLI's actor, `cli:<OS user>` as an operator in local mode (as for `sessions
    clean`). Storing check results writes only Agent Desk's own check-job tables (the guard's own grant,
    `data.guard.require_bookkeeping`), so cron may store them without AGENT_DESK_ALLOW_WRITES; in
    read-only mode nothing is stored and every check runs live, like without the tables.
    """
    from data.db import ensure_demo_database, os_user
    from data.services import integrity
    from data.stores.check_runs import tables_present

    unknown = sorted(set(args.checks or ()) - set(integrity.ALL_CHECK_NAMES))
    if unknown:
        print(f"error: unknown check(s): {', '.join(unknown)}", file=sys.stderr)
        return EXIT_USAGE
    names = args.checks or list(integrity.ALL_CHECK_NAMES)
    if args.table and not any(args.table in integrity.BY_NAME[n].tables for n in names):
        print(f"error: no chosen check reads table {args.table!r}", file=sys.stderr)
        return EXIT_USAGE
    if settings.is_demo:  # the embedded demo may predate the check-job tables: bring its branch up
        ensure_demo_database(settings)
        if not settings.read_only:  # read-only: nothing is created (the checks then run unstored)
            unguarded = create_migration_engine(settings)
            migrate.upgrade(unguarded, "app")
            unguarded.dispose()
    engine = _engine(settings)
    try:
        with engine.connect() as conn:
            schema = check_schema(conn)
            if not schema.ok:
                print("refused: " + "; ".join(schema.problems()), file=sys.stderr)
                return EXIT_REFUSED
            stored = tables_present(conn)
        if not stored or settings.read_only:
            why = (
                "read-only mode (AGENT_DESK_READ_ONLY) is on"
                if stored
                else "Agent Desk's check-job tables are missing (run `python -m data migrate`)"
            )
            print(f"note: {why}: every check runs now and nothing is stored", file=sys.stderr)
            with engine.connect() as conn:
                report = integrity.run_checks(conn, tenant_id=args.tenant, names=names)
        else:
            actor = Actor(identity=f"cli:{os_user()}", role=Role.OPERATOR, local_mode=True)
            report = _check_jobs_report(engine, args, names, actor=actor)
    finally:
        engine.dispose()
    if args.format == "json":
        print(json.dumps(_absolute_links(integrity.report_dict(report), settings.public_url), indent=2))
    else:
        print(integrity.report_text(report))
    return EXIT_PROBLEMS if report.has_errors else EXIT_OK


def _absolute_links(document: dict, public_url: str | None) -> dict:
    """The JSON report with every sample link under AGENT_DESK_PUBLIC_URL (`links.absolute`), so a
    link pasted from a script's output into a ticket can be clicked; relative when it is unset."""
    for result in document.get("checks", ()):
        for sample in result.get("samples", ()):
            sample["links"] = {
                label: links.absolute(url, public_url) for label, url in sample["links"].items()
            }
    return document


def _check_jobs_report(engine: sa.Engine, args: argparse.Namespace, names: list[str], *, actor: Actor):
    from data.services import check_jobs, integrity

    with engine.connect() as conn:
        present = integrity.present_names(conn)
    jobs = [
        n
        for n in names
        if not integrity.runs_live(integrity.BY_NAME[n], args.tenant) or args.table
        if args.table is None or args.table in integrity.BY_NAME[n].tables
        if integrity.applicable(integrity.BY_NAME[n], present)
    ]
    with engine.connect() as conn:
        never = {
            n
            for n in jobs
            if check_jobs.stored_result(
                conn, integrity.BY_NAME[n], args.tenant, table=args.table
            ).result.never_run
        }
    for name in jobs:
        if args.fresh or name in never:
            outcome = check_jobs.run_now(
                engine,
                name,
                tenant_id=args.tenant,
                table=args.table,
                mode="full" if args.full else "auto",
                actor=actor,
            )
            if not outcome.started:
                print(f"note: {name} was running in another process; its result is shown", file=sys.stderr)
    with engine.connect() as conn:
        report, _ = check_jobs.report(conn, tenant_id=args.tenant, names=names, table=args.table)
    return report


COMMANDS = {
    "migrate": cmd_migrate,
    "demo": cmd_demo,
    "schema": cmd_schema,
    "sessions": cmd_sessions,
    "check": cmd_check,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = load_settings()
    logs.configure_from(settings)  # AGENT_DESK_LOG_LEVEL / AGENT_DESK_LOG_FORMAT: records on stderr
    return COMMANDS[args.command](args, settings)
