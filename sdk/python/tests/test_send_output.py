"""send_output against a real loopback server, for the sync and the async client alike."""

from __future__ import annotations

import asyncio
import time

import pytest
from glassflow_ai import (
    AsyncGlassFlow,
    AuthenticationError,
    GlassFlow,
    GlassFlowError,
    RateLimitError,
    RequestError,
    ServerError,
    TransportError,
)

FAST = {"backoff_base": 0.001, "backoff_max": 0.01}


@pytest.fixture(params=["sync", "async"])
def send(request):
    """Call send_output through either client with the same arguments."""

    def call(endpoint, payload, request_id=None, **options):
        options = {**FAST, **options}
        if request.param == "sync":
            with GlassFlow("gfk_test", endpoint, **options) as client:
                return client.send_output(payload, request_id=request_id)

        async def run():
            async with AsyncGlassFlow("gfk_test", endpoint, **options) as client:
                return await client.send_output(payload, request_id=request_id)

        return asyncio.run(run())

    return call


def test_output_is_posted_as_json_with_the_api_key(server, send):
    result = send(server.url, {"summary": "db down", "severity": "critical"}, request_id="req-1")
    assert result == {"status": "accepted"}
    (recorded,) = server.requests
    assert recorded.path == "/internal/agent-output"
    assert recorded.headers["x-api-key"] == "gfk_test"
    assert recorded.headers["content-type"] == "application/json"
    assert recorded.json() == {
        "payload": {"summary": "db down", "severity": "critical"},
        "request_id": "req-1",
    }


def test_request_id_defaults_to_null_and_any_json_payload_is_accepted(server, send):
    send(server.url + "/", [1, "two", None])
    assert server.requests[0].path == "/internal/agent-output"
    assert server.requests[0].json() == {"payload": [1, "two", None], "request_id": None}


@pytest.mark.parametrize("body", [b"", b"not json", b"[1]"])
def test_a_success_without_a_json_object_returns_an_empty_dict(server, send, body):
    server.reply(200, body, content_type="text/plain")
    assert send(server.url, {}) == {}


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_retryable_answers_are_retried_until_success_with_identical_bodies(server, send, status):
    server.reply_status(status, 14, "unavailable", times=2)
    assert send(server.url, {"n": 1}, request_id="r") == {"status": "accepted"}
    assert len(server.requests) == 3
    assert len({r.body for r in server.requests}) == 1


def test_retry_after_seconds_is_honoured(server, send):
    server.reply_status(429, 8, "slow down", Retry_After="0.3")
    started = time.monotonic()
    send(server.url, {}, backoff_base=0.0, backoff_max=0.0)
    assert time.monotonic() - started >= 0.3
    assert len(server.requests) == 2


def test_retry_after_http_date_in_the_past_retries_at_once(server, send):
    server.reply_status(503, 14, "busy", Retry_After="Wed, 21 Oct 2015 07:28:00 GMT")
    send(server.url, {})
    assert len(server.requests) == 2


def test_retry_after_is_capped_by_retry_after_max(server, send):
    server.reply_status(503, 14, "busy", Retry_After="3600")
    started = time.monotonic()
    send(server.url, {}, retry_after_max=0.05)
    assert time.monotonic() - started < 5
    assert len(server.requests) == 2


def test_server_errors_raise_after_max_retries_with_the_server_message(server, send):
    server.reply_status(503, 14, "JetStream unavailable", times=3)
    with pytest.raises(ServerError) as caught:
        send(server.url, {}, max_retries=2)
    assert len(server.requests) == 3
    assert caught.value.status_code == 503
    assert caught.value.server_message == "JetStream unavailable"
    assert caught.value.attempts == 3
    assert "JetStream unavailable" in str(caught.value)


def test_rate_limiting_raises_after_max_retries(server, send):
    server.reply_status(429, 8, "too many", times=2, Retry_After="0")
    with pytest.raises(RateLimitError) as caught:
        send(server.url, {}, max_retries=1)
    assert caught.value.status_code == 429 and len(server.requests) == 2


def test_401_raises_authentication_error_without_retrying(server, send):
    server.reply_status(401, 16, "unknown or revoked API key")
    with pytest.raises(AuthenticationError) as caught:
        send(server.url, {})
    assert len(server.requests) == 1
    assert caught.value.server_message == "unknown or revoked API key"
    assert "api_key" in str(caught.value)


@pytest.mark.parametrize("status", [400, 403, 404, 413])
def test_other_client_errors_raise_request_error_without_retrying(server, send, status):
    server.reply_status(status, 3, "payload is required")
    with pytest.raises(RequestError) as caught:
        send(server.url, {})
    assert len(server.requests) == 1
    assert (caught.value.status_code, caught.value.server_message) == (status, "payload is required")


def test_a_non_json_error_body_is_exposed_as_text(server, send):
    server.reply(400, b"bad things", content_type="text/plain")
    with pytest.raises(RequestError) as caught:
        send(server.url, {})
    assert caught.value.server_message == "bad things"


def test_connection_errors_are_retried_then_raise_transport_error(send, closed_port_url):
    with pytest.raises(TransportError) as caught:
        send(closed_port_url, {}, max_retries=2)
    assert caught.value.attempts == 3 and caught.value.status_code is None
    assert isinstance(caught.value, GlassFlowError)


def test_timeouts_are_retried_then_raise_transport_error(server, send):
    server.reply(hang=True, times=2)
    with pytest.raises(TransportError, match="timed out after 2 attempts"):
        send(server.url, {}, timeout=0.2, max_retries=1)
    assert len(server.requests) == 2


def test_a_timeout_then_success_succeeds(server, send):
    server.reply(hang=True)
    assert send(server.url, {}, timeout=0.2) == {"status": "accepted"}
    assert len(server.requests) == 2


def test_a_payload_that_is_not_json_fails_before_sending(server, send):
    with pytest.raises(TypeError):
        send(server.url, {"when": object()})
    assert server.requests == []


@pytest.mark.parametrize(
    "kwargs",
    [{"api_key": ""}, {"api_key": "k", "endpoint": "localhost:4318"}, {"api_key": "k", "max_retries": -1}],
)
def test_bad_configuration_fails_at_construction(kwargs):
    with pytest.raises(ValueError):
        GlassFlow(**kwargs)


@pytest.mark.asyncio
async def test_async_client_reuses_its_connection_and_closes(server):
    client = AsyncGlassFlow("gfk_test", server.url, **FAST)
    results = [await client.send_output({"i": i}) for i in range(3)]
    await client.close()
    assert results == [{"status": "accepted"}] * 3
    assert [r.json()["payload"] for r in server.requests] == [{"i": 0}, {"i": 1}, {"i": 2}]


@pytest.mark.asyncio
async def test_async_sends_may_run_concurrently(server):
    async with AsyncGlassFlow("gfk_test", server.url, **FAST) as client:
        await asyncio.gather(*(client.send_output({"i": i}, request_id=str(i)) for i in range(5)))
    assert sorted(r.json()["request_id"] for r in server.requests) == ["0", "1", "2", "3", "4"]
