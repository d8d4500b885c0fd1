"""What the pipeline does when the agent fails: a temporary outage (503) is retried until it ends,
with nothing dead-lettered; a refusal (400) dead-letters the batch with the reason, and replaying
it through the dead-letter API after the agent is fixed delivers it.
"""

from __future__ import annotations

import pytest

from tests.support.deadline import wait_for
from tests.support.standins import distinct_seqs, seq_of
from tests.support.telemetry import post_logs, wait_until_key_accepted

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def post_to_an_agent_answering(status: int, stack, project, agent, *, records: int, per_request: int,
                               batch_max_wait_ms: int) -> None:
    """The agent answers ``status`` (and sends no outputs); ``records`` logs go in, in batches of 10."""
    agent.send_outputs = False
    agent.status = status
    project.configure_pipeline(agent.url, batch_size=10, batch_max_wait_ms=batch_max_wait_ms)
    wait_until_key_accepted(stack.receiver_url, project.key)
    post_logs(stack.receiver_url, project.key, range(records), per_request=per_request)


def test_an_agent_answering_503_for_a_while_gets_every_record_once_it_recovers_and_nothing_is_dead_lettered(
        stack, project, agent):
    post_to_an_agent_answering(503, stack, project, agent, records=50, per_request=10, batch_max_wait_ms=50)

    wait_for(lambda: len(agent.requests) >= 20, timeout=20, message="the pipeline keeps retrying")
    agent.status = 200
    wait_for(lambda: distinct_seqs(agent.accepted_records()) == set(range(50)), timeout=20,
             message="every record delivered after the agent recovered")
    project.wait_settled(project.raw_stream, "pipeline")

    refused = [request for request in agent.requests if request.status == 503]
    delivered = agent.delivered()
    assert len(refused) >= 20
    assert sorted(seq_of(record) for record in agent.accepted_records()) == list(range(50)), "each record once"
    delivered_ids = {request.header("X-Request-ID") for request in delivered}
    assert len(delivered_ids) == len(delivered)
    assert {request.header("X-Request-ID") for request in refused} <= delivered_ids, \
        "a retried batch keeps its X-Request-ID"
    assert project.dead_letters() == []
    stats = wait_for(lambda: (s := project.stats())["records_sent"] == 50 and s, timeout=10, interval=0.3,
                     message="counters published")
    assert stats["agent_errors"] == len(refused), "every failed attempt is counted, once"


def test_a_batch_the_agent_refuses_with_400_is_dead_lettered_with_the_reason_and_replay_delivers_it(
        stack, project, agent):
    post_to_an_agent_answering(400, stack, project, agent, records=7, per_request=7, batch_max_wait_ms=100)

    entries = wait_for(lambda: (found := project.dead_letters("pipeline"))
                       and sum(len(entry["records"]) for entry in found) == 7 and found,
                       timeout=20, message="the refused batch is in the dead-letter stream")
    refused = {request.header("X-Request-ID"): request for request in agent.requests}
    assert len(refused) == len(entries), "each refused batch tried once, dead-lettered at once"
    for entry in entries:
        assert entry["stage"] == "pipeline"
        assert "400" in entry["reason"] and "400" in entry["lastError"], entry
        assert entry["attempts"] == 1
        assert entry["requestId"] in refused
        assert entry["subject"] == f"gf-ai-raw.{project.id}.in"
        assert sorted(seq_of(record) for record in entry["records"]) == \
            sorted(seq_of(record) for record in refused[entry["requestId"]].body)
    project.wait_settled(project.raw_stream, "pipeline")
    assert agent.delivered() == []

    agent.status = 200  # the agent is fixed
    for entry in entries:
        answer = project.replay(entry["seq"])
        assert answer["replayed"] == 1 and answer["messages"] == len(entry["records"]), answer
    wait_for(lambda: distinct_seqs(agent.accepted_records()) == set(range(7)), timeout=20,
             message="the replayed records reach the agent")
    project.wait_settled(project.raw_stream, "pipeline")
    assert sorted(seq_of(record) for record in agent.accepted_records()) == list(range(7))
    assert project.dead_letters() == [], "a replayed entry leaves the dead-letter list"
