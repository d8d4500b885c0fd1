"""A runpipeline process killed with SIGKILL mid-stream loses nothing: a restarted one delivers the rest."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections import Counter

import pytest

from projects.natsops import config_bucket, put_config_document
from tests.support import pipeline_worker as helpers
from tests.support.deadline import wait_for_async

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


RECORDS = 10_000
MAX_CONCURRENCY = 4
# What one process can hold unacked for one project (runner.max_held: batch size 100 times twice
# the concurrency limit plus two, the limit at most maxConcurrency) plus what its two outstanding
# pull requests may still bring: the most a kill can duplicate. maxConcurrency is pinned because
# the adaptive limit, and with it what is held, grows as fast as the agent answers.
IN_FLIGHT_BOUND = 100 * (2 * MAX_CONCURRENCY + 2) + 2 * 200


async def test_a_killed_worker_loses_no_record_and_duplicates_at_most_what_was_in_flight(
        nats_server, nc, project, agent, tmp_path):
    # Slow enough that the kill lands in the middle of the stream.
    agent.script = lambda index, request: (200, {}, 0.05)
    bucket = f"gf-ai-config-test-{uuid.uuid4().hex[:12]}"  # this test's projects only
    kv = await config_bucket(nc.jetstream(), bucket, 1)
    await put_config_document(kv, helpers.config_document(project, agent.url, batchSize=100, batchMaxWaitMs=50,
                                                      maxConcurrency=MAX_CONCURRENCY))
    await helpers.publish_records(nc, project, [helpers.log_record(n) for n in range(RECORDS)])

    first = helpers.start_worker(nats_server.url, "crash-a", tmp_path, bucket)
    second = None
    try:
        await wait_for_async(lambda: len(agent.delivered()) >= 3000, timeout=30, message="first worker delivering")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        assert len({record["attributes"]["n"] for record in agent.delivered()}) < RECORDS, "killed mid-stream"
        # Records are published in order into a fresh stream, so record n is stream sequence n + 1;
        # everything at or below the ack floor was acknowledged and must never come again.
        info = await nc.jetstream().consumer_info(f"gf-ai-raw-{project}", "pipeline")
        acked_below = info.ack_floor.stream_seq

        second_started = time.monotonic()  # every request that arrived before came from the first worker
        second = helpers.start_worker(nats_server.url, "crash-b", tmp_path, bucket)
        await wait_for_async(lambda: len({record["attributes"]["n"] for record in agent.delivered()}) == RECORDS,
                         timeout=45, message="every record delivered after the restart")
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(20)
    counts = Counter(record["attributes"]["n"] for record in agent.delivered())
    repeated = {n for n, times in counts.items() if times > 1}
    with agent.lock:
        seen_before_kill = {record["attributes"]["n"] for request in agent.requests
                            if request.received_at < second_started for record in request.records}
    duplicates = sum(counts.values()) - len(counts)
    assert duplicates <= IN_FLIGHT_BOUND, f"{duplicates} duplicates"
    assert all(times <= 2 for times in counts.values()), "a record repeats at most once after one crash"
    assert repeated <= seen_before_kill, "only records the killed worker had sent can repeat"
    assert not {n for n in repeated if n + 1 <= acked_below}, "an acknowledged record was delivered again"
    assert second.returncode == 0, "SIGTERM is a clean shutdown"
