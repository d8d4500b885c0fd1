"""Stage 1, syntax: source text -> tokens (lexer) -> tree (parser, nodes)."""
