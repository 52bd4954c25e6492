"""Pure rule logic (no connection, no execution): predicates over frozen facts and the SQL expressions
that select the same rows. Stores execute the expressions; services and pages call the predicates."""
