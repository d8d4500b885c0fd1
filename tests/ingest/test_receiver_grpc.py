"""OTLP/gRPC on the receiver: the OTel SDK's gRPC exporters in, the same flat records as HTTP out,
and the OTLP gRPC status codes (with RetryInfo where a retry helps) for every refusal."""

from __future__ import annotations

import gzip
import os
import signal

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse

from glassflow_site.natsserver import free_port
from ingest.otlp import decode_request, flatten_logs, flatten_metrics, flatten_spans
from tests.support import receiver as support
from tests.support.deadline import wait_for
from tests.support.receiver import GRPC_LOGS, call, wait_until_grpc_key_works
from tests.support.telemetry import log_request

pytestmark = pytest.mark.django_db(transaction=True)

METHODS = {"logs": GRPC_LOGS, "traces": "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
           "metrics": "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"}
SUBJECTS = {"logs": "in", "traces": "spans", "metrics": "metrics"}
FLATTEN = {"logs": flatten_logs, "traces": flatten_spans, "metrics": flatten_metrics}
MAX_BODY = 2 * 1024 * 1024


@pytest.fixture(scope="module")
def receiver(nats_server):
    grpc_port = free_port()
    for running in support.running_receiver(nats_server.url, grpc_listen=f"127.0.0.1:{grpc_port}",
                                    max_body_bytes=MAX_BODY, publish_timeout=1.0):
        running.grpc_target = f"127.0.0.1:{grpc_port}"
        yield running


def retry_delay(error: grpc.RpcError) -> int:
    """RetryInfo seconds from the trailers, checked in both places OTLP clients read it."""
    trailers = dict(error.trailing_metadata())
    info = error_details_pb2.RetryInfo.FromString(trailers["google.rpc.retryinfo-bin"])
    status = status_pb2.Status.FromString(trailers["grpc-status-details-bin"])
    assert status.code == error.code().value[0]
    packed = error_details_pb2.RetryInfo()
    assert status.details[0].Unpack(packed) and packed == info
    return info.retry_delay.seconds


@pytest.mark.parametrize("signal", ["logs", "traces", "metrics"])
def test_every_captured_vector_over_grpc_lands_as_the_same_records_as_over_http(receiver, nats_server, signal):
    project = support.make_project()
    wait_until_grpc_key_works(receiver, project.key)
    stream = f"gf-ai-raw-{project.id}"
    vectors = [v for v in support.load_vectors() if v["signal"] == signal and v["content_type"] != "application/json"]
    assert vectors
    stored = 0
    for vector in vectors:
        body = gzip.decompress(vector["body"]) if vector["content_encoding"] == "gzip" else vector["body"]
        response, error = call(receiver.grpc_target, METHODS[signal], body, (("x-api-key", project.key),),
                               compression=grpc.Compression.Gzip)
        assert error is None, (vector["name"], error)
        expected = FLATTEN[signal](decode_request(signal, body, "application/x-protobuf"), 0)
        messages = support.stream_messages(nats_server.url, stream)[stored:]
        stored += len(expected)
        assert [m["data"] for m in messages] == expected, vector["name"]
        assert {m["subject"] for m in messages} == {f"gf-ai-raw.{project.id}.{SUBJECTS[signal]}"}
        assert response == b""  # full success: an empty Export*ServiceResponse


def test_the_otel_sdk_grpc_exporters_deliver_logs_spans_and_metrics_with_gzip(receiver, nats_server):
    from opentelemetry.exporter.otlp.proto.grpc import _log_exporter, metric_exporter, trace_exporter
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    project = support.make_project()
    wait_until_grpc_key_works(receiver, project.key)
    options = {"endpoint": f"http://{receiver.grpc_target}", "insecure": True, "timeout": 10,
               "headers": (("x-api-key", project.key),), "compression": grpc.Compression.Gzip}
    resource = Resource.create({"service.name": "grpc-svc"})
    logs = LoggerProvider(resource=resource, shutdown_on_exit=False)
    logs.add_log_record_processor(SimpleLogRecordProcessor(_log_exporter.OTLPLogExporter(**options)))
    traces = TracerProvider(resource=resource, shutdown_on_exit=False)
    traces.add_span_processor(SimpleSpanProcessor(trace_exporter.OTLPSpanExporter(**options)))
    reader = PeriodicExportingMetricReader(metric_exporter.OTLPMetricExporter(**options),
                                           export_interval_millis=3_600_000)
    meters = MeterProvider(resource=resource, metric_readers=[reader], shutdown_on_exit=False)
    try:
        logs.get_logger("grpc.test").emit(severity_number=17, body="over gRPC", attributes={"n": 1})
        with traces.get_tracer("grpc.test").start_as_current_span("checkout", attributes={"n": 2}):
            pass
        meters.get_meter("grpc.test").create_counter("orders").add(3, {"n": 3})
        assert meters.force_flush(15_000)
    finally:
        logs.shutdown()
        traces.shutdown()
        meters.shutdown()
    messages = {m["subject"].rsplit(".", 1)[1]: m["data"] for m in support.stream_messages(nats_server.url,
                                                                                    f"gf-ai-raw-{project.id}")}
    assert messages["in"]["body"] == "over gRPC" and messages["in"]["signal"] == "log"
    assert messages["in"]["resourceAttributes"]["service.name"] == "grpc-svc"
    assert messages["spans"]["name"] == "checkout" and messages["spans"]["attributes"] == {"n": 2}
    assert messages["metrics"]["name"] == "orders" and messages["metrics"]["value"] == 3


def test_bearer_metadata_is_accepted_and_a_missing_or_unknown_key_is_unauthenticated(receiver, nats_server):
    project = support.make_project()
    wait_until_grpc_key_works(receiver, project.key)
    body = log_request(range(3))
    _, error = call(receiver.grpc_target, GRPC_LOGS, body, (("authorization", f"Bearer {project.key}"),))
    assert error is None
    _, error = call(receiver.grpc_target, GRPC_LOGS, body)
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED and "x-api-key" in error.details().lower()
    _, error = call(receiver.grpc_target, GRPC_LOGS, body, (("x-api-key", project.key[:-4] + "zzzz"),))
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED and "API keys page" in error.details()
    assert support.stream_count(nats_server.url, f"gf-ai-raw-{project.id}") == 3


def test_an_undecodable_message_is_invalid_argument_and_stores_nothing(receiver, nats_server):
    project = support.make_project()
    wait_until_grpc_key_works(receiver, project.key)
    _, error = call(receiver.grpc_target, GRPC_LOGS, b"\x0a\xff\xff\xff", (("x-api-key", project.key),))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "invalid protobuf" in error.details()
    assert support.stream_count(nats_server.url, f"gf-ai-raw-{project.id}") == 0


def test_a_message_over_the_limit_and_a_gzip_bomb_are_refused_before_decoding(receiver, nats_server):
    project = support.make_project()
    wait_until_grpc_key_works(receiver, project.key)
    metadata = (("x-api-key", project.key),)
    _, error = call(receiver.grpc_target, GRPC_LOGS, bytes(MAX_BODY + 1), metadata)
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    # 48 MiB of zeros compress to ~50 KB: only the inflated size can exceed the limit.
    _, error = call(receiver.grpc_target, GRPC_LOGS, bytes(24 * MAX_BODY), metadata, compression=grpc.Compression.Gzip)
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "larger than max" in error.details()
    assert support.stream_count(nats_server.url, f"gf-ai-raw-{project.id}") == 0
    assert call(receiver.grpc_target, GRPC_LOGS, log_request(range(2)), metadata)[1] is None  # still serving


def test_a_record_too_large_for_nats_is_reported_through_partial_success(receiver, nats_server):
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    project = support.make_project()
    wait_until_grpc_key_works(receiver, project.key)
    request = ExportLogsServiceRequest.FromString(log_request(range(2)))
    request.resource_logs[0].scope_logs[0].log_records[1].body.string_value = "x" * 1024 * 1024  # NATS max_payload
    response, error = call(receiver.grpc_target, GRPC_LOGS, request.SerializeToString(), (("x-api-key", project.key),))
    assert error is None
    partial = ExportLogsServiceResponse.FromString(response).partial_success
    assert partial.rejected_log_records == 1 and "message limit" in partial.error_message
    assert support.stream_count(nats_server.url, f"gf-ai-raw-{project.id}") == 1


def test_the_same_message_sent_twice_is_stored_once(receiver, nats_server):
    project = support.make_project()
    wait_until_grpc_key_works(receiver, project.key)
    body = log_request(range(5))
    for _ in range(2):
        assert call(receiver.grpc_target, GRPC_LOGS, body, (("x-api-key", project.key),))[1] is None
    assert support.stream_count(nats_server.url, f"gf-ai-raw-{project.id}") == 5


def test_a_full_stream_is_resource_exhausted_with_retry_info(receiver, nats_server, settings):
    settings.STREAM_MAX_BYTES = 6 * 1024
    project = support.make_project()
    wait_until_grpc_key_works(receiver, project.key)
    errors = [call(receiver.grpc_target, GRPC_LOGS, log_request(range(start, start + 10)),
                   (("x-api-key", project.key),))[1] for start in range(0, 100, 10)]
    refused = [error for error in errors if error is not None]
    assert refused, "the 6 KiB stream never filled"
    assert {error.code() for error in refused} == {grpc.StatusCode.RESOURCE_EXHAUSTED}
    assert "stream is full" in refused[0].details()
    assert retry_delay(refused[0]) == 5


def test_nats_unreachable_is_unavailable_with_retry_info(nats_server):
    grpc_port = free_port()
    dead_nats = f"nats://127.0.0.1:{free_port()}"
    thread = support.ReceiverThread(support.receiver_config(dead_nats, grpc_listen=f"127.0.0.1:{grpc_port}"))
    thread.thread.start()
    try:
        wait_for(lambda: thread.server.started, timeout=10, message="receiver started")
        _, error = call(f"127.0.0.1:{grpc_port}", GRPC_LOGS, log_request(range(1)), (("x-api-key", "gfk_0000_x"),))
        assert error.code() == grpc.StatusCode.UNAVAILABLE
        assert retry_delay(error) == 2
    finally:
        thread.stop()


def test_a_stalled_nats_is_unavailable_with_retry_info_and_the_retry_stores_every_record_once(receiver, nats_server):
    project = support.make_project()
    wait_until_grpc_key_works(receiver, project.key)
    body = log_request(range(20))
    metadata = (("x-api-key", project.key),)
    os.kill(nats_server.process.pid, signal.SIGSTOP)  # the connection stays open, nothing is acknowledged
    try:
        _, error = call(receiver.grpc_target, GRPC_LOGS, body, metadata)
    finally:
        os.kill(nats_server.process.pid, signal.SIGCONT)
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert "acknowledg" in error.details() and retry_delay(error) == 2
    # What a client does next: the same request again. Whatever got stored meanwhile is not stored twice.
    wait_for(lambda: call(receiver.grpc_target, GRPC_LOGS, body, metadata)[1] is None, timeout=10,
             message="the retry is acknowledged")
    assert support.stream_count(nats_server.url, f"gf-ai-raw-{project.id}") == 20


def test_a_grpc_client_pointed_at_the_http_port_gets_a_log_line_naming_port_4317(receiver, caplog):
    from ingest.receiver.server import explain_invalid_requests

    explain_invalid_requests()  # what the app factory of runreceiver does
    http_port = receiver.url.rsplit(":", 1)[1]
    _, error = call(f"127.0.0.1:{http_port}", GRPC_LOGS, log_request(range(1)), (("x-api-key", "gfk_0_x"),))
    assert error is not None
    wait_for(lambda: any("port 4317" in record.getMessage() for record in caplog.records), timeout=5,
             message="the receiver explains the invalid request")
