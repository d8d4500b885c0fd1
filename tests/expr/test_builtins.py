"""The builtin library against values expr-lang documents and the Go corpus records."""
from __future__ import annotations

import pytest

from pipelines.expr import ExprCompileError, ExprRuntimeError, compile

ENV = {"nums": [3, 1, 2], "words": ["db", "pool", "db"], "m": {"b": 2, "a": 1}, "ts": "2024-01-15T10:30:00Z",
       "users": [{"name": "ann", "age": 30}, {"name": "bob", "age": 20}]}


def run(source: str):
    return compile(source).run(ENV)


@pytest.mark.parametrize("source, expected", [
    ("trim('  x ')", "x"), ("trim('xxaxx', 'x')", "a"), ("trimPrefix('abc', 'ab')", "c"),
    ("trimSuffix('abc', 'bc')", "a"), ("upper('ab')", "AB"), ("lower('AB')", "ab"),
    ("split('a-b-c', '-')", ["a", "b", "c"]), ("split('a-b-c', '-', 2)", ["a", "b-c"]),
    ("splitAfter('a-b', '-')", ["a-", "b"]), ("replace('aXbX', 'X', '_')", "a_b_"), ("repeat('-', 3)", "---"),
    ("indexOf('abcabc', 'c')", 2), ("lastIndexOf('abcabc', 'c')", 5), ("hasPrefix('abc', 'a')", True),
    ("hasSuffix('abc', 'b')", False), ("join(words, ',')", "db,pool,db"), ("join(['a', 'b'])", "ab"),
])
def test_string_functions(source, expected):
    assert run(source) == expected


@pytest.mark.parametrize("source, expected", [
    ("abs(-2.5)", 2.5), ("ceil(1.2)", 2.0), ("floor(-1.2)", -2.0), ("round(1.5)", 2.0), ("max(1, 5, 3)", 5),
    ("min(nums)", 1), ("max(nums)", 3), ("mean(nums)", 2.0), ("median([1, 2, 3, 4])", 2.5), ("sum(nums)", 6),
    ("sum([1, 2.5])", 3.5), ("mean([])", 0.0),
])
def test_number_functions(source, expected):
    assert run(source) == expected


@pytest.mark.parametrize("source, expected", [
    ("all(nums, # > 0)", True), ("any(nums, # > 2)", True), ("none(nums, # > 3)", True),
    ("one(nums, # > 2)", True), ("filter(nums, # > 1)", [3, 2]), ("map(nums, # * 10)", [30, 10, 20]),
    ("count(nums, # > 1)", 2), ("sum(nums, # * 2)", 12), ("find(nums, # < 3)", 1), ("findIndex(nums, # < 3)", 1),
    ("findLast(nums, # > 1)", 2), ("findLastIndex(nums, # > 1)", 2), ("find(nums, # > 9)", None),
    ("groupBy(words, #)", {"db": ["db", "db"], "pool": ["pool"]}), ("sortBy(users, .age)[0].name", "bob"),
    ("sortBy(nums, #, 'desc')", [3, 2, 1]), ("sort(nums)", [1, 2, 3]), ("sort(words, 'desc')[0]", "pool"),
    ("reduce(nums, #acc * #, 1)", 6), ("reduce(nums, #acc + #)", 6), ("first(nums)", 3), ("last(nums)", 2),
    ("first([])", None), ("take(nums, 2)", [3, 1]), ("reverse(nums)", [2, 1, 3]), ("uniq(words)", ["db", "pool"]),
    ("concat(nums, [4])", [3, 1, 2, 4]), ("flatten([[1], [2, [3]]])", [1, 2, 3]), ("map(users, .name)", ["ann", "bob"]),
    ("filter(users, .age > 25) | map(.name)", ["ann"]), ("count([true, false, true])", 2),
])
def test_array_functions_and_predicates(source, expected):
    assert run(source) == expected


@pytest.mark.parametrize("source, expected", [
    ("sort(keys(m))", ["a", "b"]), ("sort(values(m))", [1, 2]), ("len(toPairs(m))", 2),
    ("fromPairs([['x', 1]])", {"x": 1}), ("len(m)", 2), ("get(m, 'a')", 1), ("get(m, 'zz')", None),
    ("get(nums, 5)", None), ("int('42')", 42), ("float('2.5')", 2.5), ("string(42)", "42"), ("string(0.5)", "0.5"),
    ("string([1, 'a'])", "[1 a]"), ("string(m)", "map[a:1 b:2]"), ("string(nil)", "<nil>"), ("type(nums)", "array"),
    ("type(m)", "map"), ("type(1.5)", "float"), ("toJSON([1, 'a'])", '[\n  1,\n  "a"\n]'), ("toJSON(m)", '{\n  "a": 1,\n  "b": 2\n}'),
    ("fromJSON('[1, \"a\"]')", [1.0, "a"]), ("toBase64('hi')", "aGk="), ("fromBase64('aGk=')", "hi"),
    ("bitor(4, 1)", 5), ("bitshl(1, 3)", 8), ("bitxor(3, 1)", 2), ("bitnand(7, 2)", 5), ("bitshr(8, 2)", 2),
])
def test_map_and_conversion_functions(source, expected):
    assert run(source) == expected


@pytest.mark.parametrize("source, expected", [
    ("date(ts).Year()", 2024), ("date(ts).Month()", 1), ("date(ts).Hour()", 10), ("date(ts).Format('2006-01-02')", "2024-01-15"),
    ("date(ts).Unix()", 1705314600), ("(date(ts) - date('2024-01-15')).Hours()", 10.5),
    ("date('15/01/2024', '02/01/2006').Day()", 15), ("duration('1h30m').Minutes()", 90.0),
    ("string(duration('90s'))", "1m30s"), ("date(ts) + duration('1h') > date(ts)", True),
    ("now() > date('2020-01-01')", True), ("type(date(ts))", "time.Time"),
])
def test_dates_and_durations(source, expected):
    assert run(source) == expected


@pytest.mark.parametrize("source, message", [
    ("len(1)", "invalid argument for len (type int)"), ("upper(1)", "cannot use int as argument (type string) to call upper"),
    ("split('a')", "not enough arguments to call split"), ("int(true)", "invalid argument for int (type bool)"),
    ("abs('x')", "invalid argument for abs (type string)"), ("keys(1)", "cannot get keys from int"),
    ("all(1, true)", "builtin all takes only array (got int)"), ("nosuch(1)", "unknown func nosuch"),
])
def test_builtin_misuse_is_a_compile_error(source, message):
    with pytest.raises(ExprCompileError) as info:
        compile(source)
    assert message in info.value.message


def test_registered_functions_are_called_with_checked_types():
    from pipelines.expr import Function
    functions = {"double": Function(lambda x: x * 2, params=["int"], returns="int"), "echo": lambda *a: list(a)}
    assert compile("double(21)", functions=functions).run({}) == 42
    assert compile("echo(1, 'a')", functions=functions).run({}) == [1, "a"]
    with pytest.raises(ExprCompileError):
        compile("double('x')", functions=functions)
    with pytest.raises(ExprRuntimeError):
        compile("double(v)", functions=functions).run({"v": "x"})
