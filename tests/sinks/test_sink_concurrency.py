"""A sink's max_concurrency: above 1 the sink worker delivers several outputs at once, as many as its
adaptive concurrency controller finds the target can take, each exactly once and acked; a target that
answers 429 above its capacity still gets everything, with no dead letters. Real sink worker,
nats-server and loopback HTTP servers that take their time."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import nats
import pytest
from prometheus_client import REGISTRY

from projects.streams import dlq_stream, output_stream
from sinks.worker.consumer import consumer_name
from sinks.worker.tally import sink_stats_key
from sinks.worker.worker import SinkWorker
from tests.support.deadline import wait_for_async
from tests.support.sink_harness import fast_options, project_with_sink, publish_numbered

BUCKET = f"gf-ai-config-sinkconc-{uuid.uuid4().hex[:8]}"


class SlowTarget:
    """A webhook taking ``delay`` seconds per answer that refuses (429) any request above ``capacity``
    in flight; it records the peak concurrency it served and every accepted body."""

    def __init__(self, delay: float, capacity: int | None = None):
        self.delay, self.capacity = delay, capacity
        self.lock = threading.Lock()
        self.in_flight = self.peak = self.refused = 0
        self.accepted: list[str] = []
        self.arrivals: list[float] = []
        self.project_id = self.sink_id = ""
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with target.lock:
                    target.arrivals.append(time.monotonic())
                    target.in_flight += 1
                    over = target.capacity is not None and target.in_flight > target.capacity
                    if over:
                        target.refused += 1
                    else:
                        target.peak = max(target.peak, target.in_flight)
                if not over:
                    time.sleep(target.delay)
                with target.lock:
                    # Done before the answer goes out: the client may send its next request as soon as it
                    # has read this one, and that one must not count this as still in flight.
                    target.in_flight -= 1
                    if not over:
                        target.accepted.append(json.loads(body)["requestId"])
                self.send_response(429 if over else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def make_target():
    made: list[SlowTarget] = []

    def make(delay: float, capacity: int | None = None) -> SlowTarget:
        made.append(SlowTarget(delay, capacity))
        return made[-1]

    yield make
    for target in made:
        target.close()


async def deliver_all(nats_url: str, target: SlowTarget, max_concurrency: int, count: int,
                      **config) -> tuple[dict, dict, int]:
    """Publish ``count`` outputs to a webhook sink and run the worker until the target accepted them all;
    the consumer's state, the sink's stats key and the DLQ depth afterwards."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    project_id, sink_id = await project_with_sink(
        js, bucket=BUCKET, maxConcurrency=max_concurrency,
        config={"url": target.url(), "method": "POST", "headers": {}, **config})
    target.project_id, target.sink_id = project_id, sink_id
    worker = SinkWorker(dataclasses.replace(fast_options(), config_bucket=BUCKET), nc)
    try:
        await worker.load_config()
        await publish_numbered(js, project_id, count)
        deadline = time.monotonic() + 60
        while len(target.accepted) < count:
            assert time.monotonic() < deadline, f"only {len(target.accepted)} of {count} delivered"
            await worker.process_batch()
        await worker.flush_stats()

        async def settled():
            # The server applies acks asynchronously: wait (with a deadline) until it has, or report what it holds.
            info = await js.consumer_info(output_stream(project_id), consumer_name(sink_id))
            return info if info.num_ack_pending == 0 and info.num_pending == 0 else None

        try:
            info = await wait_for_async(settled, timeout=10)
        except AssertionError:
            info = await js.consumer_info(output_stream(project_id), consumer_name(sink_id))
        stats = json.loads((await (await js.key_value("gf-ai-stats")).get(sink_stats_key(project_id, sink_id))).value)
        dead = (await js.stream_info(dlq_stream(project_id))).state.messages
    finally:
        await worker.shutdown()
        await nc.close()
    return {"ack_pending": info.num_ack_pending, "pending": info.num_pending}, stats, dead


async def test_a_concurrent_sink_has_several_requests_in_flight_and_delivers_each_once(nats_server, make_target):
    target = make_target(0.3)
    consumer, stats, dead = await deliver_all(nats_server.url, target, 8, 40)
    assert target.peak >= 3, f"at most {target.peak} in flight"
    assert sorted(target.accepted) == sorted(f"r{n}" for n in range(40)), "each output exactly once"
    assert consumer == {"ack_pending": 0, "pending": 0}, "every output acked"
    assert dead == 0
    assert 1 < stats["concurrencyLimit"] <= 8 and stats["inFlight"] == 0
    assert stats["deliveries"] == 40 and stats["rttP50Ms"] >= 250
    labels = {"project": target.project_id, "sink": target.sink_id}
    assert REGISTRY.get_sample_value("glassflow_sink_concurrency_limit", labels) == stats["concurrencyLimit"]
    assert REGISTRY.get_sample_value("glassflow_sink_in_flight", labels) == 0


async def test_a_target_refusing_above_its_capacity_gets_everything_without_dead_letters(nats_server, make_target):
    target = make_target(0.2, capacity=3)
    consumer, stats, dead = await deliver_all(nats_server.url, target, 16, 40)
    assert sorted(target.accepted) == sorted(f"r{n}" for n in range(40)), "each output exactly once"
    assert target.refused > 0, "the controller probed above the capacity"
    assert consumer == {"ack_pending": 0, "pending": 0}
    assert dead == 0 and stats.get("dlq", 0) == 0
    assert stats["concurrencyLimit"] <= 4, "the limit settled near the capacity"


async def test_strict_order_is_kept_with_max_concurrency_one(nats_server, make_target):
    target = make_target(0.02)
    consumer, stats, dead = await deliver_all(nats_server.url, target, 1, 12)
    assert target.accepted == [f"r{n}" for n in range(12)] and target.peak == 1
    assert consumer == {"ack_pending": 0, "pending": 0} and stats["concurrencyLimit"] == 1


async def test_a_concurrent_sink_still_keeps_to_its_max_per_minute(nats_server, make_target):
    target = make_target(0.0)
    consumer, stats, dead = await deliver_all(nats_server.url, target, 8, 4, max_per_minute=120)
    gaps = [later - earlier for earlier, later in zip(target.arrivals, target.arrivals[1:], strict=False)]
    assert len(target.arrivals) == 4 and min(gaps) >= 0.45, gaps
    assert stats["throttledSeconds"] > 1.0 and consumer == {"ack_pending": 0, "pending": 0}


async def test_shutdown_hands_back_the_outputs_waiting_for_a_turn_at_once(nats_server, make_target):
    target = make_target(1.5)
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    project_id, sink_id = await project_with_sink(js, target.url(), bucket=BUCKET, maxConcurrency=4)
    worker = SinkWorker(dataclasses.replace(fast_options(), config_bucket=BUCKET), nc)
    try:
        await worker.load_config()
        await publish_numbered(js, project_id, 12)
        batch = asyncio.create_task(worker.consumers[sink_id].process_batch())
        await wait_for_async(lambda: target.arrivals, timeout=10, message="the first request")
        stopped_at = time.monotonic()
        worker.stop.set()
        result = await asyncio.wait_for(batch, 30)
        took = time.monotonic() - stopped_at
    finally:
        await worker.shutdown()
        await nc.close()
    # Only the requests already sent finish (about one answer's time); the others go back unsent.
    assert took < 4.0, f"the batch ended {took:.1f} s after the stop"
    assert result.received == 10 and result.delivered + result.requeued == 10 and result.dead_lettered == 0
    assert result.requeued >= 7 and len(target.accepted) == result.delivered
