"""max_concurrency, max_batches_per_minute and max_records_per_day: API, editor, config document, worker
parsing; and a sink's max_per_minute (Slack defaults to one message a second)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from pipelines.models import Pipeline
from pipelines.stages.config import parse_pipeline
from projects.configdoc import build_config_document
from sinks.kinds.base import ConfigError
from sinks.kinds.slack import SlackKind
from sinks.kinds.webhook import WebhookKind
from tests.support.clients import client_for

pytestmark = pytest.mark.django_db


def path(team):
    return f"/api/v1/projects/{team.project.pk}/pipeline/"


def test_a_new_pipeline_adapts_up_to_64_batches_and_has_no_cost_limits(team):
    body = client_for(team.viewer).get(path(team)).json()
    assert body["max_concurrency"] == 64
    assert body["max_batches_per_minute"] is None
    assert body["max_records_per_day"] is None
    config = parse_pipeline(build_config_document(team.project))
    assert (config.max_concurrency, config.max_batches_per_minute, config.max_records_per_day) == (64, None, None)


def test_limits_set_through_the_api_reach_the_worker_configuration(team):
    response = client_for(team.admin).patch(path(team), {"max_concurrency": 1, "max_batches_per_minute": 30,
                                                         "max_records_per_day": 5000}, format="json")
    assert response.status_code == 200, response.content
    team.project.refresh_from_db()
    document = build_config_document(team.project)
    assert document["pipeline"]["maxConcurrency"] == 1
    config = parse_pipeline(document)
    assert (config.max_concurrency, config.max_batches_per_minute, config.max_records_per_day) == (1, 30, 5000)
    response = client_for(team.admin).patch(path(team), {"max_batches_per_minute": None}, format="json")
    assert response.json()["max_batches_per_minute"] is None


@pytest.mark.parametrize("change", [{"max_concurrency": 0}, {"max_concurrency": 10_001},
                                    {"max_batches_per_minute": 0}, {"max_records_per_day": -5}])
def test_out_of_range_limits_are_400_naming_the_field(team, change):
    response = client_for(team.admin).patch(path(team), change, format="json")
    assert response.status_code == 400
    assert set(response.json()) >= set(change)


def test_the_worker_refuses_a_document_with_a_bad_limit():
    with pytest.raises(ValueError, match="maxConcurrency"):
        parse_pipeline({"projectId": "p", "pipeline": {"maxConcurrency": 0}})


def test_the_editor_saves_the_limits_and_an_empty_box_means_no_limit(team):
    client = Client()
    client.force_login(team.admin)
    form = {"action": "save", "filter": "", "t-count": "0", "h-count": "0", "agent_endpoint": "",
            "batch_size": "10", "batch_max_wait_ms": "1000", "signals": ["logs"], "max_concurrency": "8",
            "max_batches_per_minute": "", "max_records_per_day": "100000"}
    response = client.post(reverse("pipelines:edit", args=[team.project.pk]), form)
    assert response.status_code in (200, 302), response.content
    pipeline = Pipeline.objects.get(project=team.project)
    assert (pipeline.max_concurrency, pipeline.max_batches_per_minute, pipeline.max_records_per_day) == \
        (8, None, 100_000)
    html = client.get(reverse("pipelines:edit", args=[team.project.pk])).content.decode()
    assert 'name="max_concurrency" id="id_max_concurrency" min="1" max="10000" value="8"' in html


def test_slack_sinks_default_to_one_message_a_second_and_webhooks_to_no_limit():
    slack = SlackKind.clean_config({"webhook_url": "https://hooks.slack.com/services/T/B/X"}, allow_private=False)
    assert slack["max_per_minute"] == 60
    webhook = WebhookKind.clean_config({"url": "https://example.com/hook"}, allow_private=False)
    assert "max_per_minute" not in webhook
    limited = WebhookKind.clean_config({"url": "https://example.com/hook", "max_per_minute": 120},
                                       allow_private=False)
    assert limited["max_per_minute"] == 120
    with pytest.raises(ConfigError) as refused:
        WebhookKind.clean_config({"url": "https://example.com/hook", "max_per_minute": 0}, allow_private=False)
    assert "max_per_minute" in refused.value.errors


def test_the_sink_editor_sets_a_webhooks_rate_and_an_empty_box_keeps_the_kinds_default(team):
    from sinks.models import Sink

    client = Client()
    client.force_login(team.admin)
    pid = team.project.pk
    form = {"action": "save", "name": "hook", "enabled": "on", "url": "http://127.0.0.1:9/hook", "method": "POST",
            "h-count": "0", "max_per_minute": "120"}
    assert client.post(reverse("sinks:create", args=[pid, "webhook"]), form).status_code == 302
    assert Sink.objects.get(project=team.project, name="hook").config["max_per_minute"] == 120
    slack = {"action": "save", "name": "alerts", "enabled": "on", "webhook_url": "http://127.0.0.1:9/services/T/B/X",
             "max_per_minute": ""}
    assert client.post(reverse("sinks:create", args=[pid, "slack"]), slack).status_code == 302
    sink = Sink.objects.get(project=team.project, name="alerts")
    assert sink.config["max_per_minute"] == 60
    edit = client.get(reverse("sinks:edit", args=[pid, sink.pk])).content.decode()
    assert 'id="id_max_per_minute"' in edit and 'value="60"' in edit
    bad = client.post(reverse("sinks:create", args=[pid, "webhook"]), {**form, "name": "x", "max_per_minute": "0"})
    assert bad.status_code == 400
    assert "whole number from 1 to 60000" in bad.content.decode()
