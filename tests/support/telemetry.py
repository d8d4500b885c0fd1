"""Telemetry sources for the end-to-end tests.

``otel_logs``: the real OpenTelemetry Python SDK (``LoggerProvider`` with a
``BatchLogRecordProcessor`` and the OTLP/HTTP ``OTLPLogExporter``) pointed at the receiver with
the project's key in ``X-API-Key``, the way an instrumented application sends its logs.

``post_logs``: many numbered records as protobuf ``ExportLogsServiceRequest``s, each answer
checked, for the fault tests that need thousands of records and must know every one was stored.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import httpx
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from tests.support.deadline import wait_for

SERVICE = "checkout-e2e"


@contextmanager
def otel_logs(receiver_url: str, api_key: str, service: str = SERVICE, *, bearer: bool = False,
              gzip: bool = False) -> Iterator:
    """Yield an OTel SDK ``Logger`` exporting to the receiver; flushed and shut down on exit.

    The key goes in ``X-API-Key``, or with ``bearer`` in ``Authorization: Bearer`` (how many OTel
    exporters are configured); ``gzip`` turns on the exporter's compression.
    """
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
    from opentelemetry.sdk.resources import Resource

    provider = LoggerProvider(resource=Resource.create({"service.name": service, "k8s.pod.name": "checkout-7d9f"}),
                              shutdown_on_exit=False)
    headers = {"Authorization": f"Bearer {api_key}"} if bearer else {"X-API-Key": api_key}
    exporter = OTLPLogExporter(endpoint=f"{receiver_url}/v1/logs", headers=headers, timeout=10,
                               compression=Compression.Gzip if gzip else Compression.NoCompression)
    provider.add_log_record_processor(BatchLogRecordProcessor(exporter, schedule_delay_millis=100))
    try:
        yield provider.get_logger("shop.checkout", "1.4.2")
        assert provider.force_flush(15_000), "the OTel SDK could not flush its logs to the receiver"
    finally:
        provider.shutdown()


def wait_until_key_accepted(receiver_url: str, api_key: str, timeout: float = 10.0) -> None:
    """The receiver learns a new key from the config bucket within a second; an empty export probes it."""

    def accepted() -> bool:
        response = httpx.post(f"{receiver_url}/v1/logs", content=b"{}", timeout=5,
                              headers={"X-API-Key": api_key, "Content-Type": "application/json"})
        assert response.status_code in (200, 401, 503), response.text
        return response.status_code == 200

    wait_for(accepted, timeout=timeout, interval=0.1, message="the receiver accepts the new key")


def log_request(seqs: Iterable[int], severity: int = 17, service: str = SERVICE) -> bytes:
    """A protobuf ExportLogsServiceRequest: one record per seq, ``attributes.seq`` = the number."""
    request = ExportLogsServiceRequest()
    resource_logs = request.resource_logs.add()
    resource_logs.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value=service)))
    scope_logs = resource_logs.scope_logs.add()
    scope_logs.scope.name = "shop.checkout"
    now = time.time_ns()
    for seq in seqs:
        log = scope_logs.log_records.add()
        log.time_unix_nano = now + seq
        log.severity_number = severity
        log.severity_text = "ERROR" if severity >= 17 else "INFO"
        log.body.string_value = f"Connection refused: database pool exhausted (record {seq})"
        log.attributes.append(KeyValue(key="seq", value=AnyValue(int_value=seq)))
    return request.SerializeToString()


def post_logs(receiver_url: str, api_key: str, seqs: Iterable[int], per_request: int = 100,
              severity: int = 17) -> int:
    """POST the records in requests of ``per_request``; every answer must be 200 (stored durably)."""
    seqs = list(seqs)
    with httpx.Client(timeout=15, headers={"X-API-Key": api_key, "Content-Type": "application/x-protobuf"}) as client:
        for start in range(0, len(seqs), per_request):
            response = client.post(f"{receiver_url}/v1/logs",
                                   content=log_request(seqs[start:start + per_request], severity))
            assert response.status_code == 200, f"receiver answered {response.status_code}: {response.text}"
    return len(seqs)
