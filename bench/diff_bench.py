"""Benchmark of `data.diff.diff_configs` on two ~200 KB Agent Soul configs.

Run: `uv run python -m bench.diff_bench` (`--runs N` for more timed runs, `--stress` to also time
worst cases). The configs are built deterministically: a ~190 KB system prompt of sectioned
instructions with a few edited, inserted and removed lines, 40 Dify tools (one reordered, one toggled,
one added), env variables and secret refs (one secret changed, same length), datasets and app
variables. Prints the median, min and max of the timed runs after one warm-up run, and whether the
100 ms target is met.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import statistics
import time
from typing import Any

from data.diff import diff_configs

TARGET_MS = 100.0
_VOCABULARY = (
    "the agent must always cite sources when answering questions about the product catalogue and never "
    "reveal internal notes summarize findings in short bullet points ask a clarifying question if the "
    "request is ambiguous prefer official documentation over forum posts escalate billing issues to a "
    "human contact respond in the language of the user keep answers under two hundred words"
)
_WORDS = _VOCABULARY.split()


def _prompt(rng: random.Random, target_chars: int) -> list[str]:
    """Lines of a long, realistic-looking system prompt: headings, numbered rules, blank lines."""
    lines: list[str] = ["You are Acme's research and support agent."]
    size, section = 0, 0
    while size < target_chars:
        section += 1
        block = ["", f"## Section {section}: {' '.join(rng.choices(_WORDS, k=3)).title()}", ""]
        for rule in range(1, rng.randint(4, 12)):
            block.append(f"{rule}. " + " ".join(rng.choices(_WORDS, k=rng.randint(8, 24))) + ".")
        lines += block
        size += sum(len(line) + 1 for line in block)
    return lines


def build_configs(seed: int = 7, prompt_chars: int = 190_000) -> tuple[str, str]:
    """Two stored-form (compact, sorted) soul configs of ~200 KB that differ in a realistic way."""
    rng = random.Random(seed)
    prompt = _prompt(rng, prompt_chars)
    tools = [
        {
            "credential_ref": {
                "id": f"0197a1c2-{k:04d}",
                "provider": f"langgenius/p{k}/p{k}",
                "type": "tool",
            },
            "credential_type": "api-key",
            "enabled": True,
            "plugin_id": f"langgenius/p{k}",
            "provider": f"p{k}",
            "provider_type": "plugin",
            "runtime_parameters": {"max_results": 5, "region": "eu"},
            "tool_name": f"tool_{k}",
        }
        for k in range(40)
    ]
    left: dict[str, Any] = {
        "app_features": {
            "opening_statement": "Hi! How can I help?",
            "suggested_questions": ["Reset", "Billing"],
        },
        "app_variables": [{"default": "free", "name": "customer_tier", "required": False, "type": "select"}],
        "env": {
            "secret_refs": [
                {"name": f"SECRET_{k}", "ref": f"ref-{k}", "value": f"s3cr3t-value-{k:04d}"}
                for k in range(20)
            ],
            "variables": [{"name": f"VAR_{k}", "value": f"value-{k}"} for k in range(30)],
        },
        "human": {"contacts": [{"email": "ops@example.com", "id": "acct-1", "name": "Ops"}], "tools": []},
        "knowledge": {
            "datasets": [{"id": f"ds-{k}", "name": f"Dataset {k}"} for k in range(10)],
            "query_config": {"top_k": 4},
            "query_mode": "generated_query",
        },
        "memory": {"artifacts": [], "budget": None, "scope": "conversation"},
        "misc_legacy": {},
        "model": {"model": "gpt-4o-mini", "model_provider": "openai", "plugin_id": "langgenius/openai"},
        "prompt": {"system_prompt": "\n".join(prompt)},
        "sandbox": {"config": {}, "provider": None},
        "schema_version": 1,
        "skills_files": {"files": [], "skills": []},
        "tools": {"cli_tools": [{"name": "git"}, {"name": "jq"}], "dify_tools": tools},
    }
    right = copy.deepcopy(left)
    edited = list(prompt)
    n = len(edited)
    for start in (n // 50, n // 3, 3 * n // 4):  # a few edited rule lines spread over the prompt
        index = next(k for k in range(start, n) if edited[k][:1].isdigit())
        edited[index] = edited[index].replace(" the ", " a ", 1) + " (revised)"
    edited.insert(n // 2, "New rule: always double-check numbers before answering.")
    del edited[9 * n // 10]
    right["prompt"]["system_prompt"] = "\n".join(edited)
    dify = right["tools"]["dify_tools"]
    dify.insert(0, dify.pop(25))  # reorder
    dify[3]["enabled"] = False  # toggle
    dify.append({**copy.deepcopy(dify[1]), "tool_name": "tool_new"})  # add
    right["env"]["secret_refs"][3]["value"] = "s3cr3t-VALUE-0003"  # same length
    right["env"]["variables"].pop(7)
    right["knowledge"]["query_config"]["top_k"] = 6
    dump = {"ensure_ascii": False, "separators": (",", ":"), "sort_keys": True}
    return json.dumps(left, **dump), json.dumps(right, **dump)  # type: ignore[arg-type]


def run(runs: int = 7) -> dict[str, float]:
    """Time `diff_configs` on the benchmark pair: one warm-up, then `runs` timed runs (milliseconds)."""
    left, right = build_configs()
    result = diff_configs(left, right, "soul")  # warm-up (imports, regex compilation, caches)
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        result = diff_configs(left, right, "soul")
        timings.append((time.perf_counter() - start) * 1000)
    return {
        "left_kb": len(left.encode()) / 1024,
        "right_kb": len(right.encode()) / 1024,
        "changes": float(result.total),
        "median_ms": statistics.median(timings),
        "min_ms": min(timings),
        "max_ms": max(timings),
    }


def _median_ms(left: str, right: str, runs: int) -> float:
    """Median milliseconds of `diff_configs(left, right)` after one warm-up run."""
    diff_configs(left, right, "soul")
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        diff_configs(left, right, "soul")
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def stress(runs: int = 7) -> dict[str, float]:
    """Worst-case scenarios, reported but not held to the target: an entirely rewritten prompt, 300
    scattered line edits, and a left side that is not valid JSON (whole-document text diff)."""
    left, _ = build_configs()
    doc = json.loads(left)
    rewritten = copy.deepcopy(doc)
    rewritten["prompt"]["system_prompt"] = json.loads(build_configs(seed=99)[0])["prompt"]["system_prompt"]
    scattered = copy.deepcopy(doc)
    lines = scattered["prompt"]["system_prompt"].split("\n")
    for index in random.Random(1).sample(range(len(lines)), 300):
        lines[index] += " edited"
    scattered["prompt"]["system_prompt"] = "\n".join(lines)
    return {
        "rewritten prompt": _median_ms(left, json.dumps(rewritten), runs),
        "300 scattered edits": _median_ms(left, json.dumps(scattered), runs),
        "left side invalid JSON": _median_ms(left[:-5], left, runs),
    }


def main() -> None:
    """Print the benchmark numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs after one warm-up (default 7)")
    parser.add_argument("--stress", action="store_true", help="also time worst-case scenarios")
    args = parser.parse_args()
    stats = run(args.runs)
    print(f"configs: {stats['left_kb']:.0f} KB vs {stats['right_kb']:.0f} KB, {stats['changes']:.0f} changes")
    print(f"diff_configs over {args.runs} runs: median {stats['median_ms']:.1f} ms, ", end="")
    print(f"min {stats['min_ms']:.1f} ms, max {stats['max_ms']:.1f} ms")
    verdict = "OK" if stats["median_ms"] < TARGET_MS else "SLOWER THAN TARGET"
    print(f"target < {TARGET_MS:.0f} ms: {verdict}")
    if args.stress:
        for name, median in stress(args.runs).items():
            print(f"stress, {name}: median {median:.1f} ms")


if __name__ == "__main__":
    main()
