"""Mapping of OTLP building blocks (AnyValue, attribute lists, ids, timestamps) to plain JSON values.

These helpers sit on the receiver's hot path: they read protobuf objects directly and avoid
``json_format`` so that one process can flatten well over 15,000 records per second.
"""

from __future__ import annotations

import base64
import math
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NS_PER_S = 1_000_000_000


def any_value(value: Any) -> Any:
    """Map an OTLP ``AnyValue`` to a JSON-compatible Python value (recursively).

    string→str, bool→bool, int→int, double→float (NaN/±Inf→None), bytes→base64 str,
    array→list, kvlist→dict (last duplicate key wins), empty→None. ``string_value_strindex``
    only has meaning inside a profiles dictionary, which a log/span/metric never has: → None.
    """
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "int_value":
        return value.int_value
    if kind == "double_value":
        number = value.double_value
        return number if math.isfinite(number) else None
    if kind == "bool_value":
        return value.bool_value
    if kind == "kvlist_value":
        return attributes(value.kvlist_value.values)
    if kind == "array_value":
        return [any_value(item) for item in value.array_value.values]
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    return None


def attributes(key_values: Any) -> dict[str, Any]:
    """Turn a repeated ``KeyValue`` into a dict; a later duplicate key overwrites an earlier one."""
    result: dict[str, Any] = {}
    for kv in key_values:
        # Inlined string case: most attribute values are strings and this halves the calls.
        value = kv.value
        if value.WhichOneof("value") == "string_value":
            result[kv.key] = value.string_value
        else:
            result[kv.key] = any_value(value)
    return result


def hex_id(raw: bytes) -> str:
    """Lowercase hex of a trace/span id; "" when unset or all zero (the OTLP "invalid id")."""
    if not raw or not any(raw):
        return ""
    return raw.hex()


def scope_dict(scope: Any) -> dict[str, str]:
    """``{"name": ...}`` plus ``"version"`` when the scope has a non-empty version."""
    if scope.version:
        return {"name": scope.name, "version": scope.version}
    return {"name": scope.name}


@lru_cache(maxsize=4096)
def _second_prefix(seconds: int) -> str:
    # Records of one request usually share a handful of distinct seconds, so caching the
    # date part turns the per-record cost into one dict lookup plus an f-string.
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )


def format_timestamp(unix_nano: int) -> str:
    """RFC 3339 in UTC with ``Z``; fractional seconds only when non-zero, with the fewest
    digits that represent the value exactly (up to nanoseconds, trailing zeros trimmed, the
    same output as Go's ``time.RFC3339Nano``).
    """
    seconds, nanos = divmod(unix_nano, _NS_PER_S)
    prefix = _second_prefix(seconds)
    if not nanos:
        return prefix + "Z"
    return f"{prefix}.{nanos:09d}".rstrip("0") + "Z"


def optional_timestamp(unix_nano: int) -> str | None:
    """Timestamp string, or None when the OTLP field is unset (0)."""
    return format_timestamp(unix_nano) if unix_nano else None


def finite_or_none(number: float) -> float | None:
    """JSON has no NaN/Infinity: such doubles become null."""
    return number if math.isfinite(number) else None
