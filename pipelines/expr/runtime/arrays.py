"""Builtins over arrays and maps (first, take, keys, sort, uniq, ...) and the numeric aggregates."""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..errors import ExprRuntimeError, Limits
from .access import UnhashableKey, fetch
from .gofmt import format_value
from .gotime import GoDuration
from .operators import less
from .values import AnyKeyMap, FuncValue, go_type


def _str(v: Any) -> str:
    if type(v) is str:
        return v
    from .values import interface_conversion
    raise interface_conversion(v, "string")


def _min_max(name: str, better: Callable[[Any, Any], bool], args: tuple) -> Any:
    val = None
    for arg in args:
        t = type(arg)
        if t is list:
            for item in arg:
                elem = _min_max(name, better, (item,))
                if type(elem) not in (int, float):
                    raise ExprRuntimeError(f"invalid argument for {name} (type {go_type(elem)})")
                if val is None or better(val, elem):
                    val = elem
        elif t is int or t is float or t is GoDuration:
            # A time.Duration is an int64 kind, which Go's reflection accepts at the top level.
            if val is None or better(val, arg):
                val = arg
        else:
            if len(args) == 1:
                return arg
            raise ExprRuntimeError(f"invalid argument for {name} (type {go_type(arg)})")
    return val


def b_max(*args: Any) -> Any:
    return _min_max("max", less, args)


def b_min(*args: Any) -> Any:
    return _min_max("min", lambda a, b: less(b, a), args)


def _numbers(name: str, args: tuple, out: list[float]) -> None:
    for arg in args:
        t = type(arg)
        if t is list:
            _numbers(name, tuple(arg), out)
        elif t is int or t is float:
            out.append(float(arg))
        elif t is GoDuration:
            out.append(float(arg.ns))
        else:
            raise ExprRuntimeError(f"invalid argument for {name} (type {go_type(arg)})")


def b_mean(*args: Any) -> float:
    values: list[float] = []
    _numbers("mean", args, values)
    return math.fsum(values) / len(values) if values else 0.0


def b_median(*args: Any) -> float:
    values: list[float] = []
    _numbers("median", args, values)
    if not values:
        return 0.0
    values.sort()
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def b_first(v: Any) -> Any:
    return b_get(v, 0)


def b_last(v: Any) -> Any:
    return b_get(v, -1)


def b_get(v: Any, key: Any) -> Any:
    if type(v) is AnyKeyMap:
        # get() returns nil for a missing key, where member access gives the zero value.
        result = fetch(v, key)
        return None if result == [] and not any(type(k) is type(key) and k == key for k in v) else result
    try:
        return fetch(v, key)
    except UnhashableKey:
        raise
    except ExprRuntimeError:
        return None


def b_take(arr: Any, n: Any) -> Any:
    if type(arr) is not list:
        raise ExprRuntimeError(f"cannot take from {go_type(arr)}")
    if type(n) is not int:
        raise ExprRuntimeError(f"cannot take {go_type(n)} elements")
    if n < 0:
        raise ExprRuntimeError("reflect: slice index out of range")
    return arr[:n]


def _map_arg(name: str, v: Any) -> dict:
    if type(v) is dict or type(v) is AnyKeyMap:
        return v
    raise ExprRuntimeError(f"cannot {name} {go_type(v)}")


def b_keys(v: Any) -> list:
    return list(_map_arg("get keys from", v).keys())


def b_values(v: Any) -> list:
    return list(_map_arg("get values from", v).values())


def b_to_pairs(v: Any) -> list:
    return [[k, x] for k, x in _map_arg("transform to pairs", v).items()]


def b_from_pairs(v: Any) -> Any:
    if type(v) is not list:
        raise ExprRuntimeError(f"cannot transform {go_type(v)} from pairs")
    out: dict = {}
    any_keys = False
    for pair in v:
        if type(pair) is not list or len(pair) != 2:
            raise ExprRuntimeError(f"invalid pair {format_value(pair)}")
        key = pair[0]
        if type(key) is not str:
            any_keys = True
            if type(key) in (list, dict, AnyKeyMap):
                raise ExprRuntimeError(f"runtime error: hash of unhashable type {go_type(key)}")
        out[key] = pair[1]
    return AnyKeyMap(out) if any_keys else out


def b_reverse(v: Any) -> list:
    if type(v) is not list:
        raise ExprRuntimeError(f"cannot reverse {go_type(v)}")
    return v[::-1]


def _deep_key(v: Any) -> Any:
    """A hashable key such that two values get equal keys exactly when deep_equal holds.

    deep_equal is type-strict (1 and 1.0 differ inside arrays), NaN never equals NaN and
    function values never equal anything, so those get a key of their own.
    """
    t = type(v)
    if t is list:
        return ("L", tuple(_deep_key(x) for x in v))
    if t is dict or t is AnyKeyMap:
        return ("D" if t is dict else "A", frozenset((k, _deep_key(x)) for k, x in v.items()))
    if t is float and v != v:
        return object()
    if t is FuncValue:
        return object()
    return (t, v)


def b_uniq(v: Any) -> list:
    if type(v) is not list:
        raise ExprRuntimeError(f"cannot uniq {go_type(v)}")
    # One pass with a set of canonical keys: linear in the total size of the elements.
    out: list = []
    seen: set = set()
    for x in v:
        t = type(x)
        if t is int or t is float or t is str or t is bool or x is None:
            # Go's Equal makes 1 and 1.0 equal but true and 1 different; the tag keeps bools apart.
            key = ("b", x) if t is bool else ("v", x)
        else:
            key = _deep_key(x)
        if key not in seen:
            seen.add(key)
            out.append(x)
    return out


def b_concat(*args: Any) -> list:
    out: list = []
    for a in args:
        if type(a) is not list:
            raise ExprRuntimeError(f"cannot concat {go_type(a)}")
        out.extend(a)
    if len(out) > Limits.max_collection:
        raise ExprRuntimeError("memory budget exceeded")
    return out


def b_flatten(v: Any) -> list:
    if type(v) is not list:
        raise ExprRuntimeError(f"cannot flatten {go_type(v)}")
    out: list = []
    for x in v:
        if type(x) is list:
            out.extend(b_flatten(x))
        else:
            out.append(x)
    return out


def b_sort(v: Any, order: Any = "asc") -> list:
    if v is None:
        return []
    if type(v) is not list:
        raise ExprRuntimeError(f"invalid argument for sort (type {go_type(v)})")
    order = _str(order)
    if order not in ("asc", "desc"):
        raise ExprRuntimeError(f"invalid order {order}, expected asc or desc")
    return sort_values(list(v), None, order == "desc")


class _Key:
    __slots__ = ("v",)

    def __init__(self, v: Any) -> None:
        self.v = v

    def __lt__(self, other: _Key) -> bool:
        return less(self.v, other.v)


def _native_order(values: list) -> bool:
    """All numbers or all strings: Python's own ordering is Go's (UTF-8 preserves code point order)."""
    if all(type(v) is int or type(v) is float for v in values):
        return not any(v != v for v in values)
    return all(type(v) is str for v in values)


def sort_values(items: list, keys: list | None, desc: bool) -> list:
    sort_keys = items if keys is None else keys
    key = None if _native_order(sort_keys) else _Key
    if keys is None:
        return sorted(items, key=key, reverse=desc)
    order = sorted(range(len(items)), key=(lambda i: keys[i]) if key is None else (lambda i: _Key(keys[i])),
                   reverse=desc)
    return [items[i] for i in order]


