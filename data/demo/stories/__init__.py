"""The hand-placed story, one module per workspace (and the 1.17-only rows)."""
