"""Micro-benchmarks for Agent Desk's pure-Python engines (run as modules, e.g. `python -m bench.diff_bench`)."""
