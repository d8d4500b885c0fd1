"""Property tests: arbitrary source text never escapes as anything but ExprError, and stays bounded."""
from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.expr import ExprError, compile

RECORD = {"a": 1, "b": 2.5, "s": "text", "arr": [1, 2, 3], "m": {"k": [1, {"x": None}]}, "t": True, "n": None}

TOKENS = ["a", "b", "s", "arr", "m", "t", "n", "nil", "true", "1", "0", "-1", "2.5", "1e3", "0x10", "'x'", '"y"',
          "+", "-", "*", "/", "%", "**", "^", "==", "!=", "<", ">=", "&&", "||", "and", "or", "not", "!", "in",
          "not in", "contains", "startsWith", "matches", "'^t'", "..", "??", "?", ":", "?.", ".", "[", "]", "(",
          ")", "{", "}", ",", "#", "#index", "#acc", "|", "let", "=", ";", "if", "else", "k", "x", "len", "map",
          "filter", "reduce", "all", "sum", "groupBy", "sortBy", "upper", "split", "repeat", "toJSON", "fromJSON",
          "date", "duration", "max", "int", "string", "keys", "$env", "__class__", "_t1", "env"]

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _evaluate(source: str) -> None:
    started = time.monotonic()
    try:
        compile(source).run(RECORD)
    except ExprError:
        pass
    assert time.monotonic() - started < 5, f"{source!r} ran too long"


@SETTINGS
@given(st.text(max_size=60))
def test_random_text_only_raises_expr_errors(source):
    _evaluate(source)


@SETTINGS
@given(st.lists(st.sampled_from(TOKENS), max_size=25).map(" ".join))
def test_random_token_soup_only_raises_expr_errors(source):
    _evaluate(source)


@st.composite
def expressions(draw, depth=0):
    leaves = st.sampled_from(["a", "b", "s", "arr", "m", "t", "n", "#", "1", "2.5", "'s'", "[1, 2]", "m.k", "arr[0]"])
    if depth > 3 or draw(st.booleans()):
        return draw(leaves)
    kind = draw(st.integers(0, 4))
    left, right = draw(expressions(depth + 1)), draw(expressions(depth + 1))
    if kind == 0:
        return f"({left} {draw(st.sampled_from(['+', '-', '*', '/', '%', '**', '==', '<', '&&', '??', 'in', '..']))} {right})"
    if kind == 1:
        return f"{draw(st.sampled_from(['map', 'filter', 'all', 'count', 'sortBy', 'groupBy', 'reduce']))}({left}, {right})"
    if kind == 2:
        return f"({left} ? {right} : {draw(leaves)})"
    if kind == 3:
        return f"{draw(st.sampled_from(['len', 'string', 'toJSON', 'first', 'int', 'abs', 'keys', 'upper']))}({left})"
    return f"{left}?.[{right}]"


@SETTINGS
@given(expressions())
def test_well_formed_expressions_only_raise_expr_errors(source):
    _evaluate(source)
