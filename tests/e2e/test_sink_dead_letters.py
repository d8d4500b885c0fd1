"""A webhook that refuses outputs for good (410) gets them dead-lettered per sink while Slack has
them delivered; replaying the entries through the dead-letter API once the webhook is fixed
delivers them to the webhook only: Slack does not get a second copy.
"""

from __future__ import annotations

import pytest

from tests.support.deadline import wait_for
from tests.support.standins import slack_ids
from tests.support.telemetry import post_logs, wait_until_key_accepted

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_outputs_a_webhook_refuses_are_dead_lettered_for_that_sink_and_replay_delivers_them_to_it_alone(
        stack, project, agent, webhook, slack):
    webhook.status = 410
    project.configure_pipeline(agent.url, batch_size=10, batch_max_wait_ms=50)
    hook = project.add_sink("ops-webhook", "webhook", {"url": webhook.url, "method": "POST", "headers": {}})
    chat = project.add_sink("ops-slack", "slack", {"webhook_url": slack.url})
    project.wait_for_sink_consumers(hook["id"], chat["id"])
    wait_until_key_accepted(stack.receiver_url, project.key)

    post_logs(stack.receiver_url, project.key, range(20), per_request=10)
    wait_for(lambda: len(agent.accepted_records()) >= 20, timeout=20, message="the agent answered every batch")
    project.wait_settled(project.raw_stream, "pipeline")
    outputs = set(agent.outputs)
    entries = wait_for(lambda: len(found := project.dead_letters("sink")) >= len(outputs) and found, timeout=20,
                       message="one dead letter per output refused by the webhook")
    project.wait_settled(project.output_stream, f"sink-{hook['id']}")
    project.wait_settled(project.output_stream, f"sink-{chat['id']}")
    assert slack_ids(slack, outputs) == sorted(outputs), "Slack is not affected by the webhook's failures"
    assert sorted(entry["output"]["requestId"] for entry in entries) == sorted(outputs)
    for entry in entries:
        assert entry["stage"] == "sink" and entry["sinkId"] == hook["id"] and entry["sinkName"] == "ops-webhook"
        assert "410" in entry["reason"], entry["reason"]
        assert entry["attempts"] == 1, "a 410 is not retried"
        assert entry["output"]["payload"] == agent.outputs[entry["output"]["requestId"]]
    assert project.dead_letters("pipeline") == []

    webhook.status = 200  # fixed
    for entry in entries:
        assert project.replay(entry["seq"])["replayed"] == 1
    wait_for(lambda: {request.body["requestId"] for request in webhook.delivered()} == outputs, timeout=20,
             message="the replayed outputs reach the webhook")
    project.wait_settled(project.output_stream, f"sink-{hook['id']}")
    project.wait_settled(project.output_stream, f"sink-{chat['id']}")
    assert sorted(request.body["requestId"] for request in webhook.delivered()) == sorted(outputs)
    assert slack_ids(slack, outputs) == sorted(outputs), "the replay is not sent to Slack again"
    assert project.dead_letters() == []
