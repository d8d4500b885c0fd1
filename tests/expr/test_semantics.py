"""Go semantics of operators and values: int/float, nil, strings as bytes, equality, errors at run time."""
from __future__ import annotations

import math

import pytest

from pipelines.expr import ExprRuntimeError, compile

ENV = {"i": 7, "f": 2.5, "s": "héllo", "n": None, "arr": [1, 2.0, "x"], "m": {"k": 1}, "yes": True}


def run(source: str):
    return compile(source).run(ENV)


@pytest.mark.parametrize("source, expected, kind", [
    ("7 / 2", 3.5, float), ("8 / 2", 4.0, float), ("7 % 2", 1, int), ("-7 % 2", -1, int), ("7 % -2", 1, int),
    ("2 ** 2", 4.0, float), ("i + 1", 8, int), ("i + 1.0", 8.0, float), ("i * f", 17.5, float),
    ("i - f", 4.5, float), ("-i", -7, int), ("9223372036854775807 + 1", -9223372036854775808, int),
    ("abs(-i)", 7, int), ("int(7.9)", 7, int), ("int(-7.9)", -7, int), ("float(i)", 7.0, float),
    ("round(2.5)", 3.0, float), ("floor(i)", 7.0, float), ("i ^ 0.5", math.sqrt(7), float),
])
def test_arithmetic_keeps_gos_int_and_float_types(source, expected, kind):
    value = run(source)
    assert value == expected and type(value) is kind


@pytest.mark.parametrize("source, expected", [
    ("n == nil", True), ("m.missing == nil", True), ("nil == false", False), ("1 == 1.0", True),
    ("[true][0] == 1", False), ("['1'][0] == 1", False), ("[1, 2] == [1, 2]", True), ("[1] == [1.0]", False),
    ("{'a': 1} == {'a': 1}", True), ("n ?? 'd'", "d"), ("m?.k", 1), ("n?.k", None),
    ("'a' < 'b'", True), ("i > 6.5", True), ("2.0 in arr", True), ("'k' in m", True),
])
def test_equality_nil_and_membership(source, expected):
    assert run(source) == expected


@pytest.mark.parametrize("source, expected", [
    ("len(s)", 5), ("s[0:2]", "h\udcc3"), ("s[1]", 0xC3), ("s[-1]", ord("o")), ("upper(s)", "HÉLLO"),
    ("indexOf(s, 'l')", 3), ("split('a,b', ',')", ["a", "b"]), ("split('ab', '')", ["a", "b"]),
    ("s + '!'", "héllo!"), ("repeat('ab', 2)", "abab"), ("'Zoë' matches '^Zo.$'", True),
])
def test_strings_count_runes_but_index_and_slice_bytes(source, expected):
    assert run(source) == expected


@pytest.mark.parametrize("source, message", [
    ("n > 1", "invalid operation: <nil> > int"),
    ("m.k + 'a'", "invalid operation: int + string"),
    ("m.missing.deeper", "cannot fetch deeper from <nil>"),
    ("arr[10]", "index out of range: 10 (array length is 3)"),
    ("!m.k", "interface conversion: interface {} is int, not bool"),
    ("m.k ? 1 : 2", "interface conversion: interface {} is int, not bool"),
    ("i % 0", "integer divide by zero"),
    ("int('4.2')", "invalid operation: int(4.2)"),
    ("fromJSON('{')", ""),
    ("m.k matches 'a'", "interface conversion"),
    ("reduce([], #acc)", "reduce of empty array"),
    ("date('not a date')", "invalid date not a date"),
    ("sort(arr)", "invalid operation"),
    ("1 in m", "as type string in map key"),
])
def test_runtime_errors_say_what_went_wrong(source, message):
    with pytest.raises(ExprRuntimeError) as info:
        run(source)
    assert message in str(info.value)


def test_division_by_zero_gives_infinity_and_nan_like_go():
    assert run("1 / 0") == math.inf and run("-1 / 0") == -math.inf and math.isnan(run("0 / 0"))


def test_logical_operators_short_circuit_and_require_bool_on_the_left():
    assert run("false && (1 / 0 > 1)") is False
    assert run("yes || m.missing.deeper") is True
    with pytest.raises(ExprRuntimeError):
        run("m.k && yes")
