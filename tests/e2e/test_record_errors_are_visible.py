"""Filter errors are not only a count: the Activity page shows the latest message and a sample
record, and the pipeline worker's per-batch log line carries the same totals as the stats.

A log-only filter (``severityNumber >= 13``) with spans enabled is the case a new user hits: the
span has no severityNumber, so the filter fails on it.
"""

from __future__ import annotations

import httpx
import pytest
from django.test import Client
from django.urls import reverse

from tests.support.deadline import wait_for
from tests.support.processes import PIPELINE_WORKER
from tests.support.telemetry import post_logs, wait_until_key_accepted

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SPAN = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "cart"}}]},
                           "scopeSpans": [{"spans": [{"traceId": "5b8efff798038103d269b633813fc60c",
                                                      "spanId": "eee19b7ec3c1b174", "name": "GET /cart"}]}]}]}


def test_a_filter_error_shows_its_message_and_sample_on_the_activity_page_and_the_log_agrees_with_the_stats(
        stack, project, agent):
    project.configure_pipeline(agent.url, filter="severityNumber >= 13", signals=["logs", "spans"],
                               batch_size=2, batch_max_wait_ms=5000)
    wait_until_key_accepted(stack.receiver_url, project.key)
    response = httpx.post(f"{stack.receiver_url}/v1/traces", json=SPAN, headers={"X-API-Key": project.key})
    assert response.status_code == 200, response.text
    post_logs(stack.receiver_url, project.key, [0], severity=9)  # filtered out
    post_logs(stack.receiver_url, project.key, [1, 2], severity=17)  # one batch of two

    wait_for(lambda: len(agent.accepted_records()) == 2, timeout=20, message="the two passing records delivered")
    wait_for(lambda: (project.worker_stats(PIPELINE_WORKER) or {}).get("records_sent") == 2, timeout=10,
             message="the worker published its counters")
    stats = project.worker_stats(PIPELINE_WORKER)
    assert (stats["received"], stats["filtered"], stats["filter_errors"], stats["transform_errors"]) == (4, 1, 1, 0)
    error = stats["lastRecordError"]
    assert error["kind"] == "filter" and "invalid operation" in error["message"]
    assert '"name":"GET /cart"' in error["sample"] and '"signal":"span"' in error["sample"]

    browser = Client()
    browser.force_login(project.user)
    page = browser.get(reverse("projects:detail", args=[project.id])).content.decode()
    assert "Latest filter error" in page
    assert "invalid operation" in page
    assert "GET /cart" in page  # the sample record

    lines = [line for line in stack.log_tail(PIPELINE_WORKER, 400).splitlines()
             if project.id in line and "worker totals" in line]
    assert lines, "no batch line for this project"
    assert lines[-1].endswith("worker totals: in=4 filtered=1 filter_errors=1 transform_errors=0 out=2"), lines[-1]
