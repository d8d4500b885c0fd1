"""Table-driven tests of the record mapping rules: AnyValue, ids, timestamps, and each record kind."""

from __future__ import annotations

import math

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList

from ingest.otlp import (
    any_value,
    attributes,
    flatten_logs,
    flatten_metrics,
    flatten_spans,
    format_timestamp,
    hex_id,
)

RECEIVED = 1_705_314_600_123_000_000
T0 = 1_705_314_600_000_000_000  # 2024-01-15T10:30:00Z


def kv(key: str, value: AnyValue) -> KeyValue:
    return KeyValue(key=key, value=value)


@pytest.mark.parametrize(
    "value, expected",
    [
        (AnyValue(string_value="text"), "text"),
        (AnyValue(string_value=""), ""),
        (AnyValue(bool_value=True), True),
        (AnyValue(bool_value=False), False),
        (AnyValue(int_value=-(2**63)), -(2**63)),
        (AnyValue(int_value=0), 0),
        (AnyValue(double_value=0.25), 0.25),
        (AnyValue(double_value=math.nan), None),
        (AnyValue(double_value=math.inf), None),
        (AnyValue(double_value=-math.inf), None),
        (AnyValue(bytes_value=b"\x00\x01\xff"), "AAH/"),
        (AnyValue(bytes_value=b""), ""),
        (AnyValue(), None),
        (
            AnyValue(
                array_value=ArrayValue(
                    values=[AnyValue(int_value=1), AnyValue(), AnyValue(double_value=math.nan)]
                )
            ),
            [1, None, None],
        ),
        (AnyValue(array_value=ArrayValue()), []),
        (
            AnyValue(
                kvlist_value=KeyValueList(
                    values=[kv("a", AnyValue(int_value=1)), kv("a", AnyValue(int_value=2))]
                )
            ),
            {"a": 2},
        ),
        (
            AnyValue(
                kvlist_value=KeyValueList(
                    values=[
                        kv(
                            "deep",
                            AnyValue(
                                array_value=ArrayValue(
                                    values=[
                                        AnyValue(
                                            kvlist_value=KeyValueList(
                                                values=[kv("b", AnyValue(bytes_value=b"hi"))]
                                            )
                                        )
                                    ]
                                )
                            ),
                        )
                    ]
                )
            ),
            {"deep": [{"b": "aGk="}]},
        ),
        (AnyValue(string_value_strindex=3), None),
    ],
    ids=[
        "string",
        "empty string",
        "true",
        "false",
        "int64 min",
        "zero",
        "double",
        "NaN",
        "+Inf",
        "-Inf",
        "bytes as base64",
        "empty bytes",
        "empty value",
        "array",
        "empty array",
        "kvlist last duplicate wins",
        "nested",
        "profiles string index",
    ],
)
def test_any_value_maps_to_json_values(value, expected):
    assert any_value(value) == expected


def test_attribute_lists_become_objects_and_the_last_duplicate_wins():
    items = [
        kv("k", AnyValue(string_value="first")),
        kv("x", AnyValue(bool_value=True)),
        kv("k", AnyValue(int_value=7)),
    ]
    assert attributes(items) == {"k": 7, "x": True}


@pytest.mark.parametrize(
    "raw, expected",
    [
        (bytes.fromhex("5b8efff798038103d269b633813fc60c"), "5b8efff798038103d269b633813fc60c"),
        (bytes.fromhex("00000000000000000000000000000001"), "00000000000000000000000000000001"),
        (bytes(16), ""),
        (bytes(8), ""),
        (b"", ""),
        (bytes.fromhex("EEE19B7EC3C1B174"), "eee19b7ec3c1b174"),
    ],
    ids=["trace id", "leading zeros kept", "all-zero trace id", "all-zero span id", "unset", "lowercase"],
)
def test_ids_are_lowercase_hex_and_all_zero_means_unset(raw, expected):
    assert hex_id(raw) == expected


@pytest.mark.parametrize(
    "unix_nano, expected",
    [
        (0, "1970-01-01T00:00:00Z"),
        (T0, "2024-01-15T10:30:00Z"),
        (T0 + 500_000_000, "2024-01-15T10:30:00.5Z"),
        (T0 + 120_000_000, "2024-01-15T10:30:00.12Z"),
        (T0 + 123_000_000, "2024-01-15T10:30:00.123Z"),
        (T0 + 123_456_000, "2024-01-15T10:30:00.123456Z"),
        (T0 + 1, "2024-01-15T10:30:00.000000001Z"),
        (T0 + 999_999_999, "2024-01-15T10:30:00.999999999Z"),
        (951_782_400 * 10**9, "2000-02-29T00:00:00Z"),
        (2**64 - 1, "2554-07-21T23:34:33.709551615Z"),
    ],
    ids=[
        "epoch",
        "whole second",
        "half",
        "trailing zero trimmed",
        "millis",
        "micros",
        "one ns",
        "max fraction",
        "leap day",
        "largest fixed64",
    ],
)
def test_timestamps_are_rfc3339_utc_with_minimal_fraction(unix_nano, expected):
    assert format_timestamp(unix_nano) == expected


def logs_request(*records, resource=(), scope_name="lib", scope_version="") -> ExportLogsServiceRequest:
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
        ({"time_unix_nano": T0, "observed_time_unix_nano": T0 + 10**9}, "2024-01-15T10:30:00Z"),
        ({"observed_time_unix_nano": T0 + 10**9}, "2024-01-15T10:30:01Z"),
        ({}, "2024-01-15T10:30:00.123Z"),
    ],
    ids=["time", "else observed time", "else receive time"],
)
def test_log_timestamp_falls_back_from_time_to_observed_to_received(fields, timestamp):
    assert flatten_logs(logs_request(fields), RECEIVED)[0]["timestamp"] == timestamp


def test_each_record_gets_its_own_copy_of_resource_and_scope():
    request = logs_request({}, {}, resource=[kv("service.name", AnyValue(string_value="svc"))])
    first, second = flatten_logs(request, RECEIVED)
    first["resourceAttributes"]["service.name"] = "changed"
    first["scope"]["name"] = "changed"
    assert second["resourceAttributes"] == {"service.name": "svc"} and second["scope"] == {"name": "lib"}


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
    assert one_span(status={"code": code, "message": "m"})["status"] == {"code": name, "message": "m"}


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
            {"name": "exception", "time_unix_nano": T0 + 1, "attributes": [kv("a", AnyValue(int_value=1))]}
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
            {"name": "exception", "timestamp": "2024-01-15T10:30:00.000000001Z", "attributes": {"a": 1}}
        ],
        "links": [
            {"traceId": "000102030405060708090a0b0c0d0e0f", "spanId": "0001020304050607", "attributes": {}}
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


def metric_records(**metric) -> list[dict]:
    request = ExportMetricsServiceRequest()
    request.resource_metrics.add().scope_metrics.add().metrics.add(name="m", unit="1", **metric)
    return flatten_metrics(request, RECEIVED)


COMMON = {
    "signal": "metric",
    "resourceAttributes": {},
    "scope": {"name": ""},
    "name": "m",
    "description": "",
    "unit": "1",
    "attributes": {},
    "timestamp": "2024-01-15T10:30:00Z",
    "startTimestamp": None,
}


@pytest.mark.parametrize(
    "metric, expected",
    [
        ({"gauge": {"data_points": [{"time_unix_nano": T0, "as_int": 3}]}}, {"type": "gauge", "value": 3}),
        (
            {"gauge": {"data_points": [{"time_unix_nano": T0, "as_double": math.nan}]}},
            {"type": "gauge", "value": None},
        ),
        ({"gauge": {"data_points": [{"time_unix_nano": T0}]}}, {"type": "gauge", "value": None}),
        (
            {
                "sum": {
                    "data_points": [{"time_unix_nano": T0, "as_double": 2.5}],
                    "is_monotonic": True,
                    "aggregation_temporality": 1,
                }
            },
            {"type": "sum", "value": 2.5, "isMonotonic": True, "aggregationTemporality": "DELTA"},
        ),
        (
            {
                "histogram": {
                    "aggregation_temporality": 2,
                    "data_points": [
                        {
                            "time_unix_nano": T0,
                            "count": 3,
                            "sum": 6.0,
                            "max": 4.0,
                            "bucket_counts": [1, 2, 0],
                            "explicit_bounds": [1.0, 5.0],
                        }
                    ],
                }
            },
            {
                "type": "histogram",
                "aggregationTemporality": "CUMULATIVE",
                "count": 3,
                "sum": 6.0,
                "min": None,
                "max": 4.0,
                "bucketCounts": [1, 2, 0],
                "explicitBounds": [1.0, 5.0],
            },
        ),
        (
            {
                "exponential_histogram": {
                    "data_points": [
                        {
                            "time_unix_nano": T0,
                            "count": 4,
                            "scale": -2,
                            "zero_count": 1,
                            "zero_threshold": 0.001,
                            "positive": {"offset": 3, "bucket_counts": [2, 1]},
                        }
                    ]
                }
            },
            {
                "type": "exponentialHistogram",
                "aggregationTemporality": "UNSPECIFIED",
                "count": 4,
                "sum": None,
                "min": None,
                "max": None,
                "scale": -2,
                "zeroCount": 1,
                "zeroThreshold": 0.001,
                "positive": {"offset": 3, "bucketCounts": [2, 1]},
                "negative": {"offset": 0, "bucketCounts": []},
            },
        ),
        (
            {
                "summary": {
                    "data_points": [
                        {
                            "time_unix_nano": T0,
                            "count": 2,
                            "sum": 3.0,
                            "quantile_values": [
                                {"quantile": 0.5, "value": 1.0},
                                {"quantile": 1.0, "value": math.inf},
                            ],
                        }
                    ]
                }
            },
            {
                "type": "summary",
                "count": 2,
                "sum": 3.0,
                "quantiles": [{"quantile": 0.5, "value": 1.0}, {"quantile": 1.0, "value": None}],
            },
        ),
    ],
    ids=[
        "gauge int",
        "gauge NaN",
        "gauge without value",
        "sum",
        "histogram",
        "exponential histogram",
        "summary",
    ],
)
def test_each_metric_type_yields_one_record_per_point(metric, expected):
    assert metric_records(**metric) == [{**COMMON, **expected}]


def test_metric_points_use_their_own_attributes_and_fall_back_to_the_receive_time():
    records = metric_records(
        gauge={
            "data_points": [
                {
                    "as_int": 1,
                    "start_time_unix_nano": T0,
                    "attributes": [kv("cpu", AnyValue(string_value="0"))],
                },
                {"as_int": 2, "attributes": [kv("cpu", AnyValue(string_value="1"))]},
            ]
        }
    )
    assert [(r["attributes"], r["timestamp"], r["startTimestamp"]) for r in records] == [
        ({"cpu": "0"}, "2024-01-15T10:30:00.123Z", "2024-01-15T10:30:00Z"),
        ({"cpu": "1"}, "2024-01-15T10:30:00.123Z", None),
    ]


def test_a_metric_without_data_yields_no_record():
    assert metric_records() == []
