"""Decoding of OTLP/HTTP bodies: the captured vectors, OTLP/JSON quirks, and hostile input."""

from __future__ import annotations

import base64
import gzip
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.otlp import (
    OtlpDecodeError,
    UnsupportedContentType,
    decode_request,
    encoding_for,
    flatten_logs,
    flatten_metrics,
    flatten_spans,
)

VECTORS = Path(
    os.environ.get("OTLP_VECTORS_DIR", Path(__file__).resolve().parents[2] / ".." / "shared" / "otlp-vectors")
)
FLATTEN = {"logs": flatten_logs, "traces": flatten_spans, "metrics": flatten_metrics}
JSON_CT = "application/json"
PROTO_CT = "application/x-protobuf"


def load_vectors() -> list[dict]:
    manifest = json.loads((VECTORS / "manifest.json").read_text())
    vectors = []
    for capture in manifest["captures"]:
        meta = json.loads((VECTORS / capture["metadata"]).read_text())
        body = (VECTORS / meta["body_file"]).read_bytes()
        if meta["content_encoding"] == "gzip":
            body = gzip.decompress(body)
        meta["raw"] = body
        meta["decoded_text"] = (VECTORS / meta["decoded_file"]).read_bytes()
        vectors.append(meta)
    return vectors


ALL_VECTORS = load_vectors() if (VECTORS / "manifest.json").exists() else []
vector_params = pytest.mark.parametrize("vector", ALL_VECTORS, ids=lambda v: v["name"])


def test_all_nineteen_vectors_are_present():
    assert len(ALL_VECTORS) == 19, f"vectors not found in {VECTORS} (set OTLP_VECTORS_DIR)"


def count_request(signal: str, request) -> dict:
    if signal == "logs":
        scopes = [s for r in request.resource_logs for s in r.scope_logs]
        return {
            "resourceLogs": len(request.resource_logs),
            "scopeLogs": len(scopes),
            "logRecords": sum(len(s.log_records) for s in scopes),
        }
    if signal == "traces":
        scopes = [s for r in request.resource_spans for s in r.scope_spans]
        return {"resourceSpans": len(request.resource_spans), "spans": sum(len(s.spans) for s in scopes)}
    metrics = [m for r in request.resource_metrics for s in r.scope_metrics for m in s.metrics]
    kinds = [m.WhichOneof("data") for m in metrics]
    return {
        "resourceMetrics": len(request.resource_metrics),
        "metrics": len(metrics),
        "metricTypes": sorted(set(kinds)),
        "dataPoints": sum(len(getattr(m, k).data_points) for m, k in zip(metrics, kinds, strict=True)),
    }


@vector_params
def test_vector_body_decodes_with_the_counts_of_its_metadata(vector):
    request = decode_request(vector["signal"], vector["raw"], vector["content_type"])
    counts = count_request(vector["signal"], request)
    assert counts == {key: vector["counts"][key] for key in counts}


@vector_params
def test_vector_body_and_its_canonical_json_decode_to_the_same_message(vector):
    from_body = decode_request(vector["signal"], vector["raw"], vector["content_type"])
    from_canonical = decode_request(vector["signal"], vector["decoded_text"], JSON_CT)
    assert from_body == from_canonical


def log_doc(**record) -> bytes:
    return json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [record]}]}]}).encode()


def only_log(body: bytes):
    return decode_request("logs", body, JSON_CT).resource_logs[0].scope_logs[0].log_records[0]


TRACE_HEX = "5b8efff798038103d269b633813fc60c"
SPAN_HEX = "eee19b7ec3c1b174"


@pytest.mark.parametrize(
    "trace_id, expected",
    [
        (TRACE_HEX, bytes.fromhex(TRACE_HEX)),
        (TRACE_HEX.upper(), bytes.fromhex(TRACE_HEX)),
        (base64.b64encode(bytes.fromhex(TRACE_HEX)).decode(), bytes.fromhex(TRACE_HEX)),
        ("", b""),
    ],
    ids=["lowercase hex", "uppercase hex", "base64 of the right length", "empty"],
)
def test_json_trace_ids_are_read_as_hex(trace_id, expected):
    assert only_log(log_doc(traceId=trace_id, spanId=SPAN_HEX)).trace_id == expected


@pytest.mark.parametrize(
    "record, fragment",
    [
        ({"traceId": "xyz"}, "logRecords[0].traceId: expected 32 hex digits"),
        ({"traceId": TRACE_HEX[:-2]}, "expected 32 hex digits"),
        ({"spanId": TRACE_HEX}, "logRecords[0].spanId: expected 16 hex digits"),
        ({"spanId": "ee e19b7ec3c1b17"}, "expected 16 hex digits"),
        ({"spanId": 12}, "spanId: must be a hex string, not a number"),
    ],
)
def test_json_ids_that_are_neither_hex_nor_base64_are_rejected_with_their_path(record, fragment):
    with pytest.raises(OtlpDecodeError, match="invalid JSON at resourceLogs\\[0\\]") as caught:
        decode_request("logs", log_doc(**record), JSON_CT)
    assert fragment in caught.value.message


def test_json_span_links_and_parent_ids_are_hex():
    body = {
        "resourceSpans": [
            {
                "scopeSpans": [
                    {
                        "spans": [
                            {
                                "traceId": TRACE_HEX,
                                "spanId": SPAN_HEX,
                                "parentSpanId": "0102030405060708",
                                "links": [{"traceId": TRACE_HEX, "spanId": "0807060504030201"}],
                            }
                        ]
                    }
                ]
            }
        ]
    }
    span = (
        decode_request("traces", json.dumps(body).encode(), JSON_CT).resource_spans[0].scope_spans[0].spans[0]
    )
    assert span.parent_span_id == bytes(range(1, 9))
    assert span.links[0].span_id == bytes(range(8, 0, -1))


def test_json_exemplar_ids_are_hex():
    point = {"asInt": "1", "exemplars": [{"asDouble": 1.5, "traceId": TRACE_HEX, "spanId": SPAN_HEX}]}
    body = {
        "resourceMetrics": [
            {"scopeMetrics": [{"metrics": [{"name": "m", "gauge": {"dataPoints": [point]}}]}]}
        ]
    }
    request = decode_request("metrics", json.dumps(body).encode(), JSON_CT)
    exemplar = request.resource_metrics[0].scope_metrics[0].metrics[0].gauge.data_points[0].exemplars[0]
    assert exemplar.trace_id.hex() == TRACE_HEX and exemplar.span_id.hex() == SPAN_HEX


@pytest.mark.parametrize(
    "record, field, expected",
    [
        ({"timeUnixNano": "1705314600000000001"}, "time_unix_nano", 1705314600000000001),
        ({"timeUnixNano": 1705314600000000000}, "time_unix_nano", 1705314600000000000),
        ({"severityNumber": 17}, "severity_number", 17),
        ({"severityNumber": "SEVERITY_NUMBER_ERROR"}, "severity_number", 17),
        ({"severityNumber": 99}, "severity_number", 99),
        ({"severityNumber": "LOUD"}, "severity_number", 0),
        ({"flags": 257}, "flags", 257),
        ({"severityText": "WARN", "someFutureField": {"x": [1]}}, "severity_text", "WARN"),
        ({"severity_text": "snake"}, "severity_text", "snake"),
        ({"eventName": "browser.click"}, "event_name", "browser.click"),
    ],
    ids=[
        "int64 as string",
        "int64 as number",
        "enum as integer",
        "enum as name",
        "enum value unknown to the proto",
        "enum name unknown to the proto is ignored like an unknown field",
        "fixed32",
        "unknown field ignored",
        "proto field name",
        "event name",
    ],
)
def test_json_scalar_encodings_are_accepted(record, field, expected):
    assert getattr(only_log(log_doc(**record)), field) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        ({"intValue": "3"}, 3),
        ({"intValue": 3}, 3),
        ({"intValue": "-9223372036854775808"}, -(2**63)),
        ({"doubleValue": "NaN"}, None),
        ({"doubleValue": 2}, 2.0),
        ({"bytesValue": "AAEC"}, "AAEC"),
    ],
)
def test_json_attribute_values_decode_and_map(value, expected):
    body = log_doc(attributes=[{"key": "k", "value": value}])
    record = flatten_logs(decode_request("logs", body, JSON_CT), 0)[0]
    assert record["attributes"]["k"] == expected


@pytest.mark.parametrize(
    "body, fragment",
    [
        (b"{", "invalid JSON at line 1 column 2"),
        (b"\xff\xfe\x00garbage", "invalid JSON"),
        (b"[]", "the body must be an object, not a list"),
        (b'"text"', "the body must be an object, not a string"),
        (b'{"resourceLogs": {}}', "field resourceLogs must be a list, not an object"),
        (b'{"resourceLogs": [1]}', "resourceLogs[0]: must be an object, not a number"),
        (b'{"resourceLogs": [{"scopeLogs": "x"}]}', "at resourceLogs[0]: field scopeLogs must be a list"),
        (log_doc(timeUnixNano="soon"), "invalid OTLP/JSON"),
        (log_doc(timeUnixNano=1.5), "invalid OTLP/JSON"),
        (log_doc(body={"intValue": "x"}), "invalid OTLP/JSON"),
        (b"[" * 100_000, "invalid JSON"),
    ],
)
def test_malformed_json_is_rejected_with_a_reason(body, fragment):
    with pytest.raises(OtlpDecodeError) as caught:
        decode_request("logs", body, JSON_CT)
    assert fragment in str(caught.value)


def test_malformed_protobuf_is_rejected_with_a_reason():
    with pytest.raises(OtlpDecodeError, match="^invalid protobuf"):
        decode_request("traces", b"\x0a\xff\xff\xff\xff\x0f", PROTO_CT)


@pytest.mark.parametrize("body, content_type", [(b"", JSON_CT), (b"  \n", JSON_CT), (b"", PROTO_CT)])
def test_an_empty_body_is_an_empty_request(body, content_type):
    assert decode_request("metrics", body, content_type).ByteSize() == 0


@pytest.mark.parametrize(
    "content_type, expected",
    [
        ("application/json", "json"),
        ("Application/JSON; charset=utf-8", "json"),
        ("application/x-protobuf", "protobuf"),
        ("application/protobuf", "protobuf"),
    ],
)
def test_content_types_select_the_decoder(content_type, expected):
    assert encoding_for(content_type) == expected


@pytest.mark.parametrize("content_type", ["text/plain", "", "application/grpc", "application/jsonx"])
def test_other_content_types_are_unsupported(content_type):
    with pytest.raises(UnsupportedContentType, match="unsupported content type"):
        decode_request("logs", b"{}", content_type)


def test_an_unknown_signal_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown OTLP signal"):
        decode_request("profiles", b"", PROTO_CT)


def decode_and_flatten(signal: str, body: bytes, content_type: str) -> None:
    try:
        request = decode_request(signal, body, content_type)
    except OtlpDecodeError:
        return
    FLATTEN[signal](request, 1)


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
signals = st.sampled_from(sorted(FLATTEN))


@FUZZ
@given(signal=signals, body=st.binary(max_size=512), content_type=st.sampled_from([JSON_CT, PROTO_CT]))
def test_random_bytes_never_raise_anything_but_decode_errors(signal, body, content_type):
    decode_and_flatten(signal, body, content_type)


@FUZZ
@given(seed=st.sampled_from(ALL_VECTORS or [None]), data=st.data())
def test_mutated_vector_bodies_never_raise_anything_but_decode_errors(seed, data):
    if seed is None or seed["content_type"] != PROTO_CT:
        return
    raw = bytearray(seed["raw"])
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(raw) - 1))
        raw[position] = data.draw(st.integers(0, 255))
    decode_and_flatten(seed["signal"], bytes(raw), PROTO_CT)


json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=30,
)
otlp_keys = st.sampled_from(
    [
        "resourceLogs",
        "resourceSpans",
        "resourceMetrics",
        "scopeLogs",
        "scopeSpans",
        "scopeMetrics",
        "logRecords",
        "spans",
        "metrics",
        "links",
        "traceId",
        "spanId",
        "parentSpanId",
        "body",
        "attributes",
        "key",
        "value",
        "stringValue",
        "intValue",
        "kvlistValue",
        "arrayValue",
        "values",
        "gauge",
        "sum",
        "histogram",
        "dataPoints",
        "exemplars",
        "asInt",
        "asDouble",
        "timeUnixNano",
    ]
)
otlp_like = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(otlp_keys, inner, max_size=4),
    max_leaves=40,
)


@FUZZ
@given(signal=signals, document=json_values | otlp_like)
def test_random_json_never_raises_anything_but_decode_errors(signal, document):
    decode_and_flatten(signal, json.dumps(document).encode(), JSON_CT)
