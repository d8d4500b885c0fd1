"""Predicate builtins that run as helpers (groupBy, sortBy, reduce, count/sum without predicate)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ExprRuntimeError
from .arrays import _native_order, sort_values
from .budget import spend
from .charged import sort_units
from .iteration import charge, iter_items
from .operators import add
from .values import AnyKeyMap, go_type, interface_conversion


def _bool(v: Any) -> bool:
    if v is True or v is False:
        return v
    raise interface_conversion(v, "bool")


def p_count(arr: Any, fn: Callable | None = None) -> int:
    items = iter_items(arr)
    if fn is None:
        return sum(1 for x in items if _bool(x))
    return sum(1 for i, x in enumerate(items) if _bool(fn(x, i)))


def p_sum(arr: Any, fn: Callable | None = None) -> Any:
    total: Any = 0
    if fn is None and arr is None:
        raise ExprRuntimeError("reflect: call of reflect.Value.Len on zero Value")
    for i, x in enumerate(iter_items(arr)):
        v = x if fn is None else fn(x, i)
        if type(v) not in (int, float):
            raise ExprRuntimeError(f"invalid operation: {go_type(total)} + {go_type(v)}")
        total = add(total, v)
    return total


def p_group_by(arr: Any, fn: Callable) -> AnyKeyMap:
    out = AnyKeyMap()
    for i, x in enumerate(iter_items(arr)):
        key = fn(x, i)
        if type(key) in (list, dict, AnyKeyMap):
            raise ExprRuntimeError(f"cannot use {go_type(key)} as a key for groupBy: type is not comparable")
        # Known difference: 1, 1.0 and true are distinct Go keys but one Python key.
        group = out.get(key)
        if group is None:
            out[key] = group = []
        group.append(x)
    return out


def p_sort_by(budget: list, arr: Any, fn: Callable, order: Any = "asc") -> list:
    if order not in ("asc", "desc"):
        raise ExprRuntimeError(f"invalid order {order}, expected asc or desc")
    items = list(iter_items(arr))
    keys = [fn(x, i) for i, x in enumerate(items)]
    spend(budget, sort_units(len(keys), _native_order(keys)))
    return sort_values(items, keys, order == "desc")


_NO_INIT = object()


def p_reduce(budget: list, arr: Any, fn: Callable, init: Any = _NO_INIT) -> Any:
    items = iter_items(arr)
    start = 0
    if init is _NO_INIT:
        if not items:
            raise ExprRuntimeError("reduce of empty array with no initial value")
        acc, start = items[0], 1
    else:
        acc = init
    for i in range(start, len(items)):
        acc = fn(items[i], i, acc)
        if type(acc) is str or type(acc) is list:
            # Growing accumulators (string concatenation) cost their size on every step.
            budget[0] -= len(acc)
            if budget[0] < 0:
                charge(budget, acc)
    return acc


# The other predicate builtins are generated as inline loops (see loops.py); these run as helpers:
# count/sum without a predicate, and the three whose predicate feeds a data structure.
PREDICATE_FUNCS = {"count": p_count, "sum": p_sum, "groupBy": p_group_by, "sortBy": p_sort_by, "reduce": p_reduce}
