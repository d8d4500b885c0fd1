"""``runreceiver --workers N``: worker processes share the HTTP and gRPC ports, each with its own NATS
connection and key index, and ``/metrics`` sums every worker, whichever one answers the scrape."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import grpc
import httpx
import pytest

from glassflow_site.natsserver import free_port
from tests.support.browser import ROOT
from tests.support.deadline import wait_for
from tests.support.receiver import make_project, stream_count
from tests.support.telemetry import log_request

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LOGS = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
PUBLISHED = re.compile(r'^glassflow_receiver_records_published_total\{signal="logs"\} (\S+)$', re.M)
CONNECTED = re.compile(r"^glassflow_receiver_nats_connected (\S+)$", re.M)


def published(url: str) -> float:
    # A fresh connection per scrape, so that the scrapes land on different workers.
    text = httpx.get(url + "/metrics", headers={"Connection": "close"}).text
    match = PUBLISHED.search(text)
    return float(match.group(1)) if match else 0.0


def test_two_workers_share_both_ports_and_metrics_count_every_worker(nats_server, tmp_path):
    project = make_project()
    port, grpc_port = free_port(), free_port()
    env = {**os.environ, "NATS_URL": nats_server.url, "LOG_LEVEL": "WARNING",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    process = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "runreceiver", "--port", str(port),
                                "--grpc-port", str(grpc_port), "--workers", "2"], cwd=ROOT, env=env,
                               start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        headers = {"Content-Type": "application/x-protobuf", "X-API-Key": project.key, "Connection": "close"}
        wait_for(lambda: _answers(url, headers), timeout=30, message="both workers accept the key")
        for start in range(0, 200, 10):  # a new connection each: the kernel spreads them over the workers
            response = httpx.post(url + "/v1/logs", content=log_request(range(1000 + start, 1010 + start)),
                                  headers=headers)
            assert response.status_code == 200, response.text
        for start in range(0, 100, 10):
            with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
                channel.unary_unary(LOGS)(log_request(range(5000 + start, 5010 + start)),
                                          metadata=(("x-api-key", project.key),), timeout=10)
        stored = stream_count(nats_server.url, f"gf-ai-raw-{project.id}")
        scrapes = [published(url) for _ in range(8)]
        assert scrapes == [float(stored)] * 8, (scrapes, stored)
        text = httpx.get(url + "/metrics").text
        assert float(CONNECTED.search(text).group(1)) == 2.0  # one NATS connection per worker
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)


def _answers(url: str, headers: dict) -> bool:
    """Every worker has loaded the key index: several fresh connections in a row all get 200."""
    try:
        return all(httpx.post(url + "/v1/logs", content=b"", headers=headers).status_code == 200
                   for _ in range(6))
    except httpx.HTTPError:
        return False


def test_sigterm_lets_a_grpc_call_in_flight_finish_before_nats_is_drained(nats_server):
    project = make_project()
    port, grpc_port = free_port(), free_port()
    env = {**os.environ, "NATS_URL": nats_server.url, "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "runreceiver", "--port", str(port),
                                "--grpc-port", str(grpc_port)], cwd=ROOT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    metadata = (("x-api-key", project.key),)
    results: list = []
    try:
        headers = {"Content-Type": "application/x-protobuf", "X-API-Key": project.key}
        wait_for(lambda: _answers(url, headers), timeout=30, message="the receiver accepts the key")
        channel = grpc.insecure_channel(f"127.0.0.1:{grpc_port}")
        export = channel.unary_unary(LOGS)
        os.kill(nats_server.process.pid, signal.SIGSTOP)  # hold the acks so the call stays in flight
        try:
            call = export.future(log_request(range(7)), metadata=metadata, timeout=30)
            wait_for(lambda: "glassflow_receiver_requests_in_flight 1.0" in httpx.get(url + "/metrics").text,
                     timeout=5, message="the gRPC call is in flight")
            os.killpg(process.pid, signal.SIGTERM)
            wait_for(lambda: not _reachable(url), timeout=5, message="HTTP stopped accepting")
        finally:
            os.kill(nats_server.process.pid, signal.SIGCONT)
        results.append(call.result(timeout=20))
        channel.close()
        process.wait(timeout=20)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert results == [b""]  # OK with an empty ExportLogsServiceResponse
    assert stream_count(nats_server.url, f"gf-ai-raw-{project.id}") == 7


def _reachable(url: str) -> bool:
    try:
        httpx.get(url + "/healthz", timeout=1)
        return True
    except httpx.HTTPError:
        return False


def test_metric_files_of_a_previous_run_are_cleared_so_they_are_not_summed_in(tmp_path, monkeypatch):
    from ingest.receiver.receiver_config import GRACE_ENV, GRPC_LISTEN_ENV, WORKERS_ENV
    from ingest.receiver.server import prepare_worker_environment

    for name in (GRPC_LISTEN_ENV, WORKERS_ENV, GRACE_ENV):
        monkeypatch.delenv(name, raising=False)  # restored after the test
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    (tmp_path / "counter_4242.db").write_bytes(b"stale")
    (tmp_path / "notes.txt").write_text("kept")
    for workers in (1, 3):
        assert prepare_worker_environment("127.0.0.1", 4317, workers, 20) is None  # the operator's folder
        assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.txt"]
        (tmp_path / "counter_4242.db").write_bytes(b"stale")
