"""Response bodies: Export*ServiceResponse (with partial success) and google.rpc.Status."""

from __future__ import annotations

import json

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from ingest.otlp import encode_response, encode_status

RESPONSES = {
    "logs": (ExportLogsServiceResponse, "rejected_log_records", "rejectedLogRecords"),
    "traces": (ExportTraceServiceResponse, "rejected_spans", "rejectedSpans"),
    "metrics": (ExportMetricsServiceResponse, "rejected_data_points", "rejectedDataPoints"),
}


@pytest.mark.parametrize("signal", sorted(RESPONSES))
@pytest.mark.parametrize("encoding", ["protobuf", "application/x-protobuf"])
def test_full_success_is_an_empty_protobuf_body(signal, encoding):
    assert encode_response(signal, encoding) == b""


@pytest.mark.parametrize("signal", sorted(RESPONSES))
@pytest.mark.parametrize("encoding", ["json", "application/json; charset=utf-8"])
def test_full_success_is_an_empty_json_object(signal, encoding):
    assert encode_response(signal, encoding) == b"{}"


@pytest.mark.parametrize("signal", sorted(RESPONSES))
@pytest.mark.parametrize("rejected, message", [(3, "3 records too large"), (0, "warning only"), (5, "")])
def test_partial_success_round_trips_in_protobuf(signal, rejected, message):
    response_type, field, _ = RESPONSES[signal]
    response = response_type.FromString(encode_response(signal, "protobuf", rejected, message))
    assert response.HasField("partial_success")
    assert getattr(response.partial_success, field) == rejected
    assert response.partial_success.error_message == message


@pytest.mark.parametrize("signal", sorted(RESPONSES))
def test_partial_success_in_json_uses_camel_case_and_int64_strings(signal):
    _, _, json_field = RESPONSES[signal]
    body = json.loads(encode_response(signal, "json", 2, "bad"))
    assert body == {"partialSuccess": {json_field: "2", "errorMessage": "bad"}}
    assert json.loads(encode_response(signal, "json", 0, "careful")) == {
        "partialSuccess": {"errorMessage": "careful"}
    }


def status_class():
    # googleapis-common-protos is not a dependency; build google.rpc.Status from its definition
    # to check the hand-written wire encoding against protobuf itself.
    proto = descriptor_pb2.FileDescriptorProto(
        name="test_status.proto", package="google.rpc", syntax="proto3"
    )
    message = proto.message_type.add(name="Status")
    message.field.add(
        name="code",
        number=1,
        type=descriptor_pb2.FieldDescriptorProto.TYPE_INT32,
        label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
    )
    message.field.add(
        name="message",
        number=2,
        type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
        label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("google.rpc.Status"))


@pytest.mark.parametrize(
    "code, message",
    [
        (3, "invalid protobuf: truncated"),
        (16, "missing API key"),
        (0, ""),
        (-1, "negative"),
        (2**31 - 1, "é" * 200),
        (8, ""),
    ],
)
def test_status_protobuf_matches_protobufs_own_encoding(code, message):
    status = status_class()
    assert encode_status(code, message, "protobuf") == status(code=code, message=message).SerializeToString()
    parsed = status.FromString(encode_status(code, message, "application/x-protobuf"))
    assert (parsed.code, parsed.message) == (code, message)


def test_status_json_always_has_code_and_message():
    assert json.loads(encode_status(16, "missing API key", "json")) == {
        "code": 16,
        "message": "missing API key",
    }
    assert json.loads(encode_status(0, "", "application/json")) == {"code": 0, "message": ""}


@pytest.mark.parametrize(
    "call",
    [
        lambda: encode_response("profiles", "json"),
        lambda: encode_response("logs", "json", rejected=-1),
        lambda: encode_status(2**31, "", "json"),
        lambda: encode_status(1, "", "text/plain"),
    ],
)
def test_invalid_arguments_are_programming_errors(call):
    with pytest.raises(ValueError):
        call()
