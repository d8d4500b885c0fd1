"""Flattening of decoded OTLP logs and traces into the flat records of docs/records.md.

One record per LogRecord / Span, with the resource attributes and the scope copied into each
record (a shallow copy per record, so a later stage that edits one record's dict cannot change
its neighbours; nested lists/dicts inside attribute values are shared and must be treated as
read-only). The loops read protobuf fields directly: no ``MessageToDict`` on the hot path.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .primitives import any_value, attributes, format_timestamp, hex_id, optional_timestamp, scope_dict

SPAN_KINDS = ("UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER")
STATUS_CODES = ("UNSET", "OK", "ERROR")


def scoped(
    resources: Any, scopes_field: str, items_field: str
) -> Iterator[tuple[dict[str, Any], dict[str, Any], Any]]:
    """(resource attributes, scope, items) per scope of a request's resource list, in order.

    Yields once per scope, not per record, so the per-record loops stay plain ``for`` loops.
    """
    for resource in resources:
        resource_attributes = attributes(resource.resource.attributes)
        for scoped_items in getattr(resource, scopes_field):
            yield resource_attributes, scope_dict(scoped_items.scope), getattr(scoped_items, items_field)


def flatten_logs(request: Any, received_at_ns: int) -> list[dict[str, Any]]:
    """Flat log records (docs/records.md) of an ``ExportLogsServiceRequest``, in request order.

    ``timestamp`` comes from time_unix_nano, else observed_time_unix_nano, else
    ``received_at_ns``; ``observedTimestamp`` and ``eventName`` are present only when set.
    """
    records: list[dict[str, Any]] = []
    append = records.append
    for resource_attributes, scope, logs in scoped(request.resource_logs, "scope_logs", "log_records"):
        for log in logs:
            observed = log.observed_time_unix_nano
            when = log.time_unix_nano or observed or received_at_ns
            body = log.body
            # An unset body reads as an empty AnyValue, which any_value maps to None.
            if body.WhichOneof("value") == "string_value":
                body_value: Any = body.string_value
            else:
                body_value = any_value(body)
            record = {
                "resourceAttributes": dict(resource_attributes),
                "scope": dict(scope),
                "severityNumber": log.severity_number,
                "severityText": log.severity_text,
                "body": body_value,
                "attributes": attributes(log.attributes),
                "traceId": hex_id(log.trace_id),
                "spanId": hex_id(log.span_id),
                "timestamp": format_timestamp(when),
                # An addition to the original log format: every record names its signal, as
                # spans and metrics do, so one filter can tell the three apart.
                "signal": "log",
            }
            if observed:
                record["observedTimestamp"] = format_timestamp(observed)
            if log.event_name:
                record["eventName"] = log.event_name
            append(record)
    return records


def flatten_spans(request: Any, received_at_ns: int) -> list[dict[str, Any]]:
    """Flat span records (docs/records.md) of an ``ExportTraceServiceRequest``, in request order.

    ``received_at_ns`` is accepted for symmetry with the other signals; a span carries its own
    start/end times, and unset (0) times become null rather than the receive time so that
    ``durationMs`` is never computed from a made-up instant.
    """
    records: list[dict[str, Any]] = []
    append = records.append
    for resource_attributes, scope, spans in scoped(request.resource_spans, "scope_spans", "spans"):
        for span in spans:
            start = span.start_time_unix_nano
            end = span.end_time_unix_nano
            kind = span.kind
            status_code = span.status.code
            append(
                {
                    "signal": "span",
                    "resourceAttributes": dict(resource_attributes),
                    "scope": dict(scope),
                    "traceId": hex_id(span.trace_id),
                    "spanId": hex_id(span.span_id),
                    "parentSpanId": hex_id(span.parent_span_id),
                    "name": span.name,
                    "kind": SPAN_KINDS[kind] if 0 <= kind < len(SPAN_KINDS) else "UNSPECIFIED",
                    "startTimestamp": optional_timestamp(start),
                    "endTimestamp": optional_timestamp(end),
                    "durationMs": (end - start) / 1e6 if start and end else 0.0,
                    "status": {
                        "code": STATUS_CODES[status_code] if 0 <= status_code < 3 else "UNSET",
                        "message": span.status.message,
                    },
                    "attributes": attributes(span.attributes),
                    "events": [
                        {
                            "name": event.name,
                            "timestamp": optional_timestamp(event.time_unix_nano),
                            "attributes": attributes(event.attributes),
                        }
                        for event in span.events
                    ],
                    "links": [
                        {
                            "traceId": hex_id(link.trace_id),
                            "spanId": hex_id(link.span_id),
                            "attributes": attributes(link.attributes),
                        }
                        for link in span.links
                    ],
                }
            )
    return records
