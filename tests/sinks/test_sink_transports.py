"""Transports against a loopback endpoint: answers become success or a TransportError a user can act on."""

from __future__ import annotations

import pytest

from outbound import Outbound
from sinks.kinds.base import DeliveryContext, TransportError
from sinks.kinds.slack import SlackKind
from sinks.kinds.webhook import WebhookKind
from tests.support.sink_harness import Reply, StubServer

MESSAGE = {"projectId": "p", "requestId": "r", "receivedAt": "2026-01-15T10:30:02.120Z", "payload": {"a": 1}}


@pytest.fixture
def stub():
    server = StubServer().up()
    yield server
    server.down()


async def deliver(kind, config, allow_private=True):
    async with Outbound(allow_private=allow_private) as client:
        await kind.deliver(config, MESSAGE, DeliveryContext(client, 3))


@pytest.mark.parametrize("reply,permanent,retry_after,words", [
    (Reply(503, b"down"), False, None, "503"),
    (Reply(429, b"", {"Retry-After": "7"}), False, 7.0, "429"),
    (Reply(408, b""), False, None, "408"),
    (Reply(401, b"no"), True, None, "check the authorization headers"),
    (Reply(404, b""), True, None, "check the URL"),
    (Reply(302, b"", {"Location": "https://elsewhere.example/"}), True, None, "redirects are not followed"),
])
async def test_webhook_answers_map_to_errors(stub, reply, permanent, retry_after, words):
    stub.reply(reply)
    with pytest.raises(TransportError) as caught:
        await deliver(WebhookKind, {"url": stub.url(), "method": "POST", "headers": {}})
    assert caught.value.permanent is permanent and caught.value.retry_after == retry_after
    assert words in caught.value.message


@pytest.mark.parametrize("status,body,words", [
    (400, b"invalid_payload", "invalid_payload"),
    (400, b"no_text", "no_text"),
    (404, b"no_service", "create a new incoming webhook"),
    (404, b"channel_not_found", "channel_not_found"),
    (410, b"channel_is_archived", "archived"),
    (403, b"invalid_token", "invalid_token"),
    (403, b"action_prohibited", "action_prohibited"),
    (403, b"posting_to_general_channel_denied", "choose another channel"),
    (400, b"something_new", "Slack answered 400"),
])
async def test_slack_error_bodies_are_permanent_with_a_clear_message(stub, status, body, words):
    stub.reply(Reply(status, body))
    with pytest.raises(TransportError) as caught:
        await deliver(SlackKind, {"webhook_url": stub.url()})
    assert caught.value.permanent and words in caught.value.message


async def test_slack_429_is_retryable_with_its_retry_after(stub):
    stub.reply(Reply(429, b"rate_limited", {"Retry-After": "30"}))
    with pytest.raises(TransportError) as caught:
        await deliver(SlackKind, {"webhook_url": stub.url()})
    assert not caught.value.permanent and caught.value.retry_after == 30.0


async def test_a_refused_connection_is_retryable(stub):
    url = stub.url()
    stub.down()
    with pytest.raises(TransportError) as caught:
        await deliver(WebhookKind, {"url": url, "method": "POST", "headers": {}})
    assert not caught.value.permanent and "could not connect" in caught.value.message


async def test_private_addresses_are_refused_at_delivery_when_not_allowed(stub):
    with pytest.raises(TransportError) as caught:
        await deliver(WebhookKind, {"url": stub.url(), "method": "POST", "headers": {}}, allow_private=False)
    assert caught.value.permanent and "ALLOW_PRIVATE_TARGETS" in caught.value.message
    assert stub.received() == []


async def test_a_name_is_resolved_and_checked_before_connecting(stub):
    with pytest.raises(TransportError) as caught:
        await deliver(WebhookKind, {"url": stub.url().replace("127.0.0.1", "localhost"), "method": "POST",
                                    "headers": {}}, allow_private=False)
    assert caught.value.permanent
    await deliver(WebhookKind, {"url": stub.url().replace("127.0.0.1", "localhost"), "method": "POST",
                                "headers": {}})
    assert stub.received()[-1].headers["Host"] == f"localhost:{stub.port}"
