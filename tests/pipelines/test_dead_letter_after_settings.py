"""The opt-in "dead-letter after N minutes of transient failure", per pipeline and per sink: null by
default (outages pause), set through the API and the editor/form, carried in seconds to the workers."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pipelines.models import Pipeline
from pipelines.stages.config import parse_pipeline
from projects.configdoc import build_config_document
from sinks.models import Sink
from tests.support.clients import client_as, client_for
from tests.support.forms import pipeline_form, webhook_sink_form

pytestmark = pytest.mark.django_db


def test_a_pipeline_pauses_on_outages_unless_dead_letter_after_is_set(team):
    path = f"/api/v1/projects/{team.project.pk}/pipeline/"
    assert client_for(team.viewer).get(path).json()["dead_letter_after_minutes"] is None
    assert parse_pipeline(build_config_document(team.project)).retry.dead_letter_after is None
    response = client_for(team.admin).patch(path, {"dead_letter_after_minutes": 45}, format="json")
    assert response.status_code == 200 and response.json()["dead_letter_after_minutes"] == 45
    team.project.refresh_from_db()
    document = build_config_document(team.project)
    assert document["pipeline"]["deadLetterAfterSeconds"] == 2700
    assert parse_pipeline(document).retry.dead_letter_after == 2700.0


def test_the_editor_saves_dead_letter_after_and_an_empty_box_means_never(team):
    client = client_as(team.admin)
    form = pipeline_form(max_concurrency="64", max_batches_per_minute="", max_records_per_day="",
                         dead_letter_after_minutes="30")
    url = reverse("pipelines:edit", args=[team.project.pk])
    assert client.post(url, form).status_code in (200, 302)
    assert Pipeline.objects.get(project=team.project).dead_letter_after_minutes == 30
    assert 'id="id_dead_letter_after_minutes" min="1" max="10080" placeholder="never" value="30"' in \
        client.get(url).content.decode()
    assert client.post(url, {**form, "dead_letter_after_minutes": ""}).status_code in (200, 302)
    assert Pipeline.objects.get(project=team.project).dead_letter_after_minutes is None
    refused = client.post(url, {**form, "dead_letter_after_minutes": "0"}).content.decode()
    assert 'has-error">\n            <label for="id_dead_letter_after_minutes"' in refused
    assert "greater than or equal to 1" in refused
    assert Pipeline.objects.get(project=team.project).dead_letter_after_minutes is None


def test_the_sink_form_saves_dead_letter_after(team):
    client = client_as(team.admin)
    pid = team.project.pk
    response = client.post(reverse("sinks:create", args=[pid, "webhook"]),
                           webhook_sink_form(enabled="on", dead_letter_after_minutes="10"))
    assert response.status_code == 302, response.content
    sink = Sink.objects.get(project=team.project, name="hook")
    assert sink.dead_letter_after_minutes == 10
    assert 'placeholder="never" value="10"' in client.get(reverse("sinks:edit", args=[pid, sink.pk])).content.decode()
    assert client.post(reverse("sinks:edit", args=[pid, sink.pk]),
                       webhook_sink_form(enabled="on", dead_letter_after_minutes="")).status_code == 302
    sink.refresh_from_db()
    assert sink.dead_letter_after_minutes is None
