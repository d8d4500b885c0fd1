"""Stage 2, checking: static types (typesys) and Go's compile-time checks over the tree (checker)."""
