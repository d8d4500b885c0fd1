"""Go's fmt %v and encoding/json renderings of values, as expr's string(), fn() and toJSON() show them."""
from __future__ import annotations

import base64
import json
import math
from typing import Any

from ..errors import ExprRuntimeError
from .gotime import GoDuration, GoTime
from .values import AnyKeyMap, FuncValue, go_bytes, go_type


def format_float(f: float) -> str:
    """strconv.FormatFloat(f, 'g', -1, 64) as used by %v."""
    if f != f:
        return "NaN"
    if f in (math.inf, -math.inf):
        return "+Inf" if f > 0 else "-Inf"
    if f == 0:
        return "-0" if math.copysign(1, f) < 0 else "0"
    digits, exp = _shortest(f)
    eprec = 6
    if eprec > len(digits) and len(digits) >= exp + 1:
        eprec = len(digits)
    if exp < -4 or exp >= eprec:
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        sign = "-" if f < 0 else ""
        return f"{sign}{mant}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    return _fixed(f)


def _shortest(f: float) -> tuple[str, int]:
    mant, _, e = f"{abs(f):.17e}".partition("e")
    text = repr(abs(f))
    # repr gives the shortest round-trip digits; normalise them to (digits, decimal exponent).
    if "e" in text:
        m, ex = text.split("e")
        digits = m.replace(".", "").rstrip("0") or "0"
        exp = int(ex)
        return digits.lstrip("0") or "0", exp
    intpart, _, frac = text.partition(".")
    frac = frac.rstrip("0")
    if intpart != "0":
        return (intpart + frac).rstrip("0") or "0", len(intpart) - 1
    stripped = frac.lstrip("0")
    return stripped, -(len(frac) - len(stripped)) - 1


def _fixed(f: float) -> str:
    text = repr(f)
    if "e" in text or "E" in text:
        digits, exp = _shortest(f)
        sign = "-" if f < 0 else ""
        if exp >= 0:
            whole = digits[:exp + 1].ljust(exp + 1, "0")
            frac = digits[exp + 1:]
        else:
            whole, frac = "0", "0" * (-exp - 1) + digits
        return sign + whole + ("." + frac if frac else "")
    return text[:-2] if text.endswith(".0") else text


def format_value(v: Any) -> str:
    """Go's %v."""
    t = type(v)
    if v is None:
        return "<nil>"
    if t is bool:
        return "true" if v else "false"
    if t is int:
        return str(v)
    if t is float:
        return format_float(v)
    if t is str:
        return v
    if t is list or t is bytes:
        return "[" + " ".join(format_value(x) for x in v) + "]"
    if t is dict or t is AnyKeyMap:
        items = sorted(v.items(), key=lambda kv: _key_order(kv[0]))
        return "map[" + " ".join(f"{format_value(k)}:{format_value(x)}" for k, x in items) + "]"
    if t is GoTime:
        return v.format("2006-01-02 15:04:05.999999999 -0700 MST")
    if t is GoDuration:
        return v.string()
    if t is FuncValue:
        return "0xc000000000"
    return "<?>"


def _key_order(k: Any) -> tuple:
    # fmt sorts map keys: nil, then numbers, strings, ... by type then value.
    t = type(k)
    if k is None:
        return (0, 0)
    if t is bool:
        return (1, int(k))
    if t is int or t is float:
        return (2, k)
    if t is str:
        return (3, go_bytes(k))
    return (4, str(k))


def to_json(v: Any) -> str:
    """json.MarshalIndent(v, "", "  ")."""
    out: list[str] = []
    _encode(v, out, "")
    return "".join(out)


def _encode(v: Any, out: list[str], indent: str) -> None:
    t = type(v)
    if v is None:
        out.append("null")
    elif t is bool:
        out.append("true" if v else "false")
    elif t is int:
        out.append(str(v))
    elif t is float:
        out.append(_json_float(v))
    elif t is str:
        out.append(_json_string(v))
    elif t is list or t is dict:
        _encode_container(v, t is dict, out, indent)
    elif t is GoTime:
        out.append('"' + v.rfc3339nano() + '"')
    elif t is GoDuration:
        out.append(str(v.ns))
    elif t is bytes:
        out.append('"' + base64.b64encode(v).decode("ascii") + '"')  # encoding/json's []byte
    else:
        raise ExprRuntimeError(f"json: unsupported type: {go_type(v)}")


def _encode_container(v: list | dict, is_map: bool, out: list[str], indent: str) -> None:
    """An array, or an object with its keys in Go's byte order, one entry a line."""
    if not v:
        out.append("{}" if is_map else "[]")
        return
    inner = indent + "  "
    out.append("{\n" if is_map else "[\n")
    last = len(v) - 1
    for i, x in enumerate(sorted(v, key=go_bytes) if is_map else v):
        if is_map:
            out.append(inner + _json_string(x) + ": ")
            _encode(v[x], out, inner)
        else:
            out.append(inner)
            _encode(x, out, inner)
        out.append(",\n" if i < last else "\n")
    out.append(indent + ("}" if is_map else "]"))


def _json_float(f: float) -> str:
    if f != f or f in (math.inf, -math.inf):
        raise ExprRuntimeError(f"json: unsupported value: {format_float(f)}")
    if f == 0:
        return "-0" if math.copysign(1, f) < 0 else "0"
    a = abs(f)
    if a < 1e-6 or a >= 1e21:
        text = format_float(f)
        mant, _, exp = text.partition("e")
        sign, digits = exp[0], exp[1:].lstrip("0")
        return f"{mant}e{sign}{digits}"
    return _fixed(f)


_JSON_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "<": "\\u003c",
                 ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _json_string(s: str) -> str:
    parts = ['"']
    for ch in s:
        if ch in _JSON_ESCAPES:
            parts.append(_JSON_ESCAPES[ch])
        elif ch < " ":
            parts.append(f"\\u{ord(ch):04x}")
        elif "\udc80" <= ch <= "\udcff":
            parts.append("\ufffd")
        else:
            parts.append(ch)
    parts.append('"')
    return "".join(parts)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid character '{name[0]}' looking for beginning of value")


def _go_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"json: cannot unmarshal number {text} into Go value of type float64")
    return value


def from_json(s: str) -> Any:
    """json.Unmarshal into any: every number becomes float64, objects map[string]any."""
    try:
        return json.loads(s, parse_int=_go_float, parse_float=_go_float, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise ExprRuntimeError(str(exc).split(":")[0] if "Expecting" in str(exc) else str(exc)) from None
