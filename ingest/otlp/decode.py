"""Decoding of OTLP/HTTP request bodies (binary protobuf or OTLP/JSON) into Export*ServiceRequest.

OTLP/JSON is the proto3 JSON mapping with one deviation that protobuf's ``json_format`` does
not know: traceId/spanId/parentSpanId are hex strings, not base64. Before handing the document
to ``json_format.ParseDict`` we therefore walk the few places where ids live and rewrite them
to base64. Everything else (int64 as string or number, enums as integers or names, unknown
fields ignored, NaN/"Infinity" doubles, base64 ``bytesValue``) is what ParseDict already does.

Any failure becomes ``OtlpDecodeError`` with a message fit for a 400 response body.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

PROTOBUF = "protobuf"
JSON = "json"

REQUEST_TYPES: dict[str, type[Message]] = {
    "logs": ExportLogsServiceRequest,
    "traces": ExportTraceServiceRequest,
    "metrics": ExportMetricsServiceRequest,
}

_CONTENT_TYPES = {
    "application/x-protobuf": PROTOBUF,
    "application/protobuf": PROTOBUF,
    "application/json": JSON,
}

_HEX = re.compile(r"[0-9a-fA-F]*")
_TRACE_ID_BYTES = 16
_SPAN_ID_BYTES = 8


class OtlpDecodeError(ValueError):
    """The body cannot be decoded as the signal's Export*ServiceRequest (answer 400)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnsupportedContentType(OtlpDecodeError):
    """The Content-Type is neither OTLP protobuf nor OTLP/JSON (answer 415)."""


def encoding_for(content_type: str) -> str:
    """``"protobuf"`` or ``"json"`` for a Content-Type header value (parameters ignored)."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    try:
        return _CONTENT_TYPES[media_type]
    except KeyError:
        raise UnsupportedContentType(
            f"unsupported content type {media_type!r}: use application/x-protobuf or application/json"
        ) from None


def decode_request(signal: str, body: bytes, content_type: str) -> Message:
    """Decode an already decompressed OTLP/HTTP body for ``signal`` ("logs", "traces", "metrics")."""
    try:
        request_type = REQUEST_TYPES[signal]
    except KeyError:
        raise ValueError(f"unknown OTLP signal {signal!r}") from None
    encoding = encoding_for(content_type)
    if encoding == PROTOBUF:
        return _decode_protobuf(request_type, body)
    return _decode_json(signal, request_type, body)


def _decode_protobuf(request_type: type[Message], body: bytes) -> Message:
    try:
        return request_type.FromString(body)
    except Exception as exc:  # DecodeError, but upb may raise others on hostile input
        raise OtlpDecodeError(f"invalid protobuf: {exc or type(exc).__name__}") from None


def _decode_json(signal: str, request_type: type[Message], body: bytes) -> Message:
    # An empty body is an empty request, as it is for protobuf (where b"" is a valid message).
    if not body.strip():
        return request_type()
    try:
        document = json.loads(body)
    except json.JSONDecodeError as exc:
        raise OtlpDecodeError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except UnicodeDecodeError:
        raise OtlpDecodeError("invalid JSON: body is not UTF-8 text") from None
    except RecursionError:
        raise OtlpDecodeError("invalid JSON: nested too deeply") from None
    if not isinstance(document, dict):
        raise OtlpDecodeError(f"invalid JSON: the body must be an object, not {_json_type(document)}")
    _ID_REWRITERS[signal](document)
    message = request_type()
    try:
        json_format.ParseDict(document, message, ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise OtlpDecodeError(f"invalid OTLP/JSON: {exc}") from None
    except RecursionError:
        raise OtlpDecodeError("invalid OTLP/JSON: values nested too deeply") from None
    except Exception as exc:  # json_format raises bare TypeError/ValueError on some shapes
        raise OtlpDecodeError(f"invalid OTLP/JSON: {exc or type(exc).__name__}") from None
    return message


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if value is None:
        return "null"
    return {str: "a string", list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


def _field(obj: dict[str, Any], camel: str, snake: str, path: str) -> list[dict[str, Any]]:
    """The list under ``camel`` (or its proto name ``snake``, which ParseDict also accepts)."""
    name = camel if camel in obj else snake
    items = obj.get(name)
    if items is None:
        return []
    if not isinstance(items, list):
        where = path.rstrip(".") or "top level"
        raise OtlpDecodeError(
            f"invalid JSON at {where}: field {camel} must be a list, not {_json_type(items)}"
        )
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise OtlpDecodeError(
                f"invalid JSON at {path}{camel}[{index}]: must be an object, not {_json_type(item)}"
            )
    return items


def _child(obj: dict[str, Any], camel: str, snake: str) -> dict[str, Any] | None:
    value = obj.get(camel, obj.get(snake))
    return value if isinstance(value, dict) else None


def _rewrite_id(obj: dict[str, Any], camel: str, snake: str, size: int, path: str) -> None:
    for name in (camel, snake):
        value = obj.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise OtlpDecodeError(
                f"invalid JSON at {path}{camel}: must be a hex string, not {_json_type(value)}"
            )
        obj[name] = _id_to_base64(value, size, f"{path}{camel}")


def _id_to_base64(value: str, size: int, path: str) -> str:
    if value == "":
        return ""
    if len(value) == size * 2 and _HEX.fullmatch(value):
        return base64.b64encode(bytes.fromhex(value)).decode("ascii")
    # Some exporters use protobuf's own JSON mapping (base64 ids). Its length differs from
    # the hex form (24 vs 32, 12 vs 16 characters), so accepting it cannot misread a hex id.
    if len(value) == (size + 2) // 3 * 4:
        try:
            if len(base64.b64decode(value, validate=True)) == size:
                return value
        except (binascii.Error, ValueError):
            pass
    raise OtlpDecodeError(f"invalid JSON at {path}: expected {size * 2} hex digits, got {value[:80]!r}")


def _rewrite_log_ids(document: dict[str, Any]) -> None:
    for r, resource in enumerate(_field(document, "resourceLogs", "resource_logs", "")):
        base = f"resourceLogs[{r}]."
        for s, scope in enumerate(_field(resource, "scopeLogs", "scope_logs", base)):
            scope_path = f"{base}scopeLogs[{s}]."
            for i, record in enumerate(_field(scope, "logRecords", "log_records", scope_path)):
                path = f"{scope_path}logRecords[{i}]."
                _rewrite_id(record, "traceId", "trace_id", _TRACE_ID_BYTES, path)
                _rewrite_id(record, "spanId", "span_id", _SPAN_ID_BYTES, path)


def _rewrite_span_ids(document: dict[str, Any]) -> None:
    for r, resource in enumerate(_field(document, "resourceSpans", "resource_spans", "")):
        base = f"resourceSpans[{r}]."
        for s, scope in enumerate(_field(resource, "scopeSpans", "scope_spans", base)):
            scope_path = f"{base}scopeSpans[{s}]."
            for i, span in enumerate(_field(scope, "spans", "spans", scope_path)):
                path = f"{scope_path}spans[{i}]."
                _rewrite_id(span, "traceId", "trace_id", _TRACE_ID_BYTES, path)
                _rewrite_id(span, "spanId", "span_id", _SPAN_ID_BYTES, path)
                _rewrite_id(span, "parentSpanId", "parent_span_id", _SPAN_ID_BYTES, path)
                for k, link in enumerate(_field(span, "links", "links", path)):
                    link_path = f"{path}links[{k}]."
                    _rewrite_id(link, "traceId", "trace_id", _TRACE_ID_BYTES, link_path)
                    _rewrite_id(link, "spanId", "span_id", _SPAN_ID_BYTES, link_path)


_EXEMPLAR_KINDS = (
    ("gauge", "gauge"),
    ("sum", "sum"),
    ("histogram", "histogram"),
    ("exponentialHistogram", "exponential_histogram"),
)


def _rewrite_metric_ids(document: dict[str, Any]) -> None:
    for r, resource in enumerate(_field(document, "resourceMetrics", "resource_metrics", "")):
        base = f"resourceMetrics[{r}]."
        for s, scope in enumerate(_field(resource, "scopeMetrics", "scope_metrics", base)):
            scope_path = f"{base}scopeMetrics[{s}]."
            for m, metric in enumerate(_field(scope, "metrics", "metrics", scope_path)):
                for camel, snake in _EXEMPLAR_KINDS:
                    data = _child(metric, camel, snake)
                    if data is None:
                        continue
                    data_path = f"{scope_path}metrics[{m}].{camel}."
                    for p, point in enumerate(_field(data, "dataPoints", "data_points", data_path)):
                        point_path = f"{data_path}dataPoints[{p}]."
                        for e, exemplar in enumerate(_field(point, "exemplars", "exemplars", point_path)):
                            exemplar_path = f"{point_path}exemplars[{e}]."
                            _rewrite_id(exemplar, "traceId", "trace_id", _TRACE_ID_BYTES, exemplar_path)
                            _rewrite_id(exemplar, "spanId", "span_id", _SPAN_ID_BYTES, exemplar_path)


_ID_REWRITERS = {
    "logs": _rewrite_log_ids,
    "traces": _rewrite_span_ids,
    "metrics": _rewrite_metric_ids,
}
