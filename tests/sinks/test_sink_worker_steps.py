"""The sink worker driven one step at a time, and its graceful shutdown, against a real nats-server.

No database here: the project's streams and configuration document are put into NATS the way
the control plane does it (projects.natsops), which is all the data plane ever sees.
"""

from __future__ import annotations

import asyncio
import json
import time

import nats

from projects import natsops
from projects.streams import output_stream
from sinks.worker.worker import SinkWorker
from tests.support import sink_harness as harness
from tests.support.deadline import wait_for_async


async def ack_pending_is_zero(js, project_id: str, sink_id: str) -> bool:
    return (await js.consumer_info(output_stream(project_id), f"sink-{sink_id}")).num_ack_pending == 0


async def test_one_iteration_delivers_what_is_there_and_reports_no_work_after(nats_server, stub):
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    project_id, sink_id = await harness.project_with_sink(js, stub.url())
    worker = SinkWorker(harness.steps_options(), nc)
    try:
        assert await worker.load_config()
        assert sink_id in worker.consumers  # (other tests' projects share this nats-server)
        await harness.publish_request(js, project_id, "a")
        await harness.publish_request(js, project_id, "b")
        assert await worker.process_batch() >= 2
        assert [r.json()["requestId"] for r in stub.received()] == ["a", "b"]
        assert (await worker.consumers[sink_id].process_batch()).received == 0
        await wait_for_async(lambda: ack_pending_is_zero(js, project_id, sink_id))
        stats = json.loads((await (await js.key_value("gf-ai-stats")).get(f"{project_id}.sink.{sink_id}")).value)
        assert stats["deliveries"] == 2 and stats["lastSuccessAt"]
    finally:
        await natsops.delete_streams(js, project_id, harness.SMALL_LIMITS)
        await worker.shutdown()


async def test_a_disabled_sink_has_no_consumer(nats_server, stub):
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    project_id, _ = await harness.project_with_sink(js, stub.url(), enabled=False)
    worker = SinkWorker(harness.steps_options(), nc)
    try:
        await worker.load_config()
        assert not [c for c in worker.consumers.values() if c.project_id == project_id]
        assert await js.consumers_info(output_stream(project_id)) == []
    finally:
        await natsops.delete_streams(js, project_id, harness.SMALL_LIMITS)
        await worker.shutdown()


async def test_sigterm_during_a_retry_hands_the_message_back_and_a_restart_delivers_it(nats_server, stub):
    stub.default = harness.Reply(503, b"down")
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    project_id, sink_id = await harness.project_with_sink(js, stub.url())
    slow_retries = harness.steps_options(initial_backoff=60, max_backoff=60, dead_letter_after=600)
    worker = SinkWorker(slow_retries, nc)
    await worker.load_config()
    running = asyncio.create_task(worker.run())
    await harness.publish_request(js, project_id, "in-flight")
    await wait_for_async(lambda: asyncio.sleep(0, stub.received()))
    started = time.monotonic()
    worker.stop.set()  # what the SIGTERM handler does
    await asyncio.wait_for(running, 10)
    assert time.monotonic() - started < 5  # did not wait out the 60 s backoff

    stub.default = harness.Reply(200)
    second = SinkWorker(harness.steps_options(), await nats.connect(nats_server.url))
    try:
        await second.load_config()
        # Handed back (nak), so it comes again within seconds, not after ack_wait (30 s) as a lost message would.
        async def delivered():
            return (await second.consumers[sink_id].process_batch()).delivered

        await wait_for_async(delivered, timeout=8)
        assert [(r.json()["requestId"], r.status) for r in stub.received()] == [("in-flight", 503), ("in-flight", 200)]
        await wait_for_async(lambda: ack_pending_is_zero(second.js, project_id, sink_id))
    finally:
        await natsops.delete_streams(second.js, project_id, harness.SMALL_LIMITS)
        await second.shutdown()
