"""The per-evaluation work budget: one counter that every sizeable piece of work is charged to.

Each run of a program starts with `Limits.max_work` units in a one-element list (`_bud`). Loops,
ranges, builtins, string concatenation, slices and comparisons of large values subtract what they
cost *before* they allocate or iterate when the size is known up front (ranges, repeat, split,
flatten...), otherwise right after. One unit is about one list slot or one loop step (~40 ns and
~40 bytes on a small server); strings cost one unit per 8 characters produced and one per 16
characters read. With the default 500,000 units an evaluation stays within about 50 ms of CPU
and 64 MB. Charges are made per call from lengths, never per element in Python, so the common
small cases pay almost nothing.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ExprRuntimeError, Limits
from . import access as _access
from . import operators as _ops
from . import regex as _regex
from .values import AnyKeyMap

_CONTAINERS = (list, dict, AnyKeyMap)


def exhausted() -> ExprRuntimeError:
    return ExprRuntimeError(f"work budget exceeded: the expression needs more than {Limits.max_work} "
                            "units of work for one record (large ranges, repeats, loops or results)")


def spend(bud: list, units: int) -> None:
    bud[0] -= units
    if bud[0] < 0:
        raise exhausted()


READ_SHIFT = 4  # reading a value once: 1 unit per 16 characters
SIZE_SHIFT = 3  # producing a value (its memory): 1 unit per 8 characters


def value_units(v: Any, char_shift: int) -> int:
    """What a value costs: strings 1 unit per 2**char_shift characters, collections 1 per element."""
    t = type(v)
    if t is str:
        return len(v) >> char_shift
    if t is list or t is dict or t is AnyKeyMap:
        return len(v)
    return 0


def charge_read(bud: list, v: Any) -> Any:
    bud[0] -= value_units(v, READ_SHIFT)
    if bud[0] < 0:
        raise exhausted()
    return v


def charge_result(bud: list, v: Any) -> Any:
    bud[0] -= value_units(v, SIZE_SHIFT)
    if bud[0] < 0:
        raise exhausted()
    return v


def charge_deep(bud: list, v: Any, weight: int = 1) -> None:
    """Charge every element of a nested value. The same array can appear many times inside
    another (`[a, a, a]`), so walking it can cost far more than its memory; the walk stops as soon
    as the budget is spent, so it never costs more than the budget itself."""
    t = type(v)
    if t is not list and t is not dict and t is not AnyKeyMap:
        return
    stack = [v]
    left = bud[0]
    while stack:
        item = stack.pop()
        t = type(item)
        if t is list:
            left -= (len(item) + 1) * weight
            stack.extend(x for x in item if type(x) in _CONTAINERS)
        elif t is dict or t is AnyKeyMap:
            left -= (len(item) + 1) * weight
            stack.extend(x for x in item.values() if type(x) in _CONTAINERS)
        if left < 0:
            bud[0] = left
            raise exhausted()
    bud[0] = left


def metered(impl: Callable[..., Any], *, per_char: float = 1 / 16, deep: bool = False,
            per_item: int = 1) -> Callable[..., Any]:
    """Wrap a builtin that knows nothing of the budget: its arguments are charged as read (deeply
    for builtins that walk nested arrays) and its result as produced."""
    def call(bud: list, *args: Any) -> Any:
        units = 0
        for a in args:
            t = type(a)
            if t is str:
                units += int(len(a) * per_char)
            elif t is list or t is dict or t is AnyKeyMap:
                if deep:
                    charge_deep(bud, a, per_item)
                else:
                    units += len(a) * per_item
        bud[0] -= units
        if bud[0] < 0:
            raise exhausted()
        result = impl(*args)
        bud[0] -= value_units(result, SIZE_SHIFT)
        if bud[0] < 0:
            raise exhausted()
        return result
    call.__name__ = getattr(impl, "__name__", "builtin")
    return call


def charge_weighted(bud: list, items: Any, body_weight: int) -> Any:
    """A predicate helper (groupBy, sortBy, reduce...) is about to run a body of this weight per element."""
    t = type(items)
    if t is list or t is str or t is dict or t is AnyKeyMap:
        bud[0] -= len(items) * body_weight
        if bud[0] < 0:
            raise exhausted()
    return items


def fresh() -> list:
    """A budget for one evaluation outside generated code (constant folding)."""
    return [Limits.max_work]


# Operators whose cost grows with their operands. The generated code calls these instead of the
# plain operators wherever an operand may be large.

def add(bud: list, a: Any, b: Any) -> Any:
    if type(a) is str and type(b) is str:
        n = len(a) + len(b)
        if n > 256:
            spend(bud, n >> 3)
    return _ops.add(a, b)


def equal(bud: list, a: Any, b: Any) -> bool:
    if type(a) in _CONTAINERS and type(b) in _CONTAINERS:
        charge_deep(bud, a)
    return _ops.equal(a, b)


def not_equal(bud: list, a: Any, b: Any) -> bool:
    return not equal(bud, a, b)


def in_(bud: list, a: Any, b: Any) -> bool:
    if type(b) is list:
        if type(a) in _CONTAINERS:
            charge_deep(bud, b)
        else:
            spend(bud, len(b))
    return _access.in_(a, b)


def matches(bud: list, text: Any, pattern: Any) -> bool:
    """`text matches pattern` with a pattern known only at run time: a pattern that is not
    compiled yet is charged before it is compiled, and the text as it is searched."""
    if type(pattern) is str and pattern not in _regex._CACHE:
        spend(bud, _regex.regex_units(pattern))
    if type(text) is str and len(text) > 4096:
        spend(bud, len(text) >> 4)
    return _regex.matches(text, pattern)


def make_range(bud: list, a: Any, b: Any) -> list[int]:
    lo = int(a) if type(a) is float else a
    hi = int(b) if type(b) is float else b
    if type(lo) is int and type(hi) is int and hi >= lo:
        spend(bud, min(hi - lo + 1, Limits.max_work + 1))  # before the list exists
    return _ops.make_range(a, b)


def slice_(bud: list, obj: Any, start: Any, end: Any) -> Any:
    return charge_result(bud, _access.slice_(obj, start, end))
