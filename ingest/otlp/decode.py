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
from typing import Any, NamedTuple

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
    _rewrite_ids(document, _ID_PLACES[signal], "")
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


class _Place(NamedTuple):
    """Where ids live in an OTLP/JSON document: the objects of the list ``field`` (or, when
    ``is_list`` is False, the one object under it), the ids each holds, and the places inside it."""

    field: str  # camelCase; the proto name (snake_case) is accepted too
    snake: str
    ids: tuple[tuple[str, str, int], ...] = ()  # (camel, snake, bytes)
    inner: tuple[_Place, ...] = ()
    is_list: bool = True


def _snake(camel: str) -> str:
    return re.sub(r"[A-Z]", lambda m: "_" + m.group().lower(), camel)


def _place(field: str, ids: tuple[str, ...] = (), inner: tuple[_Place, ...] = (), is_list: bool = True) -> _Place:
    sizes = {"traceId": _TRACE_ID_BYTES, "spanId": _SPAN_ID_BYTES, "parentSpanId": _SPAN_ID_BYTES}
    return _Place(field, _snake(field), tuple((name, _snake(name), sizes[name]) for name in ids), inner, is_list)


def _signal_places(signal: str, *inner: _Place) -> tuple[_Place, ...]:
    """resourceLogs[] > scopeLogs[] > ... for "Logs", "Spans" or "Metrics"."""
    return (_place(f"resource{signal}", inner=(_place(f"scope{signal}", inner=inner),)),)


_TRACE_AND_SPAN = ("traceId", "spanId")
_EXEMPLARS = (_place("dataPoints", inner=(_place("exemplars", _TRACE_AND_SPAN),)),)

_ID_PLACES = {
    "logs": _signal_places("Logs", _place("logRecords", _TRACE_AND_SPAN)),
    "traces": _signal_places("Spans", _place("spans", ("traceId", "spanId", "parentSpanId"),
                                             (_place("links", _TRACE_AND_SPAN),))),
    "metrics": _signal_places("Metrics", _place("metrics", inner=tuple(
        _place(kind, inner=_EXEMPLARS, is_list=False)
        for kind in ("gauge", "sum", "histogram", "exponentialHistogram")))),
}


def _rewrite_ids(obj: dict[str, Any], places: tuple[_Place, ...], path: str) -> None:
    """Rewrite the hex ids at ``places`` below ``obj`` (at ``path``, "" or ending in ".") to base64."""
    for place in places:
        if not place.is_list:
            child = _child(obj, place.field, place.snake)
            if child is not None:
                _rewrite_ids(child, place.inner, f"{path}{place.field}.")
            continue
        for index, item in enumerate(_field(obj, place.field, place.snake, path)):
            item_path = f"{path}{place.field}[{index}]."
            for camel, snake, size in place.ids:
                _rewrite_id(item, camel, snake, size, item_path)
            if place.inner:
                _rewrite_ids(item, place.inner, item_path)
