"""Services: logic over store results (diff, integrity checks, cleanup, audit, exports). No SQL, no streamlit."""
