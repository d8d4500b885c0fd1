"""Health, readiness, metrics, start without NATS, and a graceful stop of ``manage.py runreceiver``."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from glassflow_site.natsserver import free_port
from ingest.receiver.app import ReceiverApp
from tests.support import receiver as support
from tests.support.deadline import wait_for

LOGS = next(v for v in support.load_vectors() if v["name"] == "python-logs-proto-none")
ROOT = Path(__file__).resolve().parents[2]


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = rf"^{re.escape(name)}{re.escape('{' + wanted + '}') if wanted else ''} (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_healthz_and_readyz_answer_when_all_is_well(receiver):
    assert httpx.get(receiver.url + "/healthz").json() == {"status": "ok"}
    assert httpx.head(receiver.url + "/healthz").status_code == 200
    assert httpx.get(receiver.url + "/readyz").json() == {"status": "ready", "nats": True, "config": True}


@pytest.mark.django_db(transaction=True)
def test_metrics_count_requests_records_latency_and_bytes(receiver):
    project = support.make_project()
    support.wait_until_key_works(receiver, project.key)
    assert support.post(receiver, "/v1/logs", LOGS["body"], project.key).status_code == 200
    assert support.post(receiver, "/v1/logs", b"\xff\xff", project.key).status_code == 400
    response = httpx.get(receiver.url + "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert metric(text, "glassflow_receiver_requests_total", path="/v1/logs", status="200") >= 2
    assert metric(text, "glassflow_receiver_requests_total", path="/v1/logs", status="400") == 1
    assert metric(text, "glassflow_receiver_records_published_total", signal="logs") >= 7
    assert metric(text, "glassflow_receiver_publish_seconds_count") >= 1
    assert metric(text, "glassflow_receiver_body_bytes_sum", path="/v1/logs") >= len(LOGS["body"])
    assert metric(text, "glassflow_receiver_nats_connected") == 1
    assert metric(text, "glassflow_receiver_projects") >= 1


async def test_without_nats_it_serves_health_and_answers_503(nats_server):
    import httpx as client_lib

    app = ReceiverApp(support.receiver_config(f"nats://127.0.0.1:{free_port()}"))  # nothing listens there
    await app.startup()
    try:
        transport = client_lib.ASGITransport(app=app)
        async with client_lib.AsyncClient(transport=transport, base_url="http://receiver") as client:
            assert (await client.get("/healthz")).status_code == 200
            ready = await client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json() == {"status": "not ready", "nats": False, "config": False}
            response = await client.post("/v1/logs", content=LOGS["body"], headers={
                "Content-Type": "application/x-protobuf", "X-API-Key": "gfk_12345678_" + "a" * 43})
            assert response.status_code == 503
            assert response.headers["retry-after"]
            assert b"not loaded the project configuration" in response.content
    finally:
        await app.shutdown()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_sigterm_lets_the_request_in_flight_finish_before_the_process_exits(nats_server):
    project = support.make_project()
    port = free_port()
    env = {**os.environ, "NATS_URL": nats_server.url, "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "runreceiver", "--port", str(port), "--grpc-port", "0"],
                               cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    results: list[httpx.Response] = []
    try:
        wait_for(lambda: reachable(url + "/readyz"), timeout=20, message="runreceiver ready")
        wait_for(lambda: httpx.post(url + "/v1/logs", content=b"", headers={
            "Content-Type": "application/x-protobuf", "X-API-Key": project.key}).status_code == 200, timeout=5)

        os.kill(nats_server.process.pid, signal.SIGSTOP)  # hold the acks so the request stays in flight
        try:
            sender = threading.Thread(target=lambda: results.append(httpx.post(
                url + "/v1/logs", content=LOGS["body"], timeout=30,
                headers={"Content-Type": "application/x-protobuf", "X-API-Key": project.key})))
            sender.start()
            wait_for(lambda: "glassflow_receiver_requests_in_flight 1.0" in httpx.get(url + "/metrics").text,
                     timeout=5, message="the request is in flight")
            process.send_signal(signal.SIGTERM)
            wait_for(lambda: not reachable(url + "/healthz"), timeout=5, message="stopped accepting")
        finally:
            os.kill(nats_server.process.pid, signal.SIGCONT)
        sender.join(timeout=20)
        process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert [response.status_code for response in results] == [200]
    assert support.stream_count(nats_server.url, f"gf-ai-raw-{project.id}") == 7
    assert process.returncode in (0, -signal.SIGTERM)


def reachable(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
