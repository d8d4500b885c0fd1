"""Methods of time.Time, time.Duration, time.Month, time.Weekday and *time.Location (Go 1.19's set).

`SIGNATURES` gives the checker each method's parameter and result types; `call_method` runs one.
Only these names exist: a method call never becomes a Python attribute look-up.
"""
from __future__ import annotations

from typing import Any

from ..checking.typesys import BOOL, DURATION, FLOAT, INT, LOCATION, MONTH, STRING, TIME, WEEKDAY
from ..errors import ExprRuntimeError
from .gotime import _DAYS, _MONTHS, GoDuration, GoTime, days_from_civil, format_time
from .values import go_type
from .zones import LOCAL, UTC, GoLocation

_NS = 1_000_000_000
_ZERO_TIME_SEC = -62135596800  # 0001-01-01T00:00:00Z, Go's zero time and the base of Truncate/Round
_MIN_DURATION, _MAX_DURATION = -(2**63), 2**63 - 1

# name -> (parameter types, result type). Go methods with two results (Zone, ISOWeek) give the first,
# as expr does; those with more (Date, Clock) are refused by the checker, as in Go.
SIGNATURES: dict[str, dict[str, tuple[tuple[str, ...], str]]] = {
    TIME: {
        "Year": ((), INT), "Month": ((), MONTH), "Day": ((), INT), "Hour": ((), INT), "Minute": ((), INT),
        "Second": ((), INT), "Nanosecond": ((), INT), "YearDay": ((), INT), "Weekday": ((), WEEKDAY),
        "Unix": ((), INT), "UnixMilli": ((), INT), "UnixMicro": ((), INT), "UnixNano": ((), INT),
        "Format": ((STRING,), STRING), "String": ((), STRING), "UTC": ((), TIME), "Local": ((), TIME),
        "In": ((LOCATION,), TIME), "Location": ((), LOCATION), "Zone": ((), STRING), "ISOWeek": ((), INT),
        "Before": ((TIME,), BOOL), "After": ((TIME,), BOOL), "Equal": ((TIME,), BOOL),
        "Add": ((DURATION,), TIME), "Sub": ((TIME,), DURATION), "AddDate": ((INT, INT, INT), TIME),
        "Truncate": ((DURATION,), TIME), "Round": ((DURATION,), TIME), "IsZero": ((), BOOL),
        "IsDST": ((), BOOL),
    },
    DURATION: {
        "Hours": ((), FLOAT), "Minutes": ((), FLOAT), "Seconds": ((), FLOAT), "Milliseconds": ((), INT),
        "Microseconds": ((), INT), "Nanoseconds": ((), INT), "String": ((), STRING), "Abs": ((), DURATION),
        "Round": ((DURATION,), DURATION), "Truncate": ((DURATION,), DURATION),
    },
    MONTH: {"String": ((), STRING)},
    WEEKDAY: {"String": ((), STRING)},
    LOCATION: {"String": ((), STRING)},
}
# Methods Go has but whose results expr cannot return (more than two values).
TOO_MANY_RESULTS = {TIME: {"Date", "Clock"}}


def month_string(m: Any) -> str:
    return _MONTHS[m - 1] if type(m) is int and 1 <= m <= 12 else f"%!Month({m})"


def weekday_string(d: Any) -> str:
    return _DAYS[(d - 1) % 7] if type(d) is int and 0 <= d <= 6 else f"%!Weekday({d})"


def _go_rem(a: int, b: int) -> int:
    """Go's % truncates toward zero."""
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def duration_round(d: int, m: int) -> int:
    if m <= 0:
        return d
    r = _go_rem(d, m)
    if d < 0:
        r = -r
        if r + r < m:
            return d + r
        d1 = d - m + r
        return d1 if d1 < d and d1 >= _MIN_DURATION else _MIN_DURATION
    if r + r < m:
        return d - r
    d1 = d + m - r
    return d1 if d1 > d and d1 <= _MAX_DURATION else _MAX_DURATION


def _since_zero(t: GoTime) -> int:
    return t.epoch_ns - _ZERO_TIME_SEC * _NS


def time_truncate(t: GoTime, d: int) -> GoTime:
    # Go rounds the absolute time since the zero time, not the wall clock: Truncate(24h) of a time
    # at +02:00 gives midnight UTC, shown as 02:00 in that zone.
    if d <= 0:
        return t
    return t.with_instant(t.epoch_ns - _since_zero(t) % d)


def time_round(t: GoTime, d: int) -> GoTime:
    if d <= 0:
        return t
    r = _since_zero(t) % d
    return t.with_instant(t.epoch_ns - r if r + r < d else t.epoch_ns + d - r)


def add_date(t: GoTime, years: int, months: int, days: int) -> GoTime:
    """time.AddDate: the wall-clock date moves and overflows normalise (Oct 31 + 1 month = Dec 1)."""
    c = t.local()
    total_months = (c.year + years) * 12 + (c.month - 1) + months
    year, month0 = divmod(total_months, 12)
    day_number = days_from_civil(year, month0 + 1, 1) + c.day - 1 + days
    wall = day_number * 86400 + c.hour * 3600 + c.minute * 60 + c.second
    loc = t.location
    if loc.fixed is not None:
        return GoTime((wall - loc.fixed[1]) * _NS + t.nanos, loc.fixed[1], t.loc)
    return GoTime.in_location(loc.wall_to_unix(wall) * _NS + t.nanos, loc)


def iso_year(t: GoTime) -> int:
    c = t.local()
    days = days_from_civil(c.year, c.month, c.day)
    thursday = days - c.weekday + 3  # the ISO week's year is the year of its Thursday
    from .gotime import civil_from_seconds
    return civil_from_seconds(thursday * 86400).year


def _in(t: GoTime, loc: Any) -> GoTime:
    if type(loc) is not GoLocation:
        raise ExprRuntimeError("time: missing Location in call to Time.In")
    if loc is UTC:
        return GoTime(t.epoch_ns, 0)
    return GoTime.in_location(t.epoch_ns, loc)


def _time_method(t: GoTime, name: str, args: list) -> Any:
    if name in ("Format", "String", "Zone", "Location", "UTC", "Local", "In", "IsZero", "IsDST", "Unix",
                "UnixMilli", "UnixMicro", "UnixNano", "Nanosecond"):
        if name == "Format":
            return format_time(t, args[0])
        if name == "String":
            return format_time(t, "2006-01-02 15:04:05.999999999 -0700 MST")
        if name == "Zone":
            return t.abbreviation
        if name == "Location":
            return t.location
        if name == "UTC":
            return GoTime(t.epoch_ns, 0)
        if name == "Local":
            return GoTime.in_location(t.epoch_ns, LOCAL)
        if name == "In":
            return _in(t, args[0])
        if name == "IsZero":
            return t.epoch_ns == _ZERO_TIME_SEC * _NS
        if name == "IsDST":
            return t.location.is_dst(t.epoch_ns // _NS)
        return {"Unix": t.epoch_ns // _NS, "UnixMilli": t.epoch_ns // 1_000_000,
                "UnixMicro": t.epoch_ns // 1_000, "UnixNano": t.epoch_ns, "Nanosecond": t.nanos}[name]
    if name in ("Before", "After", "Equal", "Sub"):
        other = args[0]
        if type(other) is not GoTime:
            raise _bad_argument(other, "time.Time", name)
        return {"Before": lambda: t.epoch_ns < other.epoch_ns, "After": lambda: t.epoch_ns > other.epoch_ns,
                "Equal": lambda: t.epoch_ns == other.epoch_ns, "Sub": lambda: t.sub(other)}[name]()
    if name in ("Add", "Truncate", "Round"):
        d = args[0]
        if type(d) is not GoDuration:
            raise _bad_argument(d, "time.Duration", name)
        if name == "Add":
            return t.add(d)
        return time_truncate(t, d.ns) if name == "Truncate" else time_round(t, d.ns)
    if name == "AddDate":
        for a in args:
            if type(a) is not int:
                raise _bad_argument(a, "int", name)
        return add_date(t, *args)
    if name == "ISOWeek":
        return iso_year(t)
    c = t.local()
    return {"Year": c.year, "Month": c.month, "Day": c.day, "Hour": c.hour, "Minute": c.minute,
            "Second": c.second, "YearDay": c.yday, "Weekday": (c.weekday + 1) % 7}[name]


def _duration_method(d: GoDuration, name: str, args: list) -> Any:
    ns = d.ns
    if name in ("Round", "Truncate"):
        m = args[0]
        if type(m) is not GoDuration:
            raise _bad_argument(m, "time.Duration", name)
        if name == "Round":
            return GoDuration(duration_round(ns, m.ns))
        return GoDuration(ns if m.ns <= 0 else ns - _go_rem(ns, m.ns))
    if name == "Abs":
        return GoDuration(ns if ns >= 0 else (_MAX_DURATION if ns == _MIN_DURATION else -ns))
    if name == "String":
        return d.string()
    if name in ("Hours", "Minutes", "Seconds"):
        # Go splits into whole units and a remainder (both truncated) to keep float precision.
        unit = {"Hours": 3600 * _NS, "Minutes": 60 * _NS, "Seconds": _NS}[name]
        return float(_go_quo(ns, unit)) + _go_rem(ns, unit) / unit
    return {"Milliseconds": _go_quo(ns, 1_000_000), "Microseconds": _go_quo(ns, 1_000), "Nanoseconds": ns}[name]


def _go_quo(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return -q if (a < 0) != (b < 0) else q


def _bad_argument(value: Any, want: str, name: str) -> ExprRuntimeError:
    return ExprRuntimeError(f"cannot use {go_type(value)} as argument (type {want}) to call {name}")


def _arity(table: dict[str, tuple[tuple[str, ...], str]], name: str, args: list) -> None:
    params = table[name][0]
    if len(args) != len(params):
        word = "not enough" if len(args) < len(params) else "too many"
        raise ExprRuntimeError(f"{word} arguments to call {name}")


def call_method(obj: Any, name: str, args: list) -> Any:
    """Run a method on a value whose type is only known at run time."""
    t = type(obj)
    if t is GoTime and name in SIGNATURES[TIME]:
        _arity(SIGNATURES[TIME], name, args)
        return _time_method(obj, name, args)
    if t is GoDuration and name in SIGNATURES[DURATION]:
        _arity(SIGNATURES[DURATION], name, args)
        return _duration_method(obj, name, args)
    if t is GoLocation and name == "String" and not args:
        return obj.name
    if obj is None:
        raise ExprRuntimeError(f"cannot fetch {name} from <nil>")
    raise ExprRuntimeError(f"type {go_type(obj)} has no method {name}")
