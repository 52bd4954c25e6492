"""A real server with every script run profiled: `streamlit run bench/profile_serve.py`; the cumulative
cProfile of the script runs is written to $BENCH_PROFILE (default /tmp/agent-desk-serve.prof) after each run.
Read it with `python -m pstats`. For finding what a browser waits for on the server side."""

import cProfile
import os
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import script_runner

from serve import lifespan

ROOT = Path(__file__).resolve().parent.parent
OUT = os.environ.get("BENCH_PROFILE", "/tmp/agent-desk-serve.prof")
_prof = cProfile.Profile()
_original = script_runner.ScriptRunner._run_script


def _profiled(self, rerun_data):
    try:
        _prof.enable()
    except ValueError:  # another script thread is being profiled right now: run this one unprofiled
        return _original(self, rerun_data)
    try:
        return _original(self, rerun_data)
    finally:
        _prof.disable()
        _prof.dump_stats(OUT)


script_runner.ScriptRunner._run_script = _profiled  # type: ignore[method-assign]
app = st.App(str(ROOT / "app.py"), lifespan=lifespan)
