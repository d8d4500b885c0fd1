"""Flattening of OTLP requests into the flat records of ARCHITECTURE.md 4.1/4.2."""

from __future__ import annotations

import gzip
import json
import os
import time
from decimal import Decimal
from pathlib import Path

import pytest

from ingest.otlp import decode_request, flatten_logs, flatten_metrics, flatten_spans

VECTORS = Path(
    os.environ.get("OTLP_VECTORS_DIR", Path(__file__).resolve().parents[2] / ".." / "shared" / "otlp-vectors")
)
FLATTEN = {"logs": flatten_logs, "traces": flatten_spans, "metrics": flatten_metrics}
RECEIVED = 1_705_314_600_123_000_000  # 2024-01-15T10:30:00.123Z


def load(name: str) -> dict:
    meta = json.loads((VECTORS / f"{name}.json").read_text())
    body = (VECTORS / meta["body_file"]).read_bytes()
    if meta["content_encoding"] == "gzip":
        body = gzip.decompress(body)
    meta["records"] = FLATTEN[meta["signal"]](
        decode_request(meta["signal"], body, meta["content_type"]), RECEIVED
    )
    meta["canonical"] = json.loads((VECTORS / meta["decoded_file"]).read_text())
    return meta


NAMES = (
    sorted(c["name"] for c in json.loads((VECTORS / "manifest.json").read_text())["captures"])
    if VECTORS.exists()
    else []
)


def expected_timestamp(unix_nano: int) -> str:
    # Independent of the implementation: struct_time for the date, Decimal for the fraction.
    seconds, nanos = divmod(unix_nano, 10**9)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    if nanos:
        text += str(Decimal(nanos) / Decimal(10**9)).lstrip("0").rstrip("0")
    return text + "Z"


def canonical_value(value: dict):
    ((kind, inner),) = value.items() if value else ((None, None),)
    if kind == "intValue":
        return int(inner)
    if kind == "doubleValue":
        return None if isinstance(inner, str) else float(inner)
    if kind == "arrayValue":
        return [canonical_value(v) for v in inner.get("values", [])]
    if kind == "kvlistValue":
        return {kv["key"]: canonical_value(kv.get("value", {})) for kv in inner.get("values", [])}
    return inner


def canonical_attributes(items: list) -> dict:
    return {kv["key"]: canonical_value(kv.get("value", {})) for kv in items}


@pytest.mark.parametrize("name", NAMES)
def test_records_from_the_body_equal_records_from_its_canonical_json(name):
    vector = load(name)
    signal = vector["signal"]
    canonical = decode_request(signal, json.dumps(vector["canonical"]).encode(), "application/json")
    assert FLATTEN[signal](canonical, RECEIVED) == vector["records"]


@pytest.mark.parametrize("name", [n for n in NAMES if "-logs-" in n])
def test_log_records_match_the_canonical_json_field_by_field(name):
    vector = load(name)
    resource = vector["canonical"]["resourceLogs"][0]
    scope = resource["scopeLogs"][0]
    expected_scope = {"name": scope.get("scope", {}).get("name", "")}
    if scope.get("scope", {}).get("version"):
        expected_scope["version"] = scope["scope"]["version"]
    logs = scope["logRecords"]
    assert len(vector["records"]) == len(logs) == vector["counts"]["logRecords"]
    for record, log in zip(vector["records"], logs, strict=True):
        assert list(record)[:9] == [
            "resourceAttributes",
            "scope",
            "severityNumber",
            "severityText",
            "body",
            "attributes",
            "traceId",
            "spanId",
            "timestamp",
        ]
        assert record["signal"] == "log"
        assert record["resourceAttributes"] == canonical_attributes(resource["resource"]["attributes"])
        assert record["scope"] == expected_scope
        assert record["severityNumber"] == log.get("severityNumber", 0)
        assert record["severityText"] == log.get("severityText", "")
        assert record["body"] == canonical_value(log.get("body", {}))
        assert record["attributes"] == canonical_attributes(log.get("attributes", []))
        assert record["traceId"] == log.get("traceId", "")
        assert record["spanId"] == log.get("spanId", "")
        when = log.get("timeUnixNano") or log.get("observedTimeUnixNano")
        assert record["timestamp"] == expected_timestamp(int(when))
        if "observedTimeUnixNano" in log:
            assert record["observedTimestamp"] == expected_timestamp(int(log["observedTimeUnixNano"]))
        else:
            assert "observedTimestamp" not in record


def test_collector_lines_without_a_time_use_the_observed_time():
    records = load("collector-logs-proto-none")["records"]
    unparsed = [r for r in records if r["severityNumber"] == 0]
    assert len(unparsed) == 1
    assert unparsed[0]["timestamp"] == unparsed[0]["observedTimestamp"]
    assert unparsed[0]["scope"] == {"name": ""}


def test_python_exception_log_carries_exception_attributes_and_span_ids():
    records = load("python-logs-proto-none")["records"]
    failures = [r for r in records if "exception.type" in r["attributes"]]
    assert len(failures) == 1
    assert {"exception.message", "exception.stacktrace"} <= set(failures[0]["attributes"])
    in_span = [r for r in records if r["traceId"]]
    assert len(in_span) == 1 and len(in_span[0]["traceId"]) == 32 and len(in_span[0]["spanId"]) == 16


def test_node_structured_body_becomes_an_object():
    records = load("node-logs-proto-gzip")["records"]
    assert {"message": "structured body", "count": 3, "nested": {"ok": True, "list": [1, "two", 3.5]}} in [
        r["body"] for r in records
    ]


@pytest.mark.parametrize("name", [n for n in NAMES if "-traces-" in n])
def test_span_records_match_the_canonical_json(name):
    vector = load(name)
    spans = [s for ss in vector["canonical"]["resourceSpans"][0]["scopeSpans"] for s in ss["spans"]]
    kinds = {1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}
    for record, span in zip(vector["records"], spans, strict=True):
        assert record["signal"] == "span"
        assert (record["traceId"], record["spanId"]) == (span["traceId"], span["spanId"])
        assert record["parentSpanId"] == span.get("parentSpanId", "")
        assert record["kind"] == kinds[span["kind"]]
        assert record["name"] == span["name"]
        start, end = int(span["startTimeUnixNano"]), int(span["endTimeUnixNano"])
        assert record["startTimestamp"] == expected_timestamp(start)
        assert record["endTimestamp"] == expected_timestamp(end)
        assert record["durationMs"] == pytest.approx((end - start) / 1e6)
        assert record["status"]["code"] == ("UNSET", "OK", "ERROR")[span.get("status", {}).get("code", 0)]
        assert record["attributes"] == canonical_attributes(span.get("attributes", []))
        assert [e["name"] for e in record["events"]] == [e["name"] for e in span.get("events", [])]
        assert [link["spanId"] for link in record["links"]] == [
            link["spanId"] for link in span.get("links", [])
        ]
    assert {"SERVER", "CLIENT"} <= {r["kind"] for r in vector["records"]}
    assert "ERROR" in {r["status"]["code"] for r in vector["records"]}


@pytest.mark.parametrize("name", [n for n in NAMES if "-metrics-" in n])
def test_metric_records_match_the_canonical_json(name):
    vector = load(name)
    expected = []
    for scope in vector["canonical"]["resourceMetrics"][0]["scopeMetrics"]:
        for metric in scope["metrics"]:
            kind = next(k for k in ("gauge", "sum", "histogram") if k in metric)
            for point in metric[kind]["dataPoints"]:
                expected.append((metric["name"], kind, point))
    assert len(vector["records"]) == len(expected) == vector["counts"]["dataPoints"]
    for record, (metric_name, kind, point) in zip(vector["records"], expected, strict=True):
        assert (record["signal"], record["name"], record["type"]) == ("metric", metric_name, kind)
        assert record["attributes"] == canonical_attributes(point.get("attributes", []))
        assert record["timestamp"] == expected_timestamp(int(point["timeUnixNano"]))
        if kind == "histogram":
            assert record["count"] == int(point.get("count", 0))
            assert record["bucketCounts"] == [int(c) for c in point.get("bucketCounts", [])]
            assert record["explicitBounds"] == point.get("explicitBounds", [])
            assert record["sum"] == point.get("sum")
        else:
            raw = point.get("asInt", point.get("asDouble"))
            assert record["value"] == (int(raw) if "asInt" in point else raw)
        if kind == "sum":
            assert record["aggregationTemporality"] == "CUMULATIVE"
            assert isinstance(record["isMonotonic"], bool)


VOLATILE = {
    "timestamp",
    "observedTimestamp",
    "startTimestamp",
    "endTimestamp",
    "traceId",
    "spanId",
    "parentSpanId",
    "durationMs",
    "service.instance.id",
}


def without_volatile(value):
    # JSON and protobuf captures come from separate runs: times, ids and instance ids differ.
    if isinstance(value, dict):
        return {k: without_volatile(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [without_volatile(v) for v in value]
    return value


@pytest.mark.parametrize(
    "json_name, proto_name",
    [
        ("collector-logs-json-none", "collector-logs-proto-none"),
        ("collector-logs-json-gzip", "collector-logs-proto-gzip"),
        ("node-logs-json-none", "node-logs-proto-gzip"),
        ("node-metrics-json-gzip", "node-metrics-proto-none"),
        ("node-traces-json-none", "node-traces-proto-gzip"),
        ("python-logs-json-none", "python-logs-proto-none"),
        ("python-metrics-json-none", "python-metrics-proto-gzip"),
        ("python-traces-json-gzip", "python-traces-proto-none"),
    ],
)
def test_json_and_protobuf_captures_of_the_same_data_flatten_alike(json_name, proto_name):
    # Node's JSON exporter sends whole doubles as intValue (0 vs 0.0): equal in Python, by design.
    assert without_volatile(load(json_name)["records"]) == without_volatile(load(proto_name)["records"])
