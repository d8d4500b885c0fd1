"""Response bodies of the OTLP/HTTP receiver: Export*ServiceResponse and google.rpc.Status.

opentelemetry-proto does not ship ``google.rpc.Status`` (it lives in googleapis-common-protos),
and the message is two fields, so it is written here by hand in both encodings:
protobuf field 1 ``int32 code`` and field 2 ``string message``; JSON ``{"code", "message"}``.
The JSON Status always carries both keys (the SDK and humans read ``message``), whereas the
protobuf form omits default values as protobuf does.
"""

from __future__ import annotations

import json

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from .decode import JSON, PROTOBUF, encoding_for

_RESPONSES = {
    "logs": (ExportLogsServiceResponse, "rejected_log_records", "rejectedLogRecords"),
    "traces": (ExportTraceServiceResponse, "rejected_spans", "rejectedSpans"),
    "metrics": (ExportMetricsServiceResponse, "rejected_data_points", "rejectedDataPoints"),
}

CONTENT_TYPES = {PROTOBUF: "application/x-protobuf", JSON: "application/json"}


def _normalise_encoding(encoding: str) -> str:
    if encoding in (PROTOBUF, JSON):
        return encoding
    # Accept a Content-Type too, so a handler can pass the request's header straight through.
    return encoding_for(encoding)


def encode_response(signal: str, encoding: str, rejected: int = 0, message: str = "") -> bytes:
    """The success body for ``signal`` in ``encoding`` ("protobuf"/"json" or a Content-Type).

    ``partial_success`` is set only when something was rejected or there is a warning message;
    otherwise the body is empty (protobuf) or ``{}`` (JSON), as OTLP requires.
    """
    try:
        response_type, proto_field, json_field = _RESPONSES[signal]
    except KeyError:
        raise ValueError(f"unknown OTLP signal {signal!r}") from None
    if rejected < 0:
        raise ValueError("rejected must not be negative")
    if _normalise_encoding(encoding) == JSON:
        if not rejected and not message:
            return b"{}"
        partial: dict[str, object] = {}
        if rejected:
            # proto3 JSON writes int64 as a decimal string; OTLP clients accept both forms.
            partial[json_field] = str(rejected)
        if message:
            partial["errorMessage"] = message
        return json.dumps({"partialSuccess": partial}, separators=(",", ":")).encode()
    response = response_type()
    if rejected or message:
        setattr(response.partial_success, proto_field, rejected)
        response.partial_success.error_message = message
    return response.SerializeToString()


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def encode_status(code: int, message: str, encoding: str) -> bytes:
    """A ``google.rpc.Status`` body (for 4xx/5xx answers) in ``encoding``."""
    if not -(2**31) <= code < 2**31:
        raise ValueError("code must fit in int32")
    if _normalise_encoding(encoding) == JSON:
        return json.dumps({"code": code, "message": message}, separators=(",", ":")).encode()
    body = bytearray()
    if code:
        # Negative int32 values are sign-extended to 64 bits on the wire (10-byte varint).
        body += b"\x08" + _varint(code & 0xFFFFFFFFFFFFFFFF)
    if message:
        text = message.encode("utf-8")
        body += b"\x12" + _varint(len(text)) + text
    return bytes(body)
