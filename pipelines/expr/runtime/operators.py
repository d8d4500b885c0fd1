"""Operators with Go/expr semantics; the generated code calls these by name."""
from __future__ import annotations

import math
from typing import Any

from ..errors import ExprRuntimeError, Limits
from .gotime import GoDuration, GoTime
from .values import AnyKeyMap, FuncValue, go_bytes, go_type, interface_conversion, wrap_int

_INF = float("inf")


def op_error(op: str, a: Any, b: Any) -> ExprRuntimeError:
    return ExprRuntimeError(f"invalid operation: {go_type(a)} {op} {go_type(b)}")


def add(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return wrap_int(a + b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return float(a) + float(b)
    if ta is str and tb is str:
        if len(a) + len(b) > Limits.max_collection * 10:
            raise ExprRuntimeError("memory budget exceeded")
        return a + b
    if ta is GoTime and tb is GoDuration:
        return a.add(b)
    if ta is GoDuration and tb is GoTime:
        return b.add(a)
    if ta is GoDuration and tb is GoDuration:
        return GoDuration(wrap_int(a.ns + b.ns))
    raise op_error("+", a, b)


def sub(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return wrap_int(a - b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return float(a) - float(b)
    if ta is GoTime and tb is GoTime:
        return a.sub(b)
    if ta is GoTime and tb is GoDuration:
        return a.add(GoDuration(-b.ns))
    if ta is GoDuration and tb is GoDuration:
        return GoDuration(wrap_int(a.ns - b.ns))
    raise op_error("-", a, b)


def mul(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return wrap_int(a * b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return float(a) * float(b)
    if ta is GoDuration or tb is GoDuration:
        return _mul_duration(a, b)
    raise op_error("*", a, b)


def _mul_duration(a: Any, b: Any) -> Any:
    """Go's Multiply with a time.Duration operand, quirks included.

    Duration × float is a float64; float × Duration converts the float to a Duration first, which
    truncates it (1.5 * duration("1h") is 1h).
    """
    ta, tb = type(a), type(b)
    if ta is GoDuration and tb is float:
        return float(a.ns) * b
    x = a.ns if ta is GoDuration else a
    y = b.ns if tb is GoDuration else b
    if type(x) is float:
        x = int(x) if x == x and abs(x) < 2**63 else -(2**63)
    if type(x) is not int or type(y) is not int:
        raise op_error("*", a, b)
    return GoDuration(wrap_int(x * y))


def div(a: Any, b: Any) -> float:
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        x, y = float(a), float(b)
        if y == 0.0:
            if x == 0.0 or x != x:
                return math.nan
            return math.copysign(_INF, x) * math.copysign(1.0, y)
        return x / y
    raise op_error("/", a, b)


def mod(a: Any, b: Any) -> int:
    if type(a) is int and type(b) is int:
        if b == 0:
            raise ExprRuntimeError("runtime error: integer divide by zero")
        # Go truncates toward zero, so the remainder takes the sign of the dividend.
        r = abs(a) % abs(b)
        return wrap_int(-r if a < 0 else r)
    raise op_error("%", a, b)


def power(a: Any, b: Any) -> float:
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return go_pow(float(a), float(b))
    raise op_error("**", a, b)


def _is_odd_int(y: float) -> bool:
    return abs(y) < 2**53 and y == int(y) and int(y) % 2 == 1


def go_pow(x: float, y: float) -> float:
    """Go's math.Pow, step for step: its results differ from C's pow in the last bits."""
    if y == 0 or x == 1:
        return 1.0
    if y == 1:
        return x
    if x != x or y != y:
        return math.nan
    if x == 0:
        if y < 0:
            return -_INF if math.copysign(1, x) < 0 and _is_odd_int(y) else _INF
        return x if math.copysign(1, x) < 0 and _is_odd_int(y) else 0.0
    if math.isinf(y):
        if x == -1:
            return 1.0
        return 0.0 if (abs(x) < 1) == (y > 0) else _INF
    if math.isinf(x):
        if x < 0:
            return go_pow(1 / x, -y)
        return 0.0 if y < 0 else _INF
    if y == 0.5:
        return math.sqrt(x) if x >= 0 else math.nan
    if y == -0.5:
        return 1 / math.sqrt(x) if x >= 0 else math.nan
    yf, yi = math.modf(abs(y))
    if yf != 0 and x < 0:
        return math.nan
    if yi >= 2**63:
        if x == -1:
            return 1.0
        return 0.0 if (abs(x) < 1) == (y > 0) else _INF
    a1, ae = 1.0, 0
    if yf != 0:
        if yf > 0.5:
            yf -= 1
            yi += 1
        a1 = math.exp(yf * math.log(x))
    x1, xe = math.frexp(x)
    i = int(yi)
    while i != 0:
        if xe < -(1 << 12) or (1 << 12) < xe:
            ae += xe
            break
        if i & 1 == 1:
            a1 *= x1
            ae += xe
        x1 *= x1
        xe <<= 1
        if x1 < 0.5:
            x1 += x1
            xe -= 1
        i >>= 1
    if y < 0:
        a1 = 1 / a1
        ae = -ae
    try:
        return math.ldexp(a1, ae)
    except OverflowError:
        return math.copysign(_INF, a1)


def neg(a: Any) -> Any:
    t = type(a)
    if t is int:
        return wrap_int(-a)
    if t is float:
        return -a
    if t is GoDuration:
        return GoDuration(-a.ns)
    raise ExprRuntimeError(f"invalid operation: - {go_type(a)}")


def pos(a: Any) -> Any:
    t = type(a)
    if t is int or t is float:
        return a
    raise ExprRuntimeError(f"invalid operation: + {go_type(a)}")


def truth(a: Any) -> bool:
    """A value used where Go asserts a bool (operands of !, &&, ||, ?:)."""
    if a is True or a is False:
        return a
    raise interface_conversion(a, "bool")


def not_(a: Any) -> bool:
    if a is True:
        return False
    if a is False:
        return True
    raise interface_conversion(a, "bool")


def _cmp_types(a: Any, b: Any) -> int:
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return 1
    if ta is str and tb is str:
        return 2
    if ta is tb and (ta is GoTime or ta is GoDuration):
        return 3
    return 0


def less(a: Any, b: Any) -> bool:
    k = _cmp_types(a, b)
    if k == 1 or k == 3:
        return a < b
    if k == 2:
        return go_bytes(a) < go_bytes(b) if not (a.isascii() and b.isascii()) else a < b
    raise op_error("<", a, b)


def less_eq(a: Any, b: Any) -> bool:
    k = _cmp_types(a, b)
    if k == 1 or k == 3:
        return a <= b
    if k == 2:
        return go_bytes(a) <= go_bytes(b) if not (a.isascii() and b.isascii()) else a <= b
    raise op_error("<=", a, b)


def greater(a: Any, b: Any) -> bool:
    k = _cmp_types(a, b)
    if k == 1 or k == 3:
        return a > b
    if k == 2:
        return go_bytes(a) > go_bytes(b) if not (a.isascii() and b.isascii()) else a > b
    raise op_error(">", a, b)


def greater_eq(a: Any, b: Any) -> bool:
    k = _cmp_types(a, b)
    if k == 1 or k == 3:
        return a >= b
    if k == 2:
        return go_bytes(a) >= go_bytes(b) if not (a.isascii() and b.isascii()) else a >= b
    raise op_error(">=", a, b)


def equal(a: Any, b: Any) -> bool:
    ta, tb = type(a), type(b)
    if ta is tb:
        if ta is list or ta is dict or ta is AnyKeyMap:
            return deep_equal(a, b)
        if ta is FuncValue:
            return False
        return a == b
    if (ta is int or ta is float) and (tb is int or tb is float):
        return a == b
    return False


def not_equal(a: Any, b: Any) -> bool:
    return not equal(a, b)


def deep_equal(a: Any, b: Any) -> bool:
    """reflect.DeepEqual: element types must match exactly (1 and 1.0 differ inside arrays)."""
    ta = type(a)
    if ta is not type(b):
        return False
    if ta is list:
        return len(a) == len(b) and all(deep_equal(x, y) for x, y in zip(a, b, strict=True))
    if ta is dict or ta is AnyKeyMap:
        if len(a) != len(b):
            return False
        for k, v in a.items():
            if k not in b or not deep_equal(v, b[k]):
                return False
        return True
    if ta is FuncValue:
        return False
    return a == b


def _strs(op: str, a: Any, b: Any) -> bool:
    if a is None or b is None:
        return False
    if type(a) is not str:
        raise interface_conversion(a, "string")
    if type(b) is not str:
        raise interface_conversion(b, "string")
    return False


def contains(a: Any, b: Any) -> bool:
    if type(a) is str and type(b) is str:
        return b in a
    return _strs("contains", a, b)


def starts_with(a: Any, b: Any) -> bool:
    if type(a) is str and type(b) is str:
        return a.startswith(b)
    return _strs("startsWith", a, b)


def ends_with(a: Any, b: Any) -> bool:
    if type(a) is str and type(b) is str:
        return a.endswith(b)
    return _strs("endsWith", a, b)


def make_range(a: Any, b: Any) -> list[int]:
    if type(a) is float:
        a = int(a)
    if type(b) is float:
        b = int(b)
    if type(a) is not int or type(b) is not int:
        raise op_error("..", a, b)
    if b - a + 1 > Limits.max_range:
        raise ExprRuntimeError(f"range {a}..{b} is too large (limit {Limits.max_range} elements)")
    return list(range(a, b + 1))
