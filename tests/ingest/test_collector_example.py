"""examples/collector/otel-collector.yaml: both exporters, sent the way the Collector sends them
(otlphttp: POST endpoint + /v1/<signal>, gzip, headers; otlp: gRPC Export, gzip, metadata),
are accepted by the receiver. No Collector binary here, so its two requests are replayed."""

from __future__ import annotations

import gzip
from pathlib import Path

import grpc
import httpx
import pytest
import yaml

from glassflow_site.natsserver import free_port
from tests.support.receiver import (
    GRPC_LOGS,
    make_project,
    running_receiver,
    stream_count,
    wait_until_grpc_key_works,
)
from tests.support.telemetry import log_request

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "collector" / "otel-collector.yaml"


@pytest.fixture(scope="module")
def receiver(nats_server):
    grpc_port = free_port()
    for running in running_receiver(nats_server.url, grpc_listen=f"127.0.0.1:{grpc_port}"):
        running.grpc_target = f"127.0.0.1:{grpc_port}"
        yield running


def expand(value: str, key: str) -> str:
    return value.replace("${env:GLASSFLOW_API_KEY}", key)


def test_the_collector_examples_exporters_are_accepted_by_the_receiver(receiver, nats_server):
    config = yaml.safe_load(EXAMPLE.read_text())
    project = make_project()
    wait_until_grpc_key_works(receiver, project.key)
    exporters = config["exporters"]
    used = {name for pipeline in config["service"]["pipelines"].values() for name in pipeline["exporters"]}
    assert used == {"otlphttp/glassflow", "otlp/glassflow"}

    http = exporters["otlphttp/glassflow"]
    assert http["endpoint"] == "http://127.0.0.1:4318" and http["compression"] == "gzip"
    headers = {name: expand(value, project.key) for name, value in http["headers"].items()}
    url = http["endpoint"].replace("4318", receiver.url.rsplit(":", 1)[1]) + "/v1/logs"
    response = httpx.post(url, content=gzip.compress(log_request(range(3))), headers={
        **headers, "Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"})
    assert response.status_code == 200, response.text

    rpc = exporters["otlp/glassflow"]
    assert rpc["endpoint"] == "127.0.0.1:4317" and rpc["tls"]["insecure"] is True
    metadata = tuple((name, expand(value, project.key)) for name, value in rpc["headers"].items())
    with grpc.insecure_channel(rpc["endpoint"].replace("4317", receiver.grpc_target.rsplit(":", 1)[1])) as channel:
        channel.unary_unary(GRPC_LOGS)(log_request(range(3, 5)), metadata=metadata, timeout=10,
                                  compression=grpc.Compression.Gzip)
    assert stream_count(nats_server.url, f"gf-ai-raw-{project.id}") == 5
