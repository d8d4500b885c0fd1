"""The agent delivery figures (concurrency limit, in flight, RTT, throttled time) in the stats API and on
the Activity page, from what the pipeline workers write to gf-ai-stats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from projects.figures import delivery_figures
from tests.support.stats import project_stats, put_stats_key

NOW = datetime(2026, 1, 15, 10, 30, tzinfo=UTC)


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def worker(limit: int, in_flight: int, p99: float, throttled: float, by: str = "", *, state: str = "running",
           age: timedelta = timedelta(seconds=2)) -> dict:
    return {"state": state, "updatedAt": stamp(NOW - age), "concurrencyLimit": limit, "inFlight": in_flight,
            "waiting": 3, "rttP50Ms": p99 / 2, "rttP99Ms": p99, "throttledSeconds": throttled, "throttledBy": by}


def test_limits_and_in_flight_add_up_over_live_workers_and_the_rtt_is_the_worst():
    figures = delivery_figures([worker(40, 38, 900.0, 1.5), worker(24, 20, 1200.0, 2.0, "records per day"),
                                worker(64, 64, 5000.0, 10.0, age=timedelta(hours=1)),  # a worker long gone
                                worker(8, 0, 100.0, 0.5, state="stopped")], NOW)
    assert figures["concurrency_limit"] == 64 and figures["in_flight"] == 58 and figures["waiting"] == 6
    assert figures["rtt_p99_ms"] == 1200.0 and figures["rtt_p50_ms"] == 600.0
    assert figures["throttled_seconds"] == 14.0  # cumulative: every worker's time counts
    assert figures["throttled_by"] == "records per day"


def test_no_running_worker_means_no_figures():
    assert delivery_figures([], NOW)["concurrency_limit"] is None


@pytest.mark.django_db(transaction=True)
def test_the_stats_api_and_the_activity_page_show_the_delivery(js, new_team):
    team = new_team()
    now = datetime.now(UTC)
    for worker_id, figures in (("a", worker(12, 12, 640.0, 30.0, "records per day")), ("b", worker(9, 7, 480.0, 0))):
        put_stats_key(js, f"{team.project.pk}.pipeline.{worker_id}", {**figures, "updatedAt": stamp(now)})
    body = project_stats(team)
    assert body["delivery"]["concurrency_limit"] == 21 and body["delivery"]["in_flight"] == 19
    assert body["delivery"]["throttled_by"] == "records per day"
    client = Client()
    client.force_login(team.user("viewer"))
    html = client.get(reverse("projects:detail", args=[team.project.pk])).content.decode()
    assert 'data-figure="limit">21<' in html and 'data-figure="in-flight">19<' in html
    assert "throttled by limit: records per day" in html
    assert '<polyline class="limit"' in html and '<polyline class="rtt"' in html
