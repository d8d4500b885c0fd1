"""Issue 11 item 1: hostile record values and builtins cost linear time, and parsing stays Go's."""
from __future__ import annotations

import time

import pytest

from pipelines.expr import ExprCompileError, ExprRuntimeError, compile
from pipelines.expr.runtime.goparse import parse_duration, parse_float
from tests.support.evalcost import CPU_LIMIT, cpu_seconds


def test_float_of_a_long_digit_run_fails_fast():
    # A backtracking pattern took ~9 s on this (quadratic in the number of digits).
    seconds, outcome = cpu_seconds(compile('float(repeat("1", 20000) + "x")'), {})
    assert isinstance(outcome, ExprRuntimeError) and "invalid operation: float(" in outcome.message
    assert seconds < CPU_LIMIT


def test_a_record_of_digits_cannot_stall_a_float_filter():
    program = compile("float(attributes.latency) > 100")
    seconds, outcome = cpu_seconds(program, {"attributes": {"latency": "1" * 1_000_000 + "x"}})
    assert isinstance(outcome, ExprRuntimeError)
    assert seconds < CPU_LIMIT
    assert program.run({"attributes": {"latency": "250.5"}}) is True


def test_duration_of_a_long_digit_run_fails_fast():
    program = compile("duration(attributes.d) > duration('1s')")
    for hostile in ["1" * 20000 + "x", "1." + "1" * 20000 + "x", "0" * 200_000 + "1", "." * 200_000]:
        seconds, outcome = cpu_seconds(program, {"attributes": {"d": hostile}})
        assert isinstance(outcome, ExprRuntimeError), hostile[:20]
        assert seconds < CPU_LIMIT, hostile[:20]


def test_uniq_of_many_arrays_is_linear():
    # The pairwise comparison of unhashable elements took ~9 s here.
    seconds, outcome = cpu_seconds(compile("len(uniq(map(1..4000, [#, #, {a: #}])))"), {})
    assert outcome == 4000
    assert seconds < CPU_LIMIT


@pytest.mark.parametrize("source, expected", [
    ("uniq([1, 1.0, true, 1, 'a', 'a', nil, nil])", [1, True, "a", None]),
    ("uniq([[1], [1.0], [1], [true], [[1]], [[1]]])", [[1], [1.0], [True], [[1]]]),
    ("uniq([{a: 1}, {a: 1}, {a: 1.0}, {b: 1}, {a: [1]}, {a: [1]}])", [{"a": 1}, {"a": 1.0}, {"b": 1}, {"a": [1]}]),
    ("len(uniq([[0.0], [-0.0]]))", 1),
    ("len(uniq([[nan], [nan]]))", 2),
    ("len(uniq([date('2024-01-01'), date('2024-01-01'), duration('1s'), duration('1000ms')]))", 2),
])
def test_uniq_keeps_go_equality_and_first_occurrence_order(source, expected):
    assert compile(source).run({"nan": float("nan")}) == expected


@pytest.mark.parametrize("text, value", [
    # From Go's strconv atof tests: underscores only between digits, hex needs a p exponent.
    ("1_23.50_0_0e+1_2", 1.235e14), ("-_123.5e+12", None), ("_123.5e+12", None), ("1__23.5e+12", None),
    ("123_.5e+12", None), ("123._5e+12", None), ("123.5_e+12", None), ("123.5e_+12", None),
    ("123.5e+12_", None), ("0x_1_2.3_4_5p+1_2", 74565.0), ("0x12_.345p+12", None), ("0x1e2", None),
    ("0x1p-2", 0.25), ("+INF", float("inf")), ("-Infinity", float("-inf")), ("+nan", None), ("infinit", None),
    ("1e400", None), ("1.7976931348623159e308", None), ("1e-400", 0.0), ("1.", 1.0), (".5", 0.5), (".", None),
    ("1e", None), ("-0", -0.0), (" 1", None), ("1 ", None), ("١", None), ("4.2", 4.2),
])
def test_float_parsing_follows_strconv_parse_float(text, value):
    assert parse_float(text) == value


@pytest.mark.parametrize("text, ns", [
    ("1h15m30.5s", 4530500000000), ("-90m", -5400000000000), ("0", 0), ("+0", 0), (".5s", 500000000),
    ("1.s", 1000000000), ("1µs", 1000), ("1μs", 1000), ("9223372036854775807ns", 9223372036854775807),
    ("-9223372036854775808ns", -9223372036854775808), ("2562047h47m16.854775807s", 9223372036854775807),
    ("0000000000000000000000001s", 1000000000), ("1.9999999999999999999h", 7200000000000),
    ("3.000000001s", 3000000001),
])
def test_duration_parsing_follows_time_parse_duration(text, ns):
    assert parse_duration(text).ns == ns


@pytest.mark.parametrize("text, message", [
    ("", 'time: invalid duration ""'), ("1", 'time: missing unit in duration "1"'),
    ("1x", 'time: unknown unit "x" in duration "1x"'), (".s", 'time: invalid duration ".s"'),
    ("9223372036854775808ns", 'time: invalid duration "9223372036854775808ns"'),
    ("1h\x00", 'time: unknown unit "h\\x00" in duration "1h\\x00"'),
])
def test_duration_errors_are_go_s(text, message):
    with pytest.raises(ExprRuntimeError) as info:
        parse_duration(text)
    assert info.value.message == message


def test_a_record_supplied_pattern_that_is_slow_to_compile_is_refused_fast():
    # RE2 takes ~1.4 s to compile this 3,600-character pattern (it expands counted repetitions).
    program = compile("attributes.msg matches attributes.pattern")
    seconds, outcome = cpu_seconds(program, {"attributes": {"msg": "x", "pattern": "[a-z]{1,100}" * 300}})
    assert isinstance(outcome, ExprRuntimeError) and outcome.message.startswith("work budget exceeded")
    assert seconds < CPU_LIMIT
    assert program.run({"attributes": {"msg": "disk error", "pattern": "(?i)ERROR|warn"}}) is True


def test_a_record_supplied_time_layout_is_charged():
    program = compile("date('2024-01-01').Format(attributes.layout)")
    seconds, outcome = cpu_seconds(program, {"attributes": {"layout": "2006-01-02 " * 20000}})
    assert isinstance(outcome, ExprRuntimeError) and outcome.message.startswith("work budget exceeded")
    assert seconds < CPU_LIMIT
    assert program.run({"attributes": {"layout": "2006-01-02"}}) == "2024-01-01"


def test_a_constant_pattern_too_complex_to_compile_is_a_compile_error():
    started = time.process_time()
    with pytest.raises(ExprCompileError) as info:
        compile("s matches '" + "[a-z]{1,100}" * 300 + "'")
    assert "pattern too complex" in info.value.message
    assert time.process_time() - started < CPU_LIMIT
    assert compile("s matches '[a-z]{1,100}@x'").run({"s": "abc@x"}) is True
