"""Agent delivery at the speed of real agents: adaptive concurrency against simulated agents on loopback.

One nats-server, one ``runpipeline`` process, one project per scenario (batch size 10 unless
said), a simulated agent process per scenario, and each figure printed beside its target:

- (a) fixed 500 ms latency, unlimited capacity: >= 5,000 records/s
- (b) capacity 20 concurrent requests, 429 with ``Retry-After: 1`` above: >= 80 % of the ideal
  400 records/s, 0 dead letters, no batch exhausting its retries
- (c) queueing agent, latency 100 ms x max(1, open/8): the limit settles near 8, p99 <= 2x 100 ms
- (d) instant agent: >= 20,000 records/s at batch 10 and >= 35,000 at batch 100
- (e) Slack-like sink (429 when faster than 1/s): no 429 storm, outputs in order at the limit

Rates are measured after a warm-up (slow start) from the consumer's ack floor; the overall
figure including the warm-up is printed too. The controller's limit and RTT come from the
worker's stats key in ``gf-ai-stats``.

    .venv/bin/python bench/agent_concurrency.py [--only a,b,c,d,e] [--seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

import nats  # noqa: E402

from bench.agent_sim import agent_command  # noqa: E402
from bench.pipeline import cpu_seconds, preload, wait_ready  # noqa: E402
from glassflow_site.natsserver import NatsServer, free_port  # noqa: E402
from projects.natsops import config_bucket, ensure_streams, put_config_document  # noqa: E402
from projects.streams import StreamLimits, dlq_stream, output_subject, raw_stream  # noqa: E402

LIMITS = StreamLimits(max_bytes=2 * 1024**3)


def env_for(nats_url: str, store: Path) -> dict:
    return dict(os.environ, NATS_URL=nats_url, ALLOW_PRIVATE_TARGETS="1", DEBUG="0", LOG_LEVEL="WARNING",
                SECRET_KEY="bench-secret-key-not-for-production", GLASSFLOW_VAR_DIR=str(store))


def pipeline_document(project_id: str, agent_url: str, batch: int, **extra) -> dict:
    return {"schema": 1, "projectId": project_id, "name": "bench", "version": 1, "apiKeys": [], "sinks": [],
            "pipeline": {"enabled": True, "filter": "", "transforms": [], "agentEndpoint": agent_url,
                         "agentHeaders": {}, "batchSize": batch, "batchMaxWaitMs": 50, "signals": ["logs"],
                         "requestTimeoutMs": 10_000,
                         "retry": {"maxAttempts": 8, "maxElapsedSeconds": 300, "initialBackoffMs": 500,
                                   "maxBackoffMs": 30_000}, **extra}}


class Agent:
    """A simulated agent process; ``figures()`` stops it and returns what it counted."""

    def __init__(self, mode: str):
        self.port = free_port()
        self.process = subprocess.Popen(agent_command(self.port, mode), stdout=subprocess.PIPE)
        self.url = f"http://127.0.0.1:{self.port}/ingest"

    def figures(self) -> dict:
        self.process.send_signal(signal.SIGTERM)
        return json.loads(self.process.communicate(timeout=20)[0].decode().strip().splitlines()[-1])


async def run_scenario(nc, kv, worker, agent: Agent, *, records: int, batch: int, seconds: float, warm_up: float,
                       **pipeline) -> dict:
    """Deliver a preloaded project to the agent for at most ``seconds``; sample acks, limit and RTT."""
    js = nc.jetstream()
    project_id = str(uuid.uuid4())
    await ensure_streams(js, project_id, LIMITS)
    await preload(nc, project_id, records)
    stats = await js.key_value("gf-ai-stats")
    cpu_before = cpu_seconds([worker])
    started = time.monotonic()
    await put_config_document(kv, pipeline_document(project_id, agent.url, batch, **pipeline))
    samples: list[tuple[float, int]] = []
    limits: list[tuple[float, int]] = []
    latest: dict = {}
    while time.monotonic() - started < seconds:
        await asyncio.sleep(0.25)
        try:
            info = await js.consumer_info(raw_stream(project_id), "pipeline")
        except nats.js.errors.NotFoundError:
            continue
        now = time.monotonic() - started
        samples.append((now, info.ack_floor.stream_seq))
        try:
            latest = json.loads((await stats.get(f"{project_id}.pipeline.bench-0")).value)
            limits.append((now, latest.get("concurrencyLimit") or 0))
        except nats.js.errors.KeyNotFoundError:
            pass
        if info.ack_floor.stream_seq >= records and info.num_ack_pending == 0:
            break
    cpu = cpu_seconds([worker]) - cpu_before
    await put_config_document(kv, {**pipeline_document(project_id, agent.url, batch), "pipeline": {"enabled": False}})
    end, acked = samples[-1]
    after = [(at, count) for at, count in samples if at >= warm_up]
    steady = (after[-1][1] - after[0][1]) / (after[-1][0] - after[0][0]) if len(after) > 1 else 0.0
    late_limits = sorted(limit for at, limit in limits if at >= end / 2)
    dlq = (await js.stream_info(dlq_stream(project_id))).state.messages
    return {"overall": acked / end, "steady": steady, "acked": acked, "seconds": end, "dlq": dlq,
            "cpu_us": cpu / max(acked, 1) * 1e6, "limit": late_limits[len(late_limits) // 2] if late_limits else None,
            "stats": latest, "agent": agent.figures()}


def report(name: str, value: str, target: str, ok: bool) -> None:
    print(f"  {name:<44} {value:>22}   target {target:<26} {'ok' if ok else 'MISSED'}", flush=True)


async def scenario_a(nc, kv, worker, seconds: float) -> None:
    print("(a) agent with a fixed 500 ms latency, unlimited capacity, batch 10, max_concurrency 1000")
    result = await run_scenario(nc, kv, worker, Agent("fixed:0.5"), records=150_000, batch=10, seconds=seconds,
                                warm_up=5.0, maxConcurrency=1000)
    report("records/s after a 5 s warm-up", f"{result['steady']:,.0f}", ">= 5,000", result["steady"] >= 5000)
    report("records/s including the slow start", f"{result['overall']:,.0f}", "(was 87)", True)
    report("concurrency limit (median, second half)", str(result["limit"]), "", True)
    report("worker RTT p50 / p99 (ms)", f"{result['stats'].get('rttP50Ms')} / {result['stats'].get('rttP99Ms')}",
           "", True)
    report("worker CPU per record", f"{result['cpu_us']:.0f} us", "", True)


async def scenario_b(nc, kv, worker, seconds: float) -> None:
    print("(b) agent with capacity 20 (429 + Retry-After: 1 above), 500 ms, batch 10")
    result = await run_scenario(nc, kv, worker, Agent("capacity:20:0.5"), records=30_000, batch=10,
                                seconds=seconds, warm_up=5.0)
    agent = result["agent"]
    report("records/s after a 5 s warm-up", f"{result['steady']:,.0f} ({result['steady'] / 4:.0f} %)",
           ">= 80 % of 400", result["steady"] >= 320)
    # A batch that exhausted its retries would be a dead letter (with deadLetterAfterSeconds unset,
    # transient failures are retried as long as the stream keeps the records).
    report("dead letters (= batches that exhausted retries)", str(result["dlq"]), "0", result["dlq"] == 0)
    report("429 answers / requests", f"{agent['refused']} / {agent['requests']}", "few", True)
    report("concurrency limit (median, second half)", str(result["limit"]), "~20", True)


async def scenario_c(nc, kv, worker, seconds: float) -> None:
    print("(c) queueing agent: latency 100 ms x max(1, open/8), batch 10")
    result = await run_scenario(nc, kv, worker, Agent("queue:0.1:8"), records=30_000, batch=10, seconds=seconds,
                                warm_up=5.0)
    agent = result["agent"]
    report("concurrency limit (median, second half)", str(result["limit"]), "near 8",
           result["limit"] is not None and 6 <= result["limit"] <= 14)
    p99 = result["stats"].get("rttP99Ms")
    report("worker RTT p99, last 512 requests (ms)", str(p99), "<= 200", p99 is not None and p99 <= 200)
    report("agent latency p50 / p99 after warm-up (ms)", f"{agent['p50_ms']} / {agent['p99_ms']}", "<= 200",
           agent["p99_ms"] is not None and agent["p99_ms"] <= 200)
    report("records/s after warm-up", f"{result['steady']:,.0f}", "(agent's best: 800)", True)


async def scenario_d(nc, kv, worker, seconds: float) -> None:
    for batch, target in ((10, 20_000), (100, 35_000)):
        print(f"(d) instant agent, batch {batch}")
        records = 200_000 if batch == 10 else 400_000
        result = await run_scenario(nc, kv, worker, Agent("instant"), records=records, batch=batch,
                                    seconds=seconds, warm_up=2.0)
        report("records/s after a 2 s warm-up", f"{result['steady']:,.0f}", f">= {target:,}",
               result["steady"] >= target)
        report("worker CPU per record", f"{result['cpu_us']:.1f} us", "", True)
        report("concurrency limit (median, second half)", str(result["limit"]), "", True)


async def scenario_e(nc, kv, store: Path, nats_url: str) -> None:
    print("(e) Slack-like sink: answers 429 (Retry-After: 1) to anything faster than 1 message/s")
    slack = Agent("slack:1.0")
    project_id, sink_id = str(uuid.uuid4()), str(uuid.uuid4())
    js = nc.jetstream()
    await ensure_streams(js, project_id, LIMITS)
    await put_config_document(kv, {"schema": 1, "projectId": project_id, "name": "bench", "version": 1,
                                   "apiKeys": [], "pipeline": {"enabled": False}, "sinks": [
                                       {"id": sink_id, "name": "slack", "kind": "slack", "enabled": True,
                                        "config": {"webhook_url": slack.url}}]})
    sink = subprocess.Popen([sys.executable, str(BASE_DIR / "manage.py"), "runsink", "--metrics-port", "0"],
                            env=env_for(nats_url, store), cwd=BASE_DIR, stdout=open(store / "sink.log", "wb"),  # noqa: SIM115
                            stderr=subprocess.STDOUT)
    try:
        consumer = f"sink-{sink_id}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                await js.consumer_info(f"gf-ai-output-{project_id}", consumer)
                break
            except nats.js.errors.NotFoundError:
                await asyncio.sleep(0.2)
        count = 8
        for n in range(count):
            message = {"projectId": project_id, "requestId": f"req-{n:02d}", "receivedAt": "2026-01-15T10:30:00Z",
                       "payload": {"summary": f"output {n:02d}"}}
            await js.publish(output_subject(project_id), json.dumps(message).encode())
        while time.monotonic() < deadline + 30:
            info = await js.consumer_info(f"gf-ai-output-{project_id}", consumer)
            if info.num_pending == 0 and info.num_ack_pending == 0:
                break
            await asyncio.sleep(0.2)
    finally:
        sink.send_signal(signal.SIGTERM)
        sink.wait(30)
    agent = slack.figures()
    in_order = agent["order"] == sorted(agent["order"]) and len(agent["order"]) == count
    report("429 answers", str(agent["refused"]), "0 (no storm)", agent["refused"] == 0)
    report("outputs delivered in order", f"{len(agent['order'])} of {count}, {'in order' if in_order else 'NOT'}",
           "all, in order", in_order)
    report("messages/s", f"{agent['rate']:.2f}", "~1", 0.8 <= agent["rate"] <= 1.1)


async def main(only: set[str], seconds: float) -> None:
    with tempfile.TemporaryDirectory(prefix="gf-bench-") as tmp:
        store = Path(tmp)
        server = NatsServer(store / "nats").start()
        worker = None
        try:
            nc = await nats.connect(server.url)
            kv = await config_bucket(nc.jetstream(), "gf-ai-config", 1)
            if only - {"e"}:
                worker = subprocess.Popen([sys.executable, str(BASE_DIR / "manage.py"), "runpipeline",
                                           "--metrics-port", "0", "--worker-id", "bench-0"],
                                          env=env_for(server.url, store), cwd=BASE_DIR,
                                          stdout=open(store / "worker.log", "wb"), stderr=subprocess.STDOUT)  # noqa: SIM115
                warm = Agent("instant")
                await wait_ready(nc, kv, ["bench-0"], warm.url)
                warm.figures()
            for name, scenario in (("a", scenario_a), ("b", scenario_b), ("c", scenario_c), ("d", scenario_d)):
                if name in only:
                    await scenario(nc, kv, worker, seconds)
            if "e" in only:
                await scenario_e(nc, kv, store, server.url)
            await nc.close()
        finally:
            if worker is not None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(30)
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="a,b,c,d,e", help="comma-separated scenarios")
    parser.add_argument("--seconds", type=float, default=15.0, help="at most this long per scenario")
    arguments = parser.parse_args()
    asyncio.run(main(set(arguments.only.split(",")), arguments.seconds))
