"""A webhook that is down (connection refused) and comes back: every output reaches it exactly
once, and the Slack sink of the same project keeps delivering during the outage, once each.
"""

from __future__ import annotations

import pytest

from tests.support.deadline import wait_for
from tests.support.standins import slack_ids
from tests.support.telemetry import post_logs, wait_until_key_accepted

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_outputs_wait_for_a_webhook_that_is_down_while_slack_keeps_getting_them_and_each_sink_gets_each_once(
        stack, project, agent, webhook, slack):
    project.configure_pipeline(agent.url, batch_size=10, batch_max_wait_ms=50)
    hook = project.add_sink("ops-webhook", "webhook", {"url": webhook.url, "method": "POST", "headers": {}})
    chat = project.add_sink("ops-slack", "slack", {"webhook_url": slack.url})
    project.wait_for_sink_consumers(hook["id"], chat["id"])
    wait_until_key_accepted(stack.receiver_url, project.key)

    webhook.stop()
    post_logs(stack.receiver_url, project.key, range(40), per_request=10)
    wait_for(lambda: len(agent.accepted_records()) >= 40, timeout=20, message="the agent answered every batch")
    project.wait_settled(project.raw_stream, "pipeline")
    outputs = set(agent.outputs)
    assert len(outputs) == len(agent.delivered()) >= 4

    wait_for(lambda: slack_ids(slack, outputs) == sorted(outputs), timeout=20,
             message="Slack got every output while the webhook is down")
    assert webhook.requests == []
    assert project.consumer(project.output_stream, f"sink-{hook['id']}").num_ack_pending > 0, "held for retries"

    webhook.start()  # back on the same port
    wait_for(lambda: {request.body["requestId"] for request in webhook.delivered()} == outputs, timeout=30,
             message="the webhook got every output after it came back")
    project.wait_settled(project.output_stream, f"sink-{hook['id']}")
    project.wait_settled(project.output_stream, f"sink-{chat['id']}")
    assert sorted(request.body["requestId"] for request in webhook.delivered()) == sorted(outputs), "once each"
    assert slack_ids(slack, outputs) == sorted(outputs), "once each"
    assert project.dead_letters() == []


def test_a_webhook_that_is_down_shows_its_last_error_and_failed_attempts_while_its_outputs_wait(
        stack, project, agent, webhook):
    """sinks.md: the worker adds failures and lastError to the sink's stats key "about once per second",
    and the sinks API shows it as last_error. Found: both are recorded only once a message is finally
    delivered or dead-lettered, so during an outage the sink looks healthy."""
    project.configure_pipeline(agent.url, batch_size=10, batch_max_wait_ms=50)
    hook = project.add_webhook(webhook)
    wait_until_key_accepted(stack.receiver_url, project.key)

    webhook.stop()
    post_logs(stack.receiver_url, project.key, range(10), per_request=10)
    wait_for(lambda: agent.outputs, timeout=20, message="the agent sent an output")
    try:
        wait_for(lambda: project.sink(hook["id"])["last_error"], timeout=8, interval=0.3,
                 message="the sinks API shows the webhook's last error during the outage")
        failures = wait_for(lambda: project.stats()["sinks"][hook["id"]]["failures"], timeout=5, interval=0.3,
                            message="the stats API counts the failed attempts during the outage")
        assert failures > 0
    finally:
        webhook.start()
    wait_for(lambda: webhook.delivered(), timeout=20, message="delivered once the webhook is back")
