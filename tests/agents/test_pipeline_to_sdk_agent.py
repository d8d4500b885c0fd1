"""The real pipeline runner delivering to an SDK AgentApp (uvicorn on loopback): the agent reads the
pipeline's X-Deadline-Ms, answers 503 before the pipeline's timeout while its work goes on, and the
pipeline's retry (same X-Request-ID) gets the result: one model call, one output, and the run history
shows both attempts."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest
import uvicorn
from glassflow_ai import AgentApp

from runs import store
from runs.recorder import RunHistory
from tests.support import pipeline_worker as helpers
from tests.support.deadline import wait_for_async
from tests.support.sink_harness import StubServer

pytestmark = pytest.mark.asyncio


@pytest.fixture
def receiver():
    stub = StubServer().up()
    yield stub
    stub.down()


@pytest.fixture
def served():
    servers = []

    async def serve(app) -> str:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
        servers.append(server)
        await wait_for_async(lambda: server.started, message="uvicorn started")
        return f"http://127.0.0.1:{sock.getsockname()[1]}/"

    yield serve
    for server in servers:
        server.should_exit = True


async def test_a_slow_agent_answers_in_time_and_the_retry_gets_the_single_output(nc, project, receiver, served):
    calls = []

    async def slow_model(batch):
        calls.append(batch.request_id)
        await asyncio.sleep(1.2)  # longer than the pipeline waits for one attempt (1 s)
        return {"summary": f"{len(batch.records)} records"}

    url = await served(AgentApp(slow_model, api_key="gfk_t", endpoint=receiver.url("")))
    history = RunHistory(nc)
    history.start()
    document = helpers.config_document(project, url, batchSize=3, requestTimeoutMs=1000, retry={
        "maxAttempts": 8, "maxElapsedSeconds": 60, "initialBackoffMs": 100, "maxBackoffMs": 2000})
    async with helpers.running(helpers.make_runner(nc, document, runs=history)) as runner:
        await helpers.publish_records(nc, project, [helpers.log_record(n) for n in range(3)])
        await wait_for_async(lambda: helpers.consumer_settled(nc, project), timeout=30, message="the batch is acked")
    await history.close()
    outputs = [r for r in receiver.received() if r.path == "/internal/agent-output"]
    assert len(calls) == 1, "the retry joined the run still working instead of calling the model again"
    assert [o.json() for o in outputs] == [{"payload": {"summary": "3 records"}, "request_id": calls[0]}]
    assert runner.counters.dlq == 0
    await nc.flush()
    run = await wait_for_async(lambda: store.get_run(nc.jetstream(), project, calls[0]))
    statuses = [attempt["status"] for attempt in run["attempts"]]
    assert statuses == [503, 200], f"the agent answered 503 in time, not a timeout: {statuses}"
    assert run["attempts"][0]["latencyMs"] < 1000 and run["status"] == "delivered"
