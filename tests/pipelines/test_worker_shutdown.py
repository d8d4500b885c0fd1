"""Stopping a runner finishes or hands back what it holds; the process exposes Prometheus metrics."""

from __future__ import annotations

import time

import httpx
import pytest

from glassflow_site.natsserver import free_port
from pipelines.worker import PipelineWorker
from projects.natsops import config_bucket, put_config_document
from tests.support import pipeline_worker as helpers
from tests.support.deadline import wait_for_async

pytestmark = pytest.mark.asyncio



async def test_a_delivery_in_flight_finishes_before_the_runner_stops(nc, project, agent):
    agent.script = lambda index, request: (200, {}, 0.5)  # a slow agent
    document = helpers.config_document(project, agent.url, batchSize=5)
    runner = helpers.make_runner(nc, document)
    async with helpers.running(runner):
        await helpers.publish_records(nc, project, [helpers.log_record(n) for n in range(5)])
        await wait_for_async(lambda: len(agent.requests) == 1, message="the batch is at the agent")
    # running() has stopped the runner: the answer came within the grace period and was acked.
    assert len(agent.delivered()) == 5
    await wait_for_async(lambda: helpers.consumer_settled(nc, project))


async def test_a_batch_waiting_for_a_retry_is_handed_back_at_once_and_another_runner_delivers_it(
        nats_server, nc, project, agent):
    agent.script = lambda index, request: (503, {}, 0) if index == 0 else (200, {}, 0)
    document = helpers.config_document(project, agent.url, batchSize=3, retry={
        "initialBackoffMs": 60_000, "maxBackoffMs": 60_000})
    first = helpers.make_runner(nc, document)
    async with helpers.running(first):
        await helpers.publish_records(nc, project, [helpers.log_record(n) for n in range(3)])
        await wait_for_async(lambda: len(agent.requests) == 1, message="first attempt failed")
        stopping_at = time.monotonic()
    assert time.monotonic() - stopping_at < 5, "a 60 s backoff does not hold up the shutdown"
    assert first.counters.records_sent == 0

    async with helpers.running(helpers.make_runner(nc, document)):
        await wait_for_async(lambda: len(agent.delivered()) == 3, message="released batch delivered by the next runner")
        await wait_for_async(lambda: helpers.consumer_settled(nc, project))
    retried, delivered = agent.requests[0], agent.answered(200)[0]
    assert retried.headers["x-request-id"] != delivered.headers["x-request-id"], "a redelivered batch is a new batch"


async def test_the_worker_serves_prometheus_metrics(nats_server, nc, project, agent):
    port = free_port()
    bucket = f"gf-ai-config-test-{project[:8]}"
    kv = await config_bucket(nc.jetstream(), bucket, 1)
    await put_config_document(kv, helpers.config_document(project, agent.url, filter="severityNumber >= 17"))
    worker = PipelineWorker(helpers.worker_settings(nats_server, metrics_port=port, metrics_addr="127.0.0.1", config_bucket=bucket))
    await worker.start()
    try:
        await wait_for_async(lambda: project in worker.runners)
        await helpers.publish_records(nc, project, [helpers.log_record(1), helpers.log_record(2, severity=9)])
        await wait_for_async(lambda: len(agent.delivered()) == 1)
        async with httpx.AsyncClient() as client:
            text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    finally:
        await worker.shutdown()
    assert f'glassflow_pipeline_records_sent_total{{project="{project}"}} 1.0' in text
    assert f'glassflow_pipeline_filtered_total{{project="{project}"}} 1.0' in text
    assert f'glassflow_pipeline_running{{project="{project}"}} 1.0' in text
