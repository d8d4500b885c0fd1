"""RFC 3339 timestamps, the one format of every time we store or exchange.

Documents in NATS (dead-letter entries, run events, worker counters, key use) carry UTC times
as ``2026-11-30T20:21:08.123Z``. Everything that writes one calls ``format_rfc3339`` or
``now_rfc3339``; everything that reads one calls ``parse_rfc3339``, which answers None for a
missing or malformed value instead of raising, since the writer may be another version or a
hand-edited document.
"""

from __future__ import annotations

from datetime import UTC, datetime


def format_rfc3339(moment: datetime | float | None, *, timespec: str = "milliseconds") -> str | None:
    """``moment`` (an aware datetime, or seconds since the epoch) in UTC with a ``Z``; None stays None."""
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, UTC)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def now_rfc3339(*, timespec: str = "milliseconds") -> str:
    return format_rfc3339(datetime.now(UTC), timespec=timespec)


def parse_rfc3339(value: object) -> datetime | None:
    """An aware datetime from an RFC 3339 string (or its UTF-8 bytes); None when it is not one.

    A time without an offset is taken as UTC; digits beyond microseconds are cut off.
    """
    if isinstance(value, bytes | bytearray):
        try:
            value = value.decode()
        except UnicodeDecodeError:
            return None
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("z", "Z").replace("Z", "+00:00")
    if "." in text:  # Python reads at most 6 fractional digits; Go writes up to 9
        head, _, rest = text.partition(".")
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[:min(digits, 6)]}{rest[digits:]}" if digits else text
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
