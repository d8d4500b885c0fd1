"""The stand-in agents of the benchmarks, each run in its own process so its CPU is not the worker's:
``python bench/agent_sim.py PORT MODE [ARRIVALS_FILE]`` (``agent_command()`` builds that line).

A minimal asyncio HTTP/1.1 server (keep-alive, Content-Length bodies); only the stdlib, so it
starts fast and measures nothing of ours. Modes:

- ``instant`` answers 200 at once (bench/pipeline.py, bench/outbound_client.py);
- ``fixed:S`` answers 200 after S seconds;
- ``capacity:N:S`` answers 429 with ``Retry-After: 1`` at once when more than N requests are
  open, else 200 after S seconds;
- ``queue:B:K`` answers 200 after B x max(1, open / K) seconds (a queue that slows with load);
- ``slack:G`` answers 429 with ``Retry-After: 1`` to a request less than G seconds after the
  previous accepted one (Slack's one message a second), else 200, and notes ``req-NN`` in order;
- ``arrivals`` answers 200 at once and keeps each body with its arrival time (CLOCK_MONOTONIC,
  the sender's clock too), parsed only at the end so it costs nothing per record; a GET answers
  the number of records (``"sent_ns":`` keys) received so far (bench/e2e_latency.py).

On SIGTERM ``arrivals`` writes ``seq sent_ns arrived_ns`` lines to ARRIVALS_FILE; every other mode
prints one JSON line: requests, refused, records, latency p50/p99 (ms) of the answers after the
first 5 s, the order of ``req-NN`` ids and the accepted rate.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

REFUSE = b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 4\r\n\r\nbusy"
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}"


def agent_command(port: int, mode: str, *extra: str) -> list[str]:
    """The command line that runs this agent on 127.0.0.1:PORT in MODE."""
    return [sys.executable, str(Path(__file__).resolve()), str(port), mode, *extra]


async def serve(port: int, answer: Callable[[bytes, bytes], Awaitable[bytes]]) -> None:
    """Answer each request with ``await answer(head, body)`` until SIGTERM."""
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                body = await reader.readexactly(length)
                writer.write(await answer(head, body))
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            writer.close()  # client went away, or the server is shutting down

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=4096)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with server:
        await stop.wait()


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[round(q * (len(ordered) - 1))] * 1000, 1)


class Simulation:
    """The answering modes (all but ``arrivals``) and the figures they print."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        kind, *args = mode.split(":")
        self.kind, self.args = kind, [float(a) for a in args]
        self.requests = self.refused = self.records = self.open = 0
        self.first: float | None = None
        self.latencies: list[float] = []
        self.order: list[int] = []
        self.accepted: list[float] = []
        self.last_ok = 0.0

    async def answer(self, head: bytes, body: bytes) -> bytes:
        self.requests += 1
        self.records += body.count(b'"timestamp":')
        self.open += 1
        try:
            return await self.reply(body)
        finally:
            self.open -= 1

    async def reply(self, body: bytes) -> bytes:
        kind, args = self.kind, self.args
        now = time.monotonic()
        if self.first is None:
            self.first = now
        if kind == "instant":
            return OK
        if kind == "fixed":
            await asyncio.sleep(args[0])
            return OK
        if kind == "capacity":
            if self.open > args[0]:
                self.refused += 1
                return REFUSE
            await asyncio.sleep(args[1])
            return OK
        if kind == "queue":
            delay = args[0] * max(1.0, self.open / args[1])
            await asyncio.sleep(delay)
            if now - self.first >= 5.0:
                self.latencies.append(delay)
            return OK
        if kind == "slack":
            if now - self.last_ok < args[0] * 0.9:
                self.refused += 1
                return REFUSE
            self.last_ok = now
            self.accepted.append(now)
            found = re.search(rb"req-(\d+)", body)
            self.order.append(int(found.group(1)) if found else -1)
            return OK
        raise SystemExit(f"unknown mode {self.mode}")

    def report(self) -> None:
        accepted = self.accepted
        rate = (len(accepted) - 1) / (accepted[-1] - accepted[0]) if len(accepted) > 1 else 0.0
        print(json.dumps({"requests": self.requests, "refused": self.refused, "records": self.records,
                          "p50_ms": percentile(self.latencies, 0.5), "p99_ms": percentile(self.latencies, 0.99),
                          "order": self.order, "rate": rate}), flush=True)


class Arrivals:
    """``arrivals``: keep (arrival ns, body) pairs; write one line per record at the end."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.bodies: list[tuple[int, bytes]] = []
        self.records = 0

    async def answer(self, head: bytes, body: bytes) -> bytes:
        arrived = time.monotonic_ns()
        if head.startswith(b"GET"):
            text = str(self.records).encode()
        else:
            self.bodies.append((arrived, body))
            self.records += body.count(b'"sent_ns":')
            text = b"{}"
        return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%b" % (len(text), text)

    def report(self) -> None:
        with open(self.path, "w") as out:
            for arrived, body in self.bodies:
                for record in json.loads(body):
                    attributes = record["attributes"]
                    out.write(f"{attributes['seq']} {attributes['sent_ns']} {arrived}\n")


def main(argv: list[str]) -> None:
    port, mode = int(argv[1]), argv[2]
    agent = Arrivals(argv[3]) if mode == "arrivals" else Simulation(mode)
    asyncio.run(serve(port, agent.answer))
    agent.report()


if __name__ == "__main__":
    main(sys.argv)
