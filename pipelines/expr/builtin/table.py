"""The builtin functions, one entry each (like expr-lang's builtin/builtin.go).

Everything else is derived from this table: the parser's builtin names and predicate argument
shapes, the checker's signatures, the constant folder's pure set and the names the generated code
calls (`_b_NAME`, `_p_NAME`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..checking import typesys as T
from ..runtime import arrays
from ..runtime import functions as fn
from ..runtime.access import length
from ..runtime.predicates import PREDICATE_FUNCS
from . import validators as v


@dataclass(frozen=True)
class Builtin:
    name: str
    # What the generated code calls. For predicate builtins: the helper used when the loop is not
    # generated inline (None: always inlined).
    impl: Callable[..., Any] | None
    validate: v.Validator
    # Constant arguments give a constant result with no side effects: folded at compile time.
    pure: bool = False
    # Argument shape of a predicate builtin: 'e' expression, 'p' predicate; upper case is optional.
    predicate: str = ""
    # The result can be large (a string or collection built from the arguments): inside loops it is
    # charged to the evaluation's work budget.
    sized: bool = False


def _typed(name: str, impl: Callable[..., Any], *signatures: v.Signature, pure: bool = False,
           sized: bool = False) -> Builtin:
    return Builtin(name, impl, v.overloads(name, signatures), pure=pure, sized=sized)


def _predicate(name: str, shape: str, result: str) -> Builtin:
    return Builtin(name, PREDICATE_FUNCS.get(name), v.predicate(name, result), predicate=shape)


# Go's validators for these look at the kind, so time.Duration (an int64) passes the compile-time
# check and fails when run, as in Go.
NUMBERS = v.NUMBER_KINDS | {T.ANY}
_BIT = ((T.INT, T.INT), T.INT)

TABLE: tuple[Builtin, ...] = (
    # Predicates: collection first, then the predicate (and for sortBy/reduce an optional third).
    _predicate("all", "ep", T.BOOL), _predicate("none", "ep", T.BOOL), _predicate("any", "ep", T.BOOL),
    _predicate("one", "ep", T.BOOL), _predicate("filter", "ep", T.ARRAY), _predicate("map", "ep", T.ARRAY),
    _predicate("count", "eP", T.INT), _predicate("sum", "eP", T.ANY), _predicate("find", "ep", T.ANY),
    _predicate("findIndex", "ep", T.INT), _predicate("findLast", "ep", T.ANY),
    _predicate("findLastIndex", "ep", T.INT), _predicate("groupBy", "ep", T.GROUPS),
    _predicate("sortBy", "epE", T.ARRAY), _predicate("reduce", "epE", T.ANY),
    # Conversions and inspection.
    Builtin("len", length,
            v.one_argument("len", {T.ARRAY, T.MAP, T.GROUPS, T.BYTES, T.STRING, T.ANY}, T.INT), pure=True),
    _typed("type", fn.b_type, ((T.ANY,), T.STRING), pure=True),
    Builtin("int", fn.b_int, v.one_argument("int", NUMBERS | {T.STRING}, T.INT), pure=True),
    Builtin("float", fn.b_float, v.one_argument("float", NUMBERS | {T.STRING}, T.FLOAT), pure=True),
    _typed("string", fn.b_string, ((T.ANY,), T.STRING), pure=True, sized=True),
    _typed("toJSON", fn.b_to_json, ((T.ANY,), T.STRING), sized=True),
    _typed("fromJSON", fn.b_from_json, ((T.STRING,), T.ANY), sized=True),
    _typed("toBase64", fn.b_to_base64, ((T.STRING,), T.STRING), pure=True, sized=True),
    _typed("fromBase64", fn.b_from_base64, ((T.STRING,), T.STRING), sized=True),
    # Numbers.
    Builtin("abs", fn.b_abs, v.one_argument("abs", NUMBERS, None), pure=True),
    Builtin("ceil", fn.b_ceil, v.one_argument("ceil", NUMBERS, T.FLOAT), pure=True),
    Builtin("floor", fn.b_floor, v.one_argument("floor", NUMBERS, T.FLOAT), pure=True),
    Builtin("round", fn.b_round, v.one_argument("round", NUMBERS, T.FLOAT), pure=True),
    Builtin("max", arrays.b_max, v.aggregate("max")), Builtin("min", arrays.b_min, v.aggregate("min")),
    Builtin("mean", arrays.b_mean, v.aggregate("mean")), Builtin("median", arrays.b_median, v.aggregate("median")),
    # Strings.
    _typed("trim", fn.b_trim,
           ((T.STRING,), T.STRING), ((T.STRING, T.STRING), T.STRING), pure=True, sized=True),
    _typed("trimPrefix", fn.b_trim_prefix,
           ((T.STRING, T.STRING), T.STRING), ((T.STRING,), T.STRING), pure=True),
    _typed("trimSuffix", fn.b_trim_suffix,
           ((T.STRING, T.STRING), T.STRING), ((T.STRING,), T.STRING), pure=True),
    _typed("upper", fn.b_upper, ((T.STRING,), T.STRING), pure=True, sized=True),
    _typed("lower", fn.b_lower, ((T.STRING,), T.STRING), pure=True, sized=True),
    _typed("split", fn.b_split,
           ((T.STRING, T.STRING), T.ARRAY), ((T.STRING, T.STRING, T.INT), T.ARRAY), sized=True),
    _typed("splitAfter", fn.b_split_after,
           ((T.STRING, T.STRING), T.ARRAY), ((T.STRING, T.STRING, T.INT), T.ARRAY), sized=True),
    _typed("replace", fn.b_replace,
           ((T.STRING, T.STRING, T.STRING, T.INT), T.STRING), ((T.STRING, T.STRING, T.STRING), T.STRING),
           sized=True),
    _typed("repeat", fn.b_repeat, ((T.STRING, T.INT), T.STRING), sized=True),
    _typed("join", fn.b_join, ((T.ARRAY, T.STRING), T.STRING), ((T.ARRAY,), T.STRING), sized=True),
    _typed("indexOf", fn.b_index_of, ((T.STRING, T.STRING), T.INT), pure=True),
    _typed("lastIndexOf", fn.b_last_index_of, ((T.STRING, T.STRING), T.INT), pure=True),
    _typed("hasPrefix", fn.b_has_prefix, ((T.STRING, T.STRING), T.BOOL), pure=True),
    _typed("hasSuffix", fn.b_has_suffix, ((T.STRING, T.STRING), T.BOOL), pure=True),
    # Dates.
    Builtin("now", fn.b_now, v.now),
    _typed("duration", fn.b_duration, ((T.STRING,), T.DURATION)),
    Builtin("date", fn.b_date, v.date),
    _typed("timezone", fn.b_timezone, ((T.STRING,), T.LOCATION)),
    # Arrays and maps.
    Builtin("first", arrays.b_first,
            v.one_argument("first", {T.ARRAY, T.ANY}, T.ANY, "cannot get first element from {}")),
    Builtin("last", arrays.b_last,
            v.one_argument("last", {T.ARRAY, T.ANY}, T.ANY, "cannot get last element from {}")),
    Builtin("get", arrays.b_get, v.get),
    Builtin("take", arrays.b_take, v.take, sized=True),
    Builtin("keys", arrays.b_keys,
            v.one_argument("keys", {T.MAP, T.GROUPS, T.ANY}, T.ARRAY, "cannot get keys from {}"),
            sized=True),
    Builtin("values", arrays.b_values,
            v.one_argument("values", {T.MAP, T.GROUPS, T.ANY}, T.ARRAY, "cannot get values from {}"),
            sized=True),
    Builtin("toPairs", arrays.b_to_pairs,
            v.one_argument("toPairs", {T.MAP, T.GROUPS, T.ANY}, T.ARRAY, "cannot transform {} to pairs"),
            sized=True),
    Builtin("fromPairs", arrays.b_from_pairs,
            v.one_argument("fromPairs", {T.ARRAY, T.ANY}, T.MAP, "cannot transform {} from pairs")),
    Builtin("reverse", arrays.b_reverse,
            v.one_argument("reverse", {T.ARRAY, T.ANY}, T.ARRAY, "cannot reverse {}"),
            sized=True),
    Builtin("uniq", arrays.b_uniq,
            v.one_argument("uniq", {T.ARRAY, T.ANY}, T.ARRAY, "cannot uniq {}"), sized=True),
    Builtin("flatten", arrays.b_flatten,
            v.one_argument("flatten", {T.ARRAY, T.ANY}, T.ARRAY, "cannot flatten {}"),
            sized=True),
    Builtin("concat", arrays.b_concat, v.concat, sized=True),
    _typed("sort", arrays.b_sort, ((T.ARRAY, T.STRING), T.ARRAY), ((T.ARRAY,), T.ARRAY), sized=True),
    # Bits.
    _typed("bitand", fn.b_bitand,
           _BIT), _typed("bitor", fn.b_bitor, _BIT), _typed("bitxor", fn.b_bitxor, _BIT),
    _typed("bitnand", fn.b_bitnand, _BIT), _typed("bitshl", fn.b_bitshl, _BIT),
    _typed("bitshr", fn.b_bitshr, _BIT), _typed("bitushr", fn.b_bitushr, _BIT),
    _typed("bitnot", fn.b_bitnot, ((T.INT,), T.INT)),
)
