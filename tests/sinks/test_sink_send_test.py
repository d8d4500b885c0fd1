"""The "send test message" action: one real delivery through the sink's transport, result and error stored."""

from __future__ import annotations

import pytest

from sinks.models import Sink
from tests.support.clients import client_for
from tests.support.sink_harness import Reply

pytestmark = pytest.mark.django_db


def make_sink(team, kind, config):
    return Sink.objects.create(project=team.project, name=f"{kind}-sink", kind=kind, config=config)


def action_path(team, sink):
    return f"/api/v1/projects/{team.project.pk}/sinks/{sink.pk}/test/"


def test_a_working_webhook_answers_ok_and_receives_a_sample_message(team, stub):
    sink = make_sink(team, "webhook", {"url": stub.url(), "method": "PATCH", "headers": {"X-Token": "t"}})
    response = client_for(team.admin).post(action_path(team, sink))
    assert response.status_code == 200 and response.json() == {"ok": True}
    (request,) = stub.received()
    assert request.method == "PATCH" and request.headers["X-Token"] == "t"
    body = request.json()
    assert body["projectId"] == str(team.project.pk) and body["payload"]["summary"].startswith("Test message")


def test_a_failing_slack_answers_the_error_and_stores_it_on_the_sink(team, stub):
    stub.default = Reply(400, b"invalid_payload")
    sink = make_sink(team, "slack", {"webhook_url": stub.url()})
    response = client_for(team.admin).post(action_path(team, sink))
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is False and "invalid_payload" in body["error"]
    sink.refresh_from_db()
    assert sink.last_error == body["error"] and sink.last_error_at is not None
    shown = client_for(team.viewer).get(f"/api/v1/projects/{team.project.pk}/sinks/{sink.pk}/").json()
    assert shown["last_error"] == body["error"]


def test_a_success_after_a_failure_clears_the_stored_error(team, stub):
    stub.reply(Reply(503, b"down"))
    sink = make_sink(team, "webhook", {"url": stub.url(), "method": "POST", "headers": {}})
    client = client_for(team.admin)
    assert client.post(action_path(team, sink)).json()["ok"] is False
    assert client.post(action_path(team, sink)).json() == {"ok": True}
    sink.refresh_from_db()
    assert sink.last_error == "" and sink.last_error_at is not None


def test_an_unreachable_target_is_reported_not_raised(team, stub):
    sink = make_sink(team, "webhook", {"url": stub.url(), "method": "POST", "headers": {}})
    stub.down()
    body = client_for(team.admin).post(action_path(team, sink)).json()
    assert body["ok"] is False and "could not connect" in body["error"]


@pytest.mark.parametrize("role,status", [("viewer", 403), ("outsider", 404)])
def test_only_admins_of_the_project_may_send_a_test(team, stub, role, status):
    sink = make_sink(team, "webhook", {"url": stub.url(), "method": "POST", "headers": {}})
    assert client_for(team.user(role)).post(action_path(team, sink)).status_code == status
    assert stub.received() == []


def test_an_unknown_sink_is_404(team):
    assert client_for(team.admin).post(
        f"/api/v1/projects/{team.project.pk}/sinks/00000000-0000-0000-0000-000000000000/test/").status_code == 404
