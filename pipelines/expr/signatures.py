"""Compile-time argument checks and result types of the builtins, mirroring expr's builtin validators."""
from __future__ import annotations

from typing import Any

from .typesys import (
    ANY,
    ARRAY,
    BOOL,
    BYTES,
    DURATION,
    FLOAT,
    GROUPS,
    INT,
    LOCATION,
    MAP,
    MONTH,
    NIL,
    NUMERIC,
    STRING,
    TIME,
    WEEKDAY,
    go_name,
)

S, N, F, B, A_, M, X = STRING, INT, FLOAT, BOOL, ARRAY, MAP, ANY

# Overloads as (params, result); checked in order and, as in expr, the last failure is reported.
OVERLOADS: dict[str, list[tuple[tuple[str, ...], str]]] = {
    "type": [((X,), S)], "string": [((X,), S)],
    "trim": [((S,), S), ((S, S), S)], "trimPrefix": [((S, S), S), ((S,), S)],
    "trimSuffix": [((S, S), S), ((S,), S)], "upper": [((S,), S)], "lower": [((S,), S)],
    "split": [((S, S), A_), ((S, S, N), A_)], "splitAfter": [((S, S), A_), ((S, S, N), A_)],
    "replace": [((S, S, S, N), S), ((S, S, S), S)], "repeat": [((S, N), S)],
    "join": [((A_, S), S), ((A_,), S)], "indexOf": [((S, S), N)], "lastIndexOf": [((S, S), N)],
    "hasPrefix": [((S, S), B)], "hasSuffix": [((S, S), B)], "toJSON": [((X,), S)], "fromJSON": [((S,), X)],
    "toBase64": [((S,), S)], "fromBase64": [((S,), S)], "duration": [((S,), DURATION)],
    "timezone": [((S,), LOCATION)], "sort": [((A_, S), A_), ((A_,), A_)], "bitnot": [((N,), N)],
    **{name: [((N, N), N)] for name in ("bitand", "bitor", "bitxor", "bitnand", "bitshl", "bitshr", "bitushr")},
}

PREDICATE_RESULTS = {"all": BOOL, "none": BOOL, "any": BOOL, "one": BOOL, "filter": ARRAY, "map": ARRAY,
                     "find": ANY, "findIndex": INT, "findLast": ANY, "findLastIndex": INT, "count": INT,
                     "sum": ANY, "groupBy": GROUPS, "sortBy": ARRAY, "reduce": ANY}


_BOOL_PREDICATES = {"all", "none", "any", "one", "filter", "count", "find", "findIndex", "findLast",
                    "findLastIndex"}


def _name(t: str) -> str:
    return "unknown" if t == NIL else go_name(t)


def _assignable(t: str, want: str) -> bool:
    return t == want or t == ANY or want == ANY


def _overloads(name: str, types: list[str]) -> tuple[str | None, int | None, str]:
    error: tuple[str | None, int | None] = (None, None)
    for params, result in OVERLOADS[name]:
        if len(types) < len(params):
            error = (f"not enough arguments to call {name}", None)
            continue
        if len(types) > len(params):
            error = (f"too many arguments to call {name}", None)
            continue
        for i, (t, want) in enumerate(zip(types, params, strict=True)):
            if not _assignable(t, want):
                error = (f"cannot use {go_name(t)} as argument (type {go_name(want)}) to call {name}", i)
                break
        else:
            return None, None, result
    return error[0], error[1], ANY


def _count(name: str, types: list[str], n: int) -> str | None:
    if len(types) != n:
        return f"invalid number of arguments (expected {n}, got {len(types)})"
    return None


def check_builtin(name: str, types: list[str], args: list[Any]) -> tuple[str | None, int | None, str]:
    """Return (error message or None, index of the offending argument or None, result type)."""
    if name in PREDICATE_RESULTS:
        first = types[0] if types else ANY
        if first not in (ARRAY, ANY, BYTES):
            return f"builtin {name} takes only array (got {_name(first)})", 0, ANY
        if name in _BOOL_PREDICATES and len(types) > 1 and types[1] not in (BOOL, ANY):
            return f"predicate should return boolean (got {go_name(types[1])})", 1, ANY
        if name == "sortBy" and len(types) > 2 and types[2] not in (STRING, ANY):
            return f"sortBy order argument must be a string (got {go_name(types[2])})", 2, ANY
        if name == "sum" and len(types) == 1:
            return None, None, ANY
        if name in ("map", "filter", "sortBy"):
            return None, None, ARRAY
        return None, None, PREDICATE_RESULTS[name]
    if name in OVERLOADS:
        return _overloads(name, types)
    t0 = types[0] if types else None
    if name in ("len", "abs", "ceil", "floor", "round", "int", "float", "first", "last", "keys", "values",
                "toPairs", "fromPairs", "reverse", "uniq", "flatten"):
        msg = _count(name, types, 1)
        if msg:
            return msg, None, ANY
        ok_kinds = {
            "len": {ARRAY, MAP, GROUPS, BYTES, STRING, ANY}, "abs": NUMERIC | {ANY}, "ceil": NUMERIC | {ANY},
            "floor": NUMERIC | {ANY}, "round": NUMERIC | {ANY}, "int": NUMERIC | {ANY, STRING},
            "float": NUMERIC | {ANY, STRING}, "first": {ARRAY, ANY}, "last": {ARRAY, ANY},
            "keys": {MAP, GROUPS, ANY}, "values": {MAP, GROUPS, ANY}, "toPairs": {MAP, GROUPS, ANY}, "fromPairs": {ARRAY, ANY},
            "reverse": {ARRAY, ANY}, "uniq": {ARRAY, ANY}, "flatten": {ARRAY, ANY},
        }[name]
        if t0 not in ok_kinds:
            verb = {"first": "cannot get first element from", "last": "cannot get last element from",
                    "keys": "cannot get keys from", "values": "cannot get values from",
                    "toPairs": "cannot transform", "fromPairs": "cannot transform", "reverse": "cannot reverse",
                    "uniq": "cannot uniq", "flatten": "cannot flatten"}.get(name)
            if verb:
                suffix = " to pairs" if name == "toPairs" else " from pairs" if name == "fromPairs" else ""
                return f"{verb} {go_name(t0)}{suffix}", None, ANY
            return f"invalid argument for {name} (type {go_name(t0)})", None, ANY
        result = {"len": INT, "abs": t0, "ceil": FLOAT, "floor": FLOAT, "round": FLOAT, "int": INT, "float": FLOAT,
                  "first": ANY, "last": ANY, "fromPairs": MAP}.get(name, ARRAY)
        return None, None, result
    if name in ("max", "min", "mean", "median"):
        if not types:
            return f"not enough arguments to call {name}", None, ANY
        for t in types:
            if t in (ANY, ARRAY, BYTES):
                return None, None, ANY if name in ("max", "min") else FLOAT
            # Go's validator looks at the kind: durations (int64) pass, as do time.Month values.
            if t not in NUMERIC and t not in (DURATION, MONTH, WEEKDAY):
                return f"invalid argument for {name} (type {go_name(t)})", None, ANY
        return None, None, types[0] if name in ("max", "min") else FLOAT
    if name == "concat":
        if not types:
            return "invalid number of arguments (expected at least 1, got 0)", None, ANY
        for t in types:
            if t not in (ARRAY, ANY):
                return f"cannot concat {go_name(t)}", None, ANY
        return None, None, ARRAY
    if name == "get":
        msg = _count(name, types, 2)
        if msg:
            return msg, None, ANY
        if t0 == ANY:
            return None, None, ANY
        if t0 in (ARRAY, BYTES) and types[1] not in (INT, ANY):
            return f"non-integer slice index {_name(types[1])}", 1, ANY
        if t0 == MAP and types[1] not in (STRING, ANY):
            return f"cannot use {_name(types[1])} to get an element from {go_name(MAP)}", 1, ANY
        if t0 not in (ARRAY, MAP, BYTES, GROUPS):
            return f"type {_name(t0)} does not support indexing", 0, ANY
        return None, None, ANY
    if name == "take":
        msg = _count(name, types, 2)
        if msg:
            return msg, None, ANY
        if t0 not in (ARRAY, ANY):
            return f"cannot take from {go_name(t0)}", None, ANY
        if types[1] not in (INT, ANY):
            return f"cannot take {go_name(types[1])} elements", None, ANY
        return None, None, t0
    if name == "now":
        if types and types != [LOCATION]:
            return f"invalid number of arguments (expected 0, got {len(types)})", None, ANY
        return None, None, TIME
    if name == "date":
        if types and types[0] == LOCATION:
            types = types[1:]
        if not types:
            return "invalid number of arguments (expected at least 1, got 0)", None, ANY
        if len(types) > 3:
            return f"invalid number of arguments (expected at most 3, got {len(types)})", None, ANY
        return None, None, TIME
    return None, None, ANY
