"""The shipped example agent (``examples/agents/triage/agent.py``) run as its README says, as its
own process: the pipeline's batches reach it, it answers through the SDK, and its triage reaches
the webhook under each batch's request id.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.browser import free_port
from tests.support.deadline import wait_for
from tests.support.processes import start_example_agent
from tests.support.telemetry import post_logs, wait_until_key_accepted

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def triage_agent(stack, project, tmp_path) -> Iterator[str]:
    port = free_port()
    env = {**stack.env, "GLASSFLOW_API_KEY": project.key, "GLASSFLOW_ENDPOINT": stack.receiver_url,
           "AGENT_HOST": "127.0.0.1", "AGENT_PORT": str(port)}
    process, url = start_example_agent("examples/agents/triage/agent.py", env, port, tmp_path / "triage-agent.log",
                                       timeout=15)
    yield url
    process.terminate()
    process.wait(10)


def test_the_example_triage_agent_turns_batches_into_outputs_that_reach_the_webhook(
        stack, project, triage_agent, webhook):
    project.configure_pipeline(triage_agent, batch_size=10, batch_max_wait_ms=50)
    hook = project.add_webhook(webhook)
    wait_until_key_accepted(stack.receiver_url, project.key)

    post_logs(stack.receiver_url, project.key, range(20), per_request=20)
    wait_for(lambda: sum(message.body["payload"]["services"]["checkout-e2e"]["records"]
                         for message in webhook.delivered()) >= 20,
             timeout=20, message="the triage of every record reached the webhook")
    project.wait_settled(project.raw_stream, "pipeline")
    project.wait_settled(project.output_stream, f"sink-{hook['id']}")
    messages = [request.body for request in webhook.delivered()]
    assert sum(message["payload"]["services"]["checkout-e2e"]["records"] for message in messages) == 20
    assert len({message["requestId"] for message in messages}) == len(messages)
    for message in messages:
        payload = message["payload"]
        assert message["projectId"] == project.id and message["requestId"]
        assert payload["severity"] == "error"
        assert payload["summary"].startswith("Error in checkout-e2e: Connection refused: database pool exhausted")
        assert payload["remediation"].startswith("Raise the connection pool size")
    assert project.dead_letters() == []
