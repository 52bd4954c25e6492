"""The Streamlit floor for browser timings: a trivial app showing a 50-row dataframe and a rerun button."""

import pandas as pd
import streamlit as st

if st.button("Rerun"):
    st.session_state["runs"] = st.session_state.get("runs", 0) + 1
st.dataframe(
    pd.DataFrame(
        {"n": range(50), "name": [f"row {i}" for i in range(50)], "value": [i * 1.5 for i in range(50)]}
    )
)
st.caption(f"runs {st.session_state.get('runs', 0)}")
