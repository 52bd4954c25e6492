"""cProfile of whole pages through AppTest: where a page's time goes beyond SQL.

    uv run --frozen python -m bench.profile_page --url URL [--page app_pages/roster.py] [--runs 20]

Prints the top functions by cumulative and by own time over `--runs` reruns (caches cleared before each,
as the benchmark's whole-page timing does), and the share spent inside the database driver.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def profile(url: str, page: str, runs: int, params: dict[str, str] | None = None, top: int = 25) -> str:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["DATABASE_URL"] = url
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.switch_page(page)
    at.run()
    from streamlit.runtime.scriptrunner import script_runner

    prof = cProfile.Profile()  # the script runs in its own thread: profile inside it
    original = script_runner.ScriptRunner._run_script

    def profiled(self, rerun_data):
        prof.enable()
        try:
            return original(self, rerun_data)
        finally:
            prof.disable()

    script_runner.ScriptRunner._run_script = profiled  # type: ignore[method-assign]
    try:
        for _ in range(runs):
            st.cache_data.clear()
            at.run()
            if at.exception:
                raise RuntimeError([e.value for e in at.exception])
    finally:
        script_runner.ScriptRunner._run_script = original  # type: ignore[method-assign]
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    total = stats.total_tt  # type: ignore[attr-defined]
    out.write(f"{page}: {runs} reruns, {total / runs * 1000:.1f} ms per rerun (profiled)\n")
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--page", default="app_pages/roster.py")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--param", action="append", default=[], help="key=value query parameter")
    args = parser.parse_args()
    params = dict(p.split("=", 1) for p in args.param)
    print(profile(args.url, args.page, args.runs, params))


if __name__ == "__main__":
    main()
