"""`python -m data ...`: Agent Desk for scripts and cron (see the interface contract).

Exit codes: 0 done / nothing found, 1 problems found, 2 usage error, 3 refused.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

import sqlalchemy as sa

from data import migrate
from data.db import SeedRefused, create_engine, seed_database
from data.schema_check import check_schema
from data.settings import Settings, load_settings

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_REFUSED = 0, 1, 2, 3


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 itself; keep the contract explicit
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

    d = commands.add_parser("demo", help="fill an empty demo or benchmark database with demo data")
    d.add_argument("--scale", choices=("S", "M", "L"), default="S")

    s = commands.add_parser("schema", help="print what the schema check detects (extension)")
    s.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def _engine(settings: Settings, *, guarded: bool) -> sa.Engine:
    return create_engine(settings.write_url, settings, guarded=guarded)


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    if settings.is_demo:
        settings.demo_db_path.parent.mkdir(parents=True, exist_ok=True)
    # Migrations run DDL, so they use the unguarded path; the mirror refuses Dify databases itself.
    engine = _engine(settings, guarded=False)
    try:
        if args.demo:
            migrate.upgrade(engine, "mirror")
        migrate.upgrade(engine, "app")
    except migrate.MigrationRefused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    finally:
        engine.dispose()
    print("migrated: " + ", ".join(f"{b}={migrate.current_safe(engine, b)}" for b in ("mirror", "app")))
    return EXIT_OK


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    if settings.is_demo:
        settings.demo_db_path.parent.mkdir(parents=True, exist_ok=True)
    engine = _engine(settings, guarded=False)
    try:
        summary = seed_database(engine, scale=args.scale)
    except SeedRefused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    finally:
        engine.dispose()
    print(f"seeded scale {args.scale}: {summary}")
    return EXIT_OK


def cmd_schema(args: argparse.Namespace, settings: Settings) -> int:
    engine = _engine(settings, guarded=True)
    try:
        with engine.connect() as conn:
            report = check_schema(conn)
    finally:
        engine.dispose()
    if args.format == "json":
        print(
            json.dumps(
                {
                    "ok": report.ok,
                    "summary": report.summary(),
                    "problems": report.problems(),
                    "conversation_index_columns": report.conversation_index_columns,
                    "newer_features": list(report.newer_features),
                },
                indent=2,
            )
        )
    else:
        print(report.summary())
        for line in report.problems():
            print(f"problem: {line}")
    return EXIT_OK if report.ok else EXIT_REFUSED


COMMANDS = {"migrate": cmd_migrate, "demo": cmd_demo, "schema": cmd_schema}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = load_settings()
    return COMMANDS[args.command](args, settings)
