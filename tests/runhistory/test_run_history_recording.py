"""Run history written by the real pipeline runner (real nats-server, real loopback agent), read by runs.store."""

from __future__ import annotations

import pytest

from runs import store
from runs.recorder import RunHistory, RunHistorySettings, record_output
from tests.support import pipeline_worker as helpers
from tests.support.deadline import wait_for_async as eventually

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def history(nc):
    runs = RunHistory(nc, RunHistorySettings())
    runs.start()
    yield runs
    await runs.close()


async def runs_of(nc, project, **filters) -> list[dict]:
    await nc.flush()
    return (await store.list_runs(nc.jetstream(), project, **filters)).items


async def test_a_delivered_batch_is_recorded_with_its_records_attempt_and_outcome(nc, project, agent, history):
    document = helpers.config_document(project, agent.url, batchSize=3, requestTimeoutMs=1500)
    async with helpers.running(helpers.make_runner(nc, document, runs=history)):
        await helpers.publish_records(nc, project, [helpers.log_record(n) for n in range(3)])
        await eventually(lambda: helpers.consumer_settled(nc, project))
    [request] = agent.requests
    assert request.headers["x-deadline-ms"] == "1500", "the agent learns the pipeline's time limit"
    request_id = request.headers["x-request-id"]
    [run] = await eventually(lambda: runs_of(nc, project))
    assert run["requestId"] == request_id and run["projectId"] == project and run["count"] == 3
    assert run["status"] == "delivered" and run["noOutput"] is True and run["outputCount"] == 0
    [attempt] = run["attempts"]
    assert attempt["status"] == 200 and attempt["n"] == 1 and attempt["latencyMs"] > 0
    detail = await store.get_run(nc.jetstream(), project, request_id)
    assert sorted(detail["records"], key=lambda r: r["attributes"]["n"]) == request.records
    assert detail["subjects"] == [f"gf-ai-raw.{project}.in"] and detail["truncated"] is False


async def test_retries_are_recorded_one_attempt_each_with_status_and_latency(nc, project, agent, history):
    agent.script = lambda index, request: (503, {"Retry-After": "0"}, 0.05) if index < 2 else (200, {}, 0)
    document = helpers.config_document(project, agent.url, batchSize=2)
    async with helpers.running(helpers.make_runner(nc, document, runs=history)):
        await helpers.publish_records(nc, project, [helpers.log_record(n) for n in range(2)])
        await eventually(lambda: helpers.consumer_settled(nc, project))
    [run] = await eventually(lambda: runs_of(nc, project))
    assert [a["status"] for a in run["attempts"]] == [503, 503, 200]
    assert [a["n"] for a in run["attempts"]] == [1, 2, 3]
    assert run["attempts"][0]["latencyMs"] >= 50 and run["attempts"][0]["error"].startswith("503")
    assert run["status"] == "delivered"


async def test_a_batch_still_failing_shows_as_retrying_then_dead_lettered(nc, project, agent, history):
    # Retry-After 1.5 s against a 4 s "dead-letter after": attempts at 0, 1.5 and 3 s, then it gives up.
    agent.script = lambda index, request: (500, {"Retry-After": "1.5"}, 0)
    document = helpers.config_document(project, agent.url, batchSize=2, deadLetterAfterSeconds=4)
    async with helpers.running(helpers.make_runner(nc, document, runs=history)):
        await helpers.publish_records(nc, project, [helpers.log_record(n) for n in range(2)])
        await eventually(lambda: runs_of(nc, project, status="retrying"), message="a run in retry")
        await eventually(lambda: helpers.consumer_settled(nc, project))
    [run] = await eventually(lambda: runs_of(nc, project, status="dead-lettered"))
    assert [a["status"] for a in run["attempts"]] == [500, 500, 500]
    assert await runs_of(nc, project, status="retrying") == []


async def test_outputs_sent_with_the_request_id_are_joined_to_their_run(nc, project, agent, history):
    document = helpers.config_document(project, agent.url, batchSize=1)
    async with helpers.running(helpers.make_runner(nc, document, runs=history)):
        await helpers.publish_records(nc, project, [helpers.log_record(n) for n in range(2)])
        await eventually(lambda: helpers.consumer_settled(nc, project))
    answered, silent = (request.headers["x-request-id"] for request in agent.requests)
    await record_output(nc, project, answered, "2026-01-15T10:30:02.120Z", {"summary": "pool exhausted"})
    await eventually(lambda: runs_of(nc, project, status="delivered"))
    runs = {run["requestId"]: run for run in await eventually(
        lambda: _when_len(runs_of(nc, project), 2))}
    assert runs[answered]["outputCount"] == 1 and runs[answered]["firstOutput"] == {"summary": "pool exhausted"}
    assert runs[answered]["noOutput"] is False
    assert runs[silent]["noOutput"] is True, "an agent that never sent an output is visible as such"
    assert [run["requestId"] for run in await runs_of(nc, project, status="no-output")] == [silent]
    detail = await store.get_run(nc.jetstream(), project, answered)
    assert detail["outputs"] == [{"receivedAt": "2026-01-15T10:30:02.120Z", "payload": {"summary": "pool exhausted"},
                                  "truncated": False}]


async def _when_len(coro, n):
    items = await coro
    return items if len(items) == n else None


async def test_runs_are_listed_newest_first_in_pages(nc, project, agent, history):
    document = helpers.config_document(project, agent.url, batchSize=1, batchMaxWaitMs=10, maxConcurrency=1)
    async with helpers.running(helpers.make_runner(nc, document, runs=history)):
        for n in range(5):
            await helpers.publish_records(nc, project, [helpers.log_record(n)])
            await eventually(lambda n=n: len(agent.answered()) == n + 1)
        await eventually(lambda: helpers.consumer_settled(nc, project))
    ids = [request.headers["x-request-id"] for request in agent.requests]
    await nc.flush()
    first = await store.list_runs(nc.jetstream(), project, limit=2)
    assert [run["requestId"] for run in first.items] == ids[::-1][:2]
    rest = await store.list_runs(nc.jetstream(), project, limit=10, cursor=first.next_cursor)
    assert [run["requestId"] for run in rest.items] == ids[::-1][2:] and rest.next_cursor is None
    assert all(run["status"] == "delivered" and len(run["attempts"]) == 1 for run in first.items + rest.items), \
        "runs on later pages still carry their attempts and outcome"


async def test_a_large_batch_keeps_a_bounded_preview_and_cannot_be_replayed(nc, project, agent):
    history = RunHistory(nc, RunHistorySettings(preview_bytes=600))
    history.start()
    document = helpers.config_document(project, agent.url, batchSize=10)
    async with helpers.running(helpers.make_runner(nc, document, runs=history)):
        await helpers.publish_records(nc, project, [helpers.log_record(n) for n in range(10)])
        await eventually(lambda: helpers.consumer_settled(nc, project))
    await history.close()
    request_id = agent.requests[0].headers["x-request-id"]
    run = await eventually(lambda: store.get_run(nc.jetstream(), project, request_id))
    assert run["truncated"] is True and run["count"] == 10 and 0 < len(run["records"]) < 10
    with pytest.raises(store.ReplayError, match="only a preview"):
        await store.replay_run(nc.jetstream(), project, request_id)


async def test_the_queue_is_bounded_in_events_and_bytes_and_drops_the_oldest_when_nats_cannot_keep_up():
    history = RunHistory(None, RunHistorySettings(buffer_events=3))  # not started: nothing drains the queue
    for n in range(5):
        history.emit("gf-ai-runs.p.r", str(n).encode())
    assert [data for _, data in history.queue] == [b"2", b"3", b"4"] and history.dropped == 2
    by_size = RunHistory(None, RunHistorySettings(buffer_bytes=250))
    for n in range(5):
        by_size.emit("gf-ai-runs.p.r", bytes([48 + n]) * 100)
    assert [data[:1] for _, data in by_size.queue] == [b"3", b"4"] and by_size.dropped == 3
    assert by_size.queued_bytes == 200, "large start events are bounded by bytes as well as by count"


async def test_with_run_history_off_nothing_is_written(nc, project, agent):
    history = RunHistory(nc, RunHistorySettings(enabled=False))
    history.start()
    async with helpers.running(helpers.make_runner(nc, helpers.config_document(project, agent.url, batchSize=2), runs=history)):
        await helpers.publish_records(nc, project, [helpers.log_record(n) for n in range(2)])
        await eventually(lambda: helpers.consumer_settled(nc, project))
    await history.close()
    assert await runs_of(nc, project) == [] and history.published == 0
