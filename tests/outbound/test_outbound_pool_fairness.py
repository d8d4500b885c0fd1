"""The process-wide pool under pressure: one origin cannot take every connection, and no waiter is forgotten."""

from __future__ import annotations

import asyncio

from outbound import Outbound, Verdict
from tests.support.deadline import wait_for_async
from tests.support.outbound_peers import KeepAliveServer, ScriptedServer, read_request

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


async def test_one_slow_origin_cannot_take_every_connection_of_the_process():
    async def never_answers(reader, writer, number):
        await read_request(reader)
        await reader.read()

    slow = ScriptedServer(never_answers)
    slow_port = await slow.start()
    healthy = KeepAliveServer()
    client = Outbound(allow_private=True, max_connections=8)
    stuck = [asyncio.create_task(client.send("POST", f"http://127.0.0.1:{slow_port}/", b"[]", {}, timeout=10))
             for _ in range(40)]
    try:
        # Half of the connections for one origin (8 // 2): the rest stay free for other targets.
        await wait_for_async(lambda: slow.connections >= 4, message="slow origin busy")
        answer = await client.send("POST", f"http://127.0.0.1:{healthy.port}/", b"[]", {}, timeout=3)
        assert answer.verdict is Verdict.SUCCESS, answer.error
        assert slow.connections == 4
    finally:
        for task in stuck:
            task.cancel()
        await asyncio.gather(*stuck, return_exceptions=True)
        await client.close()
        slow.close()
        healthy.close()


async def test_a_waiter_cancelled_just_as_it_was_woken_passes_the_connection_on():
    release = asyncio.Event()

    async def gated(reader, writer, number):
        while True:
            await read_request(reader)
            await release.wait()
            writer.write(OK)
            await writer.drain()

    server = ScriptedServer(gated)
    port = await server.start()
    client = Outbound(allow_private=True, max_connections=1)
    url = f"http://127.0.0.1:{port}/"
    try:
        second = None

        async def first_then_cancel_second():
            answer = await client.send("POST", url, b"[]", {}, timeout=10)
            # The pool has just woken the second sender; cancel it before it runs (a timeout firing then).
            second.cancel()
            return answer

        first = asyncio.create_task(first_then_cancel_second())
        await wait_for_async(lambda: server.connections == 1)
        second = asyncio.create_task(client.send("POST", url, b"[]", {}, timeout=10))
        third = asyncio.create_task(client.send("POST", url, b"[]", {}, timeout=3))
        pool = client.pool
        await wait_for_async(lambda: len(pool._waiters) + sum(map(len, getattr(pool, "_origin_waiters", {}).values()))
                             == 2, message="second and third wait for the one connection")
        release.set()
        assert (await first).ok
        assert (await third).ok, "the third sender was never woken"
        assert second.cancelled()
    finally:
        await client.close()
        server.close()
