"""The worker follows the gf-ai-config bucket live, shares consumers, and publishes its counters."""

from __future__ import annotations

import json
import uuid

import pytest
from django.conf import settings
from nats.js.errors import KeyNotFoundError

from pipelines.worker import PipelineWorker
from projects.natsops import config_bucket, put_config_document
from tests.support import pipeline_worker as helpers
from tests.support.deadline import wait_for_async

pytestmark = pytest.mark.asyncio


def private_bucket() -> str:
    """A config bucket of the test's own, so the worker sees no other test's projects."""
    return f"gf-ai-config-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def worker(nats_server):
    instance = PipelineWorker(helpers.worker_settings(nats_server, worker_id="test-worker", config_bucket=private_bucket()))
    await instance.start()
    await wait_for_async(instance.ready.is_set, message="initial config snapshot applied")
    yield instance
    await instance.shutdown()


async def put(nc, worker: PipelineWorker, document: dict) -> None:
    kv = await config_bucket(nc.jetstream(), worker.settings.config_bucket, 1)
    assert await put_config_document(kv, document)


async def test_an_enabled_pipeline_starts_and_disabling_it_stops_the_consumer(nc, project, agent, worker):
    await put(nc, worker, helpers.config_document(project, agent.url, version=1))
    await wait_for_async(lambda: project in worker.runners, message="runner started")
    await helpers.publish_records(nc, project, [helpers.log_record(n) for n in range(3)])
    await wait_for_async(lambda: len(agent.delivered()) == 3)

    await put(nc, worker, helpers.config_document(project, agent.url, version=2, enabled=False))
    await wait_for_async(lambda: project not in worker.runners, message="runner stopped")
    js = nc.jetstream()

    async def consumer():
        return await js.consumer_info(f"gf-ai-raw-{project}", "pipeline")

    # No pull request left open on the server: from here on, nothing can take the project's records.
    await wait_for_async(lambda: _no_pull_waiting(consumer()), message="the stopped runner's pulls are gone")
    await helpers.publish_records(nc, project, [helpers.log_record(n) for n in range(3, 6)])
    info = await wait_for_async(lambda: _pending(consumer(), 3), message="new records pending on the consumer")
    assert info.num_waiting == 0 and info.num_ack_pending == 0, "nobody took the records while disabled"
    assert len(agent.delivered()) == 3

    await put(nc, worker, helpers.config_document(project, agent.url, version=3))
    await wait_for_async(lambda: len(agent.delivered()) == 6, message="paused records delivered after re-enabling")


async def test_a_changed_filter_applies_to_the_next_records_without_a_restart(nc, project, agent, worker):
    await put(nc, worker, helpers.config_document(project, agent.url, version=1, filter="severityNumber >= 17", batchSize=1))
    await wait_for_async(lambda: project in worker.runners)
    runner = worker.runners[project]
    await helpers.publish_records(nc, project, [helpers.log_record(1, severity=17), helpers.log_record(2, severity=9)])
    await wait_for_async(lambda: helpers.consumer_settled(nc, project))
    assert [record["body"] for record in agent.delivered()] == ["record 1"]

    await put(nc, worker, helpers.config_document(project, agent.url, version=2, filter='severityText == "INFO"', batchSize=1))
    await wait_for_async(lambda: worker.runners[project].compiled.config.version == 2, message="version 2 applied")
    assert worker.runners[project] is runner, "reconfigured in place"
    await helpers.publish_records(nc, project, [helpers.log_record(3, severity=17), helpers.log_record(4, severity=9)])
    await wait_for_async(lambda: helpers.consumer_settled(nc, project))
    assert sorted(record["body"] for record in agent.delivered()) == ["record 1", "record 4"]


async def test_signals_choose_the_subjects_the_consumer_reads(nc, project, agent, worker):
    await put(nc, worker, helpers.config_document(project, agent.url, version=1, signals=["logs", "spans"]))
    await wait_for_async(lambda: project in worker.runners)
    info = await nc.jetstream().consumer_info(f"gf-ai-raw-{project}", "pipeline")
    assert sorted(info.config.filter_subjects) == [f"gf-ai-raw.{project}.in", f"gf-ai-raw.{project}.spans"]
    await helpers.publish_records(nc, project, [{"signal": "span", "name": "GET /"}], signal="spans")
    await helpers.publish_records(nc, project, [{"signal": "metric", "name": "cpu"}], signal="metrics")
    await wait_for_async(lambda: len(agent.delivered()) == 1)
    assert agent.delivered()[0]["name"] == "GET /"

    await put(nc, worker, helpers.config_document(project, agent.url, version=2, signals=["logs", "spans", "metrics"]))
    await wait_for_async(lambda: len(agent.delivered()) == 2, message="the waiting metric delivered after the change")
    assert agent.delivered()[1]["name"] == "cpu"


async def test_a_bad_expression_keeps_the_pipeline_stopped_with_a_clear_error_until_fixed(nc, project, agent, worker):
    await put(nc, worker, helpers.config_document(project, agent.url, version=1, filter="severityNumber >="))
    await wait_for_async(lambda: project in worker.stats.projects and worker.stats.projects[project].state == "error")
    assert "does not compile and stays stopped" in worker.stats.projects[project].error
    assert project not in worker.runners

    await put(nc, worker, helpers.config_document(project, agent.url, version=2, filter="severityNumber >= 1"))
    await wait_for_async(lambda: project in worker.runners, message="fixed pipeline started")
    await helpers.publish_records(nc, project, [helpers.log_record(1)])
    await wait_for_async(lambda: len(agent.delivered()) == 1)


async def test_a_deleted_project_stops_its_pipeline(nc, project, agent, worker):
    await put(nc, worker, helpers.config_document(project, agent.url, version=1))
    await wait_for_async(lambda: project in worker.runners)
    kv = await config_bucket(nc.jetstream(), worker.settings.config_bucket, 1)
    await kv.purge(project)
    await wait_for_async(lambda: project not in worker.runners, message="runner stopped after purge")


async def test_counters_are_published_to_the_stats_bucket(nc, project, agent, worker):
    await put(nc, worker, helpers.config_document(project, agent.url, version=1, filter="severityNumber >= 17"))
    await wait_for_async(lambda: project in worker.runners)
    await helpers.publish_records(nc, project, [helpers.log_record(1), helpers.log_record(2, severity=9)])
    kv = await nc.jetstream().key_value(settings.STATS_BUCKET)

    async def published():
        try:
            entry = await kv.get(f"{project}.pipeline.test-worker")
        except KeyNotFoundError:
            return None
        document = json.loads(entry.value)
        return document if document["records_sent"] == 1 else None

    document = await wait_for_async(published, message="counters in gf-ai-stats")
    assert document == {"received": 2, "filtered": 1, "filter_errors": 0, "transform_errors": 0, "batches_sent": 1,
                        "records_sent": 1, "agent_errors": 0, "dlq": 0, "state": "running", "error": "",
                        "stalled_since": None, "last_error": "", "last_error_at": None,
                        "workerId": "test-worker", "updatedAt": document["updatedAt"],
                        "concurrencyLimit": document["concurrencyLimit"], "inFlight": 0, "waiting": 0,
                        "rttP50Ms": document["rttP50Ms"], "rttP99Ms": document["rttP50Ms"],
                        "throttledSeconds": 0.0, "throttledBy": ""}
    assert document["concurrencyLimit"] >= 1 and document["rttP50Ms"] > 0
    assert document["updatedAt"].endswith("Z")


async def test_a_worker_restarted_with_the_same_id_continues_its_counters(nats_server, nc, project, agent):
    bucket = private_bucket()
    kv = await config_bucket(nc.jetstream(), bucket, 1)
    await put_config_document(kv, helpers.config_document(project, agent.url, version=1))
    for round_number in (1, 2):
        instance = PipelineWorker(helpers.worker_settings(nats_server, worker_id="steady-worker", config_bucket=bucket))
        await instance.start()
        try:
            await wait_for_async(lambda instance=instance: project in instance.runners)
            await helpers.publish_records(nc, project, [helpers.log_record(round_number)])
            await wait_for_async(lambda instance=instance, n=round_number:
                             instance.stats.projects[project].counters.records_sent == n)
        finally:
            await instance.shutdown()
    kv = await nc.jetstream().key_value(settings.STATS_BUCKET)
    document = json.loads((await kv.get(f"{project}.pipeline.steady-worker")).value)
    assert document["records_sent"] == 2 and document["state"] == "stopped"


async def test_two_runners_sharing_the_consumer_deliver_every_record(nats_server, nc, project, agent):
    import nats

    other = await nats.connect(nats_server.url)
    document = helpers.config_document(project, agent.url, batchSize=20, batchMaxWaitMs=50)
    try:
        async with helpers.running(helpers.make_runner(nc, document)) as first, helpers.running(helpers.make_runner(other, document)) as second:
            await helpers.publish_records(nc, project, [helpers.log_record(n) for n in range(3000)])
            await wait_for_async(lambda: len(agent.delivered()) >= 3000, timeout=30)
            await wait_for_async(lambda: helpers.consumer_settled(nc, project))
        assert {record["attributes"]["n"] for record in agent.delivered()} == set(range(3000))
        assert first.counters.received > 0 and second.counters.received > 0, "both runners took a share"
        assert first.counters.received + second.counters.received == 3000
    finally:
        await other.close()


async def _no_pull_waiting(info):
    return (await info).num_waiting == 0


async def _pending(info, count: int):
    current = await info
    return current if current.num_pending == count else None
