"""Static facts about a checked tree that choose the generated code: the cost of a predicate body,
how many operators read large operands, and which nodes surely evaluate to a Python bool."""
from __future__ import annotations

from ..syntax import nodes as A

# Operators whose cost grows with the size of their operands.
SIZED_OPERANDS = frozenset({"in", "matches", "contains", "startsWith", "endsWith", "==", "!=", "+", "<", "<=",
                             ">", ">="})


def weight(node: A.Node) -> int:
    """Work units of one evaluation of a predicate body: its node count (each node is roughly one
    Python step). A loop charges this per element, so a long body over a long array is bounded."""
    total, stack = 0, [node]
    while stack:
        n = stack.pop()
        # A function call (with its argument checks and budget wrapper) costs several steps.
        # Array and map literals allocate a container per element (and feed the cyclic GC).
        total += 8 if isinstance(n, (A.Builtin, A.Call, A.MethodCall)) else 6 if isinstance(n, (A.Array, A.Map)) else 1
        stack.extend(A.children(n))
    return total


def sized_reads(node: A.Node) -> int:
    """How many operators read possibly large operands (contains, matches, in, ==, + ...)."""
    count, stack = 0, [node]
    while stack:
        n = stack.pop()
        if isinstance(n, A.Binary) and n.op in SIZED_OPERANDS:
            count += 1
        stack.extend(A.children(n))
    return count


def surely_bool(node: A.Node) -> bool:
    """True when Python evaluation of node always yields a real bool (not merely typed bool in env)."""
    if isinstance(node, A.Const):
        return type(node.value) is bool
    if isinstance(node, A.Unary):
        return node.op in ("!", "not")
    if isinstance(node, A.Binary):
        if node.op in ("and", "&&", "or", "||"):
            return surely_bool(node.left) and surely_bool(node.right)
        return node.op in ("==", "!=", "<", "<=", ">", ">=", "in", "contains", "startsWith", "endsWith", "matches")
    if isinstance(node, A.Builtin):
        return node.name in ("all", "any", "none", "one", "hasPrefix", "hasSuffix")
    return False
