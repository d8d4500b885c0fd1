"""A sink whose target is down pauses instead of dead-lettering, visibly, and other sinks keep going.

Real nats-server, real sink worker, loopback webhooks: one refuses connections for longer than
the old retry budget (8 attempts) while the other keeps receiving; the stalled sink shows
"stalled since" with its last error in the stats API, /metrics and the Activity page, and once
its target is back it gets every output, in order, and nothing was dead-lettered.
"""

from __future__ import annotations

import pytest
from django.test import Client
from prometheus_client import REGISTRY

from projects.configdoc import build_config_document
from sinks.worker.consumer import SinkConsumer
from tests.support import sink_harness as harness
from tests.support.clients import client_for
from tests.support.deadline import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

OLD_ATTEMPT_BUDGET = 8


@pytest.fixture
def stubs():
    made = []

    def make() -> harness.StubServer:
        made.append(harness.StubServer().up())
        return made[-1]

    yield make
    for stub in made:
        stub.down()


def test_a_sink_down_longer_than_the_old_budget_stalls_visibly_then_gets_everything_in_order(
        js, nats_server, stubs, new_team):
    team = new_team()
    down, other = stubs(), stubs()
    worker = harness.WorkerThread(nats_server.url, harness.fast_options()).start()  # production policy: no dead-letter-after
    viewer = client_for(team.viewer)
    page = Client()
    page.force_login(team.viewer)
    stats_url = f"/api/v1/projects/{team.project.pk}/stats/"
    try:
        hook = harness.add_sink(team, "pager", "webhook", {"url": down.url()})
        side = harness.add_sink(team, "archive", "webhook", {"url": other.url()})
        for sink in (hook, side):
            wait_for(lambda sink=sink: harness.consumer_info(js, team.project.pk, sink["id"]), message="consumer")
        down.down()
        sent = [harness.publish_output(js, team.project.pk, {"summary": f"event {i}"}, request_id=f"r{i}") for i in range(3)]
        wait_for(lambda: len(other.received()) == 3, message="the other sink is not held up")

        stalled = wait_for(lambda: (lambda s: s if s["failures"] > 2 * OLD_ATTEMPT_BUDGET else None)(
            viewer.get(stats_url).json()["sinks"][hook["id"]]), timeout=30, message="retried past the old budget")
        assert stalled["stalled_since"] and stalled["dlq"] == 0
        assert stalled["last_error"].startswith("could not connect to the webhook")
        labels = {"project": str(team.project.pk), "sink": hook["id"]}
        assert REGISTRY.get_sample_value("glassflow_sink_stalled_since_seconds", labels) > 0
        html = wait_for(lambda: (lambda text: text if "stalled since" in text else None)(
            page.get(f"/projects/{team.project.pk}/").content.decode()), message="the Activity page says so")
        assert "Sink pager stalled since" in html and "could not connect to the webhook" in html
        assert viewer.get(f"/api/v1/projects/{team.project.pk}/deadletters/").json()["results"] == []

        down.up()
        wait_for(lambda: len(down.received()) == 3, timeout=15, message="delivered once the target is back")
        wait_for(lambda: viewer.get(stats_url).json()["sinks"][hook["id"]]["stalled_since"] is None,
                 message="a delivery ends the stall")
        assert REGISTRY.get_sample_value("glassflow_sink_stalled_since_seconds", labels) == 0
    finally:
        worker.stop()
    assert [r.json()["requestId"] for r in down.received()] == [m["requestId"] for m in sent]
    assert client_for(team.viewer).get(f"/api/v1/projects/{team.project.pk}/deadletters/").json()["results"] == []


def test_dead_letter_after_is_a_nullable_sink_setting_that_reaches_the_worker(new_team):
    team = new_team()
    admin = client_for(team.admin)
    sink = harness.add_sink(team, "pager", "webhook", {"url": "https://hooks.example.com/x"})
    assert sink["dead_letter_after_minutes"] is None
    url = f"/api/v1/projects/{team.project.pk}/sinks/{sink['id']}/"
    assert admin.patch(url, {"dead_letter_after_minutes": 0}, format="json").status_code == 400
    assert admin.patch(url, {"dead_letter_after_minutes": 15}, format="json").json()["dead_letter_after_minutes"] == 15
    [entry] = build_config_document(team.project)["sinks"]
    assert entry["deadLetterAfterSeconds"] == 900
    options = harness.fast_options().consumer
    consumer = SinkConsumer(None, str(team.project.pk), entry, options, None, None, None)
    assert consumer.retry_policy().dead_letter_after == 900.0
    assert admin.patch(url, {"dead_letter_after_minutes": None}, format="json").status_code == 200
    [entry] = build_config_document(team.project)["sinks"]
    assert SinkConsumer(None, str(team.project.pk), entry, options, None, None, None).retry_policy() \
        .dead_letter_after is None
