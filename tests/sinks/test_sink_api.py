"""Sinks CRUD: per-kind config validation, unique names, masked secrets, immutable kind."""

from __future__ import annotations

import pytest

from sinks.models import Sink
from tests.support.clients import client_for

pytestmark = pytest.mark.django_db

SLACK_URL = "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX"


def sinks_path(team):
    return f"/api/v1/projects/{team.project.pk}/sinks/"


def test_create_webhook_sink_with_defaults_and_masked_headers(team):
    response = client_for(team.admin).post(sinks_path(team), {
        "name": "ops", "kind": "webhook",
        "config": {"url": "https://ops.example.com/hook", "headers": {"X-Token": "hunter2"}}}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["config"] == {"url": "https://ops.example.com/hook", "method": "POST",
                              "headers": {"X-Token": "********"}}
    assert Sink.objects.get(pk=body["id"]).config["headers"] == {"X-Token": "hunter2"}


def test_create_slack_sink_masks_the_webhook_url(team):
    response = client_for(team.admin).post(sinks_path(team), {"name": "alerts", "kind": "slack",
                                                              "config": {"webhook_url": SLACK_URL}}, format="json")
    assert response.status_code == 201
    shown = response.json()["config"]["webhook_url"]
    assert shown.startswith("https://hooks.slack.com/") and "XXXXXXXX" not in shown


def test_updating_with_masked_values_keeps_the_secrets(team):
    client = client_for(team.admin)
    created = client.post(sinks_path(team), {"name": "alerts", "kind": "slack",
                                             "config": {"webhook_url": SLACK_URL}}, format="json").json()
    response = client.put(f"{sinks_path(team)}{created['id']}/", {
        "name": "alerts-renamed", "kind": "slack", "enabled": False, "config": created["config"]}, format="json")
    assert response.status_code == 200, response.content
    sink = Sink.objects.get(pk=created["id"])
    assert sink.config["webhook_url"] == SLACK_URL and sink.name == "alerts-renamed" and not sink.enabled


@pytest.mark.parametrize("body,field", [
    ({"name": "x", "kind": "email", "config": {}}, "kind"),
    ({"name": "x", "kind": "webhook", "config": {"url": "not a url"}}, "config"),
    ({"name": "x", "kind": "webhook", "config": {"url": "gopher://example.com"}}, "config"),
    ({"name": "x", "kind": "webhook", "config": {"url": "https://example.com", "method": "DELETE"}}, "config"),
    ({"name": "x", "kind": "webhook", "config": {"url": "https://example.com", "headers": {"a b": "c"}}}, "config"),
    ({"name": "x", "kind": "webhook", "config": {"url": "http://169.254.169.254/"}}, "config"),
    ({"name": "x", "kind": "webhook", "config": {"url": "https://example.com", "extra": 1}}, "config"),
    ({"name": "x", "kind": "slack", "config": {}}, "config"),
    ({"name": "", "kind": "slack", "config": {"webhook_url": SLACK_URL}}, "name"),
    ({"kind": "slack", "config": {"webhook_url": SLACK_URL}}, "name"),
    ({"name": "x", "kind": "slack", "config": {"webhook_url": SLACK_URL}, "max_concurrency": 0}, "max_concurrency"),
    ({"name": "x", "kind": "slack", "config": {"webhook_url": SLACK_URL}, "max_concurrency": 257}, "max_concurrency"),
])
def test_invalid_sinks_are_400_naming_the_field(team, body, field):
    response = client_for(team.admin).post(sinks_path(team), body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()


def test_an_unsupported_method_error_names_the_method_key(team):
    response = client_for(team.admin).post(sinks_path(team), {
        "name": "x", "kind": "webhook", "config": {"url": "https://example.com", "method": "GET"}}, format="json")
    assert "method" in response.json()["config"]


def test_sink_names_are_unique_within_a_project(team):
    client = client_for(team.admin)
    body = {"name": "dup", "kind": "slack", "config": {"webhook_url": SLACK_URL}}
    assert client.post(sinks_path(team), body, format="json").status_code == 201
    again = client.post(sinks_path(team), body, format="json")
    assert again.status_code == 400 and "name" in again.json()


def test_the_kind_of_a_sink_cannot_change(team):
    client = client_for(team.admin)
    created = client.post(sinks_path(team), {"name": "s", "kind": "slack",
                                             "config": {"webhook_url": SLACK_URL}}, format="json").json()
    response = client.patch(f"{sinks_path(team)}{created['id']}/", {"kind": "webhook"}, format="json")
    assert response.status_code == 400 and "kind" in response.json()


def test_masked_webhook_headers_are_not_kept_when_the_url_moves_to_another_host(team):
    client = client_for(team.admin)
    created = client.post(sinks_path(team), {"name": "ops", "kind": "webhook", "config": {
        "url": "https://ops.example.com/hook", "headers": {"X-Token": "hunter2"}}}, format="json").json()
    moved = client.patch(f"{sinks_path(team)}{created['id']}/", {"config": {
        "url": "https://attacker.example.net/x", "headers": {"X-Token": "********"}}}, format="json")
    assert moved.status_code == 400 and "headers" in moved.json()["config"]
    assert Sink.objects.get(pk=created["id"]).config["url"] == "https://ops.example.com/hook"
    retyped = client.patch(f"{sinks_path(team)}{created['id']}/", {"config": {
        "url": "https://attacker.example.net/x", "headers": {"X-Token": "new-token"}}}, format="json")
    assert retyped.status_code == 200


def test_max_concurrency_defaults_to_one_and_reaches_the_config_document(team):
    from projects.configdoc import build_config_document

    client = client_for(team.admin)
    strict = client.post(sinks_path(team), {"name": "in-order", "kind": "slack", "config": {"webhook_url": SLACK_URL}},
                         format="json").json()
    fast = client.post(sinks_path(team), {"name": "fast", "kind": "webhook", "max_concurrency": 8,
                                          "config": {"url": "https://ops.example.com/hook"}}, format="json").json()
    assert (strict["max_concurrency"], fast["max_concurrency"]) == (1, 8)
    document = {sink["name"]: sink for sink in build_config_document(team.project)["sinks"]}
    assert document["in-order"]["maxConcurrency"] == 1 and document["fast"]["maxConcurrency"] == 8
