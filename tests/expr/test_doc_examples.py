"""Examples from expr-lang's language definition, each written as an expression that must be true."""
from __future__ import annotations

import pytest

from pipelines.expr import compile

ENV = {"array": [1, 2, 3, 4, 5], "user": {"Name": "John Smith"}, "foo": {"Name": "x"},
       "tweets": [{"Size": 100, "Content": "short"}, {"Size": 300, "Content": "x" * 300}]}

EXAMPLES = [
    'user.Name == user["Name"]', "array[0] == 1", "array[-1] == 5", '"John" in ["John", "Jane"]',
    '"name" in {"name": "John", "age": 30}', "user.Missing?.Name == nil", '(user.Missing?.Name ?? "Anonymous") == "Anonymous"',
    "array[1:4] == [2, 3, 4]", "array[1:-1] == [2, 3, 4]", "array[:3] == [1, 2, 3]", "array[3:] == [4, 5]",
    "array[:] == array", 'user.Name | lower() | split(" ") == ["john", "smith"]', "1..3 == [1, 2, 3]",
    "(let x = 42; x * 2) == 84", 'foo.Name == $env["foo"].Name', "'foo' in $env", "filter(0..9, {# % 2 == 0}) == [0, 2, 4, 6, 8]",
    "filter(tweets, {len(.Content) > 240}) == [tweets[1]]", "len(filter(tweets, len(.Content) > 240)) == 1",
    'trim("  Hello  ") == "Hello"', 'trim("__Hello__", "_") == "Hello"', 'trimPrefix("HelloWorld", "Hello") == "World"',
    'trimSuffix("HelloWorld", "World") == "Hello"', 'upper("hello") == "HELLO"', 'lower("HELLO") == "hello"',
    'split("apple,orange,grape", ",") == ["apple", "orange", "grape"]', 'split("apple,orange,grape", ",", 2) == ["apple", "orange,grape"]',
    'splitAfter("apple,orange,grape", ",") == ["apple,", "orange,", "grape"]',
    'splitAfter("apple,orange,grape", ",", 2) == ["apple,", "orange,grape"]',
    'replace("Hello World", "World", "Universe") == "Hello Universe"', 'repeat("Hi", 3) == "HiHiHi"',
    'indexOf("apple pie", "pie") == 6', 'lastIndexOf("apple pie apple", "apple") == 10', 'hasPrefix("HelloWorld", "Hello") == true',
    'hasSuffix("HelloWorld", "World") == true', 'duration("1h").Seconds() == 3600', 'date("2023-08-14").Year() == 2023',
    'date("15:04:05").Hour() == 15', 'date("2023-08-14T00:00:00Z").Day() == 14', 'date("2023-08-14") + duration("1h") > date("2023-08-14")',
    "max(5, 7) == 7", "min(5, 7) == 5", "abs(-5) == 5", "ceil(1.5) == 2.0", "floor(1.5) == 1.0", "round(1.5) == 2.0",
    "all(tweets, {.Size < 280}) == false", "any(tweets, {.Size > 280})", "one(tweets, {.Size > 280})", "none(tweets, {.Size > 300})",
    "map(tweets, {.Size}) == [100, 300]", "find([1, 2, 3, 4], # > 2) == 3", "findIndex([1, 2, 3, 4], # > 2) == 2",
    "findLast([1, 2, 3, 4], # > 2) == 4", "findLastIndex([1, 2, 3, 4], # > 2) == 3", "len(groupBy(tweets, .Size)) == 2",
    "count(tweets, .Size > 200) == len(filter(tweets, .Size > 200))", 'join(["apple", "orange", "grape"], ",") == "apple,orange,grape"',
    'join(["apple", "orange", "grape"]) == "appleorangegrape"', "reduce(1..9, #acc + #) == 45", "reduce(1..9, #acc + #, 0) == 45",
    "sum([1, 2, 3]) == 6", "mean([1, 2, 3]) == 2.0", "median([1, 2, 3]) == 2.0", "first([1, 2, 3]) == 1", "last([1, 2, 3]) == 3",
    "take([1, 2, 3, 4], 2) == [1, 2]", "sort([3, 1, 4]) == [1, 3, 4]", 'sort([3, 1, 4], "desc") == [4, 3, 1]',
    'sort(keys({"name": "John", "age": 30})) == ["age", "name"]', 'type(42) == "int"', 'type("hello") == "string"',
    'type(now()) == "time.Time"', 'int("123") == 123', 'float("123.45") == 123.45', 'string(123) == "123"',
    'fromJSON(toJSON({"name": "John", "age": 30})) == {"name": "John", "age": 30.0}', 'toBase64("Hello World") == "SGVsbG8gV29ybGQ="',
    'fromBase64("SGVsbG8gV29ybGQ=") == "Hello World"', 'fromPairs([["name", "John"], ["age", 30]]) == {"name": "John", "age": 30}',
    'len(toPairs({"name": "John", "age": 30})) == 2', 'len([1, 2, 3]) == 3', 'len({"name": "John", "age": 30}) == 2', 'len("Hello") == 5',
    'get([1, 2, 3], 1) == 2', 'get({"name": "John", "age": 30}, "name") == "John"', "bitand(0b1010, 0b1100) == 0b1000",
    "bitor(0b1010, 0b1100) == 0b1110", "bitxor(0b1010, 0b1100) == 0b110", "bitnand(0b1010, 0b1100) == 0b10",
    "bitnot(0b1010) == -0b1011", "bitshl(0b101101, 2) == 0b10110100", "bitshr(0b101101, 2) == 0b1011",
    "bitushr(-0b101, 2) == 4611686018427387902",
]


@pytest.mark.parametrize("source", EXAMPLES)
def test_documented_example_holds(source):
    assert compile(source).run(ENV) is True
