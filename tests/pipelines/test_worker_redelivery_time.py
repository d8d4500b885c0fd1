"""A crashed pipeline worker's records reach another worker within seconds, whatever the request timeout.

The consumer's ack_wait is a fixed 5 s kept alive by heartbeats for every held message, so a
worker killed with SIGKILL in the middle of a long agent request (30 s timeout here) has its
batch redelivered about 5 s later (before: ack_wait grew with the request timeout, 35 s).
"""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest

from pipelines.worker import PipelineWorker
from projects.natsops import config_bucket, put_config_document
from tests.support import pipeline_worker as helpers
from tests.support.deadline import wait_for_async

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]


# ack_wait (5 s) plus a pull request's round trip and this machine's load.
REDELIVERY_DEADLINE_SECONDS = 8.0


async def test_a_killed_workers_batch_is_redelivered_within_seconds_despite_a_30_s_request_timeout(
        nats_server, nc, project, agent, tmp_path):
    arrivals: list[float] = []

    def script(index, request):
        arrivals.append(time.monotonic())
        return (200, {}, 25.0 if index == 0 else 0.0)  # the first request hangs until the kill

    agent.script = script
    bucket = f"gf-ai-config-test-{uuid.uuid4().hex[:12]}"
    kv = await config_bucket(nc.jetstream(), bucket, 1)
    await put_config_document(kv, helpers.config_document(project, agent.url, batchSize=5, batchMaxWaitMs=20,
                                                  requestTimeoutMs=30_000))
    crashing = helpers.start_worker(nats_server.url, "redelivery-a", tmp_path, bucket)
    try:
        await helpers.publish_records(nc, project, [helpers.log_record(n) for n in range(5)])
        await wait_for_async(lambda: arrivals, timeout=30, message="the first worker's request reached the agent")
        # Held for a while first: heartbeats must keep the batch with its worker meanwhile.
        await wait_for_async(lambda: time.monotonic() - arrivals[0] > 7, timeout=10)
        assert len(arrivals) == 1, "the batch was redelivered while its worker was alive"
        os.kill(crashing.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        crashing.wait(10)
    finally:
        if crashing.poll() is None:
            crashing.kill()
    survivor = PipelineWorker(helpers.worker_settings(nats_server, worker_id="redelivery-b", config_bucket=bucket))
    await survivor.start()
    try:
        await wait_for_async(lambda: len(arrivals) >= 2, timeout=45, message="the batch redelivered")
        redelivered_after = arrivals[1] - killed_at
        print(f"redelivered {redelivered_after:.1f} s after the kill")
        assert redelivered_after <= REDELIVERY_DEADLINE_SECONDS
    finally:
        await survivor.shutdown()


async def test_the_consumer_ack_wait_does_not_follow_the_request_timeout(nats_server, nc, project, agent):
    bucket = f"gf-ai-config-test-{uuid.uuid4().hex[:12]}"
    worker = PipelineWorker(helpers.worker_settings(nats_server, worker_id="ack-wait", config_bucket=bucket))
    await worker.start()
    try:
        kv = await config_bucket(nc.jetstream(), bucket, 1)
        for version, timeout_ms in ((1, 2_000), (2, 120_000)):
            await put_config_document(kv, helpers.config_document(project, agent.url, version=version,
                                                          requestTimeoutMs=timeout_ms))
            await wait_for_async(lambda v=version: project in worker.runners and worker.versions.get(project) == v)
            info = await nc.jetstream().consumer_info(f"gf-ai-raw-{project}", "pipeline")
            assert info.config.ack_wait == 5.0
    finally:
        await worker.shutdown()
