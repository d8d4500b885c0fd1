"""Stage 4, run time: Go-flavoured values and what generated programs call (operators, access,
builtin implementations, predicates, dates and zones, formatting)."""
