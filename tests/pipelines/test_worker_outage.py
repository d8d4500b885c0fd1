"""An agent outage pauses the pipeline instead of filling the dead letters (real nats-server, real HTTP agent).

The agent's port refuses connections, then an agent starts listening on it: the batch is retried
well past the old budget (8 attempts), the pipeline shows "stalled since" with the last error
meanwhile, and once the agent is up every record is delivered and nothing was dead-lettered.
"""

from __future__ import annotations

import socket
import threading
from http.server import ThreadingHTTPServer

import pytest

from tests.support import pipeline_worker as helpers
from tests.support.deadline import wait_for_async

OLD_ATTEMPT_BUDGET = 8


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def serve():
    """``serve(agent, port=0)`` starts a loopback HTTP agent (on a given port: one that refused until then)."""
    servers = []

    def start(agent: helpers.Agent, port: int = 0) -> helpers.Agent:
        ThreadingHTTPServer.allow_reuse_address = True
        server = ThreadingHTTPServer(("127.0.0.1", port), helpers._handler(agent))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        agent.url = f"http://127.0.0.1:{server.server_address[1]}/ingest"
        return agent

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


async def test_an_agent_down_longer_than_the_old_retry_budget_stalls_then_delivers_everything(nc, project, serve):
    port = free_port()
    down_agent = helpers.Agent(url=f"http://127.0.0.1:{port}/ingest")  # nothing listens there yet: refused
    document = helpers.config_document(project, down_agent.url, batchSize=5, retry={"initialBackoffMs": 20,
                                                                           "maxBackoffMs": 100})
    records = [helpers.log_record(n) for n in range(5)]
    async with helpers.running(helpers.make_runner(nc, document)) as runner:
        await helpers.publish_records(nc, project, records)
        await wait_for_async(lambda: runner.counters.agent_errors > 2 * OLD_ATTEMPT_BUDGET, timeout=30,
                             message="retried well past the old budget")
        health = runner.stats.health()
        assert health["stalled_since"] and health["stalled_since"].endswith("Z")
        assert health["last_error"].startswith("could not connect to the agent endpoint")
        assert runner.counters.dlq == 0 and await helpers.dead_letters(nc, project) == []

        serve(down_agent, port)
        await wait_for_async(lambda: len(down_agent.delivered()) == 5, timeout=15, message="delivered once up")
        await wait_for_async(lambda: helpers.consumer_settled(nc, project), message="acked")
        assert runner.stats.health()["stalled_since"] is None, "a delivery ends the stall"
    assert sorted(r["attributes"]["n"] for r in down_agent.delivered()) == list(range(5))
    assert await helpers.dead_letters(nc, project) == []


@pytest.mark.parametrize("status", [408, 429, 500, 503])
async def test_transient_answers_are_retried_past_the_old_budget_without_dead_letters(nc, project, serve, status):
    answers = iter([status] * (OLD_ATTEMPT_BUDGET + 4))
    agent = serve(helpers.Agent(script=lambda index, request: (next(answers, 200), {}, 0)))
    document = helpers.config_document(project, agent.url, batchSize=2, retry={"initialBackoffMs": 10, "maxBackoffMs": 40})
    async with helpers.running(helpers.make_runner(nc, document)) as runner:
        await helpers.publish_records(nc, project, [helpers.log_record(n) for n in range(2)])
        await wait_for_async(lambda: helpers.consumer_settled(nc, project), timeout=20, message="acked")
        assert runner.counters.agent_errors == OLD_ATTEMPT_BUDGET + 4
        assert runner.counters.records_sent == 2 and runner.counters.dlq == 0
    assert await helpers.dead_letters(nc, project) == []


async def test_a_permanent_refusal_still_goes_to_the_dead_letters_at_once(nc, project, serve):
    agent = serve(helpers.Agent(script=lambda index, request: (422, {}, 0)))
    async with helpers.running(helpers.make_runner(nc, helpers.config_document(project, agent.url, batchSize=1))) as runner:
        await helpers.publish_records(nc, project, [helpers.log_record(1)])
        await wait_for_async(lambda: helpers.consumer_settled(nc, project), message="settled")
        assert runner.stats.health()["stalled_since"] is None, "a refusal is not an outage"
        assert runner.stats.health()["last_error"].startswith("422")
    [entry] = await helpers.dead_letters(nc, project)
    assert entry["attempts"] == 1 and len(agent.requests) == 1
