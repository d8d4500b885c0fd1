"""Compile-time argument checks of builtins that typed overloads cannot express (expr's Validate funcs).

A validator takes the static argument types and returns the result type, or raises ArgumentError
with Go's message and the index of the offending argument (None: the call itself is reported).
"""
from __future__ import annotations

from collections.abc import Callable

from ..checking import typesys as T
from ..checking.typesys import go_name

Validator = Callable[[list[str]], str]
Signature = tuple[tuple[str, ...], str]  # (parameter types, result type)


class ArgumentError(Exception):
    def __init__(self, message: str, index: int | None = None) -> None:
        super().__init__(message)
        self.message, self.index = message, index


def type_name(t: str) -> str:
    return "unknown" if t == T.NIL else go_name(t)


def overloads(name: str, signatures: tuple[Signature, ...]) -> Validator:
    """Typed Go overloads, tried in order; as in expr, the last failure is the one reported."""
    def validate(types: list[str]) -> str:
        error = ArgumentError(f"no matching overload for {name}")
        for params, result in signatures:
            if len(types) != len(params):
                word = "not enough" if len(types) < len(params) else "too many"
                error = ArgumentError(f"{word} arguments to call {name}")
                continue
            for i, (t, want) in enumerate(zip(types, params, strict=True)):
                if t != want and t != T.ANY and want != T.ANY:
                    error = ArgumentError(f"cannot use {go_name(t)} as argument (type {go_name(want)}) "
                                          f"to call {name}", i)
                    break
            else:
                return result
        raise error
    return validate


def one_argument(name: str, accepted: set[str] | frozenset[str], result: str | None, refusal: str = "") -> Validator:
    """One argument of the accepted kinds. `result` None means: the argument's own type.

    `refusal` is Go's wording for a wrong kind ("cannot reverse {}"); the default is
    "invalid argument for NAME (type T)".
    """
    def validate(types: list[str]) -> str:
        if len(types) != 1:
            raise ArgumentError(f"invalid number of arguments (expected 1, got {len(types)})")
        t = types[0]
        if t not in accepted:
            raise ArgumentError(refusal.format(go_name(t)) if refusal
                                else f"invalid argument for {name} (type {go_name(t)})")
        return t if result is None else result
    return validate


# Go's kind-based validators accept every integer and float kind: time.Duration is an int64.
NUMBER_KINDS = T.NUMERIC | {T.DURATION, T.MONTH, T.WEEKDAY}


def aggregate(name: str) -> Validator:
    """max, min, mean, median: numbers or arrays of them (validateAggregateFunc)."""
    def validate(types: list[str]) -> str:
        if not types:
            raise ArgumentError(f"not enough arguments to call {name}")
        for t in types:
            if t in (T.ANY, T.ARRAY, T.BYTES):
                return T.ANY if name in ("max", "min") else T.FLOAT
            if t not in NUMBER_KINDS:
                raise ArgumentError(f"invalid argument for {name} (type {go_name(t)})")
        return types[0] if name in ("max", "min") else T.FLOAT
    return validate


def predicate(name: str, result: str) -> Validator:
    """The collection of a predicate builtin must be an array; some predicates must return bools."""
    def validate(types: list[str]) -> str:
        first = types[0] if types else T.ANY
        if first not in (T.ARRAY, T.ANY, T.BYTES):
            raise ArgumentError(f"builtin {name} takes only array (got {type_name(first)})", 0)
        if name in BOOL_PREDICATES and len(types) > 1 and types[1] not in (T.BOOL, T.ANY):
            raise ArgumentError(f"predicate should return boolean (got {go_name(types[1])})", 1)
        if name == "sortBy" and len(types) > 2 and types[2] not in (T.STRING, T.ANY):
            raise ArgumentError(f"sortBy order argument must be a string (got {go_name(types[2])})", 2)
        return result
    return validate


BOOL_PREDICATES = frozenset({"all", "none", "any", "one", "filter", "count", "find", "findIndex", "findLast",
                             "findLastIndex"})


def concat(types: list[str]) -> str:
    if not types:
        raise ArgumentError("invalid number of arguments (expected at least 1, got 0)")
    for t in types:
        if t not in (T.ARRAY, T.ANY):
            raise ArgumentError(f"cannot concat {go_name(t)}")
    return T.ARRAY


def get(types: list[str]) -> str:
    if len(types) != 2:
        raise ArgumentError(f"invalid number of arguments (expected 2, got {len(types)})")
    base, key = types
    if base == T.ANY:
        return T.ANY
    if base in (T.ARRAY, T.BYTES) and key not in (T.INT, T.ANY):
        raise ArgumentError(f"non-integer slice index {type_name(key)}", 1)
    if base == T.MAP and key not in (T.STRING, T.ANY):
        raise ArgumentError(f"cannot use {type_name(key)} to get an element from {go_name(T.MAP)}", 1)
    if base not in (T.ARRAY, T.MAP, T.BYTES, T.GROUPS):
        raise ArgumentError(f"type {type_name(base)} does not support indexing", 0)
    return T.ANY


def take(types: list[str]) -> str:
    if len(types) != 2:
        raise ArgumentError(f"invalid number of arguments (expected 2, got {len(types)})")
    if types[0] not in (T.ARRAY, T.ANY):
        raise ArgumentError(f"cannot take from {go_name(types[0])}")
    if types[1] not in (T.INT, T.ANY):
        raise ArgumentError(f"cannot take {go_name(types[1])} elements")
    return types[0]


def now(types: list[str]) -> str:
    if types and types != [T.LOCATION]:
        raise ArgumentError(f"invalid number of arguments (expected 0, got {len(types)})")
    return T.TIME


def date(types: list[str]) -> str:
    if types and types[0] == T.LOCATION:  # date(loc, text, ...) parses in that location
        types = types[1:]
    if not types:
        raise ArgumentError("invalid number of arguments (expected at least 1, got 0)")
    if len(types) > 3:
        raise ArgumentError(f"invalid number of arguments (expected at most 3, got {len(types)})")
    return T.TIME
