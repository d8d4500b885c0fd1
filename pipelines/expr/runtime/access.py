"""Member access, indexing, slicing, `in` and len() with Go semantics (byte offsets, nil handling)."""
from __future__ import annotations

from typing import Any

from ..errors import ExprRuntimeError
from .operators import equal
from .values import AnyKeyMap, from_bytes, go_bytes, go_type


class UnhashableKey(ExprRuntimeError):
    """Go panics when a map or slice is used as a key of a map[any]; even get() does not recover."""


def _hashable(key: Any) -> None:
    t = type(key)
    if t is list or t is dict or t is AnyKeyMap:
        raise UnhashableKey(f"runtime error: hash of unhashable type {go_type(key)}")


def in_(a: Any, b: Any) -> bool:
    tb = type(b)
    if tb is list:
        for x in b:
            if equal(a, x):
                return True
        return False
    if tb is dict:
        if a is None or type(a) is str:
            return a in b
        raise ExprRuntimeError(f"cannot use {go_type(a)} as type string in map key")
    if tb is AnyKeyMap:
        _hashable(a)
        try:
            return any(equal(a, k) and type(a) is type(k) for k in b)
        except TypeError:
            return False
    if b is None:
        return False
    raise ExprRuntimeError(f"operator in not defined on {go_type(b)}")


def to_index(i: Any, length: int) -> int:
    t = type(i)
    if t is not int:
        if t is float:
            i = int(i)
        else:
            raise ExprRuntimeError(f"invalid operation: int({go_type(i)})")
    return i + length if i < 0 else i


def fetch(obj: Any, key: Any) -> Any:
    t = type(obj)
    if t is dict:
        if type(key) is str:
            return obj.get(key)
        raise ExprRuntimeError(f"reflect.Value.MapIndex: value of type {go_type(key)} is not assignable to "
                               "type string")
    if t is list or t is bytes:
        n = len(obj)
        idx = to_index(key, n)
        if 0 <= idx < n:
            return obj[idx]
        raise ExprRuntimeError(f"index out of range: {key} (array length is {n})")
    if t is str:
        raw = obj if obj.isascii() else go_bytes(obj)
        n = len(raw)
        idx = to_index(key, n)
        if 0 <= idx < n:
            return ord(raw[idx]) if type(raw) is str else raw[idx]
        raise ExprRuntimeError(f"index out of range: {key} (array length is {n})")
    if t is AnyKeyMap:
        _hashable(key)
        for k, v in obj.items():
            if type(k) is type(key) and k == key:
                return v
        # A missing key yields the zero value of the element type, an empty (nil) slice.
        return []
    if obj is None:
        raise ExprRuntimeError(f"cannot fetch {format_plain(key)} from <nil>")
    raise ExprRuntimeError(f"cannot fetch {format_plain(key)} from {go_type(obj)}")


def fetch_opt(obj: Any, key: Any) -> Any:
    """`?.` and `?.[]`: a nil object gives nil instead of an error."""
    if obj is None:
        return None
    if type(obj) is AnyKeyMap:
        _hashable(key)
        for k, v in obj.items():
            if type(k) is type(key) and k == key:
                return v
        return None
    return fetch(obj, key)


def format_plain(v: Any) -> str:
    from .gofmt import format_value
    return format_value(v)


def slice_(obj: Any, start: Any, end: Any) -> Any:
    t = type(obj)
    if t is bytes:
        return obj[_slice_bounds(obj, start, end)]
    if t is list or t is str:
        raw: Any = obj if t is list or obj.isascii() else go_bytes(obj)
        n = len(raw)
        a = 0 if start is None else to_index(start, n)
        b = n if end is None else to_index(end, n)
        a = max(a, 0)
        b = min(max(b, 0), n)
        if a > b:
            a = b
        out = raw[a:b]
        return from_bytes(out) if type(out) is bytes else out
    raise ExprRuntimeError(f"cannot slice {go_type(obj)}")


def _slice_bounds(obj: Any, start: Any, end: Any) -> slice:
    n = len(obj)
    a = 0 if start is None else to_index(start, n)
    b = n if end is None else to_index(end, n)
    b = min(max(b, 0), n)
    return slice(min(max(a, 0), b), b)


def length(v: Any) -> int:
    t = type(v)
    if t is str:
        # Go's expr counts runes for len() but slices strings by byte offset.
        return len(v)
    if t is list or t is dict or t is AnyKeyMap or t is bytes:
        return len(v)
    raise ExprRuntimeError(f"invalid argument for len (type {go_type(v)})")
