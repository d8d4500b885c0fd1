"""expr-lang compatible expression engine: compile once, run against many records.

    program = compile('severityNumber >= 17 && body contains "refused"')
    program.run(record)  # -> True / False / any value

Errors are ExprError: ExprCompileError (with .line/.column and a caret) or ExprRuntimeError.

Stages, one sub-package each: syntax/ (lexer, parser) -> checking/ (types, checker) ->
codegen/ (fold, generator) -> runtime/ (what generated code calls). builtin/table.py lists every
builtin once. See docs/expr.md.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .checking.checker import check
from .checking.typesys import ANY, BOOL, Function, go_name, type_of_value
from .codegen.fold import fold
from .codegen.generator import generate
from .errors import ExprCompileError, ExprError, ExprRuntimeError, Limits
from .runtime.functions import check_text_size
from .syntax.parser import parse

__all__ = ["compile", "validate", "Program", "Function", "ExprError", "ExprCompileError", "ExprRuntimeError",
           "Limits", "check_result_size"]


def check_result_size(value: Any) -> None:
    """Raise ExprRuntimeError if the JSON text of a result would be unreasonably large.

    A result can repeat one big string many times (``[a, a, a]`` nests cheaply), so its text
    can dwarf its memory; callers that serialise results (the pipeline's transforms) check first.
    """
    check_text_size(value)


class Program:
    """A compiled expression. `run(record)` evaluates it against one record (a dict of variables)."""

    __slots__ = ("source", "python_source", "result_type", "run")

    run: Callable[[Mapping[str, Any]], Any]
    """Evaluate against one record; raises only ExprRuntimeError. (The generated function itself,
    so a call costs no extra Python frame.)"""

    def __init__(self, source: str, python_source: str, result_type: str, fn: Callable[[Any], Any]) -> None:
        self.source = source
        self.python_source = python_source
        self.result_type = result_type
        self.run = fn

    def __repr__(self) -> str:
        return f"Program({self.source!r})"


def _normalise_functions(functions: Mapping[str, Any] | None) -> dict[str, Function]:
    out: dict[str, Function] = {}
    for name, fn in (functions or {}).items():
        out[name] = fn if isinstance(fn, Function) else Function(fn)
    return out


def compile(source: str, *, functions: Mapping[str, Any] | None = None,  # noqa: A001 -- public API name
            env: Mapping[str, Any] | None = None) -> Program:
    """Parse, check, fold and compile `source` to a Program.

    `functions` maps names to Python callables or `Function` specs (typed like Go funcs).
    `env`, when given, is a sample record: like expr.Env it makes unknown names compile errors and
    gives variables the static types of its values.
    """
    if not isinstance(source, str):
        raise ExprCompileError("expression source must be a string")
    funcs = _normalise_functions(functions)
    try:
        tree = parse(source)
        env_types = None if env is None else {k: type_of_value(v) for k, v in env.items()}
        result_type = check(tree, source, env_types, funcs)
        tree = fold(tree, source)
        python_source, fn = generate(tree, source, funcs)
    except ExprError:
        raise
    except RecursionError:
        raise ExprCompileError("expression is nested too deeply", source, 0) from None
    return Program(source, python_source, result_type, fn)


def validate(source: str, expect: type | Any = Any, *, functions: Mapping[str, Any] | None = None,
             env: Mapping[str, Any] | None = None) -> None:
    """Raise ExprCompileError if `source` cannot compile, or (expect=bool) is statically not a bool."""
    program = compile(source, functions=functions, env=env)
    if expect is bool and program.result_type not in (BOOL, ANY):
        raise ExprCompileError(f"expected bool, but got {go_name(program.result_type)}", source, 0)
