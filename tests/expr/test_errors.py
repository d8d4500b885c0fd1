"""Compile errors carry line, column and a caret under the offending token, like expr's messages."""
from __future__ import annotations

import pytest

from pipelines.expr import ExprCompileError, ExprError, ExprRuntimeError, compile, validate

LOG = {"severityNumber": 17, "severityText": "ERROR", "body": "Connection refused", "attributes": {"retry": True}}


def failure(source: str, run: bool) -> ExprError:
    """The error of compiling source against LOG's types, or (run) of running it, compiled untyped, on LOG."""
    with pytest.raises(ExprRuntimeError if run else ExprCompileError) as info:
        if run:
            compile(source).run(LOG)
        else:
            compile(source, env=LOG)
    return info.value


# (source, message, line, column) of compiling source against LOG's types ...
COMPILE_ERRORS = [
    ('severityNumber > "10"', "invalid operation: > (mismatched types int and string)", 1, 16),
    ("severityText + severityNumber", "invalid operation: + (mismatched types string and int)", 1, 14),
    ("body[100]", "type string[int] is undefined", 1, 5),
    ("nonexistent_var", "unknown name nonexistent_var", 1, 1),
    ("lower(nil)", "cannot use nil as argument (type string) to call lower", 1, 7),
    ('body matches "["', "error parsing regexp: missing closing ]: `[`", 1, 6),
    ('not attributes.retry startsWith "C"', "invalid operation: startsWith (mismatched types bool and string)", 1, 22),
    ('not body', "invalid operation: not (mismatched type string)", 1, 1),
    ("severityNumber >= 17 &&\n  body contains 1", "invalid operation: contains (mismatched types string and int)", 2, 8),
]
# ... and of running the untyped program on LOG.
RUNTIME_ERRORS = [
    ("attributes.missing > 1", "invalid operation: <nil> > int", 1, 20),
    ("attributes.missing.deeper", "cannot fetch deeper from <nil>", 1, 20),
    ("severityNumber +\n  attributes.retry", "invalid operation: int + bool", 1, 16),
    ("map([1, 2], # % (# - 1))", "runtime error: integer divide by zero", 1, 15),
]


@pytest.mark.parametrize("source, run, message, line, column", [(source, False, *rest) for source, *rest in COMPILE_ERRORS]
                         + [(source, True, *rest) for source, *rest in RUNTIME_ERRORS])
def test_compile_and_runtime_errors_point_at_the_offending_token(source, run, message, line, column):
    err = failure(source, run)
    assert err.message == message
    assert (err.line, err.column) == (line, column)
    assert "^" in str(err)


def test_error_text_shows_the_source_line_and_a_caret():
    with pytest.raises(ExprCompileError) as info:
        compile('severityNumber > "10"', env=LOG)
    assert str(info.value) == ('invalid operation: > (mismatched types int and string) (1:16)\n'
                               ' | severityNumber > "10"\n'
                               ' | ...............^')


def test_error_hierarchy():
    assert issubclass(ExprCompileError, ExprError) and issubclass(ExprRuntimeError, ExprError)


@pytest.mark.parametrize("source, expect", [
    ("severityNumber >= 17", bool), ("body contains 'x'", bool), ("attributes.retry", bool),
    ("severityNumber + 1", object), ("lower(body)", object),
])
def test_validate_accepts_good_filters(source, expect):
    assert validate(source, expect=bool if expect is bool else object) is None


@pytest.mark.parametrize("source, message", [
    ("1 + 1", "expected bool, but got int"), ("'x'", "expected bool, but got string"),
    ("severityNumber +", "unexpected token EOF"), ("lower(1)", "cannot use int as argument"),
])
def test_validate_rejects_bad_filters_with_a_position(source, message):
    with pytest.raises(ExprCompileError) as info:
        validate(source, expect=bool)
    assert message in info.value.message
    assert info.value.line >= 1 and info.value.column >= 1
