"""The example triage agent: a batch in, one triaged output sent back with the batch's request id."""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import httpx
import pytest
from glassflow_ai import GlassFlow

from tests.deadletters.harness import StubServer

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


def test_the_agent_sends_its_output_with_the_request_id():
    receiver = StubServer().up()
    agent_module = load_agent()
    server = agent_module.make_server("127.0.0.1", 0, GlassFlow(api_key="gfk_test", endpoint=receiver.url("")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        response = httpx.post(f"http://127.0.0.1:{server.server_address[1]}/", json=RECORDS,
                              headers={"X-Request-ID": "batch-7", "X-Project-ID": "p"})
        assert response.status_code == 200
        (sent,) = receiver.received()
        assert sent.path == "/internal/agent-output" and sent.headers["X-API-Key"] == "gfk_test"
        body = sent.json()
        assert body["request_id"] == "batch-7" and body["payload"]["severity"] == "error"
        assert "pool size" in body["payload"]["remediation"]
        bad = httpx.post(f"http://127.0.0.1:{server.server_address[1]}/", content=b"{}")
        assert bad.status_code == 400
    finally:
        server.shutdown()
        server.server_close()
        receiver.down()


def test_without_an_env_key_the_agent_uses_the_batchs_x_glassflow_key_header():
    receiver = StubServer().up()
    server = load_agent().make_server("127.0.0.1", 0, None, endpoint=receiver.url(""))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        keyless = httpx.post(f"{base}/", json=RECORDS, headers={"X-Request-ID": "b1"})
        assert keyless.status_code == 503 and "X-GlassFlow-Key" in keyless.json()["error"]
        response = httpx.post(f"{base}/", json=RECORDS, headers={"X-Request-ID": "b2", "X-GlassFlow-Key": "gfk_hdr"})
        assert response.status_code == 200
        (sent,) = receiver.received()
        assert sent.headers["X-API-Key"] == "gfk_hdr" and sent.json()["request_id"] == "b2"
    finally:
        server.shutdown()
        server.server_close()
        receiver.down()


def test_the_webhook_inbox_keeps_what_a_webhook_sink_delivered():
    server = load_agent().make_server("127.0.0.1", 0, None)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        for n in range(3):
            assert httpx.post(f"{base}/webhook", json={"requestId": f"r{n}", "payload": {"n": n}}).status_code == 200
        deliveries = httpx.get(f"{base}/webhook").json()["deliveries"]
        assert [item["requestId"] for item in deliveries] == ["r2", "r1", "r0"]
    finally:
        server.shutdown()
        server.server_close()
