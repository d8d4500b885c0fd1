"""What predicate loops call at run time: the items to visit, the work budget and loop errors."""
from __future__ import annotations

from typing import Any

from ..errors import ExprRuntimeError
from .values import AnyKeyMap, go_bytes, interface_conversion


def iter_items(v: Any) -> list:
    """What a predicate iterates over: arrays and the bytes of a string (nil and maps fail as in Go)."""
    if type(v) is list:
        return v
    if v is None:
        # Go's loop set-up asks reflect for the length of nil, which panics.
        raise ExprRuntimeError("reflect: call of reflect.Value.Len on zero Value")
    if type(v) is bytes:
        return list(v)
    if type(v) is str:
        return list(go_bytes(v))
    if type(v) is dict or type(v) is AnyKeyMap:
        # Go sizes the loop with reflect (a map has a length) but then indexes it, which panics:
        # an empty map is an empty loop, any other map an error.
        if v:
            raise ExprRuntimeError("reflect: call of reflect.Value.Index on map Value")
        return []
    from .values import go_type
    raise ExprRuntimeError(f"cannot iterate over {go_type(v)}")


def charge(budget: list, items: Any) -> Any:
    """Count the elements a loop is about to visit against the per-run work budget."""
    budget[0] -= len(items) if type(items) in (list, str, dict, AnyKeyMap) else 0
    if budget[0] < 0:
        from .budget import exhausted
        raise exhausted()
    return items


def not_bool(value: Any) -> None:
    raise interface_conversion(value, "bool")


def not_number(total: Any, value: Any) -> None:
    from .values import go_type
    raise ExprRuntimeError(f"invalid operation: {go_type(total)} + {go_type(value)}")
