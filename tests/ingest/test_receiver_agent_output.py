"""POST /internal/agent-output: an agent's result becomes one output message (ARCHITECTURE 4.3)."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from tests.support import receiver as support

pytestmark = pytest.mark.django_db(transaction=True)


def send_output(receiver, key, body, content_type="application/json", **headers):
    sent = {"Content-Type": content_type, **headers}
    if key:
        sent["X-API-Key"] = key
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(receiver.url + "/internal/agent-output", content=content, headers=sent, timeout=10)


def test_the_output_message_lands_in_the_output_stream(receiver, project, nats_server):
    payload = {"summary": "db pool exhausted", "severity": "critical", "ids": [1, 2]}
    response = send_output(receiver, project.key, {"payload": payload, "request_id": "batch-7"})
    assert response.status_code == 200
    assert response.json() == {"status": "accepted", "requestId": "batch-7", "duplicate": False}

    [message] = support.stream_messages(nats_server.url, f"gf-ai-output-{project.id}")
    assert message["subject"] == f"gf-ai-output.{project.id}.out"
    assert set(message["data"]) == {"projectId", "requestId", "receivedAt", "payload"}
    assert message["data"]["projectId"] == project.id
    assert message["data"]["requestId"] == "batch-7"
    assert message["data"]["payload"] == payload
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", message["data"]["receivedAt"])


def test_a_retry_with_the_same_request_id_is_stored_once(receiver, project, nats_server):
    body = {"payload": {"summary": "x"}, "request_id": "batch-8"}
    assert send_output(receiver, project.key, body).json()["duplicate"] is False
    assert send_output(receiver, project.key, body).json()["duplicate"] is True
    # A different result for the same batch is a new message.
    assert send_output(receiver, project.key, {"payload": {"summary": "y"}, "request_id": "batch-8"}).status_code == 200
    assert support.stream_count(nats_server.url, f"gf-ai-output-{project.id}") == 2


def test_any_json_payload_and_a_missing_request_id_are_accepted(receiver, project, nats_server):
    for payload in ("plain text", 42, None, [{"a": 1}]):
        response = send_output(receiver, project.key, {"payload": payload, "request_id": None})
        assert response.status_code == 200
        assert response.json()["requestId"] is None
    response = send_output(receiver, project.key, {"payload": "from header"}, **{"X-Request-ID": "hdr-1"})
    assert response.json()["requestId"] == "hdr-1"
    messages = support.stream_messages(nats_server.url, f"gf-ai-output-{project.id}")
    assert [m["data"]["payload"] for m in messages] == ["plain text", 42, None, [{"a": 1}], "from header"]
    assert messages[-1]["data"]["requestId"] == "hdr-1"


@pytest.mark.parametrize("body, status, reason", [
    (b"{not json", 400, "not valid JSON"),
    ({"summary": "no payload key"}, 400, 'a "payload" field'),
    ({"payload": 1, "request_id": 5}, 400, "request_id must be a string"),
    ([1, 2], 400, 'a "payload" field'),
])
def test_malformed_bodies_get_400(receiver, project, body, status, reason):
    response = send_output(receiver, project.key, body)
    assert response.status_code == status
    assert reason in response.json()["message"]


def test_auth_content_type_and_method_rules_are_those_of_otlp(receiver, project):
    assert send_output(receiver, None, {"payload": 1}).status_code == 401
    assert send_output(receiver, "gfk_12345678_unknownunknownunknownunknownunknown", {"payload": 1}).status_code == 401
    assert send_output(receiver, project.key, {"payload": 1}, content_type="text/plain").status_code == 415
    assert httpx.get(receiver.url + "/internal/agent-output").status_code == 405
    bearer = httpx.post(receiver.url + "/internal/agent-output", content=b'{"payload": 1}',
                        headers={"Content-Type": "application/json", "Authorization": f"Bearer {project.key}"})
    assert bearer.status_code == 200


def test_the_same_text_for_two_batches_named_in_headers_is_stored_twice(receiver, project, nats_server):
    body = {"payload": {"summary": "no anomalies"}}
    first = send_output(receiver, project.key, body, **{"X-Request-ID": "batch-A"})
    second = send_output(receiver, project.key, body, **{"X-Request-ID": "batch-B"})
    assert first.json()["duplicate"] is False and second.json()["duplicate"] is False
    retry = send_output(receiver, project.key, body, **{"X-Request-ID": "batch-B"})
    assert retry.json()["duplicate"] is True
    messages = support.stream_messages(nats_server.url, f"gf-ai-output-{project.id}")
    assert [m["data"]["requestId"] for m in messages] == ["batch-A", "batch-B"]
