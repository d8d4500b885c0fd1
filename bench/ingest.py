"""Benchmark of the OTLP receiver: durable records/s over HTTP and gRPC, latency at half the HTTP
rate, a plain nats-py ``js.publish_async`` loop for comparison, and records/s per worker count.

    .venv/bin/python bench/ingest.py [--duration 10] [--clients 16] [--records 100] [--workers 1,2]

Starts its own nats-server (temporary store), creates one project's streams and writes its
config document (one API key) straight into the KV bucket -- no database -- then starts ONE
receiver process (``manage.py runreceiver``, one uvicorn worker, HTTP and gRPC). The load comes
from a separate process (``bench/ingest_load.py``) so the client does not steal the receiver's
CPU inside one interpreter. Then, for each ``--workers`` count, a ``runreceiver --workers N``
is measured over HTTP and gRPC (closed loop). Every request carries 100 distinct log records as protobuf; a
trailing unknown protobuf field (ignored by every OTLP decoder) makes each body unique, so
JetStream's de-duplication never hides a record. At the end the stream's message count is
checked against the records the receiver acknowledged with 200.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest_load import run_driver  # noqa: E402  (needs ROOT on the path)

TARGET_RATE = 15_000
STRETCH_RATE = 40_000
TARGET_P99_MS = 50.0
GRPC_TARGET_RATE = 30_000


# ---------------------------------------------------------------- setup and comparison

async def setup_project(nats_url: str, project_id: str, prefix: str, secret: str) -> None:
    import nats

    from projects.apikeys import hash_key
    from projects.natsops import config_bucket, ensure_streams, put_config_document
    from projects.streams import StreamLimits

    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await ensure_streams(js, project_id, StreamLimits(max_bytes=2 * 1024**3))
    kv = await config_bucket(js, "gf-ai-config", 1)
    # Shaped like projects/configdoc.py's output; the receiver reads projectId and apiKeys.
    await put_config_document(kv, {
        "schema": 1, "projectId": project_id, "name": "bench", "version": 1,
        "generatedAt": "2026-01-01T00:00:00Z",
        "streams": {"raw": f"gf-ai-raw-{project_id}", "output": f"gf-ai-output-{project_id}",
                    "dlq": f"gf-ai-dlq-{project_id}"},
        "apiKeys": [{"id": 1, "prefix": prefix, "hash": hash_key(secret)}],
        "pipeline": {"enabled": False}, "sinks": []})
    await nc.close()


async def stream_count(nats_url: str, stream: str) -> int:
    import nats

    nc = await nats.connect(nats_url)
    try:
        return (await nc.jetstream().stream_info(stream)).state.messages
    finally:
        await nc.close()


async def publish_async_loop(nats_url: str, duration: float, size: int = 400) -> tuple[float, float]:
    """(messages/s, CPU share of this process) of a plain ``js.publish_async`` loop, all acks awaited."""
    import nats
    from nats.js.api import StreamConfig

    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name="bench-plain", subjects=["bench.plain"], max_bytes=2 * 1024**3))
    payload = b"x" * size
    sent = 0
    pending = []
    began = time.perf_counter()
    cpu_began = time.process_time()
    end = began + duration
    while time.perf_counter() < end:
        for _ in range(100):
            pending.append(await js.publish_async("bench.plain", payload))
        sent += 100
        if len(pending) >= 2000:
            await asyncio.gather(*pending)
            pending.clear()
    await asyncio.gather(*pending)
    elapsed = time.perf_counter() - began
    cpu = (time.process_time() - cpu_began) / elapsed
    stored = (await js.stream_info("bench-plain")).state.messages
    await nc.close()
    assert stored == sent, f"publish_async stored {stored} of {sent}"
    return sent / elapsed, cpu


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process and its live children have used so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{pid}/task/{pid}/children")
    for child in children.read_text().split() if children.exists() else ():
        total += cpu_seconds(int(child))
    return total


def rss_kib(pid: int) -> tuple[int, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def wait_ready(url: str, timeout: float = 30.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the receiver did not become ready")


class Receiver:
    """``manage.py runreceiver`` with HTTP and gRPC on free ports."""

    def __init__(self, env: dict[str, str], workers: int = 1) -> None:
        from glassflow_site.natsserver import free_port

        self.port, self.grpc_port = free_port(), free_port()
        self.process = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "runreceiver", "--host",
                                         "127.0.0.1", "--port", str(self.port), "--grpc-port", str(self.grpc_port),
                                         "--workers", str(workers)], env=env, cwd=ROOT)
        self.url = f"http://127.0.0.1:{self.port}"
        self.grpc_url = f"http://127.0.0.1:{self.grpc_port}"
        wait_ready(self.url)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def closed_loop(receiver: Receiver, secret: str, args: argparse.Namespace, protocol: str, offset: int
                ) -> tuple[dict, float, float]:
    """(driver result, records/s, receiver CPU share) of one closed-loop phase."""
    url = receiver.grpc_url if protocol == "grpc" else receiver.url
    before = cpu_seconds(receiver.process.pid)
    result = run_driver(url, secret, args.duration, args.clients, args.records, 0, offset, protocol)
    cpu = (cpu_seconds(receiver.process.pid) - before) / result["elapsed"]
    return result, result["accepted_records"] / result["elapsed"], cpu


def main(args: argparse.Namespace) -> int:
    from glassflow_site.natsserver import NatsServer

    worker_rates: list[tuple[int, float, float, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="gf-bench-", dir=args.store_dir) as tmp:
        server = NatsServer(Path(tmp) / "nats").start()
        receiver = None
        try:
            project_id = str(uuid.uuid4())
            prefix = "gfk_" + secrets.token_hex(4)
            secret = f"{prefix}_{secrets.token_urlsafe(32)}"
            asyncio.run(setup_project(server.url, project_id, prefix, secret))
            env = {**os.environ, "NATS_URL": server.url, "SECRET_KEY": "bench-" + secrets.token_hex(16),
                   "DEBUG": "0", "GLASSFLOW_VAR_DIR": str(Path(tmp) / "var"), "LOG_LEVEL": "WARNING"}
            receiver = Receiver(env)
            acknowledged = run_driver(receiver.url, secret, 2, args.clients, args.records, 0, 0)["accepted_records"]
            acknowledged += run_driver(receiver.grpc_url, secret, 2, args.clients, args.records, 0, 10**6,
                                       "grpc")["accepted_records"]

            before = cpu_seconds(server.process.pid)
            full, rate, receiver_cpu = closed_loop(receiver, secret, args, "http", 2 * 10**6)
            server_cpu = (cpu_seconds(server.process.pid) - before) / full["elapsed"]
            client_cpu = full["cpu"] / full["elapsed"]
            half_rate_requests = rate / 2 / args.records
            half = run_driver(receiver.url, secret, args.duration, args.clients * 4, args.records, half_rate_requests,
                              3 * 10**6)
            grpc_full, grpc_rate, grpc_cpu = closed_loop(receiver, secret, args, "grpc", 4 * 10**6)
            rss, peak = rss_kib(receiver.process.pid)
            acknowledged += full["accepted_records"] + half["accepted_records"] + grpc_full["accepted_records"]
            receiver.stop()
            receiver = None
            offset = 5 * 10**6
            for workers in args.workers:
                receiver = Receiver(env, workers)
                warm = run_driver(receiver.url, secret, 2, args.clients, args.records, 0, offset)  # all workers warm
                acknowledged += warm["accepted_records"]
                http_run, http_rate, http_cpu = closed_loop(receiver, secret, args, "http", offset + 10**6)
                grpc_run, grpc_workers_rate, grpc_workers_cpu = closed_loop(receiver, secret, args, "grpc",
                                                                            offset + 2 * 10**6)
                acknowledged += http_run["accepted_records"] + grpc_run["accepted_records"]
                worker_rates.append((workers, http_rate, http_cpu, grpc_workers_rate, grpc_workers_cpu))
                receiver.stop()
                receiver = None
                offset += 3 * 10**6
            stored = asyncio.run(stream_count(server.url, f"gf-ai-raw-{project_id}"))
            plain, plain_cpu = asyncio.run(publish_async_loop(server.url, args.duration))
        finally:
            if receiver is not None:
                receiver.stop()
            server.stop()

    print()
    print(f"OTLP receiver benchmark: 1 receiver process (1 uvicorn worker), {args.clients} closed-loop "
          f"clients, {args.records} log records per protobuf request, {args.duration:g}s per phase, "
          f"{os.cpu_count()} cores, JetStream store in {args.store_dir or tempfile.gettempdir()}")
    import importlib.util

    accelerated = [name for name in ("uvloop", "httptools") if importlib.util.find_spec(name)]
    print("receiver event loop / HTTP parser: "
          f"{'uvloop' if 'uvloop' in accelerated else 'asyncio'} / {'httptools' if 'httptools' in accelerated else 'h11'}"
          " (uvicorn picks uvloop and httptools when they are installed)")
    rows = [
        ("HTTP: durable log records/s (200 = all acked)", f"{rate:,.0f}",
         f">= {TARGET_RATE:,} (target {STRETCH_RATE:,})", "PASS" if rate >= TARGET_RATE else "FAIL"),
        ("gRPC: durable log records/s (OK = all acked)", f"{grpc_rate:,.0f}", f">= {GRPC_TARGET_RATE:,}",
         "PASS" if grpc_rate >= GRPC_TARGET_RATE else "FAIL"),
        ("requests/s at full load: HTTP / gRPC",
         f"{full['requests'] / full['elapsed']:,.0f} / {grpc_full['requests'] / grpc_full['elapsed']:,.0f}", "", ""),
        ("CPU at full HTTP load: receiver / nats-server / client",
         f"{receiver_cpu:.0%} / {server_cpu:.0%} / {client_cpu:.0%}", "of one core each", ""),
        ("records per receiver CPU-second: HTTP / gRPC",
         f"{rate / max(receiver_cpu, 1e-9):,.0f} / {grpc_rate / max(grpc_cpu, 1e-9):,.0f}", "", ""),
        ("non-OK answers at full load: HTTP / gRPC",
         f"{ {s: n for s, n in full['statuses'].items() if s != '200'} } / "
         f"{ {s: n for s, n in grpc_full['statuses'].items() if s != '200'} }", "{} / {}",
         "PASS" if set(full["statuses"]) | set(grpc_full["statuses"]) <= {"200"} else "FAIL"),
        (f"p50 latency at half HTTP rate ({rate / 2:,.0f} rec/s)", f"{half['p50_ms']:.1f} ms", "", ""),
        ("p99 latency at half HTTP rate", f"{half['p99_ms']:.1f} ms", f"< {TARGET_P99_MS:g} ms",
         "PASS" if half["p99_ms"] < TARGET_P99_MS else "FAIL"),
        ("plain js.publish_async loop, 400-byte msgs/s", f"{plain:,.0f}", "receiver beats it",
         "PASS" if rate > plain else "FAIL"),
        ("publish_async loop: messages per CPU-second", f"{plain / max(plain_cpu, 1e-9):,.0f}",
         f"receiver: {rate / max(receiver_cpu, 1e-9):,.0f} records per CPU-second", ""),
        ("receiver RSS now / peak", f"{rss / 1024:.0f} / {peak / 1024:.0f} MiB", "", ""),
    ]
    for workers, http_rate, http_cpu, grpc_workers_rate, grpc_workers_cpu in worker_rates:
        rows.append((f"--workers {workers}: records/s HTTP / gRPC (receiver CPU)",
                     f"{http_rate:,.0f} / {grpc_workers_rate:,.0f}",
                     f"({http_cpu:.0%} / {grpc_workers_cpu:.0%} of one core)", ""))
    rows.append(("records in stream / acknowledged", f"{stored:,} / {acknowledged:,}", "none lost",
                 "PASS" if stored >= acknowledged else "FAIL"))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per phase")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients at full load")
    parser.add_argument("--records", type=int, default=100, help="log records per request")
    parser.add_argument("--workers", type=lambda text: [int(n) for n in text.split(",") if n], default=[1, 2],
                        help="comma-separated worker counts to measure (empty: none)")
    parser.add_argument("--store-dir", default=None,
                        help="where the temporary JetStream store goes (default: the system temp dir; "
                             "/dev/shm takes the disk's writeback stalls out of the latency figures)")
    sys.exit(main(parser.parse_args()))
