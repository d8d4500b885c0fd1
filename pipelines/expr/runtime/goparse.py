"""Linear-time parsers for Go's strconv.ParseFloat, strconv.Atoi and time.ParseDuration.

These read record data, so they must never backtrack: a backtracking pattern such as
`[0-9]+\\.?[0-9]*` takes quadratic time on a long run of digits followed by a bad character.
Syntax is checked with str methods or with RE2 (linear by construction); the number itself is then
computed by Python's correctly rounded float()/float.fromhex(), which agree with Go's.
"""
from __future__ import annotations

import re2

from ..errors import ExprRuntimeError
from .gotime import _NS, GoDuration
from .values import go_bytes

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False

# strconv.ParseFloat's grammar (atof.go readFloat + underscoreOK): `_` only between digits (or
# after a hex base prefix), a hex mantissa needs a `p` exponent, a sign is allowed before inf/infinity
# but not before nan.
_DEC = r"[0-9]+(?:_[0-9]+)*"
_HEX = r"[0-9a-fA-F]+(?:_[0-9a-fA-F]+)*"
_FLOAT = re2.compile(
    rf"[+-]?(?:(?:{_DEC}(?:\.(?:{_DEC})?)?|\.{_DEC})(?:[eE][+-]?{_DEC})?"
    rf"|0[xX](?:_?{_HEX}(?:\.(?:{_HEX})?)?|\.{_HEX})[pP][+-]?{_DEC}"
    r"|(?i:inf|infinity))|(?i:nan)", _OPTIONS)
# For text made only of these characters, Python's float() accepts exactly Go's decimal syntax.
_PLAIN = "0123456789.eE+-"


def parse_float(text: str) -> float | None:
    """strconv.ParseFloat(text, 64), or None where Go returns an error (bad syntax or overflow)."""
    if not text.strip(_PLAIN):
        try:
            value = float(text)
        except ValueError:
            return None
        return None if value in (_INF, -_INF) else value
    if not text.isascii() or _FLOAT.fullmatch(text) is None:
        return None
    lowered = text.lower()
    if lowered.lstrip("+-") in ("inf", "infinity", "nan"):
        return float(lowered)
    cleaned = text.replace("_", "")
    try:
        value = float.fromhex(cleaned) if "x" in lowered else float(cleaned)
    except OverflowError:
        return None
    return None if value in (_INF, -_INF) else value


_INF = float("inf")


def parse_atoi(text: str) -> int | None:
    """strconv.Atoi's syntax: an optional sign and ASCII digits only. None on a syntax error.

    The value is returned even beyond 64 bits (the caller reports the range error), but a text of
    more than 19 significant digits is out of range anyway, so it is not converted.
    """
    digits = text[1:] if text[:1] in ("+", "-") else text
    if not digits or not digits.isascii() or not digits.isdigit():
        return None
    if len(digits.lstrip("0")) > 19:
        return 1 << 64 if text[0] != "-" else -(1 << 64)
    return int(text, 10)


_UNITS = {b"ns": 1, b"us": 1_000, "µs".encode(): 1_000, "μs".encode(): 1_000, b"ms": 1_000_000, b"s": _NS,
          b"m": 60 * _NS, b"h": 3600 * _NS}
# One element of a duration, as time.ParseDuration consumes it: [0-9]* (\.[0-9]*)? and a unit,
# which is everything up to the next digit or dot. Every part may be empty, so it always matches.
_ELEMENT = re2.compile(rb"([0-9]*)(?:\.([0-9]*))?([^0-9.]*)", _OPTIONS)
_MAX = 1 << 63


def _quote(text: bytes) -> str:
    """time's own quote(): printable ASCII kept, other bytes as \\xNN.

    Only the first 4 KiB of a hostile value are escaped byte by byte, so an error costs little.
    """
    plain = text.decode("latin-1")
    if text.isascii() and plain.isprintable() and '"' not in plain and "\\" not in plain:
        return f'"{plain}"'
    out = []
    for c in text[:4096]:
        if c >= 0x80 or c < 0x20:
            out.append(f"\\x{c:02x}")
        elif c in (0x22, 0x5C):
            out.append("\\" + chr(c))
        else:
            out.append(chr(c))
    return '"' + "".join(out) + ('..."' if len(text) > 4096 else '"')


def _fraction(frac: bytes, scale: int) -> int:
    """leadingFraction and the nanoseconds it adds: digits count while the value fits in an int64;
    after that they are skipped. Leading zeros only grow the (float, repeatedly multiplied) scale."""
    zeros = len(frac) - len(frac.lstrip(b"0"))
    f, digits = 0, zeros
    for c in frac[zeros:zeros + 20]:
        if f > (_MAX - 1) // 10:
            break
        y = f * 10 + c - 0x30
        if y > _MAX:
            break
        f, digits = y, digits + 1
    if f == 0:
        return 0
    ten_power = 1.0
    for _ in range(min(digits, 400)):  # past 10**309 the float is inf and stays inf
        ten_power *= 10
    return int(float(f) * (float(scale) / ten_power))


def parse_duration(text: str) -> GoDuration:
    """time.ParseDuration, step for step (integer nanoseconds, the same overflow checks and errors)."""
    orig = go_bytes(text)

    def invalid() -> ExprRuntimeError:
        return ExprRuntimeError(f"time: invalid duration {_quote(orig)}")

    s, neg = orig, False
    if s[:1] in (b"-", b"+"):
        neg = s[:1] == b"-"
        s = s[1:]
    if s == b"0":
        return GoDuration(0)
    if not s:
        raise invalid()
    total, pos, end = 0, 0, len(s)
    while pos < end:
        if not (s[pos] == 0x2E or 0x30 <= s[pos] <= 0x39):
            raise invalid()
        m = _ELEMENT.match(s, pos)
        whole, frac, unit = m.group(1), m.group(2), m.group(3)
        pos = m.end()
        if not whole and not frac:
            raise invalid()  # no digits, e.g. ".s"
        if not unit:
            raise ExprRuntimeError(f"time: missing unit in duration {_quote(orig)}")
        scale = _UNITS.get(unit)
        if scale is None:
            raise ExprRuntimeError(f"time: unknown unit {_quote(unit)} in duration {_quote(orig)}")
        # leadingInt: leading zeros are free, more than 2**63 overflows.
        v = int(whole.lstrip(b"0") or b"0") if len(whole.lstrip(b"0")) <= 19 else _MAX + 1
        if v > _MAX or v > _MAX // scale:
            raise invalid()
        v *= scale
        if frac:
            v += _fraction(frac, scale)
            if v > _MAX:
                raise invalid()
        total += v
        if total > _MAX:
            raise invalid()
    if neg:
        return GoDuration(-total)
    if total > _MAX - 1:
        raise invalid()
    return GoDuration(total)
