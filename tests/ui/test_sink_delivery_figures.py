"""A sink's max concurrency on its form, and its delivery figures (concurrency limit, in flight, RTT,
throttled time) in the stats API and as a row on the Activity page, from the sink's gf-ai-stats key."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from sinks.models import Sink
from sinks.worker.tally import sink_stats_key
from tests.support.stats import project_stats, put_stats_key


@pytest.mark.django_db(transaction=True)
def test_the_activity_page_shows_a_row_per_sink_with_its_limit_in_flight_rtt_and_throttled_time(js, new_team):
    team = new_team()
    hook = Sink.objects.create(project=team.project, name="fast-hook", kind="webhook", max_concurrency=16,
                               config={"url": "http://127.0.0.1:9/hook", "method": "POST", "headers": {}})
    put_stats_key(js, sink_stats_key(team.project.pk, hook.pk), {
        "sinkId": str(hook.pk), "deliveries": 120, "concurrencyLimit": 11, "inFlight": 7, "rttP50Ms": 310.0,
        "rttP99Ms": 480.0, "throttledSeconds": 90.0})
    figures = project_stats(team)["sinks"][str(hook.pk)]
    assert (figures["concurrency_limit"], figures["in_flight"]) == (11, 7)
    client = Client()
    client.force_login(team.user("viewer"))
    html = client.get(reverse("projects:detail", args=[team.project.pk])).content.decode()
    row = html[html.index('data-sink-row="fast-hook"'):]
    row = row[:row.index("</tr>")]
    assert 'data-figure="sink-limit">11<' in row and 'data-figure="sink-in-flight">7<' in row
    assert "310 ms" in row and "480 ms" in row and "1.5 min" in row


@pytest.mark.django_db(transaction=True)
def test_no_sink_row_before_a_worker_reported(js, new_team):
    team = new_team()
    Sink.objects.create(project=team.project, name="quiet", kind="webhook",
                        config={"url": "http://127.0.0.1:9/hook", "method": "POST", "headers": {}})
    client = Client()
    client.force_login(team.user("viewer"))
    assert "data-sink-delivery" not in client.get(reverse("projects:detail", args=[team.project.pk])).content.decode()


@pytest.mark.django_db
def test_the_sink_form_sets_max_concurrency_and_rejects_zero(new_team):
    team = new_team()
    client = Client()
    client.force_login(team.user("admin"))
    pid = team.project.pk
    form = {"action": "save", "name": "hook", "url": "http://127.0.0.1:9/hook", "method": "POST", "h-count": "0",
            "enabled": "on"}
    refused = client.post(reverse("sinks:create", args=[pid, "webhook"]), {**form, "max_concurrency": "0"})
    assert refused.status_code == 400 and not Sink.objects.filter(project=team.project).exists()
    assert client.post(reverse("sinks:create", args=[pid, "webhook"]), {**form, "max_concurrency": "8"}).status_code == 302
    sink = Sink.objects.get(project=team.project, name="hook")
    assert sink.max_concurrency == 8
    edit = client.get(reverse("sinks:edit", args=[pid, sink.pk])).content.decode()
    assert 'name="max_concurrency" id="id_max_concurrency" min="1" max="256" value="8"' in edit
