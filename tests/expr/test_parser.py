"""Parsing: literals, precedence, associativity and every syntactic form of the language."""
from __future__ import annotations

import math

import pytest

from pipelines.expr import ExprCompileError, compile

ENV = {"i": 1, "f": 0.5, "s": "abc", "arr": [1, 2, 3], "m": {"a": {"b": 2}, "k": "v"}, "t": True}


def run(source: str, env: dict | None = None):
    return compile(source).run(ENV if env is None else env)


@pytest.mark.parametrize("source, expected", [
    ("42", 42), ("0x1F", 31), ("0o17", 15), ("0b101", 5), ("1_000_000", 1_000_000), ("017", 17),
    ("1.5", 1.5), (".5", 0.5), ("1e3", 1000.0), ("2.5e-1", 0.25), ("1_0.5", 10.5),
    ('"a\\nb"', "a\nb"), ("'single'", "single"), ('"\\u00e9\\x41\\101"', "éAA"), ('"\\""', '"'),
    ("`raw \\n text`", "raw \\n text"), ("nil", None), ("true", True), ("false", False),
    ("[1, 'a', nil]", [1, "a", None]), ("[1, 2,]", [1, 2]), ("{a: 1, 'b': 2, 3: 4}", {"a": 1, "b": 2, "3": 4}),
    ("{(s): 1}", {"abc": 1}), ("[]", []), ("{}", {}),
])
def test_literals_parse_to_their_values(source, expected):
    assert run(source) == expected


@pytest.mark.parametrize("source, expected", [
    ("1 + 2 * 3", 7), ("(1 + 2) * 3", 9), ("2 ** 3 ** 2", 512.0), ("2 ^ 3", 8.0), ("-2 ** 2", -4.0),
    ("10 - 4 - 3", 3), ("16 / 4 / 2", 2.0), ("7 % 4 * 2", 6), ("1 + 2 == 3", True),
    ("true || false && false", True), ("not true or true", True), ("!false and false", False),
    ("1 < 2 == true", True), ("(nil ?? 1) + 1", 2), ("1..3 == [1, 2, 3]", True),
    ("i > 0 ? 'pos' : 'neg'", "pos"), ("false ? 1 : true ? 2 : 3", 2), ("t ?: 5", True),
    ("2 in 1..3", True), ("4 not in 1..3", True), ("'b' in ['a', 'b']", True),
    ("s contains 'b' && s startsWith 'a' && s endsWith 'c'", True), ("s not startsWith 'b'", True),
])
def test_operators_follow_expr_precedence_and_associativity(source, expected):
    assert run(source) == expected


@pytest.mark.parametrize("source, expected", [
    ("m.a.b", 2), ("m['a']['b']", 2), ("m.missing", None), ("m?.missing?.deeper", None),
    ("m.a?.b", 2), ("arr[0]", 1), ("arr[-1]", 3), ("arr[1:]", [2, 3]), ("arr[:2]", [1, 2]),
    ("arr[:]", [1, 2, 3]), ("arr[-2:]", [2, 3]), ("s[1:2]", "b"), ("arr?.[1]", 2), ("$env.i", 1),
    ("$env?.nothing ?? 'd'", "d"), ("m.k + s", "vabc"),
])
def test_member_access_indexing_and_slicing(source, expected):
    assert run(source) == expected


@pytest.mark.parametrize("source, expected", [
    ("let x = 2; x * 3", 6), ("let x = 1; let y = x + 1; y * 10", 20),
    ("if i > 0 { 'pos' } else { 'neg' }", "pos"), ("if i > 5 { 1 } else if i > 0 { 2 } else { 3 }", 2),
    ("arr | map(# * 2)", [2, 4, 6]), ("s | upper()", "ABC"), ("arr | filter(# > 1) | len()", 2),
    ("map(arr, #index)", [0, 1, 2]), ("reduce(arr, #acc + #, 0)", 6), ("filter(arr, {# > 1})", [2, 3]),
    ("map([m], .k)", ["v"]), ("count(arr, # > 1)", 2), ("all(arr, # > 0) // trailing comment", True),
    ("/* comment */ 1", 1), ("map(arr, let d = # * 2; d + 1)", [3, 5, 7]),
])
def test_bindings_pipes_predicates_and_comments(source, expected):
    assert run(source) == expected


def test_float_results_keep_their_type():
    assert isinstance(run("4 / 2"), float) and isinstance(run("7 % 2"), int)
    assert math.isinf(run("1 / 0"))


@pytest.mark.parametrize("source, message, column", [
    ("1 +", "unexpected token EOF", 4), ("(1 + 2", "unexpected token EOF", 7), ("[1, 2", "unexpected token EOF", 6),
    ("1 2", 'unexpected token Number("2")', 3), ("a.(1)", "expected name", 3), ("#", "cannot use pointer accessor", 1),
    ('"open', "literal not terminated", 1), ("1 @ 2", "unrecognized character", 3), ("0x1G", "bad number syntax", 1),
    ("a ?? b + 1", "cannot be mixed", 8), ("let = 1; 2", 'unexpected token Operator("=")', 5),
    ("99999999999999999999", "integer literal is too large", 1), ("'\\q'", "invalid char escape", 2),
])
def test_syntax_errors_report_message_and_column(source, message, column):
    with pytest.raises(ExprCompileError) as info:
        compile(source)
    assert message in info.value.message
    assert (info.value.line, info.value.column) == (1, column)
