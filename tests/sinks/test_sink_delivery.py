"""The sink worker end to end: real nats-server, real worker, loopback webhook and Slack stand-ins."""

from __future__ import annotations

import pytest

from sinks.models import Sink
from tests.support import sink_harness as harness
from tests.support.clients import client_for
from tests.support.deadline import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker(nats_server):
    thread = harness.WorkerThread(nats_server.url).start()
    yield thread
    thread.stop()


def wait_for_consumer(js, team, sink):
    wait_for(lambda: harness.consumer_info(js, team.project.pk, sink["id"]), message=f"consumer of sink {sink['name']}")


def test_webhook_receives_the_output_message_with_its_method_and_headers(js, worker, webhook, new_team):
    team = new_team()
    sink = harness.add_sink(team, "ops", "webhook", {"url": webhook.url("/in?x=1"), "method": "PUT",
                                             "headers": {"X-Token": "hunter2"}})
    wait_for_consumer(js, team, sink)
    message = harness.publish_output(js, team.project.pk, {"summary": "db down", "severity": "critical"})
    (request,) = wait_for(webhook.received, message="webhook request")
    assert request.method == "PUT" and request.path == "/in?x=1"
    assert request.headers["X-Token"] == "hunter2"
    assert request.headers["Content-Type"] == "application/json"
    assert request.json() == message
    wait_for(lambda: harness.consumer_info(js, team.project.pk, sink["id"]).num_ack_pending == 0, message="acked")


def test_slack_gets_a_readable_message(js, worker, slack, new_team):
    team = new_team()
    sink = harness.add_sink(team, "alerts", "slack", {"webhook_url": slack.url("/services/T/B/X")})
    wait_for_consumer(js, team, sink)
    harness.publish_output(js, team.project.pk, {"summary": "db down", "severity": "critical", "host": "db-1"})
    (request,) = wait_for(slack.received, message="slack request")
    text = request.json()["text"]
    assert "*Summary:* db down" in text and ":red_circle: *Severity:* critical" in text
    assert '"host": "db-1"' in text


def test_a_webhook_that_is_down_gets_each_message_once_when_it_returns_while_slack_keeps_working(
        js, nats_server, webhook, slack, new_team):
    team = new_team()
    worker = harness.WorkerThread(nats_server.url, harness.fast_options(dead_letter_after=120)).start()
    try:
        hook = harness.add_sink(team, "hook", "webhook", {"url": webhook.url()})
        chat = harness.add_sink(team, "chat", "slack", {"webhook_url": slack.url()})
        wait_for_consumer(js, team, hook)
        wait_for_consumer(js, team, chat)
        webhook.down()
        sent = [harness.publish_output(js, team.project.pk, {"summary": f"event {i}"}, request_id=f"r{i}") for i in range(3)]
        wait_for(lambda: len(slack.received()) == 3, message="slack got every message while the webhook is down")
        webhook.default = harness.Reply(503, b"maintenance")
        webhook.up()
        wait_for(lambda: webhook.received(), message="a retry reached the webhook")
        webhook.default = harness.Reply(200)
        wait_for(lambda: len([r for r in webhook.received() if r.status == 200]) >= 3, timeout=20,
                 message="webhook accepted every message")
        wait_for(lambda: harness.consumer_info(js, team.project.pk, hook["id"]).num_ack_pending == 0, message="acked")
        wait_for(lambda: harness.consumer_info(js, team.project.pk, hook["id"]).num_pending == 0, message="nothing left")
    finally:
        worker.stop()
    accepted = [r.json()["requestId"] for r in webhook.received() if r.status == 200]
    assert sorted(accepted) == sorted(m["requestId"] for m in sent)  # each exactly once, in spite of retries
    assert [r.json()["requestId"] for r in webhook.received() if r.status == 200] == ["r0", "r1", "r2"]
    assert len(slack.received()) == 3


def test_a_new_sink_starts_at_new_messages(js, worker, webhook, new_team):
    team = new_team()
    harness.publish_output(js, team.project.pk, {"summary": "before the sink existed"}, request_id="old")
    sink = harness.add_sink(team, "late", "webhook", {"url": webhook.url()})
    wait_for_consumer(js, team, sink)
    harness.publish_output(js, team.project.pk, {"summary": "after"}, request_id="new")
    wait_for(webhook.received, message="delivery")
    wait_for(lambda: harness.consumer_info(js, team.project.pk, sink["id"]).num_ack_pending == 0, message="acked")
    assert [r.json()["requestId"] for r in webhook.received()] == ["new"]


def test_removing_or_disabling_a_sink_deletes_its_consumer(js, worker, webhook, new_team):
    team = new_team()
    first = harness.add_sink(team, "first", "webhook", {"url": webhook.url()})
    second = harness.add_sink(team, "second", "webhook", {"url": webhook.url()})
    wait_for_consumer(js, team, first)
    wait_for_consumer(js, team, second)
    admin = client_for(team.admin)
    base = f"/api/v1/projects/{team.project.pk}/sinks"
    assert admin.delete(f"{base}/{first['id']}/").status_code == 204
    assert admin.patch(f"{base}/{second['id']}/", {"enabled": False}, format="json").status_code == 200
    wait_for(lambda: harness.consumer_info(js, team.project.pk, first["id"]) is None, message="deleted sink's consumer")
    wait_for(lambda: harness.consumer_info(js, team.project.pk, second["id"]) is None, message="disabled sink's consumer")


def test_slack_rate_limiting_is_honoured(js, worker, slack, new_team):
    team = new_team()
    slack.reply(harness.Reply(429, b"rate_limited", {"Retry-After": "1"}))
    sink = harness.add_sink(team, "alerts", "slack", {"webhook_url": slack.url()})
    wait_for_consumer(js, team, sink)
    harness.publish_output(js, team.project.pk, {"summary": "x"})
    first, second = wait_for(lambda: slack.received() if len(slack.received()) >= 2 else None,
                             message="a retry after the 429")
    assert second.at - first.at >= 0.95
    wait_for(lambda: harness.consumer_info(js, team.project.pk, sink["id"]).num_ack_pending == 0, message="acked")
    assert len(slack.received()) == 2


def test_a_slack_permanent_error_goes_to_the_dlq_at_once_with_a_clear_reason(js, worker, slack, new_team):
    team = new_team()
    slack.default = harness.Reply(404, b"channel_not_found")
    sink = harness.add_sink(team, "alerts", "slack", {"webhook_url": slack.url()})
    wait_for_consumer(js, team, sink)
    message = harness.publish_output(js, team.project.pk, {"summary": "x"})
    viewer = client_for(team.viewer)
    listing = wait_for(lambda: viewer.get(f"/api/v1/projects/{team.project.pk}/deadletters/").json()["results"],
                       message="DLQ entry")
    (entry,) = listing
    assert entry["stage"] == "sink" and entry["sinkId"] == sink["id"] and entry["sinkName"] == "alerts"
    assert entry["attempts"] == 1 and entry["output"] == message
    assert "channel_not_found" in entry["lastError"] and "channel" in entry["reason"]
    assert entry["subject"] == f"gf-ai-output.{team.project.pk}.out"
    assert len(slack.received()) == 1
    shown = wait_for(lambda: viewer.get(f"/api/v1/projects/{team.project.pk}/sinks/{sink['id']}/").json()
                     ["last_error"], message="last error merged from the worker's stats")
    assert "channel_not_found" in shown
    assert Sink.objects.get(pk=sink["id"]).last_error == ""  # the worker never writes the database


def test_with_dead_letter_after_a_transient_error_that_outlasts_it_goes_to_the_dlq(js, nats_server, webhook,
                                                                                    new_team):
    team = new_team()
    webhook.default = harness.Reply(500, b"boom", {"Retry-After": "0.4"})
    worker = harness.WorkerThread(nats_server.url, harness.fast_options(dead_letter_after=1.0)).start()
    try:
        sink = harness.add_sink(team, "hook", "webhook", {"url": webhook.url()})
        wait_for_consumer(js, team, sink)
        harness.publish_output(js, team.project.pk, {"summary": "x"})
        viewer = client_for(team.viewer)
        (entry,) = wait_for(lambda: viewer.get(f"/api/v1/projects/{team.project.pk}/deadletters/?stage=sink")
                            .json()["results"], message="DLQ entry")
    finally:
        worker.stop()
    attempts = entry["attempts"]
    assert attempts >= 2 and f"still failing after {attempts} attempts" in entry["reason"]
    assert "500" in entry["lastError"] and len(webhook.received()) == attempts
