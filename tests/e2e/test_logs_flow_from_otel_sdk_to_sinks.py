"""The whole product in one pass: the OpenTelemetry Python SDK sends logs to the receiver, the
pipeline worker filters and transforms them and POSTs batches to an agent, the agent answers
through the SDK, and the sink worker delivers each output to a webhook and to Slack.

Every part is real: nats-server, the receiver and both workers as subprocesses, the control-plane
API in-process, the OTel SDK's OTLP/HTTP exporter, and local HTTP servers for agent, webhook and
Slack that record what they receive.
"""

from __future__ import annotations

import re
import uuid

import pytest
from opentelemetry._logs import SeverityNumber
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, set_span_in_context

from tests.support.deadline import wait_for
from tests.support.e2e_project import AGENT_TOKEN
from tests.support.standins import seq_of
from tests.support.telemetry import SERVICE, otel_logs, wait_until_key_accepted

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TRACE_ID, SPAN_ID = 0x5B8EFFF798038103D269B633813FC60C, 0xEEE19B7EC3C1B174
LEVELS = [(SeverityNumber.ERROR, "error"), (SeverityNumber.ERROR, "error"), (SeverityNumber.FATAL, "fatal"),
          (SeverityNumber.INFO, "info"), (SeverityNumber.WARN, "warn")]
RECORDS = 30
PASSING = {seq for seq in range(RECORDS) if LEVELS[seq % 5][0].value >= 17}
TRANSFORMS = [
    {"expression": 'resourceAttributes["service.name"] ?? "unknown"', "output_name": "service", "output_type": "string"},
    {"expression": "upper(severityText)", "output_name": "level", "output_type": "string"},
    {"expression": 'service + "/" + level', "output_name": "source", "output_type": "string"},  # sees both above
    {"expression": "attributes.seq * 10", "output_name": "rank", "output_type": "int"},
]
RFC3339_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_otel_sdk_logs_are_filtered_transformed_batched_answered_and_delivered_to_webhook_and_slack(
        stack, project, agent, webhook, slack):
    project.configure_pipeline(agent.url, filter="severityNumber >= 17", transforms=TRANSFORMS,
                               batch_size=10, batch_max_wait_ms=200)
    hook = project.add_sink("ops-webhook", "webhook", {"url": webhook.url, "method": "PUT",
                                                      "headers": {"X-Hook-Token": "hook-secret"}})
    chat = project.add_sink("ops-slack", "slack", {"webhook_url": slack.url})
    project.wait_for_sink_consumers(hook["id"], chat["id"])
    wait_until_key_accepted(stack.receiver_url, project.key)

    context = set_span_in_context(NonRecordingSpan(SpanContext(TRACE_ID, SPAN_ID, is_remote=False,
                                                               trace_flags=TraceFlags(1))))
    with otel_logs(stack.receiver_url, project.key) as logger:
        for seq in range(RECORDS):
            number, text = LEVELS[seq % 5]
            logger.emit(severity_number=number, severity_text=text, context=context,
                        body=f"Connection refused: database pool exhausted (record {seq})",
                        attributes={"seq": seq, "db.system": "postgresql"})
    wait_for(lambda: project.stored(project.raw_stream) == RECORDS, timeout=10, message="raw records stored")

    # The agent: exactly the records the filter lets through, transformed, in batches of at most 10.
    wait_for(lambda: len(agent.accepted_records()) >= len(PASSING), timeout=20, message="agent got every record")
    project.wait_settled(project.raw_stream, "pipeline")
    batches = agent.delivered()
    records = agent.accepted_records()
    assert sorted(seq_of(record) for record in records) == sorted(PASSING), "dropped what the filter refuses, once"
    assert all(1 <= len(batch.body) <= 10 for batch in batches), [len(batch.body) for batch in batches]
    assert len(batches) >= 2
    for record in records:
        seq = seq_of(record)
        assert record["service"] == SERVICE
        assert record["level"] == LEVELS[seq % 5][1].upper()
        assert record["source"] == f"{SERVICE}/{record['level']}"
        assert record["rank"] == seq * 10
        assert record["resourceAttributes"]["service.name"] == SERVICE
        assert record["scope"] == {"name": "shop.checkout", "version": "1.4.2"}
        assert record["severityNumber"] >= 17
        assert record["body"] == f"Connection refused: database pool exhausted (record {seq})"
        assert record["attributes"] == {"seq": seq, "db.system": "postgresql"}
        assert (record["traceId"], record["spanId"]) == (f"{TRACE_ID:032x}", f"{SPAN_ID:016x}")
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$", record["timestamp"]), record["timestamp"]

    request_ids = [batch.header("X-Request-ID") for batch in batches]
    assert len(set(request_ids)) == len(batches), "a new X-Request-ID per batch"
    for batch in batches:
        uuid.UUID(batch.header("X-Request-ID"))
        assert batch.header("X-Project-ID") == project.id
        assert batch.header("Authorization") == AGENT_TOKEN
        assert batch.header("Content-Type").startswith("application/json")
    assert not agent.send_errors

    # The sinks: one output message per batch on each, the webhook's body is section 4.3.
    wait_for(lambda: len(webhook.delivered()) >= len(batches) and len(slack.delivered()) >= len(batches),
             timeout=20, message="every output reached the webhook and Slack")
    project.wait_settled(project.output_stream, f"sink-{hook['id']}")
    project.wait_settled(project.output_stream, f"sink-{chat['id']}")
    hooks = webhook.delivered()
    assert sorted(request.body["requestId"] for request in hooks) == sorted(request_ids), "once per batch"
    for request in hooks:
        message = request.body
        assert set(message) == {"projectId", "requestId", "receivedAt", "payload"}
        assert message["projectId"] == project.id
        assert message["payload"] == agent.outputs[message["requestId"]]
        assert message["payload"]["batch"] == message["requestId"], "requestId is the batch's X-Request-ID"
        assert RFC3339_MS.match(message["receivedAt"]), message["receivedAt"]
        assert request.method == "PUT"
        assert request.header("X-Hook-Token") == "hook-secret"
        assert request.header("Content-Type").startswith("application/json")

    posts = slack.delivered()
    assert len(posts) == len(batches)
    texts = sorted(request.body["text"] for request in posts)
    for request_id in request_ids:
        summary = agent.outputs[request_id]["summary"]
        assert sum(summary in text and request_id in text for text in texts) == 1, (summary, request_id, texts)
    assert all("*Severity:* critical" in text and "database pool exhausted" in text for text in texts)
    assert project.dead_letters() == []


def test_project_statistics_count_what_the_filter_dropped_and_what_was_sent(stack, project, agent):
    project.configure_pipeline(agent.url, filter="severityNumber >= 17", batch_max_wait_ms=50)
    wait_until_key_accepted(stack.receiver_url, project.key)
    with otel_logs(stack.receiver_url, project.key) as logger:
        for seq in range(RECORDS):
            number, text = LEVELS[seq % 5]
            logger.emit(severity_number=number, severity_text=text, body=f"record {seq}", attributes={"seq": seq})
    wait_for(lambda: len(agent.accepted_records()) >= len(PASSING), timeout=20, message="agent got every record")

    def counted() -> dict | bool:
        stats = project.stats()
        return stats if stats.get("records_sent") == len(PASSING) and stats.get("filtered_out") else False

    stats = wait_for(counted, timeout=15, interval=0.3, message="the workers' counters reach the stats API")
    assert stats["received"]["messages"] == RECORDS
    assert stats["pipeline_received"] == RECORDS
    assert stats["filtered_out"] == RECORDS - len(PASSING)
    assert stats["filter_errors"] == 0
    assert stats["batches_sent"] == len(agent.delivered())
