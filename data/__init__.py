"""Agent Desk's core: models, tolerant parsing, stores, services, settings, demo data and CLI.

This package never imports streamlit: pages render what it returns, scripts call it directly.
"""

__version__ = "0.1.0"
