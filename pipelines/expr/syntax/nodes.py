"""Syntax tree of an expr program; every node remembers its source offset for error messages."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, dataclass_transform


@dataclass_transform(eq_default=False, field_specifiers=(field,))
@dataclass(eq=False)
class Node:
    """Base of every node; each subclass is made a dataclass (identity equality) when it is defined."""

    pos: int = field(default=0, kw_only=True)
    # Static type filled in by the checker (a checker.Type).
    type: Any = field(default=None, kw_only=True, repr=False)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        dataclass(eq=False)(cls)


class Nil(Node):
    pass


class Const(Node):
    """A literal bool, int, float or string (also produced by constant folding)."""
    value: Any


class Ident(Node):
    name: str


class Pointer(Node):
    """`#`, `#index`, `#acc` (name '', 'index', 'acc') inside a predicate."""
    name: str


class Unary(Node):
    op: str
    node: Node


class Binary(Node):
    op: str
    left: Node
    right: Node


class Member(Node):
    node: Node
    prop: Node
    optional: bool = False


class Chain(Node):
    """Marks the extent of an optional chain: a nil met by `?.` inside makes the whole chain nil."""
    node: Node


class Slice(Node):
    node: Node
    start: Node | None
    end: Node | None


class Call(Node):
    """Call of an env/registered function by name."""
    name: str
    args: list[Node]


class MethodCall(Node):
    """`value.Method(args)`; only the date/duration methods exist."""
    node: Node
    name: str
    args: list[Node]
    optional: bool = False


class Builtin(Node):
    name: str
    args: list[Node]


class Predicate(Node):
    node: Node


class Array(Node):
    items: list[Node]


class Map(Node):
    pairs: list[tuple[Node, Node]]


class Conditional(Node):
    cond: Node
    then: Node
    other: Node


class Let(Node):
    name: str
    value: Node
    body: Node


def children(node: Node) -> list[Node]:
    """Direct sub-nodes, used by generic walks (depth checks, folding)."""
    if isinstance(node, (Unary, Chain, Predicate)):
        return [node.node]
    if isinstance(node, Binary):
        return [node.left, node.right]
    if isinstance(node, Member):
        return [node.node, node.prop]
    if isinstance(node, Slice):
        return [n for n in (node.node, node.start, node.end) if n is not None]
    if isinstance(node, (Call, Builtin)):
        return list(node.args)
    if isinstance(node, MethodCall):
        return [node.node, *node.args]
    if isinstance(node, Array):
        return list(node.items)
    if isinstance(node, Map):
        return [n for pair in node.pairs for n in pair]
    if isinstance(node, Conditional):
        return [node.cond, node.then, node.other]
    if isinstance(node, Let):
        return [node.value, node.body]
    return []
