"""Benchmark of the OTLP/HTTP receiver: durable records/s, latency at half that rate, and a
plain nats-py ``js.publish_async`` loop for comparison.

    .venv/bin/python bench/ingest.py [--duration 10] [--clients 8] [--records 100]

Starts its own nats-server (temporary store), creates one project's streams and writes its
config document (one API key) straight into the KV bucket -- no database -- then starts ONE
receiver process (``manage.py runreceiver``, one uvicorn worker). The load comes from a
separate process (this script with ``--drive``) so the client does not steal the receiver's
CPU inside one interpreter. Every request carries 100 distinct log records as protobuf; a
trailing unknown protobuf field (ignored by every OTLP decoder) makes each body unique, so
JetStream's de-duplication never hides a record. At the end the stream's message count is
checked against the records the receiver acknowledged with 200.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_RATE = 15_000
STRETCH_RATE = 40_000
TARGET_P99_MS = 50.0


# ---------------------------------------------------------------- load generator (own process)

def build_body_template(records: int) -> bytes:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

    def kv(key: str, value: object) -> KeyValue:
        if isinstance(value, bool):
            return KeyValue(key=key, value=AnyValue(bool_value=value))
        if isinstance(value, int):
            return KeyValue(key=key, value=AnyValue(int_value=value))
        return KeyValue(key=key, value=AnyValue(string_value=str(value)))

    request = ExportLogsServiceRequest()
    resource_logs = request.resource_logs.add()
    resource_logs.resource.attributes.extend([kv("service.name", "checkout-api"),
                                              kv("k8s.pod.name", "checkout-api-7d9f8b6c5-x2kqp"),
                                              kv("deployment.environment", "production")])
    scope_logs = resource_logs.scope_logs.add()
    scope_logs.scope.name = "shop.checkout"
    now = time.time_ns()
    for i in range(records):
        log = scope_logs.log_records.add()
        log.time_unix_nano = now + i * 1000
        log.severity_number = 9 if i % 10 else 17
        log.severity_text = "INFO" if i % 10 else "ERROR"
        log.body.string_value = f"request {i} handled: GET /api/cart/{i} status=200 duration_ms={i % 97}"
        log.attributes.extend([kv("http.method", "GET"), kv("http.status_code", 200), kv("user.id", f"u-{i}")])
        log.trace_id = secrets.token_bytes(16)
        log.span_id = secrets.token_bytes(8)
    return request.SerializeToString()


def unique_suffix(n: int) -> bytes:
    """Unknown field 1000 (varint) = n: legal protobuf that decoders skip, making each body unique."""
    def varint(value: int) -> bytes:
        out = bytearray()
        while True:
            low, value = value & 0x7F, value >> 7
            out.append(low | (0x80 if value else 0))
            if not value:
                return bytes(out)
    return varint(1000 << 3) + varint(n)


class HttpConnection:
    """A bare HTTP/1.1 keep-alive connection: a few hundred CPU-microseconds per request, where an
    httpx request costs milliseconds; the load generator shares the 2 cores with the receiver."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes) -> None:
        self.reader, self.writer, self.head = reader, writer, head

    @classmethod
    async def open(cls, url: str, key: str) -> HttpConnection:
        host, _, port = url.removeprefix("http://").partition(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        head = (f"POST /v1/logs HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/x-protobuf\r\n"
                f"X-API-Key: {key}\r\nContent-Length: ").encode()
        return cls(reader, writer, head)

    async def post(self, body: bytes) -> int:
        self.writer.write(b"%b%d\r\n\r\n%b" % (self.head, len(body), body))
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length:
            await self.reader.readexactly(length)
        return status


async def drive(url: str, key: str, duration: float, clients: int, records: int, rate: float,
                offset: int) -> dict:
    """Closed loop (rate == 0: each client sends as fast as answers come) or open loop at ``rate`` req/s."""
    template = build_body_template(records)
    counter = iter(range(offset, offset + 10**9))
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    pool: asyncio.Queue[HttpConnection] = asyncio.Queue()
    for _ in range(clients):
        pool.put_nowait(await HttpConnection.open(url, key))

    async def one() -> None:
        body = template + unique_suffix(next(counter))
        started = time.perf_counter()  # open loop: waiting for a free connection counts as latency
        connection = await pool.get()
        try:
            status = str(await connection.post(body))  # str: the result travels as JSON
        finally:
            pool.put_nowait(connection)
        latencies.append(time.perf_counter() - started)
        statuses[status] = statuses.get(status, 0) + 1

    began = time.perf_counter()
    end = began + duration
    if rate <= 0:
        async def worker() -> None:
            while time.perf_counter() < end:
                await one()
        await asyncio.gather(*(worker() for _ in range(clients)))
    else:
        interval = 1.0 / rate
        tasks = set()
        next_at = began
        while next_at < end:
            delay = next_at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(one())
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            next_at += interval
        await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - began
    while not pool.empty():
        pool.get_nowait().writer.close()
    latencies.sort()
    return {"elapsed": elapsed, "statuses": statuses, "requests": len(latencies),
            "accepted_records": statuses.get("200", 0) * records,
            "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else None,
            "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else None,
            "mean_ms": 1000 * statistics.fmean(latencies) if latencies else None,
            "used": next(counter) - offset, "cpu": time.process_time()}


def run_driver(url: str, key: str, duration: float, clients: int, records: int, rate: float,
               offset: int) -> dict:
    command = [sys.executable, __file__, "--drive", url, "--key", key, "--duration", str(duration),
               "--clients", str(clients), "--records", str(records), "--rate", str(rate),
               "--offset", str(offset)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


# ---------------------------------------------------------------- setup and comparison

async def setup_project(nats_url: str, project_id: str, prefix: str, secret: str) -> None:
    import nats

    from projects.keys import hash_key
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
    """User + system CPU time a process has used so far (from /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


def main(args: argparse.Namespace) -> int:
    from glassflow_site.natsserver import NatsServer, free_port

    with tempfile.TemporaryDirectory(prefix="gf-bench-", dir=args.store_dir) as tmp:
        server = NatsServer(Path(tmp) / "nats").start()
        receiver = None
        try:
            project_id = str(uuid.uuid4())
            prefix = "gfk_" + secrets.token_hex(4)
            secret = f"{prefix}_{secrets.token_urlsafe(32)}"
            asyncio.run(setup_project(server.url, project_id, prefix, secret))
            port = free_port()
            env = {**os.environ, "NATS_URL": server.url, "SECRET_KEY": "bench-" + secrets.token_hex(16),
                   "DEBUG": "0", "GLASSFLOW_VAR_DIR": str(Path(tmp) / "var"), "LOG_LEVEL": "WARNING"}
            receiver = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "runreceiver", "--host",
                                         "127.0.0.1", "--port", str(port)], env=env, cwd=ROOT)
            url = f"http://127.0.0.1:{port}"
            wait_ready(url)
            warm = run_driver(url, secret, 2, args.clients, args.records, 0, 0)

            before = cpu_seconds(receiver.pid), cpu_seconds(server.process.pid)
            full = run_driver(url, secret, args.duration, args.clients, args.records, 0, 10**6)
            receiver_cpu = (cpu_seconds(receiver.pid) - before[0]) / full["elapsed"]
            server_cpu = (cpu_seconds(server.process.pid) - before[1]) / full["elapsed"]
            client_cpu = full["cpu"] / full["elapsed"]
            rate = full["accepted_records"] / full["elapsed"]
            half_rate_requests = rate / 2 / args.records
            half = run_driver(url, secret, args.duration, args.clients * 4, args.records, half_rate_requests,
                              2 * 10**6)
            rss, peak = rss_kib(receiver.pid)
            stored = asyncio.run(stream_count(server.url, f"gf-ai-raw-{project_id}"))
            acknowledged = warm["accepted_records"] + full["accepted_records"] + half["accepted_records"]
            plain, plain_cpu = asyncio.run(publish_async_loop(server.url, args.duration))
        finally:
            if receiver is not None:
                receiver.terminate()
                receiver.wait(30)
            server.stop()

    print()
    print(f"OTLP/HTTP receiver benchmark: 1 receiver process (1 uvicorn worker), {args.clients} closed-loop "
          f"clients, {args.records} log records per protobuf request, {args.duration:g}s per phase, "
          f"JetStream store in {args.store_dir or tempfile.gettempdir()}")
    import importlib.util

    accelerated = [name for name in ("uvloop", "httptools") if importlib.util.find_spec(name)]
    print("receiver event loop / HTTP parser: "
          f"{'uvloop' if 'uvloop' in accelerated else 'asyncio'} / {'httptools' if 'httptools' in accelerated else 'h11'}"
          " (uvicorn picks uvloop and httptools when they are installed)")
    rows = [
        ("durable log records/s (200 = all acked)", f"{rate:,.0f}",
         f">= {TARGET_RATE:,} (target {STRETCH_RATE:,})", "PASS" if rate >= TARGET_RATE else "FAIL"),
        ("requests/s at full load", f"{full['requests'] / full['elapsed']:,.0f}", "", ""),
        ("CPU at full load: receiver / nats-server / client",
         f"{receiver_cpu:.0%} / {server_cpu:.0%} / {client_cpu:.0%}", "of one core each", ""),
        ("records per receiver CPU-second", f"{rate / max(receiver_cpu, 1e-9):,.0f}", "", ""),
        ("non-200 answers at full load", str({s: n for s, n in full["statuses"].items() if s != "200"}), "{}",
         "PASS" if set(full["statuses"]) <= {"200"} else "FAIL"),
        (f"p50 latency at half rate ({rate / 2:,.0f} rec/s)", f"{half['p50_ms']:.1f} ms", "", ""),
        ("p99 latency at half rate", f"{half['p99_ms']:.1f} ms", f"< {TARGET_P99_MS:g} ms",
         "PASS" if half["p99_ms"] < TARGET_P99_MS else "FAIL"),
        ("plain js.publish_async loop, 400-byte msgs/s", f"{plain:,.0f}", "receiver beats it",
         "PASS" if rate > plain else "FAIL"),
        ("publish_async loop: messages per CPU-second", f"{plain / max(plain_cpu, 1e-9):,.0f}",
         f"receiver: {rate / max(receiver_cpu, 1e-9):,.0f} records per CPU-second", ""),
        ("receiver RSS now / peak", f"{rss / 1024:.0f} / {peak / 1024:.0f} MiB", "", ""),
        ("records in stream / acknowledged with 200", f"{stored:,} / {acknowledged:,}", "none lost",
         "PASS" if stored >= acknowledged else "FAIL"),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per phase")
    parser.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients at full load")
    parser.add_argument("--records", type=int, default=100, help="log records per request")
    parser.add_argument("--store-dir", default=None,
                        help="where the temporary JetStream store goes (default: the system temp dir; "
                             "/dev/shm takes the disk's writeback stalls out of the latency figures)")
    parser.add_argument("--drive", help=argparse.SUPPRESS)
    parser.add_argument("--key", help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--offset", type=int, default=0, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.drive:
        print(json.dumps(asyncio.run(drive(arguments.drive, arguments.key, arguments.duration, arguments.clients,
                                           arguments.records, arguments.rate, arguments.offset))))
        sys.exit(0)
    sys.exit(main(arguments))
