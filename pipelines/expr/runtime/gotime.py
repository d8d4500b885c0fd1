"""time.Time and time.Duration look-alikes with Go's layouts, methods and string forms."""
from __future__ import annotations

import re
import time as _time
from typing import NamedTuple

from ..errors import ExprRuntimeError
from .zones import UTC, GoLocation, fixed_zone

_NS = 1_000_000_000
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class Civil(NamedTuple):
    """Calendar fields of a wall-clock time (Python's datetime cannot represent year 0, Go can)."""
    year: int
    month: int
    day: int
    hour: int
    minute: int
    second: int
    weekday: int  # Monday == 0, as datetime.weekday()
    yday: int


def days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's algorithm)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_seconds(sec: int) -> Civil:
    days, rem = divmod(sec, 86400)
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    y = yoe + era * 400 + (m <= 2)
    yday = days - days_from_civil(y, 1, 1) + 1
    return Civil(y, m, d, rem // 3600, rem % 3600 // 60, rem % 60, (days + 3) % 7, yday)


class GoDuration:
    __slots__ = ("ns",)
    go_name = "time.Duration"

    def __init__(self, ns: int) -> None:
        self.ns = ns

    def __eq__(self, other: object) -> bool:
        return type(other) is GoDuration and other.ns == self.ns

    def __hash__(self) -> int:
        return hash(("dur", self.ns))

    def __lt__(self, other: GoDuration) -> bool:
        return self.ns < other.ns

    def __le__(self, other: GoDuration) -> bool:
        return self.ns <= other.ns

    def __gt__(self, other: GoDuration) -> bool:
        return self.ns > other.ns

    def __ge__(self, other: GoDuration) -> bool:
        return self.ns >= other.ns

    def __repr__(self) -> str:
        return f"GoDuration({self.string()!r})"

    def string(self) -> str:
        ns = self.ns
        if ns == 0:
            return "0s"
        sign = "-" if ns < 0 else ""
        ns = abs(ns)
        if ns < _NS:
            for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
                if ns >= size:
                    return sign + _trim_float(ns / size) + unit
        h, rem = divmod(ns, 3600 * _NS)
        m, rem = divmod(rem, 60 * _NS)
        sec = _trim_frac(rem)
        out = f"{h}h{m}m{sec}s" if h else (f"{m}m{sec}s" if m else f"{sec}s")
        return sign + out


def _trim_float(x: float) -> str:
    text = repr(round(x, 9))
    return text[:-2] if text.endswith(".0") else text


def _trim_frac(ns: int) -> str:
    whole, frac = divmod(ns, _NS)
    if not frac:
        return str(whole)
    return f"{whole}." + f"{frac:09d}".rstrip("0")


class GoTime:
    """A time.Time: an instant (ns since the epoch) shown in a location.

    `offset` is the location's offset at this instant, kept alongside so that formatting needs no
    zone look-up; `loc` None means UTC when the offset is 0 and a nameless fixed zone otherwise
    (what time.Parse gives for "+02:00").
    """

    __slots__ = ("epoch_ns", "offset", "loc")
    go_name = "time.Time"

    def __init__(self, epoch_ns: int, offset: int = 0, loc: GoLocation | None = None) -> None:
        self.epoch_ns, self.offset, self.loc = epoch_ns, offset, loc

    @classmethod
    def in_location(cls, epoch_ns: int, loc: GoLocation) -> GoTime:
        return cls(epoch_ns, loc.lookup(epoch_ns // _NS)[1], loc)

    @property
    def location(self) -> GoLocation:
        if self.loc is not None:
            return self.loc
        return UTC if self.offset == 0 else fixed_zone("", self.offset)

    @property
    def abbreviation(self) -> str:
        if self.loc is None:
            return "UTC" if self.offset == 0 else ""
        return self.loc.lookup(self.epoch_ns // _NS)[0]

    def __eq__(self, other: object) -> bool:
        return type(other) is GoTime and other.epoch_ns == self.epoch_ns

    def __hash__(self) -> int:
        return hash(("time", self.epoch_ns))

    def __lt__(self, other: GoTime) -> bool:
        return self.epoch_ns < other.epoch_ns

    def __le__(self, other: GoTime) -> bool:
        return self.epoch_ns <= other.epoch_ns

    def __gt__(self, other: GoTime) -> bool:
        return self.epoch_ns > other.epoch_ns

    def __ge__(self, other: GoTime) -> bool:
        return self.epoch_ns >= other.epoch_ns

    def __repr__(self) -> str:
        return f"GoTime({self.rfc3339nano()!r})"

    def with_instant(self, epoch_ns: int) -> GoTime:
        """The same location at another instant (its offset may differ across a DST change)."""
        if self.loc is None:
            return GoTime(epoch_ns, self.offset)
        return GoTime.in_location(epoch_ns, self.loc)

    def add(self, d: GoDuration) -> GoTime:
        return self.with_instant(self.epoch_ns + d.ns)

    def sub(self, other: GoTime) -> GoDuration:
        return GoDuration(self.epoch_ns - other.epoch_ns)

    def local(self) -> Civil:
        return civil_from_seconds(self.epoch_ns // _NS + self.offset)

    @property
    def nanos(self) -> int:
        return self.epoch_ns % _NS

    def rfc3339nano(self) -> str:
        dt = self.local()
        frac = f"{self.nanos:09d}".rstrip("0")
        text = (f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}"
                + (f".{frac}" if frac else ""))
        return text + _zone(self.offset, colon=True, z=True)

    def format(self, layout: str) -> str:
        return format_time(self, layout)


def _zone(offset: int, colon: bool, z: bool, seconds: bool = False) -> str:
    if z and offset == 0:
        return "Z"
    sign = "-" if offset < 0 else "+"
    h, m = divmod(abs(offset) // 60, 60)
    return f"{sign}{h:02d}:{m:02d}" if colon else f"{sign}{h:02d}{m:02d}"


_TOKENS = ["January", "Jan", "Monday", "Mon", "MST", "2006", "06", "01", "_2", "02", "1", "2", "15", "03",
           "3", "04", "4", "05", "5", "PM", "pm", "Z07:00", "Z0700", "Z07", "-07:00", "-0700", "-07",
           "002", ".000000000", ".999999999", ".000000", ".999999", ".000", ".999", ".00", ".99", ".0", ".9"]
_TOKENS.sort(key=len, reverse=True)


def _layout_tokens(layout: str) -> list[tuple[bool, str]]:
    out: list[tuple[bool, str]] = []
    i = 0
    while i < len(layout):
        for tok in _TOKENS:
            if layout.startswith(tok, i):
                if tok.startswith((".0", ".9")) and i + len(tok) < len(layout) and layout[i + len(tok)].isdigit():
                    continue
                out.append((True, tok))
                i += len(tok)
                break
        else:
            out.append((False, layout[i]))
            i += 1
    return out


def format_time(t: GoTime, layout: str) -> str:
    dt = t.local()
    parts: list[str] = []
    for is_tok, tok in _layout_tokens(layout):
        if not is_tok:
            parts.append(tok)
            continue
        parts.append({
            "January": _MONTHS[dt.month - 1], "Jan": _MONTHS[dt.month - 1][:3],
            "Monday": _DAYS[dt.weekday], "Mon": _DAYS[dt.weekday][:3],
            "MST": t.abbreviation or _zone(t.offset, False, False),
            "2006": f"{dt.year:04d}", "06": f"{dt.year % 100:02d}", "01": f"{dt.month:02d}", "1": str(dt.month),
            "_2": f"{dt.day:2d}", "02": f"{dt.day:02d}", "2": str(dt.day), "15": f"{dt.hour:02d}",
            "03": f"{(dt.hour % 12) or 12:02d}", "3": str((dt.hour % 12) or 12), "04": f"{dt.minute:02d}",
            "4": str(dt.minute), "05": f"{dt.second:02d}", "5": str(dt.second),
            "PM": "PM" if dt.hour >= 12 else "AM", "pm": "pm" if dt.hour >= 12 else "am",
            "Z07:00": _zone(t.offset, True, True), "Z0700": _zone(t.offset, False, True),
            "Z07": _zone(t.offset, False, True)[:3], "-07:00": _zone(t.offset, True, False),
            "-0700": _zone(t.offset, False, False), "-07": _zone(t.offset, False, False)[:3],
            "002": f"{dt.yday:03d}",
        }.get(tok) or _frac(t.nanos, tok))
    return "".join(parts)


def _frac(nanos: int, tok: str) -> str:
    digits = f"{nanos:09d}"[:len(tok) - 1]
    if tok[1] == "9":
        digits = digits.rstrip("0")
        return "." + digits if digits else ""
    return "." + digits


_PARSE_RE = {
    "January": "(?P<month_name>" + "|".join(_MONTHS) + ")", "Jan": "(?P<mon>" + "|".join(m[:3] for m in _MONTHS) + ")",
    "Monday": "(?:" + "|".join(_DAYS) + ")", "Mon": "(?:" + "|".join(d[:3] for d in _DAYS) + ")",
    "MST": "(?P<tzname>[A-Z]{3,4}|[+-]\\d{4})", "2006": r"(?P<year>\d{4})", "06": r"(?P<year2>\d{2})",
    "01": r"(?P<month>\d{2})", "1": r"(?P<month>\d{1,2})", "_2": r" ?(?P<day>\d{1,2})", "02": r"(?P<day>\d{2})",
    "2": r"(?P<day>\d{1,2})", "15": r"(?P<hour>\d{2})", "03": r"(?P<hour12>\d{2})", "3": r"(?P<hour12>\d{1,2})",
    "04": r"(?P<minute>\d{2})", "4": r"(?P<minute>\d{1,2})", "05": r"(?P<second>\d{2})(?P<sfrac>\.\d+)?",
    "5": r"(?P<second>\d{1,2})(?P<sfrac>\.\d+)?", "PM": "(?P<ampm>AM|PM)", "pm": "(?P<ampm>am|pm)",
    "Z07:00": r"(?P<tz>Z|[+-]\d{2}:\d{2})", "Z0700": r"(?P<tz>Z|[+-]\d{4})", "Z07": r"(?P<tz>Z|[+-]\d{2})",
    "-07:00": r"(?P<tz>[+-]\d{2}:\d{2})", "-0700": r"(?P<tz>[+-]\d{4})", "-07": r"(?P<tz>[+-]\d{2})",
    "002": r"(?P<yday>\d{3})",
}


def parse_time(layout: str, value: str, loc: GoLocation | None = None) -> GoTime:
    """time.ParseInLocation (time.Parse when loc is None, which means UTC)."""
    offset: int | None = None
    pattern = []
    for is_tok, tok in _layout_tokens(layout):
        if not is_tok:
            pattern.append(re.escape(tok))
        elif tok in _PARSE_RE:
            pattern.append(_PARSE_RE[tok])
        else:
            pattern.append(r"(?P<frac>\.\d+)" if tok[1] == "0" else r"(?P<frac>\.\d+)?")
    try:
        m = re.fullmatch("".join(pattern), value)
    except re.error:
        m = None
    if m is None:
        raise ExprRuntimeError(f'parsing time "{value}" as "{layout}": cannot parse')
    g = {k: v for k, v in m.groupdict().items() if v is not None}
    year = int(g.get("year", 0)) if "year" in g else (2000 + int(g["year2"]) if "year2" in g else 0)
    if "month_name" in g:
        month = _MONTHS.index(g["month_name"]) + 1
    elif "mon" in g:
        month = [m[:3] for m in _MONTHS].index(g["mon"]) + 1
    else:
        month = int(g.get("month", 1))
    day = int(g.get("day", 1))
    hour = int(g.get("hour", 0))
    if "hour12" in g:
        hour = int(g["hour12"]) % 12 + (12 if g.get("ampm", "").lower() == "pm" else 0)
    minute, second = int(g.get("minute", 0)), int(g.get("second", 0))
    frac = g.get("frac") or g.get("sfrac") or ""
    nanos = int((frac[1:] + "000000000")[:9]) if frac else 0
    tz = g.get("tz")
    if tz and tz != "Z":
        digits = tz[1:].replace(":", "")
        offset = (int(digits[:2]) * 3600 + int(digits[2:4] or 0) * 60) * (-1 if tz[0] == "-" else 1)
    elif tz == "Z":
        offset = 0
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    month_days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    if not (1 <= month <= 12 and 1 <= day <= month_days[month - 1] and hour < 24 and minute < 60 and second < 60):
        raise ExprRuntimeError(f'parsing time "{value}": value out of range')
    wall = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    if tz == "Z":
        return GoTime(wall * _NS + nanos)
    if tz is None and g.get("tzname"):
        return _in_named_zone(g["tzname"], wall, nanos, loc or UTC)
    if offset is None:
        # No offset in the text: the wall clock is read in loc, with Go's rule for DST gaps.
        if loc is None or loc is UTC:
            return GoTime(wall * _NS + nanos, 0, loc)
        return GoTime.in_location(loc.wall_to_unix(wall) * _NS + nanos, loc)
    epoch = (wall - offset) * _NS + nanos
    # An offset that loc has at that instant keeps loc (and its zone name); any other becomes a
    # nameless fixed zone, as in Go.
    if loc is not None and loc.lookup(wall - offset)[1] == offset:
        return GoTime(epoch, offset, loc)
    return GoTime(epoch, offset)


def _in_named_zone(name: str, wall: int, nanos: int, loc: GoLocation) -> GoTime:
    """A zone abbreviation (layout `MST`): its offset if loc uses that name, else Go's fabricated
    zone with that name and offset 0 (GMT+h gets h hours), so "PST" under time.Parse is +00:00."""
    if name == "UTC":
        return GoTime(wall * _NS + nanos)
    for probe in (wall, wall - 182 * 86400, wall + 182 * 86400):
        abbr, offset = loc.lookup(probe)
        if abbr == name:
            return GoTime.in_location((wall - offset) * _NS + nanos, loc)
    offset = 0
    if name.startswith("GMT") and len(name) > 3 and name[3:].lstrip("+-").isdigit():
        offset = int(name[3:]) * 3600
    return GoTime((wall - offset) * _NS + nanos, offset, fixed_zone(name, offset))


_DEFAULT_LAYOUTS = ["2006-01-02", "15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04:05Z07:00",
                    "02 Jan 06 15:04 MST", "Monday, 02-Jan-06 15:04:05 MST", "Mon, 02 Jan 2006 15:04:05 MST"]


def parse_date(value: str, layout: str | None = None, loc: GoLocation | None = None) -> GoTime:
    if layout is not None:
        return parse_time(layout, value, loc)
    for candidate in _DEFAULT_LAYOUTS:
        try:
            return parse_time(candidate, value, loc)
        except ExprRuntimeError:
            continue
    raise ExprRuntimeError(f"invalid date {value}")


def now() -> GoTime:
    return GoTime(_time.time_ns(), 0)
