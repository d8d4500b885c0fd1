"""CPU per request of the outbound core against a minimal loopback agent, beside plain httpx.

Starts the same minimal agent as bench/pipeline.py (a separate process answering 200 at
once), then sends N POSTs of a batch-10-sized body with C requests in flight and reports
the client's CPU microseconds per request (process time: independent of other load).

    .venv/bin/python bench/outbound_client.py [--requests 20000] [--concurrency 8] [--profile FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

import httpx  # noqa: E402

from bench.agent_sim import agent_command  # noqa: E402
from glassflow_site.natsserver import free_port  # noqa: E402
from outbound import Outbound  # noqa: E402

BODY = b"[" + b",".join([b'{"timestamp":"2026-01-15T10:30:02Z","body":"connection refused","n":1}'] * 10) + b"]"
HEADERS = {"Content-Type": "application/json", "X-Project-ID": "bench", "X-Request-ID": "0" * 36}


async def drive(send, requests: int, concurrency: int) -> float:
    """CPU microseconds per request over ``requests`` sends with ``concurrency`` in flight."""
    queue = iter(range(requests))

    async def lane():
        for _ in queue:
            await send()

    await asyncio.gather(*(lane() for _ in range(concurrency)))  # warm-up pass below is separate
    return 0.0


async def measure(name: str, make_send, close, requests: int, concurrency: int, profile: Path | None) -> None:
    await drive(make_send, 200, concurrency)  # connections open, caches warm
    profiler = cProfile.Profile() if profile else None
    cpu, wall = time.process_time(), time.monotonic()
    if profiler:
        profiler.enable()
    await drive(make_send, requests, concurrency)
    if profiler:
        profiler.disable()
        profiler.dump_stats(str(profile))
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    print(f"{name:<28} {cpu / requests * 1e6:7.0f} us CPU per request   {requests / wall:8,.0f} requests/s")
    await close()


async def main(requests: int, concurrency: int, profile: Path | None) -> None:
    port = free_port()
    agent = subprocess.Popen(agent_command(port, "instant"), stdout=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/ingest"
    try:
        await asyncio.sleep(0.5)
        outbound = Outbound(allow_private=True)

        async def core_send():
            answer = await outbound.send("POST", url, BODY, HEADERS, timeout=10, target="the agent endpoint")
            assert answer.ok, answer.error

        await measure("outbound core (http1)", core_send, outbound.close, requests, concurrency, profile)
        client = httpx.AsyncClient(limits=httpx.Limits(max_connections=100, max_keepalive_connections=50))

        async def httpx_send():
            response = await client.post(url, content=BODY, headers=HEADERS, timeout=10)
            assert response.status_code == 200

        await measure("httpx.AsyncClient (before)", httpx_send, client.aclose, requests, concurrency, None)
    finally:
        agent.terminate()
        agent.communicate(timeout=10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--profile", type=Path, help="write a cProfile of the core's run to this file")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.requests, arguments.concurrency, arguments.profile))
