"""Table-driven tests of the metric data point records of docs/records.md."""

from __future__ import annotations

import math

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from ingest.otlp import flatten_metrics
from tests.support.otlp import RECEIVED, T0, kv


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
        pytest.param(
            {"gauge": {"data_points": [{"time_unix_nano": T0, "as_int": 3}]}},
            {"type": "gauge", "value": 3},
            id="gauge int",
        ),
        pytest.param(
            {"gauge": {"data_points": [{"time_unix_nano": T0, "as_double": math.nan}]}},
            {"type": "gauge", "value": None},
            id="gauge NaN",
        ),
        pytest.param(
            {"gauge": {"data_points": [{"time_unix_nano": T0}]}},
            {"type": "gauge", "value": None},
            id="gauge without value",
        ),
        pytest.param(
            {
                "sum": {
                    "data_points": [{"time_unix_nano": T0, "as_double": 2.5}],
                    "is_monotonic": True,
                    "aggregation_temporality": 1,
                }
            },
            {"type": "sum", "value": 2.5, "isMonotonic": True, "aggregationTemporality": "DELTA"},
            id="sum",
        ),
        pytest.param(
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
            id="histogram",
        ),
        pytest.param(
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
            id="exponential histogram",
        ),
        pytest.param(
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
            id="summary",
        ),
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
