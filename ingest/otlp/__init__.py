"""Pure OTLP/HTTP handling for the receiver: decode a request body, flatten it into the flat
records of docs/records.md, and encode the response bodies. No I/O, no Django, no NATS.

Typical use in a request handler (body already decompressed and size-checked)::

    request = decode_request("logs", body, content_type)      # OtlpDecodeError -> 400/415
    records = flatten_logs(request, time.time_ns())
    ... publish records ...
    return encode_response("logs", encoding_for(content_type))

Decisions where the specification is silent (see also the module docstrings):

- Timestamps are RFC 3339 UTC with ``Z``. Fractional seconds appear only when non-zero and use
  the fewest digits that represent the value exactly, up to 9 (trailing zeros trimmed, as Go's
  ``time.RFC3339Nano``): 1.5 s -> ``...:01.5Z``, 1 ns -> ``...:00.000000001Z``.
- The main ``timestamp`` of logs and metric points falls back to the receive time; every other
  timestamp (observedTimestamp is omitted instead, span start/end, event and startTimestamp of a
  metric point) is null when the OTLP field is 0. ``durationMs`` is ``(end - start) / 1e6`` when
  both are set, else 0.0.
- Enums in records are names: span ``kind`` and ``status.code`` as the spec lists them, and
  metric ``aggregationTemporality`` likewise ("DELTA", "CUMULATIVE", "UNSPECIFIED"); an enum
  number the proto does not know maps to UNSPECIFIED/UNSET. Log ``severityNumber`` stays an int.
- Log records carry no ``signal`` key (4.1 lists its keys exactly); span/metric records do.
- Span records carry exactly the keys of 4.2 (no traceState, flags or dropped counts).
  Histogram and exponential-histogram points also carry ``aggregationTemporality``;
  exponential-histogram points carry ``zeroThreshold``. Exemplars are dropped.
- ``scope`` is ``{"name": ...}`` plus ``"version"`` when non-empty; scope attributes are not
  carried (4.1 does not list them).
- OTLP/JSON: ids are hex (empty string = unset). A base64 id of the right length, as sent by
  exporters that use protobuf's generic JSON mapping, is accepted too; any other id is a 400.
  Enum names are accepted as well as numbers, and proto field names (snake_case) as well as
  lowerCamelCase, because protobuf's parser does; being lenient costs nothing here.
- An empty body is an empty request for both encodings (it is a valid protobuf message);
  ``application/protobuf`` is accepted as a synonym of ``application/x-protobuf``.
- ``AnyValue.string_value_strindex`` (profiles only) maps to null.
"""

from __future__ import annotations

from .datapoints import flatten_metrics
from .decode import JSON, PROTOBUF, OtlpDecodeError, UnsupportedContentType, decode_request, encoding_for
from .flatten import flatten_logs, flatten_spans
from .primitives import any_value, attributes, format_timestamp, hex_id
from .responses import CONTENT_TYPES, encode_response, encode_status

__all__ = [
    "CONTENT_TYPES",
    "JSON",
    "PROTOBUF",
    "OtlpDecodeError",
    "UnsupportedContentType",
    "any_value",
    "attributes",
    "decode_request",
    "encode_response",
    "encode_status",
    "encoding_for",
    "flatten_logs",
    "flatten_metrics",
    "flatten_spans",
    "format_timestamp",
    "hex_id",
]
