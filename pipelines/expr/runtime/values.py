"""Go-flavoured value helpers: type names, integer wraparound, function values and typed maps."""
from __future__ import annotations

from typing import Any

from ..errors import ExprRuntimeError

INT_MIN, INT_MAX = -(2**63), 2**63 - 1
NUMBER_TYPES = (int, float)


class AnyKeyMap(dict):
    """A Go map[any]... (from groupBy): keys of any type, unlike env maps whose keys are strings."""


class FuncValue:
    """A function used as a value (e.g. `add` without a call); only its Go type is observable."""

    __slots__ = ("name", "go_type", "impl")

    def __init__(self, name: str, go_type: str, impl: Any) -> None:
        self.name, self.go_type, self.impl = name, go_type, impl

    def __repr__(self) -> str:
        return f"<func {self.name}>"


def wrap_int(value: int) -> int:
    """Go int arithmetic wraps around at 64 bits."""
    if INT_MIN <= value <= INT_MAX:
        return value
    return (value + 2**63) % 2**64 - 2**63


def go_type(value: Any) -> str:
    """The Go %T spelling of a value, as expr prints it in error messages."""
    t = type(value)
    if value is None:
        return "<nil>"
    if t is bool:
        return "bool"
    if t is int:
        return "int"
    if t is float:
        return "float64"
    if t is str:
        return "string"
    if t is list:
        return "[]interface {}"
    if t is bytes:
        return "[]uint8"
    if t is AnyKeyMap:
        return "map[interface {}][]interface {}"
    if t is dict:
        return "map[string]interface {}"
    if t is FuncValue:
        return value.go_type
    name = getattr(t, "go_name", None)
    return name if isinstance(name, str) else t.__name__


def kind_name(value: Any) -> str:
    """Go reflect.Kind spelling (used by some builtin error messages)."""
    t = type(value)
    if value is None:
        return "invalid"
    return {bool: "bool", int: "int", float: "float64", str: "string", list: "slice", bytes: "slice", dict: "map",
            AnyKeyMap: "map", FuncValue: "func"}.get(t, "struct")


def fail(message: str) -> Any:
    raise ExprRuntimeError(message)


def interface_conversion(value: Any, want: str) -> ExprRuntimeError:
    name = "nil" if value is None else go_type(value)
    return ExprRuntimeError(f"interface conversion: interface {{}} is {name}, not {want}")


def go_bytes(s: str) -> bytes:
    """Go strings are byte strings; invalid bytes are kept as surrogate escapes in our str values."""
    return s.encode("utf-8", "surrogateescape")


def from_bytes(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def byte_len(s: str) -> int:
    return len(s) if s.isascii() else len(go_bytes(s))
