"""The example triage agent: a batch in, one triaged output sent back with the batch's request id."""

from __future__ import annotations

import contextlib
import importlib.util
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from tests.support.deadline import wait_for
from tests.support.sink_harness import StubServer

AGENT = Path(__file__).resolve().parents[2] / "examples" / "agents" / "triage" / "agent.py"


def load_agent():
    spec = importlib.util.spec_from_file_location("triage_agent", AGENT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RECORDS = [
    {"resourceAttributes": {"service.name": "api"}, "severityNumber": 17, "severityText": "ERROR",
     "body": "Connection refused: database pool exhausted"},
    {"resourceAttributes": {"service.name": "api"}, "severityNumber": 17, "severityText": "ERROR",
     "body": "Connection refused: database pool exhausted"},
    {"resourceAttributes": {"service.name": "web"}, "severityNumber": 13, "severityText": "WARN", "body": "slow"},
]


@pytest.mark.parametrize("records,severity,service", [
    (RECORDS, "error", "api"),
    ([{"resourceAttributes": {"service.name": "db"}, "severityNumber": 21, "body": "disk full"}], "critical", "db"),
    ([{"severityText": "info", "body": {"structured": True}}], "info", "unknown"),
])
def test_triage_picks_the_worst_service_and_severity(records, severity, service):
    output = load_agent().triage(records)
    assert output["severity"] == severity and service in output["summary"]
    assert set(output) == {"summary", "severity", "root_cause", "remediation", "services"}


@contextlib.contextmanager
def served(app) -> Iterator[str]:
    """The agent's ASGI app under uvicorn on a free loopback port, as ``main()`` runs it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_for(lambda: server.started, timeout=10, interval=0.01, message="uvicorn started")
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)


def test_the_agent_sends_its_output_with_the_request_id():
    receiver = StubServer().up()
    try:
        with served(load_agent().build_app(api_key="gfk_test", endpoint=receiver.url(""))) as base:
            response = httpx.post(f"{base}/", json=RECORDS, headers={"X-Request-ID": "batch-7", "X-Project-ID": "p"})
            assert response.status_code == 200
            (sent,) = receiver.received()
            assert sent.path == "/internal/agent-output" and sent.headers["X-API-Key"] == "gfk_test"
            body = sent.json()
            assert body["request_id"] == "batch-7" and body["payload"]["severity"] == "error"
            assert "pool size" in body["payload"]["remediation"]
            again = httpx.post(f"{base}/", json=RECORDS, headers={"X-Request-ID": "batch-7", "X-Project-ID": "p"})
            assert again.status_code == 200 and len(receiver.received()) == 1, "a retried batch is sent once"
            assert httpx.post(f"{base}/", content=b"{}").status_code == 400
    finally:
        receiver.down()


def test_without_an_env_key_the_agent_uses_the_batchs_x_glassflow_key_header():
    receiver = StubServer().up()
    try:
        with served(load_agent().build_app(endpoint=receiver.url(""))) as base:
            keyless = httpx.post(f"{base}/", json=RECORDS, headers={"X-Request-ID": "b1"})
            assert keyless.status_code == 503 and "X-GlassFlow-Key" in keyless.json()["error"]
            response = httpx.post(f"{base}/", json=RECORDS,
                                  headers={"X-Request-ID": "b2", "X-GlassFlow-Key": "gfk_hdr"})
            assert response.status_code == 200
            (sent,) = receiver.received()
            assert sent.headers["X-API-Key"] == "gfk_hdr" and sent.json()["request_id"] == "b2"
    finally:
        receiver.down()


def test_the_webhook_inbox_keeps_what_a_webhook_sink_delivered():
    with served(load_agent().build_app()) as base:
        for n in range(3):
            assert httpx.post(f"{base}/webhook", json={"requestId": f"r{n}", "payload": {"n": n}}).status_code == 200
        deliveries = httpx.get(f"{base}/webhook").json()["deliveries"]
        assert [item["requestId"] for item in deliveries] == ["r2", "r1", "r0"]
