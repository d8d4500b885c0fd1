"""Adaptive concurrency and the cost guards end to end: the runner, a real nats-server, slow agents on loopback."""

from __future__ import annotations

import json
import time

import pytest
from django.conf import settings

from pipelines.stages import compile_pipeline, parse_pipeline
from pipelines.worker import PipelineRunner
from pipelines.worker.agentclient import AgentClient
from pipelines.worker.counters import StatsBook
from projects.natsops import stats_bucket
from tests.support import pipeline_worker as helpers
from tests.support.deadline import wait_for_async

pytestmark = pytest.mark.asyncio


async def test_a_slow_agent_gets_many_batches_in_flight_and_every_record_is_acked(nc, project, agent):
    agent.script = lambda index, request: (200, {}, 0.3)
    document = helpers.config_document(project, agent.url, batchSize=10, batchMaxWaitMs=50)
    records = 1200
    async with helpers.running(helpers.make_runner(nc, document)) as runner:
        await helpers.publish_records(nc, project, [helpers.log_record(n) for n in range(records)])
        started = time.monotonic()
        await wait_for_async(lambda: len(agent.delivered()) >= records, timeout=30, message="every record delivered")
        elapsed = time.monotonic() - started
        await wait_for_async(lambda: helpers.consumer_settled(nc, project), message="every message acked")
    # 120 batches of 300 ms: four at a time (the old fixed limit) would take 9 s.
    assert agent.peak >= 12, f"at most {agent.peak} batches were in flight at once"
    assert elapsed < 9
    assert runner.counters.records_sent == records and runner.counters.dlq == 0


async def test_an_agent_that_refuses_above_its_capacity_gets_everything_without_dead_letters(nc, project, agent):
    capacity = 4

    def answer(index, request):
        if agent.open > capacity:
            return 429, {"Retry-After": "1"}, 0.0
        return 200, {}, 0.2

    agent.script = answer
    document = helpers.config_document(project, agent.url, batchSize=10, batchMaxWaitMs=50,
                               retry={"maxAttempts": 8, "maxElapsedSeconds": 60, "initialBackoffMs": 50,
                                      "maxBackoffMs": 2000})
    records = 400
    async with helpers.running(helpers.make_runner(nc, document)) as runner:
        await helpers.publish_records(nc, project, [helpers.log_record(n) for n in range(records)])
        await wait_for_async(lambda: len(agent.delivered()) >= records, timeout=40, message="every record delivered")
        await wait_for_async(lambda: helpers.consumer_settled(nc, project), message="every message acked")
        limit = runner.gate.controller.limit
    assert runner.counters.dlq == 0 and await helpers.dead_letters(nc, project) == []
    assert sorted(record["attributes"]["n"] for record in agent.delivered()) == list(range(records))
    refused = len(agent.answered(429))
    assert refused < len(agent.answered(200)), f"{refused} refusals: the controller did not back off"
    # The controller counts a request from its start to the end of its answer's processing, the
    # agent only while it answers: on a busy host the learnt capacity can sit a little above 4.
    assert limit <= 2 * capacity


async def test_max_concurrency_one_keeps_strict_order_even_through_retries(nc, project, agent):
    def answer(index, request):
        return (503, {}, 0.0) if index % 4 == 1 else (200, {}, 0.01)

    agent.script = answer
    document = helpers.config_document(project, agent.url, batchSize=5, batchMaxWaitMs=20, maxConcurrency=1)
    records = 100
    async with helpers.running(helpers.make_runner(nc, document)):
        await helpers.publish_records(nc, project, [helpers.log_record(n) for n in range(records)])
        await wait_for_async(lambda: len(agent.delivered()) >= records, timeout=30, message="every record delivered")
    assert [record["attributes"]["n"] for record in agent.delivered()] == list(range(records))
    assert agent.peak == 1
    assert len(agent.answered(503)) > 0


async def test_max_batches_per_minute_spaces_batches_and_drops_nothing(nc, project, agent):
    document = helpers.config_document(project, agent.url, batchSize=10, batchMaxWaitMs=20, maxBatchesPerMinute=240)
    arrivals = []
    agent.script = lambda index, request: (arrivals.append(time.monotonic()), (200, {}, 0.0))[1]
    async with helpers.running(helpers.make_runner(nc, document)) as runner:
        await helpers.publish_records(nc, project, [helpers.log_record(n) for n in range(60)])
        await wait_for_async(lambda: runner.stats.flow_figures()["throttledBy"] == "batches per minute",
                         message="the gate reports the limit")
        await wait_for_async(lambda: len(agent.delivered()) >= 60, timeout=15, message="every record delivered")
        await wait_for_async(lambda: helpers.consumer_settled(nc, project), message="every message acked")
        figures = runner.stats.flow_figures()
    gaps = [later - earlier for earlier, later in zip(arrivals, arrivals[1:], strict=False)]
    assert len(arrivals) == 6 and min(gaps) >= 0.2  # 240 a minute: one every 0.25 s
    assert figures["throttledSeconds"] > 0.5
    assert runner.counters.dlq == 0


async def test_max_records_per_day_holds_the_rest_back_in_the_stream(nc, project, agent):
    document = helpers.config_document(project, agent.url, batchSize=10, batchMaxWaitMs=20, maxRecordsPerDay=30)
    async with helpers.running(helpers.make_runner(nc, document)) as runner:
        await helpers.publish_records(nc, project, [helpers.log_record(n) for n in range(50)])
        await wait_for_async(lambda: len(agent.delivered()) >= 30, message="the day's budget delivered")
        await wait_for_async(lambda: runner.stats.flow_figures()["throttledBy"] == "records per day")
        js = nc.jetstream()

        async def held_back() -> bool:
            info = await js.consumer_info(f"gf-ai-raw-{project}", "pipeline")
            return info.ack_floor.stream_seq == 30 and info.num_ack_pending + info.num_pending == 20

        # The rest waits unacked in the stream: neither dropped nor dead-lettered.
        await wait_for_async(held_back, message="30 acked, 20 held back")
        assert len(agent.delivered()) == 30
        assert await helpers.dead_letters(nc, project) == []


async def test_the_days_record_count_survives_a_restart_and_is_shared_by_workers(nc, project, agent):
    kv = await stats_bucket(nc.jetstream(), settings.STATS_BUCKET, 1)
    document = helpers.config_document(project, agent.url, batchSize=10, batchMaxWaitMs=20, maxRecordsPerDay=30)

    def runner_with_book(worker_id: str):
        async def build():
            book = StatsBook(worker_id)
            await book.attach(kv)
            compiled = compile_pipeline(parse_pipeline(document))
            return PipelineRunner(nc, nc.jetstream(), compiled, AgentClient(allow_private=True),
                                  await book.for_project(project))
        return build

    first = await runner_with_book("worker-a")()
    async with helpers.running(first):
        await helpers.publish_records(nc, project, [helpers.log_record(n) for n in range(20)])
        await wait_for_async(lambda: len(agent.delivered()) == 20, message="20 of the day's 30 delivered")
        await first.stats.sync_budget()
    entry = await kv.get(f"{project}.budget")
    assert json.loads(entry.value)["records"] == 20
    second = await runner_with_book("worker-b")()  # a restart, or another worker of the same pipeline
    async with helpers.running(second):
        await helpers.publish_records(nc, project, [helpers.log_record(n) for n in range(20, 50)])
        await wait_for_async(lambda: len(agent.delivered()) == 30, message="the rest of the day's budget")
        await wait_for_async(lambda: second.stats.flow_figures()["throttledBy"] == "records per day")
        assert len(agent.delivered()) == 30
