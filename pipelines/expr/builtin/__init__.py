"""The builtin library as one table (table.py) and the views of it each compiler stage needs."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..runtime.budget import metered
from ..runtime.charged import METERED, NATIVE
from .table import TABLE, Builtin
from .validators import ArgumentError

BUILTINS: dict[str, Builtin] = {b.name: b for b in TABLE}
# Parser: which call names are builtins, and how predicate builtins take their arguments.
NAMES = frozenset(BUILTINS)
PREDICATE_SHAPES: dict[str, str] = {b.name: b.predicate for b in TABLE if b.predicate}
# Folder: builtins whose constant calls are computed at compile time.
PURE: dict[str, Callable[..., Any]] = {b.name: b.impl for b in TABLE if b.pure and b.impl is not None}
# Code generator: results charged to the work budget inside loops.
SIZED = frozenset(b.name for b in TABLE if b.sized)
# Code generator: builtins called with the evaluation's work budget as their first argument.
CHARGING = frozenset(NATIVE) | frozenset(METERED)


def check_builtin(name: str, types: list[str]) -> str:
    """Result type of a builtin call with these static argument types; raises ArgumentError."""
    return BUILTINS[name].validate(types)


def runtime_names() -> dict[str, Callable[..., Any]]:
    """The names generated code uses for builtins: `_b_NAME` for functions, `_p_NAME` for the
    predicate builtins that run as helpers rather than inline loops."""
    names = {}
    for b in TABLE:
        if b.impl is None:
            continue
        if b.predicate:
            names["_p_" + b.name] = b.impl
        elif b.name in NATIVE:
            names["_b_" + b.name] = NATIVE[b.name]
        elif b.name in METERED:
            per_char, deep, per_item = METERED[b.name]
            names["_b_" + b.name] = metered(b.impl, per_char=per_char, deep=deep, per_item=per_item)
        else:
            names["_b_" + b.name] = b.impl
    return names


__all__ = ["CHARGING", "ArgumentError", "BUILTINS", "Builtin", "NAMES", "PREDICATE_SHAPES", "PURE", "SIZED", "check_builtin",
           "runtime_names"]
