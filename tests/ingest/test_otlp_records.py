"""Table-driven tests of the log and span records of docs/records.md."""

from __future__ import annotations

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from ingest.otlp import flatten_logs, flatten_spans
from tests.support.otlp import RECEIVED, T0, kv


def logs_request(
    *records, resource=(), scope_name="lib", scope_version=""
) -> ExportLogsServiceRequest:
    request = ExportLogsServiceRequest()
    resource_logs = request.resource_logs.add()
    resource_logs.resource.attributes.extend(resource)
    scope_logs = resource_logs.scope_logs.add()
    scope_logs.scope.name = scope_name
    scope_logs.scope.version = scope_version
    for fields in records:
        scope_logs.log_records.add(**fields)
    return request


def test_a_minimal_log_record_has_exactly_the_specified_keys_and_defaults():
    (record,) = flatten_logs(logs_request({}), RECEIVED)
    assert record == {
        "resourceAttributes": {},
        "scope": {"name": "lib"},
        "severityNumber": 0,
        "severityText": "",
        "body": None,
        "attributes": {},
        "traceId": "",
        "spanId": "",
        "timestamp": "2024-01-15T10:30:00.123Z",
        "signal": "log",
    }


def test_a_full_log_record_carries_every_field():
    request = logs_request(
        {
            "time_unix_nano": T0,
            "observed_time_unix_nano": T0 + 5,
            "severity_number": 17,
            "severity_text": "ERROR",
            "body": AnyValue(string_value="Connection refused"),
            "attributes": [kv("error.type", AnyValue(string_value="ConnectionError"))],
            "trace_id": bytes.fromhex("5b8efff798038103d269b633813fc60c"),
            "span_id": bytes.fromhex("eee19b7ec3c1b174"),
            "event_name": "db.failure",
        },
        resource=[kv("service.name", AnyValue(string_value="my-service"))],
        scope_version="1.2",
    )
    assert flatten_logs(request, RECEIVED) == [
        {
            "resourceAttributes": {"service.name": "my-service"},
            "scope": {"name": "lib", "version": "1.2"},
            "severityNumber": 17,
            "severityText": "ERROR",
            "body": "Connection refused",
            "attributes": {"error.type": "ConnectionError"},
            "traceId": "5b8efff798038103d269b633813fc60c",
            "spanId": "eee19b7ec3c1b174",
            "timestamp": "2024-01-15T10:30:00Z",
            "signal": "log",
            "observedTimestamp": "2024-01-15T10:30:00.000000005Z",
            "eventName": "db.failure",
        }
    ]


@pytest.mark.parametrize(
    "fields, timestamp",
    [
        pytest.param(
            {"time_unix_nano": T0, "observed_time_unix_nano": T0 + 10**9},
            "2024-01-15T10:30:00Z",
            id="time",
        ),
        pytest.param(
            {"observed_time_unix_nano": T0 + 10**9}, "2024-01-15T10:30:01Z", id="else observed time"
        ),
        pytest.param({}, "2024-01-15T10:30:00.123Z", id="else receive time"),
    ],
)
def test_log_timestamp_falls_back_from_time_to_observed_to_received(fields, timestamp):
    assert flatten_logs(logs_request(fields), RECEIVED)[0]["timestamp"] == timestamp


def test_each_record_gets_its_own_copy_of_resource_and_scope():
    request = logs_request({}, {}, resource=[kv("service.name", AnyValue(string_value="svc"))])
    first, second = flatten_logs(request, RECEIVED)
    first["resourceAttributes"]["service.name"] = "changed"
    first["scope"]["name"] = "changed"
    assert second["resourceAttributes"] == {"service.name": "svc"} and second["scope"] == {
        "name": "lib"
    }


def one_span(**fields) -> dict:
    request = ExportTraceServiceRequest()
    request.resource_spans.add().scope_spans.add().spans.add(**fields)
    (record,) = flatten_spans(request, RECEIVED)
    return record


@pytest.mark.parametrize(
    "kind, name",
    [
        (0, "UNSPECIFIED"),
        (1, "INTERNAL"),
        (2, "SERVER"),
        (3, "CLIENT"),
        (4, "PRODUCER"),
        (5, "CONSUMER"),
        (42, "UNSPECIFIED"),
    ],
)
def test_span_kinds_are_names(kind, name):
    assert one_span(kind=kind)["kind"] == name


@pytest.mark.parametrize("code, name", [(0, "UNSET"), (1, "OK"), (2, "ERROR"), (7, "UNSET")])
def test_span_status_codes_are_names(code, name):
    assert one_span(status={"code": code, "message": "m"})["status"] == {
        "code": name,
        "message": "m",
    }


def test_a_span_record_has_the_specified_shape():
    record = one_span(
        trace_id=bytes(range(1, 17)),
        span_id=bytes(range(1, 9)),
        parent_span_id=bytes(8),
        name="GET /",
        kind=2,
        start_time_unix_nano=T0,
        end_time_unix_nano=T0 + 1_500_000,
        attributes=[kv("http.method", AnyValue(string_value="GET"))],
        events=[
            {
                "name": "exception",
                "time_unix_nano": T0 + 1,
                "attributes": [kv("a", AnyValue(int_value=1))],
            }
        ],
        links=[{"trace_id": bytes(range(16)), "span_id": bytes(range(8)), "trace_state": "x=1"}],
    )
    assert record == {
        "signal": "span",
        "resourceAttributes": {},
        "scope": {"name": ""},
        "traceId": "0102030405060708090a0b0c0d0e0f10",
        "spanId": "0102030405060708",
        "parentSpanId": "",
        "name": "GET /",
        "kind": "SERVER",
        "startTimestamp": "2024-01-15T10:30:00Z",
        "endTimestamp": "2024-01-15T10:30:00.0015Z",
        "durationMs": 1.5,
        "status": {"code": "UNSET", "message": ""},
        "attributes": {"http.method": "GET"},
        "events": [
            {
                "name": "exception",
                "timestamp": "2024-01-15T10:30:00.000000001Z",
                "attributes": {"a": 1},
            }
        ],
        "links": [
            {
                "traceId": "000102030405060708090a0b0c0d0e0f",
                "spanId": "0001020304050607",
                "attributes": {},
            }
        ],
    }


def test_unset_span_times_are_null_and_give_zero_duration():
    record = one_span(start_time_unix_nano=T0, events=[{"name": "e"}])
    assert (record["startTimestamp"], record["endTimestamp"], record["durationMs"]) == (
        "2024-01-15T10:30:00Z",
        None,
        0.0,
    )
    assert record["events"][0]["timestamp"] is None
