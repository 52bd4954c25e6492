"""Pure rules (no database code): which rows are leaks, as predicates over frozen facts."""
