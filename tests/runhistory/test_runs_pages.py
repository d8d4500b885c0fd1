"""The Runs pages over the real run-history stream: list with outcomes and outputs, one run's input and
output side by side, replay for admins only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.support.clients import client_as
from tests.support.runs import record_runs

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_runs_page_lists_outcomes_outputs_and_silent_agents(js, new_team):
    team = new_team()
    record_runs(js, team.project.pk, [
        ("run-answered", [{"body": "a"}], [200], "delivered", {"summary": "pool exhausted in api"}),
        ("run-silent", [{"body": "b"}], [503, 200], "delivered", None),
        ("run-failed", [{"body": "c"}], [400], "dead-lettered", None),
    ])
    page = client_as(team.viewer).get(reverse("projects:runs", args=[team.project.pk])).content.decode()
    assert "pool exhausted in api" in page and "no output" in page and "dead-lettered" in page
    assert page.index("run-failed") < page.index("run-silent") < page.index("run-answered"), "newest first"
    silent = client_as(team.viewer).get(reverse("projects:runs", args=[team.project.pk]) + "?status=no-output")
    assert "run-silent" in silent.content.decode() and "run-answered" not in silent.content.decode()


def test_one_run_shows_input_and_output_and_only_admins_may_replay(js, new_team):
    team = new_team()
    record_runs(js, team.project.pk, [("run-1", [{"body": "db pool exhausted"}], [503, 200], "delivered",
                                       {"summary": "raise the pool size"})])
    url = reverse("projects:run", args=[team.project.pk, "run-1"])
    viewer_page = client_as(team.viewer).get(url).content.decode()
    assert 'id="run-input"' in viewer_page and "db pool exhausted" in viewer_page
    assert "raise the pool size" in viewer_page and "503" in viewer_page
    assert "Replay</button>" not in viewer_page
    admin = client_as(team.admin)
    assert "Replay</button>" in admin.get(url).content.decode()
    response = admin.post(reverse("projects:run_replay", args=[team.project.pk, "run-1"]), follow=True)
    assert "1 record put back into the pipeline" in response.content.decode()
    assert client_as(team.viewer).get(reverse("projects:run", args=[team.project.pk, "nope"])).status_code == 404
