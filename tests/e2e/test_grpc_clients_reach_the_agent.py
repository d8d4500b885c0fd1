"""OTLP/gRPC end to end: the OTel Python SDK's gRPC exporters, and an application run under
``opentelemetry-instrument`` on its defaults (gRPC) with only OTEL_EXPORTER_OTLP_ENDPOINT and
OTEL_EXPORTER_OTLP_HEADERS set, deliver logs, spans and metrics through the receiver's :4317
and the pipeline worker to the agent.

The pipeline takes all three signals with the signal-aware filter the docs recommend
(``signal != "log" || severityNumber >= 13``): warnings and worse among logs, every span and
metric, and no filter errors.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import grpc
import pytest

from tests.support.deadline import wait_for
from tests.support.telemetry import wait_until_key_accepted

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SIGNALS = ["logs", "spans", "metrics"]
FILTER = 'signal != "log" || severityNumber >= 13'


def by_signal(records: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {"log": [], "span": [], "metric": []}
    for record in records:
        grouped[record["signal"]].append(record)
    return grouped


def test_the_otel_sdk_grpc_exporters_deliver_logs_spans_and_metrics_to_the_agent(stack, project, agent):
    from opentelemetry._logs import SeverityNumber
    from opentelemetry.exporter.otlp.proto.grpc import _log_exporter, metric_exporter, trace_exporter
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    project.configure_pipeline(agent.url, filter=FILTER, signals=SIGNALS, batch_max_wait_ms=200)
    wait_until_key_accepted(stack.receiver_url, project.key)
    options = {"endpoint": stack.receiver_grpc_url, "insecure": True, "timeout": 10,
               "headers": (("x-api-key", project.key),), "compression": grpc.Compression.Gzip}
    resource = Resource.create({"service.name": "grpc-sdk"})
    logs = LoggerProvider(resource=resource, shutdown_on_exit=False)
    logs.add_log_record_processor(BatchLogRecordProcessor(_log_exporter.OTLPLogExporter(**options),
                                                          schedule_delay_millis=100))
    traces = TracerProvider(resource=resource, shutdown_on_exit=False)
    traces.add_span_processor(BatchSpanProcessor(trace_exporter.OTLPSpanExporter(**options), schedule_delay_millis=100))
    reader = PeriodicExportingMetricReader(metric_exporter.OTLPMetricExporter(**options),
                                           export_interval_millis=3_600_000)
    meters = MeterProvider(resource=resource, metric_readers=[reader], shutdown_on_exit=False)
    try:
        logger = logs.get_logger("shop.checkout")
        for seq, severity in enumerate((SeverityNumber.ERROR, SeverityNumber.INFO, SeverityNumber.WARN,
                                        SeverityNumber.DEBUG)):
            logger.emit(severity_number=severity, body=f"record {seq}", attributes={"seq": seq})
        tracer = traces.get_tracer("shop.checkout")
        for seq in range(3):
            with tracer.start_as_current_span(f"checkout {seq}", attributes={"seq": seq}):
                pass
        meters.get_meter("shop.checkout").create_counter("orders").add(7, {"seq": 0})
        assert logs.force_flush(15_000) and traces.force_flush(15_000) and meters.force_flush(15_000)
    finally:
        logs.shutdown()
        traces.shutdown()
        meters.shutdown()

    wait_for(lambda: len(agent.accepted_records()) >= 6, timeout=20, message="the agent got every record")
    project.wait_settled(project.raw_stream, "pipeline")
    received = by_signal(agent.accepted_records())
    assert sorted(r["attributes"]["seq"] for r in received["log"]) == [0, 2], "warnings and worse among logs"
    assert sorted(r["name"] for r in received["span"]) == ["checkout 0", "checkout 1", "checkout 2"]
    # force_flush and shutdown both export the cumulative sum: one or two points, each 7.
    assert {(r["name"], r["value"]) for r in received["metric"]} == {("orders", 7)}
    assert all(r["resourceAttributes"]["service.name"] == "grpc-sdk" for r in agent.accepted_records())
    stats = project.stats()
    assert stats["filter_errors"] == 0, stats


APP = textwrap.dedent("""
    # An application that knows nothing of GlassFlow: it uses the OpenTelemetry APIs only.
    from opentelemetry import metrics, trace
    from opentelemetry._logs import SeverityNumber, get_logger

    tracer = trace.get_tracer("shop.app")
    with tracer.start_as_current_span("place-order", attributes={"order.id": 42}):
        get_logger("shop.app").emit(severity_number=SeverityNumber.ERROR, body="payment declined",
                                    attributes={"order.id": 42})
    metrics.get_meter("shop.app").create_counter("orders.failed").add(1)
""")


def test_opentelemetry_instrument_on_its_defaults_delivers_to_the_agent(stack, project, agent, tmp_path):
    project.configure_pipeline(agent.url, filter=FILTER, signals=SIGNALS, batch_max_wait_ms=200)
    wait_until_key_accepted(stack.receiver_url, project.key)
    (tmp_path / "app.py").write_text(APP)
    env = {name: value for name, value in os.environ.items() if not name.startswith("OTEL_")}
    env.update(OTEL_EXPORTER_OTLP_ENDPOINT=stack.receiver_grpc_url,
               OTEL_EXPORTER_OTLP_HEADERS=f"x-api-key={project.key}")
    instrument = os.path.join(os.path.dirname(sys.executable), "opentelemetry-instrument")
    finished = subprocess.run([instrument, sys.executable, str(tmp_path / "app.py")], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert "Failed to export" not in finished.stderr, finished.stderr[-2000:]

    wait_for(lambda: {r["signal"] for r in agent.accepted_records()} == {"log", "span", "metric"}, timeout=20,
             message="the agent got a log, a span and a metric from the instrumented application")
    received = by_signal(agent.accepted_records())
    assert [r["body"] for r in received["log"]] == ["payment declined"]
    assert [r["name"] for r in received["span"]] == ["place-order"]
    assert "orders.failed" in [r["name"] for r in received["metric"]]
    assert received["log"][0]["traceId"] == received["span"][0]["traceId"] != ""
    assert all(r["resourceAttributes"]["telemetry.sdk.language"] == "python" for r in agent.accepted_records())
