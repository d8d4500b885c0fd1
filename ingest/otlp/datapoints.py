"""Flattening of decoded OTLP metrics into one flat record per data point (docs/records.md).

Common keys: signal, resourceAttributes, scope, name, description, unit, type, attributes,
timestamp (time_unix_nano, else the receive time, like logs), startTimestamp (null when unset).
Per type:
- gauge: value
- sum: value, isMonotonic, aggregationTemporality
- histogram: count, sum, min, max, bucketCounts, explicitBounds, aggregationTemporality
- exponentialHistogram: count, sum, min, max, scale, zeroCount, zeroThreshold,
  positive/negative ``{"offset", "bucketCounts"}``, aggregationTemporality
- summary: count, sum, quantiles ``[{"quantile", "value"}]``

``value`` is an int for as_int points, a float for as_double, null when the point has neither.
Optional doubles (histogram sum/min/max) are null when absent; any NaN/±Inf double is null.
aggregationTemporality is a name ("DELTA", "CUMULATIVE", "UNSPECIFIED") like span kinds.
Exemplars, data point flags and metric metadata are not carried. A metric without data
yields no record.
"""

from __future__ import annotations

from typing import Any

from .flatten import scoped
from .primitives import attributes, finite_or_none, format_timestamp, optional_timestamp

TEMPORALITIES = ("UNSPECIFIED", "DELTA", "CUMULATIVE")


def flatten_metrics(request: Any, received_at_ns: int) -> list[dict[str, Any]]:
    """Flat data point records of an ``ExportMetricsServiceRequest``, in request order."""
    records: list[dict[str, Any]] = []
    for resource_attributes, scope, metrics in scoped(request.resource_metrics, "scope_metrics", "metrics"):
        for metric in metrics:
            kind = metric.WhichOneof("data")
            if kind is None:
                continue
            data = getattr(metric, kind)
            point_fields = _POINT_FIELDS[kind]
            extra = _data_fields(kind, data)
            type_name = _TYPE_NAMES[kind]
            for point in data.data_points:
                record = {
                    "signal": "metric",
                    "resourceAttributes": dict(resource_attributes),
                    "scope": dict(scope),
                    "name": metric.name,
                    "description": metric.description,
                    "unit": metric.unit,
                    "type": type_name,
                    "attributes": attributes(point.attributes),
                    "timestamp": format_timestamp(point.time_unix_nano or received_at_ns),
                    "startTimestamp": optional_timestamp(point.start_time_unix_nano),
                }
                record.update(extra)
                record.update(point_fields(point))
                records.append(record)
    return records


def _temporality(value: int) -> str:
    return TEMPORALITIES[value] if 0 <= value < len(TEMPORALITIES) else "UNSPECIFIED"


def _data_fields(kind: str, data: Any) -> dict[str, Any]:
    """Fields that belong to the metric's data (shared by all its points)."""
    if kind == "sum":
        return {
            "isMonotonic": data.is_monotonic,
            "aggregationTemporality": _temporality(data.aggregation_temporality),
        }
    if kind in ("histogram", "exponential_histogram"):
        return {"aggregationTemporality": _temporality(data.aggregation_temporality)}
    return {}


def _number_value(point: Any) -> int | float | None:
    which = point.WhichOneof("value")
    if which == "as_int":
        return point.as_int
    if which == "as_double":
        return finite_or_none(point.as_double)
    return None


def _optional_double(point: Any, field: str) -> float | None:
    return finite_or_none(getattr(point, field)) if point.HasField(field) else None


def _number_fields(point: Any) -> dict[str, Any]:
    return {"value": _number_value(point)}


def _distribution_fields(point: Any) -> dict[str, Any]:
    """count, sum, min, max: what histogram and exponential histogram points share."""
    return {
        "count": point.count,
        "sum": _optional_double(point, "sum"),
        "min": _optional_double(point, "min"),
        "max": _optional_double(point, "max"),
    }


def _histogram_fields(point: Any) -> dict[str, Any]:
    fields = _distribution_fields(point)
    fields["bucketCounts"] = list(point.bucket_counts)
    fields["explicitBounds"] = [finite_or_none(bound) for bound in point.explicit_bounds]
    return fields


def _buckets(buckets: Any) -> dict[str, Any]:
    return {"offset": buckets.offset, "bucketCounts": list(buckets.bucket_counts)}


def _exponential_histogram_fields(point: Any) -> dict[str, Any]:
    fields = _distribution_fields(point)
    fields.update(
        scale=point.scale,
        zeroCount=point.zero_count,
        zeroThreshold=finite_or_none(point.zero_threshold),
        positive=_buckets(point.positive),
        negative=_buckets(point.negative),
    )
    return fields


def _summary_fields(point: Any) -> dict[str, Any]:
    return {
        "count": point.count,
        "sum": finite_or_none(point.sum),
        "quantiles": [
            {"quantile": finite_or_none(q.quantile), "value": finite_or_none(q.value)}
            for q in point.quantile_values
        ],
    }


_POINT_FIELDS = {
    "gauge": _number_fields,
    "sum": _number_fields,
    "histogram": _histogram_fields,
    "exponential_histogram": _exponential_histogram_fields,
    "summary": _summary_fields,
}

_TYPE_NAMES = {
    "gauge": "gauge",
    "sum": "sum",
    "histogram": "histogram",
    "exponential_histogram": "exponentialHistogram",
    "summary": "summary",
}
