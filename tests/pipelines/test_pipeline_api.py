"""Pipeline GET/PUT: defaults, validation that names the field, masked agent headers."""

from __future__ import annotations

import pytest

from pipelines.models import Pipeline
from tests.support.clients import client_for

pytestmark = pytest.mark.django_db


def path(team):
    return f"/api/v1/projects/{team.project.pk}/pipeline/"


def test_a_new_pipeline_has_the_documented_defaults(team):
    body = client_for(team.viewer).get(path(team)).json()
    assert body["enabled"] is False
    assert body["batch_size"] == 10
    assert body["batch_max_wait_ms"] == 1000
    assert body["signals"] == ["logs"]
    assert body["transforms"] == []
    assert body["retry_policy"] == {"initial_backoff_ms": 500, "max_backoff_ms": 30000}
    assert body["dead_letter_after_minutes"] is None


def test_put_stores_a_full_configuration(team):
    config = {
        "enabled": True,
        "filter": 'severityNumber >= 17 && body contains "refused"',
        "transforms": [{"expression": "upper(severityText)", "output_name": "level", "output_type": "string"},
                       {"expression": "severityNumber * 2", "output_name": "score", "output_type": "int"}],
        "agent_endpoint": "https://agent.example.com/triage",
        "agent_headers": {"Authorization": "Bearer agent-secret"},
        "batch_size": 50, "batch_max_wait_ms": 250, "signals": ["logs", "spans"],
        "retry_policy": {"initial_backoff_ms": 100, "max_backoff_ms": 1000}, "dead_letter_after_minutes": 30,
    }
    response = client_for(team.admin).put(path(team), config, format="json")
    assert response.status_code == 200, response.content
    pipeline = Pipeline.objects.get(project=team.project)
    assert pipeline.agent_headers == {"Authorization": "Bearer agent-secret"}
    assert pipeline.retry_max_backoff_ms == 1000 and pipeline.dead_letter_after_minutes == 30
    assert pipeline.transforms[1]["output_type"] == "int"
    assert response.json()["agent_headers"] == {"Authorization": "********"}


def test_sending_the_masked_header_back_keeps_the_secret(team):
    client = client_for(team.admin)
    client.patch(path(team), {"agent_headers": {"Authorization": "Bearer s3cret"}}, format="json")
    shown = client.get(path(team)).json()
    assert "s3cret" not in str(shown)
    response = client.patch(path(team), {"agent_headers": shown["agent_headers"], "batch_size": 5}, format="json")
    assert response.status_code == 200
    assert Pipeline.objects.get(project=team.project).agent_headers == {"Authorization": "Bearer s3cret"}


@pytest.mark.parametrize("change,field", [
    ({"batch_size": 0}, "batch_size"),
    ({"batch_size": 1001}, "batch_size"),
    ({"batch_max_wait_ms": 0}, "batch_max_wait_ms"),
    ({"agent_endpoint": "ftp://agent.example.com"}, "agent_endpoint"),
    ({"agent_endpoint": "not a url"}, "agent_endpoint"),
    ({"agent_endpoint": "http://169.254.169.254/latest"}, "agent_endpoint"),
    ({"agent_endpoint": "http://metadata.google.internal/"}, "agent_endpoint"),
    ({"enabled": True}, "agent_endpoint"),
    ({"signals": ["logs", "profiles"]}, "signals"),
    ({"signals": []}, "signals"),
    ({"agent_headers": {"Bad Header": "x"}}, "agent_headers"),
    ({"agent_headers": {"X-Request-ID": "x"}}, "agent_headers"),
    ({"agent_headers": {"X-Multi": "a\r\nInjected: yes"}}, "agent_headers"),
    ({"agent_headers": {"Authorization": "Bearer tök"}}, "agent_headers"),
    ({"agent_headers": {"Authorization": "********"}}, "agent_headers"),
    ({"transforms": [{"expression": "1", "output_name": "x", "output_type": "decimal"}]}, "transforms"),
    ({"transforms": [{"expression": "", "output_name": "x"}]}, "transforms"),
    ({"transforms": [{"expression": "1", "output_name": "9lives"}]}, "transforms"),
    ({"transforms": [{"expression": "1", "output_name": "a"}, {"expression": "2", "output_name": "a"}]},
     "transforms"),
    ({"transforms": {"not": "a list"}}, "transforms"),
    ({"retry_policy": {"initial_backoff_ms": 0, "max_backoff_ms": 1}}, "retry_policy"),
    ({"retry_policy": {"initial_backoff_ms": 5000, "max_backoff_ms": 10}}, "retry_policy"),
    ({"dead_letter_after_minutes": 0}, "dead_letter_after_minutes"),
    ({"dead_letter_after_minutes": 7 * 24 * 60 + 1}, "dead_letter_after_minutes"),
])
def test_invalid_settings_are_400_naming_the_field(team, change, field):
    response = client_for(team.admin).patch(path(team), change, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()


def test_a_loopback_agent_is_refused_when_private_targets_are_off(team, settings):
    settings.ALLOW_PRIVATE_TARGETS = False
    response = client_for(team.admin).patch(path(team), {"agent_endpoint": "http://127.0.0.1:9000/"},
                                            format="json")
    assert response.status_code == 400
    assert "ALLOW_PRIVATE_TARGETS" in str(response.json()["agent_endpoint"])


def test_masked_headers_are_not_kept_when_the_endpoint_moves_to_another_host(team):
    client = client_for(team.admin)
    client.patch(path(team), {"agent_endpoint": "https://agent.example.com/a",
                              "agent_headers": {"Authorization": "Bearer s3cret"}}, format="json")
    moved = client.patch(path(team), {"agent_endpoint": "https://elsewhere.example.net/",
                                      "agent_headers": {"Authorization": "********"}}, format="json")
    assert moved.status_code == 400 and "agent_headers" in moved.json()
    assert Pipeline.objects.get(project=team.project).agent_headers == {"Authorization": "Bearer s3cret"}
    same_host = client.patch(path(team), {"agent_endpoint": "https://agent.example.com/b",
                                          "agent_headers": {"Authorization": "********"}}, format="json")
    assert same_host.status_code == 200
    assert Pipeline.objects.get(project=team.project).agent_headers == {"Authorization": "Bearer s3cret"}
