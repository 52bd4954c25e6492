"""Agent Desk's server entry point: `streamlit run serve.py` (what scripts/run starts) serves app.py.

Streamlit 1.67 serves an `st.App` found in the script it is given (Starlette). Its lifespan hook runs
before the server accepts connections: `ui.context.warm_up()` does the heavy imports and the schema
check there, so the first visitor after a start does not wait for them. `streamlit run app.py` still
works (the warm-up then happens during the first page).
"""

from contextlib import asynccontextmanager

import anyio
import streamlit as st

from ui.context import warm_up


@asynccontextmanager
async def lifespan(_app):
    problems = await anyio.to_thread.run_sync(warm_up)
    for problem in problems:
        print(f"agent-desk warm-up: {problem}", flush=True)
    yield


app = st.App("app.py", lifespan=lifespan)
