"""A sink's max_per_minute: Slack gets at most one message a second per webhook, in order, with no 429
storm; a webhook without a limit gets its messages at once. Real sink worker, nats-server, loopback stubs."""

from __future__ import annotations

import dataclasses
import json
import uuid

import nats
import pytest

from sinks.worker.tally import sink_stats_key
from sinks.worker.worker import SinkWorker
from tests.support.sink_harness import StubServer, fast_options, project_with_sink, publish_numbered

BUCKET = f"gf-ai-config-pacing-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def stub():
    server = StubServer().up()
    yield server
    server.down()


async def run_until(worker: SinkWorker, stub: StubServer, count: int) -> None:
    for _ in range(50):
        if len(stub.received()) >= count:
            return
        await worker.process_batch()
    raise AssertionError(f"only {len(stub.received())} of {count} delivered")


@pytest.mark.parametrize(("kind", "config_of", "min_gap", "max_span"), [
    ("slack", lambda url: {"webhook_url": url}, 0.9, None),  # Slack's default: 60 a minute
    ("webhook", lambda url: {"url": url, "method": "POST", "headers": {}, "max_per_minute": 120}, 0.45, None),
    ("webhook", lambda url: {"url": url, "method": "POST", "headers": {}}, 0.0, 0.9),  # no limit
])
async def test_a_sink_is_paced_to_its_rate_in_order(nats_server, stub, kind, config_of, min_gap, max_span):
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    project_id, sink_id = await project_with_sink(js, bucket=BUCKET, kind=kind, name="alerts",
                                                  config=config_of(stub.url()))
    worker = SinkWorker(dataclasses.replace(fast_options(), config_bucket=BUCKET), nc)
    try:
        await worker.load_config()
        await publish_numbered(js, project_id, 4)
        await run_until(worker, stub, 4)
        await worker.flush_stats()
        stats = json.loads((await (await js.key_value("gf-ai-stats")).get(sink_stats_key(project_id, sink_id))).value)
    finally:
        await worker.shutdown()
    received = stub.received()
    arrivals = [request.at for request in received]
    gaps = [later - earlier for earlier, later in zip(arrivals, arrivals[1:], strict=False)]
    assert all(request.status == 200 for request in received), "no 429 storm"
    order = [next(n for n in range(4) if f"r{n}" in request.body.decode()) for request in received]
    assert order == [0, 1, 2, 3]
    assert min(gaps) >= min_gap
    if max_span is not None:
        assert arrivals[-1] - arrivals[0] <= max_span
    assert stats["rttP50Ms"] > 0
    assert (stats["throttledSeconds"] > 1.0) == (min_gap > 0)
