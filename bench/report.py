"""docs/benchmarks.md from one `python -m bench` run: only what that run measured."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path
from typing import Any

TARGETS_MS = {"list": 25.0, "one": 15.0, "search": 40.0}
KIND_NAMES = {
    "list": "index-served list ≤ 25 ms",
    "one": "one record ≤ 15 ms",
    "search": "name search ≤ 40 ms",
}


def _verdict(kind: str, median: float) -> str:
    target = TARGETS_MS.get(kind)
    if target is None:
        return ""
    return "met" if median <= target else "**not met**"


def write_report(
    out: Path,
    results: list[Any],
    *,
    server: dict[str, str],
    started: datetime,
    args: argparse.Namespace,
    machine: dict[str, str],
) -> None:
    scales = ", ".join(r.scale for r in results)
    lines = [
        "# Benchmarks",
        "",
        f"Produced by `uv run --frozen python -m bench --scale {args.scale}{' --quick' if args.quick else ''} "
        f"--runs {args.runs}` on {started:%Y-%m-%d %H:%M} UTC. Every number below was measured in that run;",
        "timings are min / median / max of the timed runs (one warm-up first), in milliseconds.",
        "",
        "## Machine and versions",
        "",
        f"- CPU: {machine['cpu']} (shared with other jobs while this ran); memory {machine['memory']}",
        f"- {machine['os']}; Python {machine['python']}; Streamlit {machine['streamlit']}; "
        f"SQLAlchemy {machine['sqlalchemy']}; psycopg {machine['psycopg']}",
        f"- PostgreSQL {server['server_version']} (throwaway cluster, shared_buffers {server['shared_buffers']}, "
        f"work_mem {server['work_mem']}, fsync off), only Dify's indexes",
        f"- Peak memory of the benchmark process (every page rendered through AppTest): {machine['max_rss']}",
        "",
        "## What was and was not run",
        "",
        f"- Scales measured: **{scales}**. Data: `python -m data demo` of both schema generations "
        "(`sessions` = Dify 1.15-1.16, `workspaces` = 1.17+).",
    ]
    if args.quick:
        lines.append(
            "- `--quick`: the 10,000-workspace roster, the cleanup rate and the no-leak variant were skipped."
        )
    if "L" not in scales:
        lines.append(
            "- **L was not run** (about 1,000,000 sessions and snapshots; seeding alone takes many minutes on "
            "this shared 2-core machine). The L targets below are therefore not shown as met: see the per-store "
            "benches in README's speed table (bench/roster_bench.py, bench/sessions_bench.py) for 1,000,000-row "
            "numbers measured earlier."
        )
    lines += [
        "- **Browser page timings (chromium) and the 25-browser concurrency run were not run**: this command "
        "times whole pages server-side through AppTest, and the concurrency run uses threads with their own "
        "engines (as separate servers), not browsers.",
        "- The L/S ratio target needs both L and S; with several scales the ratio of the largest to S is shown.",
        "",
    ]
    for result in results:
        lines += _scale_section(result)
    if len(results) > 1:
        lines += _ratios(results)
    out.write_text("\n".join(lines) + "\n")


def _scale_section(result: Any) -> list[str]:
    lines = [f"## Scale {result.scale}", ""]
    for generation, sizes in result.sizes.items():
        sized = ", ".join(f"{name} {n:,}" for name, n in sorted(sizes.items()))
        lines.append(f"- `{generation}` database: {sized} (planner estimates)")
    lines += [
        "",
        "### Store calls (the app's guarded engine)",
        "",
        "| database | operation | min / median / max ms | target |",
        "|---|---|---:|---|",
    ]
    for database, kind, t in result.store:
        target = f"{KIND_NAMES[kind]}: {_verdict(kind, t.median)}" if kind in KIND_NAMES else ""
        lines.append(f"| {database} | {t.label} | {t.spread} | {target} |")
    lines += [
        "",
        "### Whole pages server-side (AppTest: app.py + page, every cache cleared before each run)",
        "",
        "| database | page | min / median / max ms | target |",
        "|---|---|---:|---|",
    ]
    for database, kind, t in result.pages:
        target = f"{KIND_NAMES[kind]}: {_verdict(kind, t.median)}" if kind in KIND_NAMES else ""
        lines.append(f"| {database} | {t.label} | {t.spread} | {target} |")
    lines += [
        "",
        "### The generic admins' way (COUNT(*) + ORDER BY .. LIMIT 50 OFFSET half the table), same run",
        "",
        "| query | naive median ms | Agent Desk median ms | ratio |",
        "|---|---:|---:|---:|",
    ]
    for what, naive, ours in result.naive:
        lines.append(
            f"| {what} | {naive.median:.1f} | {ours.median:.1f} ({ours.label}) | {naive.median / ours.median:.2f}x |"
        )
    lines += ["", "### Concurrency", ""] + [f"- {c}" for c in result.concurrency]
    if result.extra:
        lines += ["", "### Cleanup", ""] + [f"- {e}" for e in result.extra]
    seq = sorted({(p.label, t) for p in result.plans for t in p.seq_scans_of_large})
    lines += ["", "### EXPLAIN (ANALYZE, BUFFERS): sequential scans of tables of >= 10,000 rows", ""]
    if not any(True for _ in seq):
        lines.append(f"- none in {len(result.plans)} plans (at this scale few tables reach 10,000 rows)")
    for label, table in seq:
        lines.append(f"- {label}: Seq Scan on `{table}`")
    lines += ["", "<details><summary>every plan</summary>", ""]
    for plan in result.plans:
        lines += [f"**{plan.label}**", "", "```", plan.text, "```", ""]
    lines += ["</details>", ""]
    return lines


def _ratios(results: list[Any]) -> list[str]:
    base, top = results[0], results[-1]
    lines = [
        f"## Growth: {top.scale} / {base.scale} (median page time ratio; target L/S ≤ 1.5)",
        "",
        "| database | page | ratio |",
        "|---|---|---:|",
    ]
    small = {(d, t.label): t.median for d, _, t in base.pages}
    for database, _, t in top.pages:
        if (database, t.label) in small:
            lines.append(f"| {database} | {t.label} | {t.median / small[(database, t.label)]:.2f} |")
    return [*lines, ""]
