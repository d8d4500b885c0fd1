"""time.Location look-alikes: UTC, Local, fixed offsets and IANA zones from the system tz database.

Go's time.LoadLocation and Python's zoneinfo read the same files (/usr/share/zoneinfo), so a zone's
offsets and abbreviations agree. `Local` is UTC, as for a Go process started with TZ=UTC: a shared
log pipeline must not depend on the host's zone.
"""
from __future__ import annotations

import re
from datetime import UTC as _UTC_TZ
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import ExprRuntimeError

# Zone names are paths below the tz database; nothing else (no "..", no absolute paths) is looked up.
_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*")
_MIN_SEC, _MAX_SEC = -62135596800, 253402300799  # datetime's range: years 1..9999


class GoLocation:
    """A *time.Location: a name and a rule giving (abbreviation, offset seconds) at an instant."""

    __slots__ = ("name", "fixed", "zone")
    go_name = "*time.Location"

    def __init__(self, name: str, fixed: tuple[str, int] | None = None, zone: ZoneInfo | None = None) -> None:
        self.name, self.fixed, self.zone = name, fixed, zone

    def lookup(self, sec: int) -> tuple[str, int]:
        if self.fixed is not None:
            return self.fixed
        sec = min(max(sec, _MIN_SEC + 86400), _MAX_SEC - 86400)
        local = datetime.fromtimestamp(sec, tz=_UTC_TZ).astimezone(self.zone)
        offset = local.utcoffset()
        return local.tzname() or "", int(offset.total_seconds()) if offset is not None else 0

    def is_dst(self, sec: int) -> bool:
        if self.zone is None:
            return False
        sec = min(max(sec, _MIN_SEC + 86400), _MAX_SEC - 86400)
        dst = datetime.fromtimestamp(sec, tz=_UTC_TZ).astimezone(self.zone).dst()
        return bool(dst)

    def wall_to_unix(self, wall: int) -> int:
        """Seconds since the epoch of wall-clock seconds `wall` (counted as if UTC) in this zone.

        Go's time.Date: take the offset in effect at `wall` read as UTC; if the instant that gives
        lies in a period with another offset (a DST gap or overlap), use that period's offset.
        So a wall time in a spring-forward gap moves forward by the jump, as in Go.
        """
        _, offset = self.lookup(wall)
        if offset != 0:
            _, other = self.lookup(wall - offset)
            if other != offset:
                offset = other
        return wall - offset

    def __eq__(self, other: object) -> bool:
        return type(other) is GoLocation and other.name == self.name and other.fixed == self.fixed

    def __hash__(self) -> int:
        return hash(("loc", self.name))

    def __repr__(self) -> str:
        return f"GoLocation({self.name!r})"


UTC = GoLocation("UTC", ("UTC", 0))
# Go names Local after $TZ; with TZ=UTC (or unset in a container) it prints as "UTC".
LOCAL = GoLocation("UTC", ("UTC", 0))
_CACHE: dict[str, GoLocation] = {}


def fixed_zone(name: str, offset: int) -> GoLocation:
    return GoLocation(name, (name, offset))


def load_location(name: str) -> GoLocation:
    """time.LoadLocation: "" and "UTC" are UTC, "Local" is Local, anything else an IANA zone."""
    if name in ("", "UTC"):
        return UTC
    if name == "Local":
        return LOCAL
    loc = _CACHE.get(name)
    if loc is not None:
        return loc
    if len(name) > 64 or ".." in name or not _ZONE_NAME.fullmatch(name):
        raise ExprRuntimeError(f"unknown time zone {name}")
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ExprRuntimeError(f"unknown time zone {name}") from None
    loc = GoLocation(name, zone=zone)
    # Only names the tz database knows get here, so the cache stays bounded by its ~600 zones.
    _CACHE[name] = loc
    return loc
