"""Builtins that charge the evaluation's work budget themselves, before they allocate.

Each takes the budget (`_bud`) first and then the builtin's own arguments; the semantics are those
of the plain implementation it calls. The size of the result is computed from lengths (a count,
a product) so that the charge is made before the work and costs no Python loop per element.
"""
from __future__ import annotations

from typing import Any

from . import arrays
from . import functions as fn
from .budget import charge_deep, charge_result, spend
from .values import AnyKeyMap


def b_upper(bud: list, s: Any) -> str:
    if type(s) is str and s.isascii() and len(s) <= 256:
        return s.upper()  # the common case, without a second call
    if type(s) is str and len(s) > 256:
        # The rune-by-rune path for non-ASCII text runs a Python step per character.
        spend(bud, (len(s) >> 3) + (0 if s.isascii() else len(s) * 3))
    return fn.b_upper(s)


def b_lower(bud: list, s: Any) -> str:
    if type(s) is str and s.isascii() and len(s) <= 256:
        return s.lower()
    if type(s) is str and len(s) > 256:
        spend(bud, (len(s) >> 3) + (0 if s.isascii() else len(s) * 3))
    return fn.b_lower(s)


def b_repeat(bud: list, s: Any, n: Any) -> str:
    if type(s) is str and type(n) is int and n > 0:
        spend(bud, min(len(s) * n, 1 << 40) >> 3)
    return fn.b_repeat(s, n)


def _split_units(s: Any, sep: Any, n: Any) -> int:
    if type(s) is not str or type(sep) is not str:
        return 0
    parts = len(s) + 1 if sep == "" else s.count(sep) + 1
    if type(n) is int and n > 0:
        parts = min(parts, n)
    # Every part is a new string object (~50 bytes) unless it is one ASCII character.
    return parts * (1 if sep == "" and s.isascii() else 2) + (len(s) >> 3)


def b_split(bud: list, s: Any, sep: Any, n: Any = -1) -> list[str]:
    spend(bud, _split_units(s, sep, n))
    return fn.b_split(s, sep, n)


def b_split_after(bud: list, s: Any, sep: Any, n: Any = -1) -> list[str]:
    spend(bud, _split_units(s, sep, n))
    return fn.b_split_after(s, sep, n)


def b_replace(bud: list, s: Any, old: Any, new: Any, n: Any = -1) -> str:
    if type(s) is str and type(old) is str and type(new) is str:
        count = s.count(old) if old else len(s) + 1
        if type(n) is int and n >= 0:
            count = min(count, n)
        spend(bud, (len(s) >> 4) + (max(len(s) + count * (len(new) - len(old)), 0) >> 3))
    return fn.b_replace(s, old, new, n)


def b_join(bud: list, arr: Any, sep: Any = "") -> str:
    if type(arr) is list and type(sep) is str:
        spend(bud, len(arr))
        total = sum(len(x) for x in arr if type(x) is str) + len(sep) * max(len(arr) - 1, 0)
        spend(bud, total >> 3)
    return fn.b_join(arr, sep)


def b_concat(bud: list, *args: Any) -> list:
    spend(bud, sum(len(a) for a in args if type(a) is list))
    return arrays.b_concat(*args)


def b_flatten(bud: list, v: Any) -> list:
    charge_deep(bud, v, 2)  # the result has at most as many elements as the walk visits
    return arrays.b_flatten(v)


def sort_units(n: int, native: bool) -> int:
    """n log n comparisons: ~10 ns each natively, ~400 ns through Go's ordering in Python."""
    comparisons = n * max(n.bit_length(), 1)
    return comparisons // 4 if native else comparisons * 10


def b_sort(bud: list, v: Any, order: Any = "asc") -> list:
    if type(v) is list:
        spend(bud, len(v))
        spend(bud, sort_units(len(v), arrays._native_order(v)))
    return arrays.b_sort(v, order)


def b_uniq(bud: list, v: Any) -> list:
    charge_deep(bud, v, 6)  # a canonical key per element, built in Python
    return arrays.b_uniq(v)


def b_string(bud: list, v: Any) -> str:
    if type(v) in (list, dict, AnyKeyMap):
        # Formatting takes ~20 steps per element; the text may not exceed what the rest of the
        # budget can pay for (8 characters a unit).
        charge_deep(bud, v, 20)
        fn.check_text_size(v, min(fn.MAX_STRING, max(bud[0], 0) * 8 + 1))
    return charge_result(bud, fn.b_string(v))


def b_to_json(bud: list, v: Any) -> str:
    # The encoder escapes strings a character at a time in Python (~2 units a character) and
    # takes ~30 steps per element.
    if type(v) is str:
        spend(bud, len(v) * 2)
    elif type(v) in (list, dict, AnyKeyMap):
        charge_deep(bud, v, 30)
        spend(bud, fn.check_text_size(v, min(fn.MAX_STRING, max(bud[0], 0) // 2 + 1)) * 2)
    return charge_result(bud, fn.b_to_json(v))


NATIVE = {
    "upper": b_upper, "lower": b_lower, "repeat": b_repeat, "split": b_split, "splitAfter": b_split_after,
    "replace": b_replace, "join": b_join, "concat": b_concat, "flatten": b_flatten, "sort": b_sort,
    "uniq": b_uniq, "string": b_string, "toJSON": b_to_json,
}
# Builtins wrapped by budget.metered: (cost per character read, walk nested arrays deeply, cost per
# element read). Python-level work per element or character costs more than a C-level copy.
METERED = {
    "trim": (1 / 16, False, 1), "trimPrefix": (1 / 16, False, 1), "trimSuffix": (1 / 16, False, 1),
    "indexOf": (1 / 8, False, 1), "lastIndexOf": (1 / 8, False, 1), "hasPrefix": (1 / 16, False, 1),
    "hasSuffix": (1 / 16, False, 1), "int": (1 / 16, False, 1), "float": (1 / 16, False, 1),
    "fromJSON": (4, False, 1), "toBase64": (1 / 4, False, 1), "fromBase64": (1 / 4, False, 1),
    # time.ParseDuration takes a Python step per element; date layouts become a compiled regex.
    "duration": (16, False, 1), "date": (32, False, 1), "timezone": (1, False, 1),
    "max": (0, True, 8), "min": (0, True, 8), "mean": (0, True, 3), "median": (0, True, 4),
    "keys": (0, False, 2), "values": (0, False, 2), "toPairs": (0, False, 4), "fromPairs": (0, False, 6),
    "reverse": (0, False, 1), "take": (0, False, 1),
}
