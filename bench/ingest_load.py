"""Load generator of ``bench/ingest.py``, run in its own process: OTLP log requests over HTTP or gRPC.

    .venv/bin/python bench/ingest_load.py URL KEY --protocol http|grpc [--duration 10] [--clients 16]
        [--records 100] [--rate 0] [--offset 0]

Prints one JSON line: elapsed seconds, answers by status ("200" for HTTP 200 or gRPC OK, else the
HTTP status or the gRPC code name), records acknowledged, latency percentiles, CPU used. Each
body is a template of ``records`` log records plus a trailing unknown protobuf field carrying a
counter (ignored by every OTLP decoder) so that JetStream's de-duplication never hides a record.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import subprocess
import sys
import time

LOGS_METHOD = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"


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


class GrpcConnection:
    """One gRPC channel (one HTTP/2 connection) calling LogsService/Export with raw bytes."""

    def __init__(self, channel, key: str) -> None:
        self.channel = channel
        self.export = channel.unary_unary(LOGS_METHOD)
        self.metadata = (("x-api-key", key),)

    @classmethod
    async def open(cls, url: str, key: str) -> GrpcConnection:
        from grpc import aio

        # A channel per client: gRPC would otherwise put every client on one connection.
        channel = aio.insecure_channel(url.removeprefix("http://"), options=[("grpc.use_local_subchannel_pool", 1)])
        return cls(channel, key)

    async def post(self, body: bytes) -> int | str:
        import grpc

        try:
            await self.export(body, metadata=self.metadata, timeout=30)
        except grpc.aio.AioRpcError as error:
            return error.code().name
        return 200

    async def close(self) -> None:
        await self.channel.close()


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

    async def close(self) -> None:
        self.writer.close()


async def drive(url: str, key: str, duration: float, clients: int, records: int, rate: float,
                offset: int, protocol: str = "http") -> dict:
    """Closed loop (rate == 0: each client sends as fast as answers come) or open loop at ``rate`` req/s."""
    template = build_body_template(records)
    counter = iter(range(offset, offset + 10**9))
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    connection_type = GrpcConnection if protocol == "grpc" else HttpConnection
    pool: asyncio.Queue = asyncio.Queue()
    for _ in range(clients):
        pool.put_nowait(await connection_type.open(url, key))

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
        await pool.get_nowait().close()
    latencies.sort()
    return {"elapsed": elapsed, "statuses": statuses, "requests": len(latencies),
            "accepted_records": statuses.get("200", 0) * records,
            "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else None,
            "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else None,
            "mean_ms": 1000 * statistics.fmean(latencies) if latencies else None,
            "used": next(counter) - offset, "cpu": time.process_time()}


def run_driver(url: str, key: str, duration: float, clients: int, records: int, rate: float,
               offset: int, protocol: str = "http") -> dict:
    """Run this module as its own process (the client must not share the receiver's interpreter)."""
    command = [sys.executable, __file__, url, key, "--protocol", protocol, "--duration", str(duration),
               "--clients", str(clients), "--records", str(records), "--rate", str(rate),
               "--offset", str(offset)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("key")
    parser.add_argument("--protocol", choices=("http", "grpc"), default="http")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--records", type=int, default=100)
    parser.add_argument("--rate", type=float, default=0.0, help="requests/s (0: closed loop)")
    parser.add_argument("--offset", type=int, default=0)
    a = parser.parse_args()
    print(json.dumps(asyncio.run(drive(a.url, a.key, a.duration, a.clients, a.records, a.rate, a.offset,
                                       a.protocol))))
