"""Tenancy of every browser page: outsiders get 404, viewers see no write controls and get 403 on writes."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from sinks.models import Sink
from tests.support.clients import client_as
from tests.support.factories import Team, project_state

pytestmark = pytest.mark.django_db


@pytest.fixture
def sink(team: Team) -> Sink:
    return Sink.objects.create(project=team.project, name="hook", kind="webhook",
                               config={"url": "http://127.0.0.1:9/hook", "method": "POST",
                                       "headers": {"Authorization": "Bearer s3cret"}})


@pytest.fixture
def dead_letter(team: Team, js) -> int:
    """One sink-stage entry in the project's DLQ stream, so the page has rows to offer actions on."""
    from projects.configsync import stream_limits
    from projects.natsops import ensure_streams
    from projects.streams import dlq_subject

    entry = {"stage": "sink", "reason": "webhook answered 410 Gone", "attempts": 1, "lastError": "410 Gone",
             "failedAt": "2026-01-01T00:00:00Z", "sinkId": "x", "output": {"payload": {}}}

    async def put(jetstream):
        await ensure_streams(jetstream, team.project.pk, stream_limits())
        ack = await jetstream.publish(dlq_subject(team.project.pk, "sink"), json.dumps(entry).encode())
        return ack.seq

    return js.run(put)


def read_pages(team: Team, sink: Sink) -> list[str]:
    pid = team.project.pk
    return [reverse("projects:detail", args=[pid]), reverse("projects:settings", args=[pid]),
            reverse("projects:members", args=[pid]), reverse("projects:keys", args=[pid]),
            reverse("projects:deadletters", args=[pid]), reverse("pipelines:edit", args=[pid]),
            reverse("sinks:list", args=[pid]), reverse("projects:runs", args=[pid])]


def write_posts(team: Team, sink: Sink) -> list[tuple[str, dict]]:
    pid = team.project.pk
    return [
        (reverse("projects:rename", args=[pid]), {"name": "taken over"}),
        (reverse("projects:delete", args=[pid]), {"confirm": team.project.name}),
        (reverse("projects:members", args=[pid]), {"email": team.outsider.email, "role": "owner"}),
        (reverse("projects:member_role", args=[pid, team.owner.pk]), {"role": "viewer"}),
        (reverse("projects:member_remove", args=[pid, team.owner.pk]), {}),
        (reverse("projects:keys", args=[pid]), {"name": "stolen"}),
        (reverse("pipelines:edit", args=[pid]), {"action": "save", "filter": "true", "batch_size": "10",
                                                 "batch_max_wait_ms": "1000", "signals": "logs"}),
        (reverse("sinks:create", args=[pid, "webhook"]), {"name": "x", "url": "http://127.0.0.1:9/", "method": "POST"}),
        (reverse("sinks:edit", args=[pid, sink.pk]), {"name": "renamed", "url": "http://127.0.0.1:9/"}),
        (reverse("sinks:toggle", args=[pid, sink.pk]), {}),
        (reverse("sinks:delete", args=[pid, sink.pk]), {}),
        (reverse("sinks:test", args=[pid, sink.pk]), {}),
        (reverse("projects:deadletters_action", args=[pid]), {"action": "discard-all"}),
        (reverse("projects:run_replay", args=[pid, "some-run"]), {}),
    ]


def test_outsider_gets_404_on_every_page_and_action(team, sink):
    client = client_as(team.outsider)
    for url in read_pages(team, sink):
        assert client.get(url).status_code == 404, url
    for url, data in write_posts(team, sink):
        before = project_state(team.project.pk)
        assert client.post(url, data).status_code == 404, url
        assert project_state(team.project.pk) == before, f"an outsider's refused POST {url} changed data"
    pid = team.project.pk
    for url in (reverse("sinks:edit", args=[pid, sink.pk]), reverse("sinks:create", args=[pid, "slack"]),
                reverse("projects:deadletter", args=[pid, 1]), reverse("live-tail", args=[pid]),
                reverse("projects:run", args=[pid, "some-run"])):
        assert client.get(url).status_code == 404, url
    for url in (reverse("pipelines:check", args=[pid]), reverse("pipelines:try", args=[pid]),
                reverse("pipelines:recent", args=[pid])):
        assert client.post(url, {"field": "filter", "filter": "true"}).status_code == 404, url


def test_anonymous_visitor_is_sent_to_login(team, sink):
    for url in read_pages(team, sink):
        response = Client().get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_viewer_gets_403_on_every_write_and_nothing_changes(team, sink):
    client = client_as(team.viewer)
    for url, data in write_posts(team, sink):
        before = project_state(team.project.pk)
        assert client.post(url, data).status_code == 403, url
        assert project_state(team.project.pk) == before, f"a viewer's refused POST {url} changed data"
    team.project.refresh_from_db()
    sink.refresh_from_db()
    assert team.project.name != "taken over"
    assert sink.name == "hook" and sink.enabled
    assert not team.project.api_keys.exists()
    assert team.project.memberships.count() == 3
    assert client.get(reverse("sinks:create", args=[team.project.pk, "webhook"])).status_code == 403


WRITE_CONTROLS = ["Create key", "Add member", "Save pipeline", "Send test message", "+ Add Webhook", "Rename",
                  "Delete " + "{name}", 'value="replay', 'value="discard', 'name="role"', 'name="seq"']


def test_viewer_pages_offer_no_write_controls(team, sink, dead_letter):
    client = client_as(team.viewer)
    assert "View</a>" in client.get(reverse("projects:deadletters", args=[team.project.pk])).content.decode()
    for url in read_pages(team, sink):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        for control in WRITE_CONTROLS:
            assert control.format(name=team.project.name) not in html, (url, control)


def test_admin_sees_configuration_controls_but_not_owner_ones(team, sink):
    client = client_as(team.admin)
    pid = team.project.pk
    keys = client.get(reverse("projects:keys", args=[pid])).content.decode()
    assert "Create key" in keys
    pipeline = client.get(reverse("pipelines:edit", args=[pid])).content.decode()
    assert "Save pipeline" in pipeline
    members = client.get(reverse("projects:members", args=[pid])).content.decode()
    assert "Add member" not in members
    settings_page = client.get(reverse("projects:settings", args=[pid])).content.decode()
    assert "Rename" in settings_page and f"Delete {team.project.name}" not in settings_page
    assert client.post(reverse("projects:delete", args=[pid]), {"confirm": team.project.name}).status_code == 403


def test_owner_sees_every_control(team, sink):
    client = client_as(team.owner)
    pid = team.project.pk
    assert "Add member" in client.get(reverse("projects:members", args=[pid])).content.decode()
    assert f"Delete {team.project.name}" in client.get(reverse("projects:settings", args=[pid])).content.decode()
    assert "Send test message" in client.get(reverse("sinks:list", args=[pid])).content.decode()


def test_project_list_shows_only_my_projects(team):
    html = client_as(team.outsider).get(reverse("projects:list")).content.decode()
    assert team.project.name not in html
    html = client_as(team.viewer).get(reverse("projects:list")).content.decode()
    assert team.project.name in html
