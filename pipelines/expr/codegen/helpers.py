"""Names visible to generated programs: our operator helpers, builtins and a few safe Python builtins.

Generated code runs with exactly this namespace; `__builtins__` is replaced so that no Python
builtin other than the handful listed can be reached even by a bug in code generation.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..builtin import runtime_names
from ..checking.typesys import Function
from ..errors import ExprError, ExprRuntimeError
from ..runtime import access, budget
from ..runtime import operators as R
from ..runtime.iteration import charge, iter_items, not_bool, not_number
from ..runtime.regex import matches, matches_compiled
from ..runtime.timemethods import call_method, month_string, weekday_string
from ..runtime.values import AnyKeyMap, interface_conversion


def _eq_int(a: Any, b: Any) -> bool:
    # Go compiles == between two statically-int operands to an int-only instruction.
    if type(a) is not int:
        raise interface_conversion(a, "int")
    if type(b) is not int:
        raise interface_conversion(b, "int")
    return a == b


def _in_range(x: Any, lo: int, hi: int) -> bool:
    t = type(x)
    if t is int or t is float:
        return lo <= x <= hi and x == int(x)
    return False


def _make_map(pairs: list) -> dict:
    # Go fills a map literal from its last pair to its first, so the first of repeated keys wins.
    pairs = pairs[::-1]
    if all(type(k) is str for k, _ in pairs):
        return dict(pairs)
    return AnyKeyMap(pairs)


def call_func(spec: Function, name: str) -> Callable[..., Any]:
    params = spec.param_types if spec.params is not None else None

    def call(*args: Any) -> Any:
        if params is not None:
            for i, value in enumerate(args):
                want = params[min(i, len(params) - 1)]
                t = type(value)
                ok = (want == "any" or (want == "int" and t is int) or (want == "float" and t is float)
                      or (want == "string" and t is str) or (want == "bool" and t is bool)
                      or (want == "array" and t is list) or (want == "map" and t is dict))
                if not ok:
                    raise interface_conversion(value, {"float": "float64"}.get(want, want))
        return spec.impl(*args)
    return call


def _fail(message: str) -> Any:
    raise ExprRuntimeError(message)




def internal_error(exc: BaseException) -> ExprRuntimeError:
    if isinstance(exc, RecursionError):
        return ExprRuntimeError("expression recursed too deeply")
    if isinstance(exc, MemoryError):
        return ExprRuntimeError("memory budget exceeded")
    if isinstance(exc, (KeyboardInterrupt, SystemExit)):
        raise exc
    # Never the exception's text: it could name the generated code's variables.
    return ExprRuntimeError(f"internal error ({type(exc).__name__})")


def _method_charged(bud: list, obj: Any, name: str, args: list) -> Any:
    # Time methods walk string arguments (a Format layout) in Python, a step per character.
    budget.spend(bud, sum(len(a) for a in args if type(a) is str) * 16)
    return call_method(obj, name, args)


def helper_namespace() -> dict[str, Any]:
    g: dict[str, Any] = {
        "__builtins__": {"type": type, "int": int, "float": float, "str": str, "dict": dict, "list": list,
                         "len": len, "enumerate": enumerate, "range": range,
                         "BaseException": BaseException},
        "_add": R.add, "_sub": R.sub, "_mul": R.mul, "_div": R.div, "_mod": R.mod, "_pow": R.power,
        "_lt": R.less, "_le": R.less_eq, "_gt": R.greater, "_ge": R.greater_eq, "_eq": R.equal,
        "_ne": R.not_equal, "_in": access.in_, "_contains": R.contains, "_starts": R.starts_with,
        "_ends": R.ends_with, "_matches": matches, "_matchc": matches_compiled, "_range": R.make_range,
        "_neg": R.neg, "_pos": R.pos, "_not": R.not_, "_truth": R.truth, "_fetch": access.fetch, "_fetch_opt": access.fetch_opt,
        "_slice": access.slice_, "_eq_int": _eq_int, "_in_range": _in_range, "_make_map": _make_map,
        "_method": call_method, "_month_str": month_string, "_weekday_str": weekday_string, "_fail": _fail, "_iter_items": iter_items, "_charge": charge, "_not_bool": not_bool,
        "_not_number": not_number, "_eqb": budget.equal, "_addb": budget.add, "_inb": budget.in_,
        "_rangeb": budget.make_range, "_sliceb": budget.slice_, "_rd": budget.charge_read,
        "_chargew": budget.charge_weighted, "_methodb": _method_charged,
        "_matchesb": budget.matches, "_ExprError": ExprError, "_internal_error": internal_error,
    }
    g.update(runtime_names())
    return g
