"""Throughput of the pipeline worker: records/s from a preloaded raw stream to a local agent.

Starts its own nats-server (temporary store), a minimal HTTP agent answering 200 in a
separate process, preloads N log records into one project's raw stream, then runs
``manage.py runpipeline`` (one process, then two on a second project) with a filter,
two transforms and batch size 100, and reports records/s until every message is acked.
For comparison it also runs a plain nats-py ``fetch`` + ``await msg.ack()`` loop over
the same data in the same run.

    .venv/bin/python bench/pipeline.py [--records 200000] [--skip-two] [--batch-size 100] [--profile DIR]

``--compare-run-history N`` instead runs one worker N times with the run history off and N
times with it on (alternating, each on a fresh project and a fresh process) and reports both,
with the CPU the worker and nats-server spent per record: the history's price.

    .venv/bin/python bench/pipeline.py --records 100000 --compare-run-history 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

import nats  # noqa: E402
from nats.js.api import AckPolicy, ConsumerConfig  # noqa: E402

from bench.agent_sim import agent_command  # noqa: E402
from glassflow_site.natsserver import NatsServer, free_port  # noqa: E402
from projects.natsops import (  # noqa: E402
    config_bucket,
    delete_streams,
    ensure_streams,
    put_config_document,
    remove_config_document,
)
from projects.streams import StreamLimits, raw_stream, raw_subject  # noqa: E402

LIMITS = StreamLimits(max_bytes=4 * 1024**3)


def log_record(n: int) -> bytes:
    severity = 17 if n % 10 else 5  # 90 % pass the filter
    return json.dumps({
        "resourceAttributes": {"service.name": "checkout", "k8s.pod.name": f"checkout-{n % 7}"},
        "scope": {"name": "app.db"}, "severityNumber": severity, "severityText": "ERROR" if severity > 9 else "DEBUG",
        "body": f"Connection refused: database pool exhausted (attempt {n})",
        "attributes": {"error.type": "ConnectionError", "attempt": n},
        "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
        "timestamp": "2024-01-15T10:30:00Z"}).encode()


async def preload(nc, project_id: str, count: int) -> None:
    """Core publishes (no per-message ack), then wait until the stream holds them all."""
    subject = raw_subject(project_id, "logs")
    for start in range(0, count, 5000):
        for n in range(start, min(count, start + 5000)):
            await nc.publish(subject, log_record(n))
        await nc.flush()
    js = nc.jetstream()
    while (await js.stream_info(raw_stream(project_id))).state.messages < count:
        await asyncio.sleep(0.1)


BATCH_SIZE = 100  # --batch-size
PROFILE_DIR: Path | None = None  # --profile: run each worker under cProfile, one .prof file per worker


def document(project_id: str, agent_url: str) -> dict:
    return {"schema": 1, "projectId": project_id, "name": "bench", "version": 1, "apiKeys": [], "sinks": [],
            "pipeline": {"enabled": True, "filter": 'severityNumber >= 9 && body contains "refused"',
                         "transforms": [
                             {"expression": 'resourceAttributes["service.name"] + "/" + severityText',
                              "output_name": "source", "output_type": "string"},
                             {"expression": "attributes.attempt % 100", "output_name": "bucket",
                              "output_type": "int"}],
                         "agentEndpoint": agent_url, "agentHeaders": {}, "batchSize": BATCH_SIZE, "batchMaxWaitMs": 50,
                         "signals": ["logs"], "requestTimeoutMs": 10_000,
                         "retry": {"initialBackoffMs": 500,
                                   "maxBackoffMs": 30_000}}}


def start_workers(count: int, nats_url: str, store: Path, first_index: int = 0,
                  **extra_env: str) -> list[subprocess.Popen]:
    env = dict(os.environ, NATS_URL=nats_url, ALLOW_PRIVATE_TARGETS="1", DEBUG="0", LOG_LEVEL="INFO",
               SECRET_KEY="bench-secret-key-not-for-production", GLASSFLOW_VAR_DIR=str(store), **extra_env)

    def command(index: int) -> list[str]:
        profile = ["-m", "cProfile", "-o", str(PROFILE_DIR / f"worker-{index}.prof")] if PROFILE_DIR else []
        return [sys.executable, *profile, str(BASE_DIR / "manage.py"), "runpipeline", "--metrics-port", "0",
                "--worker-id", f"bench-{index}"]

    return [subprocess.Popen(command(index), env=env, cwd=BASE_DIR,
                             stdout=open(store / f"worker-{index}.log", "wb"), stderr=subprocess.STDOUT)  # noqa: SIM115
            for index in range(first_index, first_index + count)]


async def wait_ready(nc, kv, worker_ids: list[str], agent_url: str, limits: StreamLimits = LIMITS) -> str:
    """Workers are ready once they report on an (empty) warm-up project in the stats bucket."""
    warm_up = str(uuid.uuid4())
    await ensure_streams(nc.jetstream(), warm_up, limits)
    await put_config_document(kv, document(warm_up, agent_url))
    js = nc.jetstream()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            stats = await js.key_value("gf-ai-stats")
            for worker_id in worker_ids:
                await stats.get(f"{warm_up}.pipeline.{worker_id}")
            return warm_up
        except (nats.js.errors.BucketNotFoundError, nats.js.errors.KeyNotFoundError):
            await asyncio.sleep(0.2)
    raise RuntimeError("the workers did not start; see their logs")


def cpu_seconds(processes: list[subprocess.Popen]) -> float:
    """User + system CPU time of the processes so far (Linux /proc), to report cost per record."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for process in processes:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / ticks


async def run_pipeline(nc, kv, project_id: str, agent_url: str, count: int,
                       workers: list[subprocess.Popen]) -> tuple[float, float]:
    """Publish the config (workers already idle and watching) and time until every message is acked.

    Returns records/s and the workers' CPU microseconds per record (independent of other load).
    """
    js = nc.jetstream()
    started, cpu_before = time.monotonic(), cpu_seconds(workers)
    await put_config_document(kv, document(project_id, agent_url))
    while True:
        await asyncio.sleep(0.1)
        try:
            info = await js.consumer_info(raw_stream(project_id), "pipeline")
        except nats.js.errors.NotFoundError:
            continue
        if info.ack_floor.stream_seq >= count and info.num_ack_pending == 0:
            return count / (time.monotonic() - started), (cpu_seconds(workers) - cpu_before) / count * 1e6


async def run_fetch_baseline(nc, project_id: str, count: int) -> tuple[float, float]:
    js = nc.jetstream()
    cpu_before = time.process_time()
    await js.add_consumer(raw_stream(project_id), ConsumerConfig(durable_name="baseline",
                                                                 ack_policy=AckPolicy.EXPLICIT))
    sub = await js.pull_subscribe_bind("baseline", stream=raw_stream(project_id))
    started, done = time.monotonic(), 0
    while done < count:
        for msg in await sub.fetch(100, timeout=5):
            await msg.ack()
            done += 1
    return count / (time.monotonic() - started), (time.process_time() - cpu_before) / count * 1e6


async def compare_run_history(nc, kv, server, store: Path, agent_url: str, records: int, rounds: int) -> None:
    """Alternate runs without and with the run history (off, on, on, off, ...: drift in the machine's
    load hits both alike); report the median of each, robust to a run disturbed by other work."""
    results: dict[str, list[tuple[float, float, float]]] = {"off": [], "on": []}
    for index in range(rounds * 2):
        mode = "off" if index % 4 in (0, 3) else "on"
        project_id = str(uuid.uuid4())
        # Small streams, deleted after each run: JetStream reserves max_bytes per stream.
        limits = StreamLimits(max_bytes=max(64 * 1024**2, records * 2048))
        await ensure_streams(nc.jetstream(), project_id, limits)
        await preload(nc, project_id, records)
        workers = start_workers(1, server.url, store, first_index=10 + index, RUN_HISTORY=mode)
        try:
            warm_up = await wait_ready(nc, kv, [f"bench-{10 + index}"], agent_url, limits)
            server_cpu = cpu_seconds([server.process])
            rate, cpu = await run_pipeline(nc, kv, project_id, agent_url, records, workers)
            nats_cpu = (cpu_seconds([server.process]) - server_cpu) / records * 1e6
        finally:
            for process in workers:
                process.send_signal(signal.SIGTERM)
                process.wait(30)
        for done in (project_id, warm_up):  # gone, so the next worker does not run (and re-create) them
            await remove_config_document(kv, done)
            await delete_streams(nc.jetstream(), done, limits)
        results[mode].append((rate, cpu, nats_cpu))
        print(f"run history {mode:3}: {rate:10,.0f} records/s   worker {cpu:.1f} us CPU per record, "
              f"nats-server {nats_cpu:.1f} us")
    median = {mode: [statistics.median(values) for values in zip(*runs, strict=True)]
              for mode, runs in results.items()}
    (rate_off, cpu_off, nats_off), (rate_on, cpu_on, nats_on) = median["off"], median["on"]
    print(f"median, run history off: {rate_off:10,.0f} records/s   {cpu_off:.1f} + {nats_off:.1f} us CPU per record")
    print(f"median, run history on:  {rate_on:10,.0f} records/s   {cpu_on:.1f} + {nats_on:.1f} us CPU per record")
    print(f"run history costs {(1 - rate_on / rate_off) * 100:.1f} % of throughput, "
          f"{((cpu_on + nats_on) / (cpu_off + nats_off) - 1) * 100:.1f} % more CPU per record (worker + nats-server)")


async def main(records: int, two: bool, compare_rounds: int = 0) -> None:
    with tempfile.TemporaryDirectory(prefix="gf-bench-") as tmp:
        tmp = os.environ.get("BENCH_DIR") or tmp
        store = Path(tmp)
        server = NatsServer(store / "nats").start()
        agent_port = free_port()
        agent = subprocess.Popen(agent_command(agent_port, "instant"), stdout=subprocess.PIPE)
        agent_url = f"http://127.0.0.1:{agent_port}/ingest"
        workers: list[subprocess.Popen] = []
        try:
            nc = await nats.connect(server.url)
            js = nc.jetstream()
            kv = await config_bucket(js, "gf-ai-config", 1)
            if compare_rounds:
                await compare_run_history(nc, kv, server, store, agent_url, records, compare_rounds)
                await nc.close()
                return
            projects = [str(uuid.uuid4()) for _ in range(2 if two else 1)]
            for project_id in projects:
                await ensure_streams(js, project_id, LIMITS)
                loaded = time.monotonic()
                await preload(nc, project_id, records)
                print(f"preloaded {records} records into {raw_stream(project_id)} "
                      f"({records / (time.monotonic() - loaded):,.0f}/s)")

            baseline, cpu = await run_fetch_baseline(nc, projects[0], records)
            print(f"nats-py fetch(100) + await msg.ack(), no processing:  {baseline:10,.0f} records/s"
                  f"   ({cpu:.0f} us CPU per record = {1e6 / cpu:,.0f} records per CPU-second)")

            workers = start_workers(1, server.url, store)
            await wait_ready(nc, kv, ["bench-0"], agent_url)
            rate, cpu = await run_pipeline(nc, kv, projects[0], agent_url, records, workers)
            print(f"runpipeline x1 (filter + 2 transforms, batch {BATCH_SIZE:<3}):    {rate:10,.0f} records/s"
                  f"   ({cpu:.0f} us CPU per record = {1e6 / cpu:,.0f} records per CPU-second)")
            if two:
                workers += start_workers(1, server.url, store, first_index=1)
                await wait_ready(nc, kv, ["bench-0", "bench-1"], agent_url)
                rate, cpu = await run_pipeline(nc, kv, projects[1], agent_url, records, workers)
                print(f"runpipeline x2 (same, two processes):                 {rate:10,.0f} records/s"
                      f"   ({cpu:.0f} us CPU per record over both)")
            await nc.close()
        finally:
            for process in workers:
                process.send_signal(signal.SIGTERM)
            for process in workers:
                process.wait(30)
            agent.send_signal(signal.SIGTERM)
            figures = json.loads(agent.communicate(timeout=10)[0].decode().strip().splitlines()[-1])
            print(f"agent: {figures['requests']} requests, {figures['records']} records", flush=True)
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--skip-two", action="store_true", help="only measure one worker process")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="the pipeline's batchSize (default 100)")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="run the workers under cProfile and write DIR/worker-N.prof (read with pstats)")
    parser.add_argument("--compare-run-history", type=int, default=0, metavar="ROUNDS",
                        help="measure one worker with the run history off and on, ROUNDS times each")
    arguments = parser.parse_args()
    BATCH_SIZE = arguments.batch_size
    PROFILE_DIR = arguments.profile
    asyncio.run(main(arguments.records, not arguments.skip_two, arguments.compare_run_history))
