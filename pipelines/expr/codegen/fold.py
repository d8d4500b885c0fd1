"""Constant folding: operators and pure builtins whose operands are all literals are computed once."""
from __future__ import annotations

from typing import Any

from ..builtin import PURE
from ..errors import ExprCompileError, ExprError
from ..runtime import operators as R
from ..syntax import nodes as A

_OPS = {"+": R.add, "-": R.sub, "*": R.mul, "/": R.div, "%": R.mod, "**": R.power, "^": R.power,
        "<": R.less, "<=": R.less_eq, ">": R.greater, ">=": R.greater_eq, "==": R.equal, "!=": R.not_equal,
        "contains": R.contains, "startsWith": R.starts_with, "endsWith": R.ends_with}
_SCALARS = (bool, int, float, str)


def _const(value: Any, like: A.Node) -> A.Node | None:
    if type(value) not in _SCALARS or (type(value) is str and len(value) > 4096):
        return None
    node = A.Const(value, pos=like.pos)
    node.type = like.type
    return node


def _bool_const(node: A.Node) -> bool | None:
    return node.value if isinstance(node, A.Const) and type(node.value) is bool else None


def _logic(node: A.Binary) -> A.Node | None:
    """Go's optimizer drops a literal operand of and/or: `x and true` is x itself, not a bool.

    So `nil and true` gives nil in Go rather than an error; we do the same.
    """
    a, b = _bool_const(node.left), _bool_const(node.right)
    neutral = node.op in ("and", "&&")
    if a is neutral:
        return node.right
    if b is neutral:
        return node.left
    if a is not None or b is not None:  # the absorbing literal: `x and false`, `true or x`
        out = A.Const(not neutral, pos=node.pos)
        out.type = node.type
        return out
    return None


def fold(node: A.Node, source: str = "") -> A.Node:
    """Return node with literal-only sub-expressions replaced by their value."""
    for attr in ("node", "left", "right", "cond", "then", "other", "value", "body", "start", "end", "prop"):
        child = getattr(node, attr, None)
        if isinstance(child, A.Node):
            setattr(node, attr, fold(child, source))
    if isinstance(node, (A.Call, A.Builtin, A.MethodCall)):
        node.args = [fold(a, source) for a in node.args]
    elif isinstance(node, A.Array):
        node.items = [fold(i, source) for i in node.items]
    elif isinstance(node, A.Map):
        node.pairs = [(fold(k, source), fold(v, source)) for k, v in node.pairs]
    if isinstance(node, A.Binary) and node.op == "%" and isinstance(node.right, A.Const) \
            and node.right.value == 0 and type(node.right.value) is int \
            and isinstance(node.left, A.Const) and type(node.left.value) is int:
        raise ExprCompileError("integer divide by zero", source, node.pos)
    if isinstance(node, A.Binary) and node.op in ("and", "&&", "or", "||"):
        return _logic(node) or node
    try:
        if isinstance(node, A.Binary) and node.op in _OPS and isinstance(node.left, A.Const) \
                and isinstance(node.right, A.Const):
            return _const(_OPS[node.op](node.left.value, node.right.value), node) or node
        if isinstance(node, A.Unary) and isinstance(node.node, A.Const):
            fn = {"-": R.neg, "+": R.pos, "!": R.not_, "not": R.not_}[node.op]
            return _const(fn(node.node.value), node) or node
        if isinstance(node, A.Conditional) and isinstance(node.cond, A.Const) and type(node.cond.value) is bool:
            return node.then if node.cond.value else node.other
        if isinstance(node, A.Builtin) and node.name in PURE and node.args \
                and all(isinstance(a, A.Const) for a in node.args):
            return _const(PURE[node.name](*(a.value for a in node.args)), node) or node
    except (ExprError, TypeError, ValueError, OverflowError):
        return node
    return node
