"""Stage 3, code generation: constant folding (fold), then one Python function per program
(generator), with predicate loops (loops), the helper namespace it runs in (helpers) and the map
from generated lines back to source positions (positions)."""
