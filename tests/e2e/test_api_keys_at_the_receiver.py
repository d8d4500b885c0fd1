"""API keys between the control plane and the receiver: the OTel exporter's other common settings
(``Authorization: Bearer`` and gzip) work end to end, and a key revoked through the API is refused
by the running receiver, for logs and for agent output, within a second.
"""

from __future__ import annotations

import time

import httpx
import pytest
from glassflow_ai import AuthenticationError, GlassFlow
from opentelemetry._logs import SeverityNumber

from tests.support.deadline import wait_for
from tests.support.standins import seq_of
from tests.support.telemetry import log_request, otel_logs, wait_until_key_accepted

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_otel_sdk_logs_sent_with_a_bearer_key_and_gzip_reach_the_agent(stack, project, agent):
    agent.send_outputs = False
    project.configure_pipeline(agent.url, batch_max_wait_ms=50)
    wait_until_key_accepted(stack.receiver_url, project.key)
    with otel_logs(stack.receiver_url, project.key, bearer=True, gzip=True) as logger:
        for seq in range(5):
            logger.emit(severity_number=SeverityNumber.ERROR, severity_text="ERROR", body=f"gzip {seq}",
                        attributes={"seq": seq})
    wait_for(lambda: len(agent.accepted_records()) >= 5, timeout=15, message="agent got the gzip'd records")
    assert sorted(seq_of(record) for record in agent.accepted_records()) == list(range(5))


def test_a_key_revoked_through_the_api_is_refused_by_the_receiver_within_a_second(stack, project):
    wait_until_key_accepted(stack.receiver_url, project.key)
    logs = f"{stack.receiver_url}/v1/logs"
    headers = {"X-API-Key": project.key, "Content-Type": "application/x-protobuf"}
    assert httpx.post(logs, content=log_request([1]), headers=headers, timeout=5).status_code == 200

    revoked_at = time.monotonic()
    project.call("post", project.path(f"keys/{project.key_id}/revoke/"))
    wait_for(lambda: httpx.post(logs, content=log_request([2]), headers=headers, timeout=5).status_code == 401,
             timeout=1.5, interval=0.05, message="the receiver refuses the revoked key")
    refused_after = time.monotonic() - revoked_at
    assert refused_after < 1.5, f"refused {refused_after:.2f}s after the revoke call"

    with GlassFlow(project.key, endpoint=stack.receiver_url, max_retries=0) as glassflow, \
            pytest.raises(AuthenticationError):
        glassflow.send_output({"summary": "after revocation"}, request_id="revoked-1")
    assert project.stored(project.raw_stream) == 1, "nothing stored with the revoked key"
    assert project.stored(project.output_stream) == 0
