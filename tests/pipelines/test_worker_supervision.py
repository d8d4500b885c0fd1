"""No background task dies unnoticed, and one project's configuration has one owner at a time."""

from __future__ import annotations

import asyncio
import logging
import uuid

import nats
import pytest
from prometheus_client import CollectorRegistry, generate_latest

from glassflow_site import supervision
from pipelines.worker import PipelineWorker
from tests.support import pipeline_worker as helpers
from tests.support.deadline import wait_for_async

pytestmark = pytest.mark.asyncio


async def test_a_failing_background_task_is_restarted_logged_and_counted(caplog):
    runs = []

    async def flaky() -> None:
        runs.append(len(runs))
        if len(runs) < 3:
            raise RuntimeError(f"failure {len(runs)}")

    before = supervision.FAILURES["test-flaky"]
    with caplog.at_level(logging.ERROR, logger="glassflow_site.supervision"):
        task = supervision.supervise("test-flaky", flaky, first_delay=0.01)
        await asyncio.wait_for(task, 5)
    assert runs == [0, 1, 2]  # restarted after each failure, ended when it returned
    assert supervision.FAILURES["test-flaky"] == before + 2
    assert sum("background task test-flaky failed" in r.getMessage() for r in caplog.records) == 2
    registry = CollectorRegistry()
    registry.register(supervision.SupervisionCollector())
    assert f'glassflow_task_restarts_total{{task="test-flaky"}} {before + 2}.0' in generate_latest(registry).decode()


@pytest.mark.slow
async def test_the_batch_timer_survives_a_nats_outage_with_a_full_reconnect_buffer(nats_server, project, agent):
    # pending_size=1: every publish while disconnected raises OutboundBufferLimitError, as it
    # does once a real reconnect buffer has filled with acks and heartbeats.
    connection = await nats.connect(nats_server.url, connect_timeout=2, max_reconnect_attempts=-1,
                                    reconnect_time_wait=0.2, pending_size=1)
    runner = helpers.make_runner(connection, helpers.config_document(project, agent.url, batchSize=100, batchMaxWaitMs=50))
    try:
        async with helpers.running(runner):
            await helpers.publish_records(connection, project, [helpers.log_record(n) for n in range(3)])
            await wait_for_async(lambda: helpers.consumer_settled(connection, project), message="acked before the outage")
            serial = runner.feed.serial
            nats_server.kill()
            try:
                # The timer issues a pull request (and fails to send it) once the old ones expire.
                await wait_for_async(lambda: runner.feed.serial > serial, timeout=20, message="a pull during the outage")
            finally:
                nats_server.start()
            await wait_for_async(lambda: connection.is_connected, timeout=20, message="reconnected")
            await helpers.publish_records(connection, project, [helpers.log_record(n) for n in range(3, 6)])
            await wait_for_async(lambda: {r["attributes"]["n"] for r in agent.delivered()} == set(range(6)), timeout=20,
                             message="records published after the outage are delivered")
            assert not runner.timer.done()
    finally:
        await connection.close()


async def test_the_config_watch_and_the_retry_never_run_two_runners_for_one_project(nats_server, nc, project):
    new = agent_server()
    instance = PipelineWorker(helpers.worker_settings(nats_server, worker_id="lock-test",
                                      config_bucket=f"gf-ai-config-test-{uuid.uuid4().hex[:12]}"))
    await instance.start()
    try:
        # A document left for the housekeeping retry (its start failed earlier) and a newer one
        # from the config watch, with another endpoint, applied at the same moment.
        instance.unsettled[project] = helpers.config_document(project, "http://127.0.0.1:9/old-endpoint", version=1)
        newer = helpers.config_document(project, new.state.url, version=2, batchSize=1, batchMaxWaitMs=10)
        await asyncio.gather(instance.retry_unsettled(), instance.change(project, newer))  # as the watch calls it
        runner = instance.runners[project]
        assert runner.compiled.config.agent_endpoint == new.state.url

        await helpers.publish_records(nc, project, [helpers.log_record(n) for n in range(20)])
        await wait_for_async(lambda: len(new.state.delivered()) == 20, message="all delivered to the new endpoint")
        info = await nc.jetstream().consumer_info(f"gf-ai-raw-{project}", "pipeline")
        assert info.num_waiting <= 2, f"{info.num_waiting} pull requests waiting: more than one runner pulls"
        await instance.apply(project, {**newer, "version": 3, "pipeline": {**newer["pipeline"],
                                                                                   "enabled": False}})
        await helpers.publish_records(nc, project, [helpers.log_record(n) for n in range(20, 25)])
        # A leaked runner would still pull (and deliver to the old endpoint).
        await wait_for_async(lambda: consumer_waiting(nc, project, 0), timeout=10, message="no pull requests left")
        assert len(new.state.delivered()) == 20
    finally:
        await instance.shutdown()
        new.close()


async def consumer_waiting(nc, project_id: str, expected: int) -> bool:
    info = await nc.jetstream().consumer_info(f"gf-ai-raw-{project_id}", "pipeline")
    return info.num_waiting == expected


class agent_server:  # noqa: N801 -- used like the agent fixture, for a second agent in one test
    def __init__(self):
        import threading
        from http.server import ThreadingHTTPServer

        self.state = helpers.Agent()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), helpers._handler(self.state))
        self.server.daemon_threads = True
        self.state.url = f"http://127.0.0.1:{self.server.server_address[1]}/ingest"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
