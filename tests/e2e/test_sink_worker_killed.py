"""A sink worker killed with SIGKILL while a webhook delivery is in flight, then started again:
every output reaches the webhook at least once; only the delivery in flight can come twice.

The webhook holds (does not answer) the first delivery, so the kill lands while it is known to
be in flight. The restarted worker gets the dead one's messages after the consumer's ack_wait
(5 s for the sink worker).
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.support.deadline import wait_for
from tests.support.telemetry import post_logs, wait_until_key_accepted

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_killed_sink_worker_loses_no_output_and_repeats_at_most_the_delivery_in_flight(
        stack, project, agent, webhook):
    project.configure_pipeline(agent.url, batch_size=10, batch_max_wait_ms=50)
    hook = project.add_webhook(webhook)
    wait_until_key_accepted(stack.receiver_url, project.key)

    webhook.hold()
    post_logs(stack.receiver_url, project.key, range(40), per_request=10)
    wait_for(lambda: len(agent.accepted_records()) >= 40, timeout=20, message="the agent answered every batch")
    project.wait_settled(project.raw_stream, "pipeline")  # every batch answered, so every output sent
    outputs = set(agent.outputs)
    assert len(outputs) == len(agent.delivered()) >= 4
    wait_for(lambda: webhook.held, timeout=20, message="a webhook delivery is in flight")
    stack.kill("sink")
    in_flight = {request.body["requestId"] for request in webhook.held}
    webhook.release()
    stack.ensure_running("sink")

    wait_for(lambda: stack.check_alive() or {request.body["requestId"] for request in webhook.delivered()} >= outputs,
             timeout=60, interval=0.2, message="every output delivered after the restart")
    project.wait_settled(project.output_stream, f"sink-{hook['id']}")
    counts = Counter(request.body["requestId"] for request in webhook.delivered())
    assert set(counts) == outputs
    repeated = {request_id for request_id, times in counts.items() if times > 1}
    assert repeated <= in_flight, f"outputs delivered twice that were not in flight: {repeated - in_flight}"
    assert project.dead_letters() == []
