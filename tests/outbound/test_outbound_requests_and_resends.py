"""What goes out: the request line whatever URL a tenant typed, and when a request is sent again.

The resend rule (docs/pipeline-worker.md): only a request written to a kept-alive connection that
the server closed before any byte of an answer goes once more, on a fresh connection; a fresh
connection closed without an answer, or an answer cut short, ends the attempt.
"""

from __future__ import annotations

import pytest

from outbound import Outbound, Verdict
from tests.support.outbound_peers import ScriptedServer, read_request

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@pytest.fixture
async def client():
    outbound = Outbound(allow_private=True)
    yield outbound
    await outbound.close()


class Recorder:
    def __init__(self):
        self.requests: list[tuple[int, bytes]] = []  # (connection number, request line)

    async def read(self, reader, number):
        head = await read_request(reader)
        self.requests.append((number, head.split(b"\r\n")[0]))

    async def answer(self, reader, writer, number, reply=OK):
        """Read one request, then write ``reply``: usable as a whole ScriptedServer script."""
        await self.read(reader, number)
        writer.write(reply)
        await writer.drain()


async def test_the_request_line_carries_the_url_as_one_percent_encoded_token(client):
    seen = Recorder()
    async with ScriptedServer(seen.answer) as server:
        url = server.url + "hooks/a b/\u00e9\x00?q=1 2&r=%2F"
        answer = await client.send("POST", url, b"[]", {}, timeout=5)
        assert answer.ok
        assert seen.requests == [(1, b"POST /hooks/a%20b/%C3%A9%00?q=1%202&r=%2F HTTP/1.1")]


async def test_a_kept_alive_connection_closed_as_the_request_arrives_is_resent_once_on_a_fresh_one(client):
    seen = Recorder()

    async def script(reader, writer, number):
        await seen.answer(reader, writer, number)
        if number == 1:
            await seen.read(reader, number)  # the idle timeout of a server, just as the next request came
            return
        while True:
            await seen.answer(reader, writer, number)

    async with ScriptedServer(script) as server:
        assert (await client.send("POST", server.url, b"[]", {}, timeout=5)).ok
        assert (await client.send("POST", server.url, b"[]", {}, timeout=5)).ok
        assert [number for number, _ in seen.requests] == [1, 1, 2]


@pytest.mark.parametrize("partial", [b"", b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab"])
async def test_a_request_is_not_resent_after_a_fresh_connection_closes_or_an_answer_began(client, partial):
    seen = Recorder()

    async def script(reader, writer, number):
        if number == 1 and partial:  # a complete first answer, then a cut-short second one
            await seen.answer(reader, writer, number)
        await seen.answer(reader, writer, number, partial)

    async with ScriptedServer(script) as server:
        if partial:
            assert (await client.send("POST", server.url, b"[]", {}, timeout=5)).ok
        answer = await client.send("POST", server.url, b"[]", {}, timeout=5)
        assert answer.verdict is Verdict.RETRYABLE and answer.failure == "connect"
        assert "closed before the answer was complete" in answer.error
        assert len(seen.requests) == (2 if partial else 1)
