"""The pipeline runner against a real nats-server and a real local HTTP agent."""

from __future__ import annotations

import uuid

import pytest

from tests.support import pipeline_worker as helpers
from tests.support.deadline import wait_for_async

pytestmark = pytest.mark.asyncio


async def test_the_filter_drops_records_and_transforms_add_their_outputs(nc, project, agent):
    document = helpers.config_document(project, agent.url, filter="severityNumber >= 17", batchSize=5, transforms=[
        {"expression": "upper(body)", "output_name": "loud", "output_type": "string"},
        {"expression": "attributes.n * 2", "output_name": "twice", "output_type": "int"},
    ])
    async with helpers.running(helpers.make_runner(nc, document)) as runner:
        records = [helpers.log_record(n, severity=17 if n % 2 else 9) for n in range(24)]
        await helpers.publish_records(nc, project, records)
        await wait_for_async(lambda: len(agent.delivered()) == 12, message="12 matching records delivered")
        await wait_for_async(lambda: helpers.consumer_settled(nc, project), message="every message acked")
    delivered = sorted(agent.delivered(), key=lambda record: record["attributes"]["n"])
    assert [record["attributes"]["n"] for record in delivered] == list(range(1, 24, 2))
    assert delivered[0]["loud"] == "RECORD 1" and delivered[0]["twice"] == 2
    assert (runner.counters.received, runner.counters.filtered, runner.counters.records_sent) == (24, 12, 12)


async def test_batches_hold_at_most_batch_size_records_and_carry_the_headers(nc, project, agent):
    document = helpers.config_document(project, agent.url, batchSize=4, batchMaxWaitMs=5000)
    async with helpers.running(helpers.make_runner(nc, document)):
        await helpers.publish_records(nc, project, [helpers.log_record(n) for n in range(12)])
        await wait_for_async(lambda: len(agent.delivered()) == 12)
    assert all(len(request.records) <= 4 for request in agent.requests)
    assert len(agent.requests) == 3, "full batches go out without waiting for the max wait"
    for request in agent.requests:
        assert request.headers["content-type"] == "application/json"
        assert request.headers["x-project-id"] == project
        assert request.headers["authorization"] == "Bearer agent-secret"
        uuid.UUID(request.headers["x-request-id"])
    assert len({request.headers["x-request-id"] for request in agent.requests}) == 3


async def test_a_partial_batch_leaves_after_the_max_wait(nc, project, agent):
    document = helpers.config_document(project, agent.url, batchSize=100, batchMaxWaitMs=200)
    async with helpers.running(helpers.make_runner(nc, document)):
        await helpers.publish_records(nc, project, [helpers.log_record(n) for n in range(3)])
        await wait_for_async(lambda: len(agent.delivered()) == 3, timeout=5)
    assert [len(request.records) for request in agent.requests] == [3]


async def test_an_agent_that_fails_for_a_while_gets_every_record_with_the_same_request_id(nc, project, agent):
    agent.script = lambda index, request: (503, {"Retry-After": "0"}, 0) if index < 3 else (200, {}, 0)
    document = helpers.config_document(project, agent.url, batchSize=10)
    async with helpers.running(helpers.make_runner(nc, document)) as runner:
        await helpers.publish_records(nc, project, [helpers.log_record(n) for n in range(10)])
        await wait_for_async(lambda: len(agent.delivered()) == 10)
        await wait_for_async(lambda: helpers.consumer_settled(nc, project))
    assert [request.status for request in agent.requests] == [503, 503, 503, 200]
    assert len({request.headers["x-request-id"] for request in agent.requests}) == 1
    assert runner.counters.agent_errors == 3 and runner.counters.dlq == 0
    assert await helpers.dead_letters(nc, project) == []


async def test_a_batch_the_agent_refuses_goes_to_the_dlq_with_a_reason(nc, project, agent):
    agent.script = lambda index, request: (400, {}, 0)
    document = helpers.config_document(project, agent.url, batchSize=3, transforms=[
        {"expression": "body", "output_name": "copy", "output_type": "string"}])
    async with helpers.running(helpers.make_runner(nc, document)) as runner:
        records = [helpers.log_record(n) for n in range(3)]
        await helpers.publish_records(nc, project, records)
        await wait_for_async(lambda: helpers.consumer_settled(nc, project))
    entries = await helpers.dead_letters(nc, project)
    assert len(entries) == 1 and len(agent.requests) == 1, "4xx is not retried"
    entry = entries[0]
    assert entry["reason"] == "agent endpoint answered 400 Bad Request: agent says no"
    assert entry["stage"] == "pipeline" and entry["projectId"] == project and entry["attempts"] == 1
    assert entry["requestId"] == agent.requests[0].headers["x-request-id"]
    assert entry["subject"] == f"gf-ai-raw.{project}.in"
    assert sorted(entry["records"], key=lambda r: r["attributes"]["n"]) == records, "original records, untransformed"
    assert entry["failedAt"].endswith("Z") and runner.counters.dlq == 3


async def test_with_dead_letter_after_a_batch_failing_that_long_goes_to_the_dlq(nc, project, agent):
    agent.script = lambda index, request: (500, {"Retry-After": "0.4"}, 0)
    document = helpers.config_document(project, agent.url, batchSize=2, deadLetterAfterSeconds=1)
    async with helpers.running(helpers.make_runner(nc, document)):
        await helpers.publish_records(nc, project, [helpers.log_record(n) for n in range(2)])
        await wait_for_async(lambda: helpers.consumer_settled(nc, project))
    [entry] = await helpers.dead_letters(nc, project)
    assert entry["attempts"] >= 2 and f"still failing after {entry['attempts']} attempts" in entry["reason"]
    assert "dead-letter after" in entry["reason"]
    assert entry["lastError"].startswith("500 Internal Server Error")


async def test_a_record_whose_transform_cannot_convert_goes_alone_to_the_dlq(nc, project, agent):
    document = helpers.config_document(project, agent.url, batchSize=2, transforms=[
        {"expression": "attributes.n == 1 ? 'not a number' : string(attributes.n)", "output_name": "num",
         "output_type": "int"}])
    async with helpers.running(helpers.make_runner(nc, document)) as runner:
        await helpers.publish_records(nc, project, [helpers.log_record(n) for n in range(3)])
        await wait_for_async(lambda: len(agent.delivered()) == 2)
        await wait_for_async(lambda: helpers.consumer_settled(nc, project))
    [entry] = await helpers.dead_letters(nc, project)
    assert "transform 1 (num) could not convert its result to int" in entry["reason"]
    assert entry["records"] == [helpers.log_record(1)] and entry["requestId"] is None
    assert runner.counters.transform_errors == 1
    assert sorted(record["num"] for record in agent.delivered()) == [0, 2]


async def test_a_private_agent_address_is_refused_at_delivery_when_not_allowed(nc, project, agent):
    document = helpers.config_document(project, agent.url, batchSize=1)
    async with helpers.running(helpers.make_runner(nc, document, allow_private=False)):
        await helpers.publish_records(nc, project, [helpers.log_record(1)])
        await wait_for_async(lambda: helpers.consumer_settled(nc, project))
    [entry] = await helpers.dead_letters(nc, project)
    assert entry["reason"].startswith("the agent endpoint is not allowed: 127.0.0.1 is a private or loopback")
    assert agent.requests == []
