"""The pipeline's agent client bounds a whole exchange, not each step, against a real slow server."""

from __future__ import annotations

import asyncio
import time

from pipelines.worker.agent import AgentClient


async def trickling_server() -> tuple[asyncio.AbstractServer, int]:
    """Answers 200 with a chunked body that sends one byte every 0.3 s, for ever."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            await reader.readexactly(length)
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            while True:
                writer.write(b"1\r\nx\r\n")
                await writer.drain()
                await asyncio.sleep(0.3)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def test_an_answer_trickling_in_counts_as_a_timeout_after_the_request_timeout():
    server, port = await trickling_server()
    client = AgentClient(allow_private=True)
    try:
        started = time.monotonic()
        attempt = await client.post(f"http://127.0.0.1:{port}/", b"[]", {"Content-Type": "application/json"},
                                    timeout_seconds=1.0)
        elapsed = time.monotonic() - started
        assert not attempt.ok and "no complete answer within 1000 ms" in attempt.error
        assert attempt.permanent_reason is None  # a timeout is retried
        assert elapsed < 2.0
    finally:
        await client.close()
        server.close()
        await server.wait_closed()


async def test_a_header_that_cannot_be_encoded_is_a_permanent_failure():
    server, port = await trickling_server()
    client = AgentClient(allow_private=True)
    try:
        attempt = await client.post(f"http://127.0.0.1:{port}/", b"[]", {"Authorization": "Bearer tök"},
                                    timeout_seconds=1.0)
        assert not attempt.ok and attempt.permanent_reason.startswith("the request could not be built")
    finally:
        await client.close()
        server.close()
        await server.wait_closed()


async def test_a_webhook_answer_trickling_in_is_a_retryable_timeout():
    from sinks.kinds.base import DeliveryContext, TransportError, new_http_client
    from sinks.kinds.webhook import WebhookKind

    server, port = await trickling_server()
    client = new_http_client()
    try:
        started = time.monotonic()
        config = {"url": f"http://127.0.0.1:{port}/hook", "method": "POST", "headers": {}}
        try:
            await WebhookKind.deliver(config, {"payload": {}}, DeliveryContext(client, True, 1.0))
            raise AssertionError("a trickling answer must not count as delivered")
        except TransportError as exc:
            assert not exc.permanent and "did not answer within 1 s" in exc.message
        assert time.monotonic() - started < 2.0
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()
