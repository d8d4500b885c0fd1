"""Implementations of the string, number, conversion, date and bit builtins with Go semantics.

The table in builtin/table.py lists every builtin with its checks; array and map builtins are in arrays.py.
"""
from __future__ import annotations

import base64
import binascii
import math
from typing import Any

from ..errors import ExprRuntimeError, Limits
from .gofmt import format_value, from_json, to_json
from .goparse import parse_atoi, parse_duration, parse_float
from .gotime import GoDuration, GoTime, now, parse_date
from .values import AnyKeyMap, FuncValue, from_bytes, go_bytes, go_type, interface_conversion, wrap_int
from .zones import GoLocation, load_location


def _str(v: Any) -> str:
    if type(v) is str:
        return v
    raise interface_conversion(v, "string")


def _int(v: Any) -> int:
    if type(v) is int:
        return v
    raise interface_conversion(v, "int")


def b_type(v: Any) -> str:
    t = type(v)
    if v is None:
        return "nil"
    return {bool: "bool", int: "int", float: "float", str: "string", list: "array", bytes: "array", dict: "map",
            AnyKeyMap: "map", FuncValue: "func", GoTime: "time.Time", GoDuration: "time.Duration"}.get(t, "unknown")


def b_abs(v: Any) -> Any:
    t = type(v)
    if t is int:
        return wrap_int(abs(v))
    if t is float:
        return -v if v < 0 else v  # Go's abs keeps -0.0 (it only negates values below zero)
    raise ExprRuntimeError(f"invalid argument for abs (type {go_type(v)})")


def _round_arg(name: str, v: Any) -> float:
    t = type(v)
    if t is int or t is float:
        return float(v)
    raise ExprRuntimeError(f"invalid argument for {name} (type {go_type(v)})")


def b_ceil(v: Any) -> float:
    x = _round_arg("ceil", v)
    return x if math.isinf(x) or x != x else math.copysign(float(math.ceil(x)), x)


def b_floor(v: Any) -> float:
    x = _round_arg("floor", v)
    return x if math.isinf(x) or x != x else math.copysign(float(math.floor(x)), x)


def b_round(v: Any) -> float:
    x = _round_arg("round", v)
    if math.isinf(x) or x != x:
        return x
    r = math.floor(abs(x) + 0.5)
    if r - abs(x) == 0.5 and abs(x) + 0.5 != r:  # guard against 0.49999999999999994 rounding up
        r -= 1
    return math.copysign(float(r), x)


def b_int(v: Any) -> int:
    t = type(v)
    if t is int:
        return v
    if t is float:
        if v != v or math.isinf(v) or not (-2**63 <= v < 2**63):
            return -(2**63)
        return int(v)
    if t is str:
        # strconv.Atoi: ASCII digits only, no spaces or underscores (Python's int() allows those).
        value = parse_atoi(v)
        if value is not None:
            return value if -2**63 <= value < 2**63 else _atoi_range(v)
        raise ExprRuntimeError(f"invalid operation: int({v})")
    raise ExprRuntimeError(f"invalid operation: int({go_type(v)})")


def _atoi_range(text: str) -> int:
    raise ExprRuntimeError(f'strconv.Atoi: parsing "{text}": value out of range')


def b_float(v: Any) -> float:
    t = type(v)
    if t is float:
        return v
    if t is int:
        return float(v)
    if t is str:
        value = parse_float(v)
        if value is not None:
            return value
        raise ExprRuntimeError(f"invalid operation: float({v})")
    raise ExprRuntimeError(f"invalid operation: float({go_type(v)})")


MAX_STRING = Limits.max_collection * 10  # the same bound `+` puts on string concatenation


def check_text_size(v: Any, limit: int = 0) -> int:
    """Raise before formatting a value whose text would exceed MAX_STRING.

    A value can hold the same big string many times (``[a, a, a]``), so its text can be far
    larger than the memory it occupies; walking it costs at most MAX_STRING steps because every
    node counts at least one character.
    """
    budget = limit or MAX_STRING
    stack = [v]
    while stack:
        item = stack.pop()
        t = type(item)
        if t is str:
            budget -= len(item) + 2
        elif t is list:
            budget -= len(item) + 2
            stack.extend(item)
        elif t is dict:
            budget -= 2 * len(item) + 2
            stack.extend(item.keys())
            stack.extend(item.values())
        else:
            budget -= 24  # numbers, bools, nil, times: short
        if budget < 0:
            raise ExprRuntimeError("memory budget exceeded")
    return (limit or MAX_STRING) - budget


def b_string(v: Any) -> str:
    if type(v) is not str:
        check_text_size(v)
    return format_value(v)


# unicode.IsSpace: Python's default strip() also removes \x1c-\x1f, which Go keeps.
_GO_SPACE = " \t\n\r\v\f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
            "\u2028\u2029\u202f\u205f\u3000"


def b_trim(s: Any, cutset: Any = None) -> str:
    if cutset is None:
        return _str(s).strip(_GO_SPACE)
    return _str(s).strip(_str(cutset))


def b_trim_prefix(s: Any, prefix: Any = " ") -> str:
    s, prefix = _str(s), _str(prefix)
    return s[len(prefix):] if prefix and s.startswith(prefix) else s


def b_trim_suffix(s: Any, suffix: Any = " ") -> str:
    s, suffix = _str(s), _str(suffix)
    return s[:-len(suffix)] if suffix and s.endswith(suffix) else s


def b_upper(s: Any) -> str:
    s = _str(s)
    if s.isascii():
        return s.upper()
    # Go maps rune by rune; Python would expand 'ß' to 'SS'.
    return "".join(u if len(u := c.upper()) == 1 else c for c in s)


def b_lower(s: Any) -> str:
    s = _str(s)
    if s.isascii():
        return s.lower()
    return "".join(u if len(u := c.lower()) == 1 else c for c in s)


def _split(s: str, sep: str, n: int, after: bool) -> list[str]:
    if n == 0:
        return []
    if sep == "":
        chars = list(s)
        if 0 < n < len(chars):
            chars = chars[:n - 1] + ["".join(chars[n - 1:])]
        return chars
    parts = s.split(sep, n - 1) if n > 0 else s.split(sep)
    if after:
        parts = [p + sep for p in parts[:-1]] + parts[-1:]
    return parts


def b_split(s: Any, sep: Any, n: Any = -1) -> list[str]:
    return _split(_str(s), _str(sep), _int(n), False)


def b_split_after(s: Any, sep: Any, n: Any = -1) -> list[str]:
    return _split(_str(s), _str(sep), _int(n), True)


def b_replace(s: Any, old: Any, new: Any, n: Any = -1) -> str:
    s, old, new, n = _str(s), _str(old), _str(new), _int(n)
    if old == "" and len(s) > Limits.max_collection:
        raise ExprRuntimeError("memory budget exceeded")
    if len(new) > len(old):
        count = s.count(old) if old else len(s) + 1
        if n >= 0:
            count = min(count, n)
        if len(s) + count * (len(new) - len(old)) > MAX_STRING:
            raise ExprRuntimeError("memory budget exceeded")
    return s.replace(old, new, n if n >= 0 else -1)


def b_repeat(s: Any, n: Any) -> str:
    s, n = _str(s), _int(n)
    if n < 0:
        raise ExprRuntimeError(f"invalid argument for repeat (expected positive integer, got {n})")
    if n > Limits.max_repeat or len(s) * n > Limits.max_repeat * 10:
        raise ExprRuntimeError("memory budget exceeded")
    return s * n


def b_join(arr: Any, sep: Any = "") -> str:
    sep = _str(sep)
    if type(arr) is not list:
        raise ExprRuntimeError(f"invalid argument for join (type {go_type(arr)})")
    parts = [_str(x) for x in arr]
    if sum(map(len, parts)) + len(sep) * max(0, len(parts) - 1) > MAX_STRING:
        raise ExprRuntimeError("memory budget exceeded")
    return sep.join(parts)


def _byte_index(s: str, sub: str, last: bool) -> int:
    i = s.rfind(sub) if last else s.find(sub)
    if i <= 0 or s.isascii():
        return i
    return len(go_bytes(s[:i]))


def b_index_of(s: Any, sub: Any) -> int:
    return _byte_index(_str(s), _str(sub), False)


def b_last_index_of(s: Any, sub: Any) -> int:
    return _byte_index(_str(s), _str(sub), True)


def b_has_prefix(s: Any, p: Any) -> bool:
    return _str(s).startswith(_str(p))


def b_has_suffix(s: Any, p: Any) -> bool:
    return _str(s).endswith(_str(p))


def b_to_json(v: Any) -> str:
    check_text_size(v)
    return to_json(v)


def b_from_json(s: Any) -> Any:
    return from_json(_str(s))


def b_to_base64(s: Any) -> str:
    return base64.b64encode(go_bytes(_str(s))).decode("ascii")


def b_from_base64(s: Any) -> str:
    text = _str(s)
    try:
        return from_bytes(base64.b64decode(text.encode("ascii"), validate=True))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise ExprRuntimeError("illegal base64 data at input byte 0") from None


def b_now(*args: Any) -> GoTime:
    if len(args) == 1 and type(args[0]) is GoLocation:
        return GoTime.in_location(now().epoch_ns, args[0])
    if args:
        raise ExprRuntimeError(f"invalid number of arguments (expected 0, got {len(args)})")
    return now()


def b_duration(s: Any) -> GoDuration:
    return parse_duration(_str(s))


def b_date(*args: Any) -> GoTime:
    loc = None
    if args and type(args[0]) is GoLocation:
        loc, args = args[0], args[1:]
    if not args or len(args) > 3:
        raise ExprRuntimeError(f"invalid number of arguments (expected at least 1, got {len(args)})")
    s, layout = _str(args[0]), None if len(args) < 2 else _str(args[1])
    if len(args) == 3:
        loc = load_location(_str(args[2]))
    return parse_date(s, layout, loc)


def b_timezone(name: Any) -> GoLocation:
    return load_location(_str(name))


def _bit_args(name: str, x: Any, y: Any) -> tuple[int, int]:
    for v in (x, y):
        if type(v) is not int:
            raise ExprRuntimeError(f"invalid operation: {go_type(v)} to call {name}")
    return x, y


def _shift(name: str, x: Any, y: Any) -> tuple[int, int]:
    x, y = _bit_args(name, x, y)
    if y < 0:
        raise ExprRuntimeError(f"invalid operation: negative shift count {y} (type int)")
    return x, y


def b_bitand(x: Any, y: Any) -> int:
    a, b = _bit_args("bitand", x, y)
    return a & b


def b_bitor(x: Any, y: Any) -> int:
    a, b = _bit_args("bitor", x, y)
    return a | b


def b_bitxor(x: Any, y: Any) -> int:
    a, b = _bit_args("bitxor", x, y)
    return a ^ b


def b_bitnand(x: Any, y: Any) -> int:
    a, b = _bit_args("bitnand", x, y)
    return a & ~b


def b_bitshl(x: Any, y: Any) -> int:
    a, b = _shift("bitshl", x, y)
    return wrap_int(a << min(b, 64))


def b_bitshr(x: Any, y: Any) -> int:
    a, b = _shift("bitshr", x, y)
    return a >> min(b, 64)


def b_bitushr(x: Any, y: Any) -> int:
    a, b = _shift("bitushr", x, y)
    return wrap_int((a % 2**64) >> min(b, 64))


def b_bitnot(x: Any) -> int:
    return ~_int(x)
