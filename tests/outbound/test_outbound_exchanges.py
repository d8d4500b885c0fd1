"""One attempt against real loopback servers: what comes back is an Answer, never an exception."""

from __future__ import annotations

import asyncio
import time

import pytest

from outbound import Outbound, Verdict
from pipelines.validation import clean_headers
from pipelines.worker.agentclient import AgentClient
from sinks.kinds.base import DeliveryContext
from sinks.kinds.webhook import WebhookKind
from tests.support.outbound_peers import KeepAliveServer, raw_server, trickling_server

PLAIN_BODY_CLAIMING_GZIP = (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 11\r\n"
                            b"Connection: close\r\n\r\nnot gzipped")


@pytest.fixture
async def client():
    outbound = Outbound(allow_private=True)
    yield outbound
    await outbound.close()


async def test_a_2xx_whose_body_cannot_be_decoded_is_success(client):
    server, port = await raw_server(PLAIN_BODY_CLAIMING_GZIP)
    try:
        answer = await client.send("POST", f"http://127.0.0.1:{port}/", b"[]", {}, timeout=3)
        assert answer.verdict is Verdict.SUCCESS and answer.status == 200
        agent = AgentClient(allow_private=True)
        try:
            assert (await agent.post(f"http://127.0.0.1:{port}/", b"[]", {}, 3)).ok
        finally:
            await agent.close()
        await WebhookKind.deliver({"url": f"http://127.0.0.1:{port}/", "method": "POST"}, {},
                                  DeliveryContext(client, 3))  # returns: delivered
    finally:
        server.close()


@pytest.mark.parametrize(("answer", "status", "verdict", "excerpt"), [
    (b"HTTP/1.0 200 OK\r\n\r\nbody until close", 200, Verdict.SUCCESS, ""),
    (b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\nbusy, come back", 503, Verdict.RETRYABLE,
     "busy, come back"),
    (b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n", 204, Verdict.SUCCESS, ""),
    (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
     b"HTTP/1.1 429 Too Many Requests\r\nContent-Length: 4\r\n\r\nslow", 429, Verdict.RETRYABLE, "slow"),
])
async def test_an_answer_without_a_length_ends_where_the_connection_does(client, answer, status, verdict, excerpt):
    server, port = await raw_server(answer)
    try:
        result = await client.send("POST", f"http://127.0.0.1:{port}/", b"[]", {}, timeout=3)
        assert (result.status, result.verdict, result.excerpt) == (status, verdict, excerpt)
    finally:
        server.close()


async def test_an_error_body_that_cannot_be_decoded_still_gives_an_excerpt(client):
    answer_bytes = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Encoding: gzip\r\nRetry-After: 1.5\r\n"
                    b"Content-Length: 9\r\nConnection: close\r\n\r\nno gzip!!")
    server, port = await raw_server(answer_bytes)
    try:
        answer = await client.send("POST", f"http://127.0.0.1:{port}/", b"[]", {}, timeout=3)
        assert answer.verdict is Verdict.RETRYABLE and answer.retry_after == 1.5
        assert answer.error == "503 Service Unavailable: no gzip!!"
    finally:
        server.close()


async def test_an_answer_trickling_in_is_a_timeout_of_the_whole_exchange(client):
    server, port = await trickling_server()
    try:
        started = time.monotonic()
        answer = await client.send("POST", f"http://127.0.0.1:{port}/", b"[]", {}, timeout=1.0, target="the hook")
        assert answer.verdict is Verdict.RETRYABLE and answer.timed_out
        assert answer.error == "the hook did not answer within 1 s"
        assert time.monotonic() - started < 2.0
    finally:
        server.close()


@pytest.mark.parametrize("url", [
    "https://hooks..example.com/x",  # getaddrinfo's IDNA step raises UnicodeError on the empty label
    f"https://{'a' * 64}.example.com/x",  # a label over 63 characters
])
async def test_a_host_name_no_resolver_accepts_is_a_permanent_answer(client, url):
    answer = await client.send("POST", url, b"{}", {}, timeout=3, target="the webhook")
    assert answer.verdict is Verdict.PERMANENT and answer.status is None
    assert "label" in answer.error


@pytest.mark.parametrize(("headers", "words"), [
    ({"Authorization": "Bearer tök"}, "could not be built"),
    ({"X-Bad": "line\r\nbreak"}, "could not be built"),
    ({"X-Bad": "bare\nnewline"}, "could not be built"),
    ({"X-Bad\r\nHost": "internal"}, "could not be built"),
    ({"X-Bad": "nul\x00"}, "could not be built"),
    ({"X-Bad": "vertical\x0btab"}, "could not be built"),  # other controls: some servers split on them
    ({"X-Bad": "delete\x7f"}, "could not be built"),
    ({"Bad Name": "x"}, "could not be built"),
])
async def test_a_request_that_cannot_be_built_is_permanent(client, headers, words):
    server = KeepAliveServer()
    try:
        answer = await client.send("POST", f"http://127.0.0.1:{server.port}/", b"{}", headers, timeout=3)
        assert answer.verdict is Verdict.PERMANENT and words in answer.error
        assert server.requests == []
    finally:
        server.close()


@pytest.mark.parametrize("value", ["nul\x00", "vertical\x0btab", "delete\x7f", "line\nbreak"])
def test_header_values_the_client_refuses_are_refused_when_saved(value):
    with pytest.raises(ValueError, match="control character|single-line"):
        clean_headers({"X-Bad": value})
    assert clean_headers({"X-Ok": "tab\tinside"}) == {"X-Ok": "tab\tinside"}


async def test_a_refused_connection_is_retryable_and_names_the_target(client):
    server = KeepAliveServer()
    port = server.port
    server.close()
    answer = await client.send("POST", f"http://127.0.0.1:{port}/", b"{}", {}, timeout=3, target="the webhook")
    assert answer.verdict is Verdict.RETRYABLE and answer.failure == "connect"
    assert answer.error.startswith("could not connect to the webhook")


async def test_private_addresses_are_refused_before_connecting_when_not_allowed():
    server = KeepAliveServer()
    strict = Outbound(allow_private=False)
    try:
        for host in ("127.0.0.1", "localhost"):
            answer = await strict.send("POST", f"http://{host}:{server.port}/", b"{}", {}, timeout=3)
            assert answer.verdict is Verdict.PERMANENT and "ALLOW_PRIVATE_TARGETS" in answer.error
        assert server.requests == []
    finally:
        await strict.close()
        server.close()


async def test_keep_alive_connections_are_reused_across_requests(client):
    server = KeepAliveServer(status=503, body=b"busy", headers={"Retry-After": "2"})
    try:
        for _ in range(5):
            answer = await client.send("POST", f"http://localhost:{server.port}/", b"{}", {}, timeout=3)
            assert answer.status == 503 and answer.retry_after == 2.0 and answer.rtt > 0
        assert server.connections == 1 and len(server.requests) == 5
        assert server.requests[0][0] == f"localhost:{server.port}"
    finally:
        server.close()


async def test_a_full_pool_waits_for_a_connection_and_reuses_it():
    server = KeepAliveServer()
    small = Outbound(allow_private=True, max_connections=2)
    try:
        answers = await asyncio.gather(*(small.send("POST", f"http://127.0.0.1:{server.port}/", b"{}", {}, timeout=5)
                                         for _ in range(20)))
        assert all(answer.ok for answer in answers) and len(server.requests) == 20
        assert server.connections <= 2
    finally:
        await small.close()
        server.close()
