"""End-to-end latency: from an OTLP/HTTP log request being sent to the receiver until the agent
receives each of its records in a batch from the pipeline worker.

    .venv/bin/python bench/e2e_latency.py [--rate 1000] [--per-request 100] [--duration 20]
                                          [--batch-size 10] [--batch-max-wait-ms 50]

Starts its own nats-server (temporary store), writes one project's streams and configuration
document (an API key; an enabled pipeline with a filter and a transform, ``batchMaxWaitMs`` 50)
straight into NATS -- no database -- then ONE receiver (``manage.py runreceiver``), ONE pipeline
worker (``manage.py runpipeline``) and a fast local agent in its own process (a bare asyncio
HTTP/1.1 server that answers 200 at once and keeps the bodies for later). This process offers
log records at a fixed rate (open loop: ``rate / per-request`` protobuf requests per second, each
sent on schedule whether or not the previous one was answered); every record carries its
sequence number and the monotonic time its request was sent in its attributes. The agent stamps
each body on arrival with the same clock (CLOCK_MONOTONIC is system-wide on Linux), so each
record's latency is agent arrival minus request send. A 2 s warm-up at the same rate runs first
on the fresh processes and is drained before the measured phase; it is reported, not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import secrets
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.agent_sim import agent_command  # noqa: E402

TARGET_P99_MS = 100.0
WARM_UP_SECONDS = 2.0
MEASURED_FROM = 10**8  # sequence numbers of the measured phase start here; below: warm-up


def load_bench_module(name: str, filename: str):
    """A module of bench/ loaded by path (the name ``ingest`` is the project's app)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / filename)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_ingest_bench():
    """bench/ingest.py's /proc helpers, with bench/ingest_load.py's raw keep-alive HTTP client."""
    module = load_bench_module("bench_ingest", "ingest.py")
    module.HttpConnection = load_bench_module("bench_ingest_load", "ingest_load.py").HttpConnection
    return module


def log_request(first_seq: int, count: int, sent_ns: int) -> bytes:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

    request = ExportLogsServiceRequest()
    resource_logs = request.resource_logs.add()
    resource_logs.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value="checkout")))
    scope_logs = resource_logs.scope_logs.add()
    scope_logs.scope.name = "shop.checkout"
    now = time.time_ns()
    for seq in range(first_seq, first_seq + count):
        log = scope_logs.log_records.add()
        log.time_unix_nano = now
        log.severity_number = 17
        log.severity_text = "error"
        log.body.string_value = f"Connection refused: database pool exhausted (request {seq})"
        log.attributes.extend([KeyValue(key="seq", value=AnyValue(int_value=seq)),
                               KeyValue(key="sent_ns", value=AnyValue(int_value=sent_ns))])
    return request.SerializeToString()


def config_document(project_id: str, prefix: str, secret: str, agent_url: str, args: argparse.Namespace) -> dict:
    from projects.apikeys import hash_key

    return {"schema": 1, "projectId": project_id, "name": "e2e-latency", "version": 1,
            "generatedAt": "2026-01-01T00:00:00Z",
            "streams": {"raw": f"gf-ai-raw-{project_id}", "output": f"gf-ai-output-{project_id}",
                        "dlq": f"gf-ai-dlq-{project_id}"},
            "apiKeys": [{"id": 1, "prefix": prefix, "hash": hash_key(secret)}], "sinks": [],
            "pipeline": {"enabled": True, "filter": "severityNumber >= 17",
                         "transforms": [{"expression": "upper(severityText)", "output_name": "level",
                                         "output_type": "string"}],
                         "agentEndpoint": agent_url, "agentHeaders": {"Authorization": "Bearer bench"},
                         "batchSize": args.batch_size, "batchMaxWaitMs": args.batch_max_wait_ms,
                         "signals": ["logs"], "requestTimeoutMs": 10_000,
                         "retry": {"initialBackoffMs": 500,
                                   "maxBackoffMs": 30_000}}}


async def setup(nats_url: str, document: dict) -> None:
    import nats

    from projects.natsops import config_bucket, ensure_streams, put_config_document
    from projects.streams import StreamLimits

    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await ensure_streams(js, document["projectId"], StreamLimits(max_bytes=1024**3))
    await put_config_document(await config_bucket(js, "gf-ai-config", 1), document)
    await nc.close()


async def wait_for_consumer(nats_url: str, project_id: str, timeout: float = 60.0) -> None:
    """The pipeline worker has started the project once its durable consumer exists."""
    import nats

    nc = await nats.connect(nats_url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                await nc.jetstream().consumer_info(f"gf-ai-raw-{project_id}", "pipeline")
                return
            except nats.js.errors.NotFoundError:
                await asyncio.sleep(0.1)
        raise RuntimeError("the pipeline worker did not start the project's consumer")
    finally:
        await nc.close()


async def trace_consumer(nats_url: str, project_id: str, path: str, stop: asyncio.Event) -> None:
    """Every 50 ms: time, num_pending, num_ack_pending, num_waiting of the pipeline consumer, to tell a
    worker with no pull request out (pending grows, waiting 0) from one stuck delivering (ack_pending grows)."""
    import nats

    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    with open(path, "w") as out:
        while not stop.is_set():
            info = await js.consumer_info(f"gf-ai-raw-{project_id}", "pipeline")
            out.write(f"{time.monotonic_ns()} {info.num_pending} {info.num_ack_pending} {info.num_waiting}\n")
            await asyncio.sleep(0.05)
    await nc.close()


async def offer(url: str, key: str, rate: float, per_request: int, duration: float, connection_class,
                first_seq: int = 0, trace: tuple[str, str, str] | None = None) -> dict:
    """Open loop: a request every ``per_request / rate`` seconds, each on a free keep-alive connection."""
    stop_trace = asyncio.Event()
    tracer = asyncio.create_task(trace_consumer(*trace, stop_trace)) if trace else None
    pool: asyncio.Queue = asyncio.Queue()
    for _ in range(8):
        pool.put_nowait(await connection_class.open(url, key))
    statuses: dict[int, int] = {}
    answered_ms: list[float] = []  # POST sent -> 200 back: the receiver's share of the latency
    tasks: set[asyncio.Task] = set()
    seq = first_seq

    async def one(first: int) -> None:
        connection = await pool.get()
        try:
            sent = time.monotonic_ns()  # the records carry the moment their request goes out
            status = await connection.post(log_request(first, per_request, sent))
            answered_ms.append((time.monotonic_ns() - sent) / 1e6)
        finally:
            pool.put_nowait(connection)
        statuses[status] = statuses.get(status, 0) + 1

    interval = per_request / rate
    began = time.monotonic()
    next_at = began
    while next_at < began + duration:
        delay = next_at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(seq))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        seq += per_request
        next_at += interval
    await asyncio.gather(*tasks)
    if tracer is not None:
        stop_trace.set()
        await tracer
    while not pool.empty():
        pool.get_nowait().writer.close()
    return {"offered": seq - first_seq, "elapsed": time.monotonic() - began, "statuses": statuses,
            "accepted": statuses.get(200, 0) * per_request, "answered_ms": sorted(answered_ms)}


def wait_agent(agent_url: str, expected: int, timeout: float) -> int:
    import httpx

    deadline = time.monotonic() + timeout
    received = 0
    while time.monotonic() < deadline:
        received = int(httpx.get(agent_url + "count", timeout=2).text)
        if received >= expected:
            break
        time.sleep(0.1)
    return received


def percentile(sorted_values: list[float], share: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * share))]


def main(args: argparse.Namespace) -> int:
    from glassflow_site.natsserver import NatsServer, free_port

    print("command:", shlex.join([sys.executable, *sys.argv]), flush=True)
    ingest_bench = load_ingest_bench()
    with tempfile.TemporaryDirectory(prefix="gf-bench-e2e-") as tmp:
        store = Path(tmp)
        server = NatsServer(store / "nats").start()
        processes: dict[str, subprocess.Popen] = {}
        try:
            project_id = str(uuid.uuid4())
            prefix = "gfk_" + secrets.token_hex(4)
            secret = f"{prefix}_{secrets.token_urlsafe(32)}"
            agent_port, receiver_port = free_port(), free_port()
            agent_url, receiver_url = f"http://127.0.0.1:{agent_port}/", f"http://127.0.0.1:{receiver_port}"
            asyncio.run(setup(server.url, config_document(project_id, prefix, secret, agent_url, args)))
            processes["agent"] = subprocess.Popen(agent_command(agent_port, "arrivals", str(store / "arrivals.txt")))
            env = {**os.environ, "NATS_URL": server.url, "SECRET_KEY": "bench-" + secrets.token_hex(16),
                   "DEBUG": "0", "GLASSFLOW_VAR_DIR": str(store / "var"), "LOG_LEVEL": "WARNING",
                   "ALLOW_PRIVATE_TARGETS": "1"}
            for name, command in (("receiver", ["runreceiver", "--host", "127.0.0.1", "--port", str(receiver_port), "--grpc-port", "0"]),
                                  ("pipeline", ["runpipeline", "--metrics-port", "0", "--worker-id", "bench"])):
                log = open(store / f"{name}.log", "wb")  # noqa: SIM115  closed with the process
                processes[name] = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), *command], env=env,
                                                   cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
            ingest_bench.wait_ready(receiver_url)
            asyncio.run(wait_for_consumer(server.url, project_id))

            # Warm-up at the same rate on the fresh processes (first connections, lazy imports), drained
            # before the measured phase starts.
            warm = asyncio.run(offer(receiver_url, secret, args.rate, args.per_request, WARM_UP_SECONDS,
                                     ingest_bench.HttpConnection))
            wait_agent(agent_url, warm["accepted"], timeout=30)
            cpu_before = {name: ingest_bench.cpu_seconds(p.pid) for name, p in processes.items()}
            cpu_before["nats-server"] = ingest_bench.cpu_seconds(server.process.pid)
            trace = (server.url, project_id, args.consumer_trace) if args.consumer_trace else None
            load = asyncio.run(offer(receiver_url, secret, args.rate, args.per_request, args.duration,
                                     ingest_bench.HttpConnection, MEASURED_FROM, trace))
            accepted = load["accepted"]
            received = wait_agent(agent_url, warm["accepted"] + accepted, timeout=30) - warm["accepted"]
            cpu = {name: ingest_bench.cpu_seconds(p.pid) - cpu_before[name] for name, p in processes.items()}
            cpu["nats-server"] = ingest_bench.cpu_seconds(server.process.pid) - cpu_before["nats-server"]
            for name in ("pipeline", "receiver"):  # before the agent, so no connection is cut mid-request
                processes[name].terminate()
                processes[name].wait(30)
            processes["agent"].send_signal(signal.SIGTERM)
            processes["agent"].wait(60)
            text = (store / "arrivals.txt").read_text()
            if args.arrivals:  # "seq sent_ns arrived_ns" per record received, for a closer look
                Path(args.arrivals).write_text(text)
            arrivals = [tuple(map(int, line.split())) for line in text.splitlines()]
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.terminate()
            for process in processes.values():
                process.wait(30)
            server.stop()

    first_arrival: dict[int, tuple[int, int]] = {}
    for seq, sent, arrived in arrivals:
        if seq not in first_arrival or arrived < first_arrival[seq][1]:
            first_arrival[seq] = (sent, arrived)
    measured = sorted((arrived - sent) / 1e6 for seq, (sent, arrived) in first_arrival.items()
                      if seq >= MEASURED_FROM)
    warm_up = sorted((arrived - sent) / 1e6 for seq, (sent, arrived) in first_arrival.items()
                     if seq < MEASURED_FROM)
    distinct = len(measured)
    duplicates = sum(1 for seq, _, _ in arrivals if seq >= MEASURED_FROM) - distinct
    answered = load["answered_ms"]
    p99 = percentile(measured, 0.99) if measured else float("inf")
    print()
    print(f"End-to-end latency, OTLP/HTTP POST sent -> record received by the agent: 1 receiver, 1 pipeline worker "
          f"(filter + 1 transform, batch size {args.batch_size}, batch_max_wait_ms {args.batch_max_wait_ms}), "
          f"{args.rate:,.0f} records/s offered as {args.rate / args.per_request:,.0f} requests/s of "
          f"{args.per_request} for {args.duration:g} s, after a {WARM_UP_SECONDS:g} s warm-up at the same rate")
    rows = [
        ("records offered / answered 200", f"{load['offered']:,} / {accepted:,}",
         f"statuses {dict(sorted(load['statuses'].items()))}"),
        ("records received by the agent (distinct)", f"{distinct:,}",
         f"missing {max(0, accepted - distinct):,}, duplicates {duplicates:,}"),
        ("p50", f"{percentile(measured, 0.50):.1f} ms" if measured else "-", ""),
        ("p90", f"{percentile(measured, 0.90):.1f} ms" if measured else "-", ""),
        ("p99", f"{p99:.1f} ms", f"target < {TARGET_P99_MS:g} ms: {'PASS' if p99 < TARGET_P99_MS else 'FAIL'}"),
        ("max", f"{measured[-1]:.1f} ms" if measured else "-", ""),
        ("receiver alone: POST sent -> 200, p50 / p99 / max", " / ".join(
            f"{value:.1f}" for value in (percentile(answered, 0.5), percentile(answered, 0.99), answered[-1]))
         + " ms" if answered else "-", "part of the figures above"),
        ("warm-up on fresh processes (not counted): p99 / max", " / ".join(
            f"{value:.1f}" for value in (percentile(warm_up, 0.99), warm_up[-1])) + " ms" if warm_up else "-",
         f"{len(warm_up):,} records"),
        ("CPU over the measured run (share of one core)",
         " / ".join(f"{name} {seconds / load['elapsed']:.0%}" for name, seconds in cpu.items()), ""),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    complete = received >= accepted and distinct >= accepted
    return 0 if complete and p99 < TARGET_P99_MS else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=1000.0, help="log records per second offered")
    parser.add_argument("--per-request", type=int, default=100, help="log records per OTLP request")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load")
    parser.add_argument("--batch-size", type=int, default=10, help="pipeline batch size")
    parser.add_argument("--batch-max-wait-ms", type=int, default=50, help="pipeline batch_max_wait_ms")
    parser.add_argument("--arrivals", help="also write 'seq sent_ns arrived_ns' per received record to this file")
    parser.add_argument("--consumer-trace", help="sample the pipeline consumer's state every 50 ms into this file")
    sys.exit(main(parser.parse_args()))
