"""Targets that answer badly on purpose: endless bodies and headers, answers nobody asked for.

Each server here is a raw asyncio server on loopback that writes exactly the bytes a broken or
hostile agent, webhook or Slack look-alike would; the client must come back with an Answer
within its bounds and never read one answer as another's.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from outbound import Outbound, Verdict
from outbound.http1 import MAX_HEAD_BYTES
from tests.support.deadline import wait_for_async
from tests.support.outbound_peers import ScriptedServer, read_request


@pytest.fixture
async def client():
    outbound = Outbound(allow_private=True)
    yield outbound
    await outbound.close()


async def send_to_endless(client, head: bytes, piece: bytes):
    """One send to a server answering ``head`` then ``piece`` for ever: the answer, the seconds it
    took, and how many bytes the server got to write before the client stopped reading."""
    written = 0

    async def script(reader, writer, number):
        nonlocal written
        await read_request(reader)
        writer.write(head)
        while True:  # as fast as the client reads: only the client can end this
            writer.write(piece)
            written += len(piece)
            await writer.drain()

    async with ScriptedServer(script) as server:
        started = time.monotonic()
        answer = await client.send("POST", server.url, b"[]", {}, timeout=20)
        return answer, time.monotonic() - started, written


@pytest.mark.parametrize(("head", "piece", "status", "verdict"), [
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", b"4000\r\n" + b"x" * 0x4000 + b"\r\n", 200,
     Verdict.SUCCESS),
    (b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 10000000000\r\n\r\n", b"busy " * 4000, 503,
     Verdict.RETRYABLE),
    (b"HTTP/1.0 500 Internal Server Error\r\n\r\n", b"oops " * 4000, 500, Verdict.RETRYABLE),
])
async def test_an_endless_or_huge_body_is_cut_off_and_the_answer_stands_on_its_status(client, head, piece, status,
                                                                                       verdict):
    answer, seconds, written = await send_to_endless(client, head, piece)
    assert (answer.status, answer.verdict) == (status, verdict)
    assert seconds < 10, "the body was read on instead of cut off"
    # What the socket buffers hold beyond the 256 KiB read; reading on would reach gigabytes.
    assert written < 32 * 1024 * 1024
    assert len(answer.excerpt) <= 200
    assert client.pool._open == 0, "a connection with an unread body went back to the pool"


@pytest.mark.parametrize("head", [
    b"HTTP/1.1 200 OK\r\n",  # then header lines for ever
    b"HTTP/1.1 200 OK\r\nX-Long: ",  # then one header value for ever
    b"",  # interim answers for ever
])
async def test_endless_headers_are_refused_within_a_bound(client, head):
    piece = {b"HTTP/1.1 200 OK\r\n": b"X-A: b\r\n" * 500, b"HTTP/1.1 200 OK\r\nX-Long: ": b"v" * 4000,
             b"": b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" * 100}[head]

    answer, seconds, written = await send_to_endless(client, head, piece)
    assert written < 32 * 1024 * 1024
    assert answer.status is None and answer.failure == "protocol"
    assert f"exceed {MAX_HEAD_BYTES // 1024} KiB" in answer.error
    assert seconds < 10


async def test_bytes_after_an_answer_are_not_read_as_the_next_answer(client):
    """Response smuggling: a second answer glued to the first must neither replace it nor answer the next request."""

    async def script(reader, writer, number):
        while True:
            await read_request(reader)
            if number == 1:
                writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy"
                             b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
                             b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            else:
                writer.write(b"HTTP/1.1 429 Too Many Requests\r\nContent-Length: 4\r\n\r\nslow")
            await writer.drain()

    async with ScriptedServer(script) as server:
        first = await client.send("POST", server.url, b"[]", {}, timeout=5)
        assert (first.status, first.excerpt) == (503, "busy")
        second = await client.send("POST", server.url, b"[]", {}, timeout=5)
        assert (second.status, second.excerpt) == (429, "slow")
        assert server.connections == 2


async def test_bytes_arriving_on_an_idle_connection_retire_it(client):
    stray_written = asyncio.Event()

    async def script(reader, writer, number):
        await read_request(reader)
        writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy")
        await writer.drain()
        if number == 1:
            # The head of an answer to a request nobody sent, while the connection is idle.
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 70\r\n\r\n")
            await writer.drain()
            stray_written.set()
        while True:
            await read_request(reader)
            writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy")
            await writer.drain()

    async with ScriptedServer(script) as server:
        first = await client.send("POST", server.url, b"[]", {}, timeout=5)
        assert first.status == 503
        await asyncio.wait_for(stray_written.wait(), 5)
        await wait_for_async(lambda: all(c.closed for q in client.pool._idle.values() for c in q),
                             message="the connection that received stray bytes is retired")
        second = await client.send("POST", server.url, b"[]", {}, timeout=5)
        assert (second.status, second.excerpt) == (503, "busy")
        assert server.connections == 2


async def test_an_interim_answer_arriving_on_its_own_is_skipped_for_the_final_one(client):
    async def script(reader, writer, number):
        await read_request(reader)
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(0.2)  # the final answer comes in a later read
        writer.write(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nContent-Length: 4\r\n\r\nslow")
        await writer.drain()
        await reader.read()

    async with ScriptedServer(script) as server:
        answer = await client.send("POST", server.url, b"[]", {}, timeout=5)
        assert (answer.status, answer.retry_after, answer.excerpt) == (429, 3.0, "slow")



async def test_an_exchange_cut_short_by_its_timeout_or_cancelled_leaves_no_connection_behind(client):
    async def script(reader, writer, number):
        while True:
            await read_request(reader)
            if number <= 2:  # half an answer, then nothing: the client gives up mid-answer
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab")
                await writer.drain()
                await reader.read()
                return
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()

    async with ScriptedServer(script) as server:
        timed_out = await client.send("POST", server.url, b"[]", {}, timeout=0.5)
        assert timed_out.timed_out
        cancelled = asyncio.create_task(client.send("POST", server.url, b"[]", {}, timeout=10))
        await wait_for_async(lambda: server.connections == 2)
        cancelled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        assert client.pool._open == 0
        answer = await client.send("POST", server.url, b"[]", {}, timeout=5)
        assert answer.ok and server.connections == 3
        assert client.pool._open == 1
