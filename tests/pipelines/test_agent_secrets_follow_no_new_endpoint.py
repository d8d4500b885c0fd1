"""Stored agent headers are never sent to a server other than the one they were entered for:
an edit that moves the agent endpoint to another origin (API PATCH or PUT, or the editor page)
must re-enter them; masked values or omitted headers are refused with a message saying so."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from pipelines.models import Pipeline
from projects.masking import MASK
from tests.support.clients import client_for

pytestmark = pytest.mark.django_db

SECRET = {"Authorization": "Bearer only-for-agent.example.com"}


@pytest.fixture
def saved(team):
    Pipeline.objects.filter(project=team.project).update(agent_endpoint="https://agent.example.com/triage",
                                                         agent_headers=SECRET)
    return team


def url(team):
    return f"/api/v1/projects/{team.project.pk}/pipeline/"


def stored(team) -> Pipeline:
    return Pipeline.objects.get(project=team.project)


def test_patch_with_only_a_new_endpoint_is_refused_and_keeps_everything(saved):
    response = client_for(saved.admin).patch(url(saved), {"agent_endpoint": "https://collector.evil.test/"},
                                             format="json")
    assert response.status_code == 400, response.content
    assert "send agent_headers again" in str(response.json()["agent_headers"])
    assert stored(saved).agent_endpoint == "https://agent.example.com/triage"


@pytest.mark.parametrize("method", ["put", "patch"])
def test_masked_headers_with_a_new_origin_are_refused(saved, method):
    body = client_for(saved.admin).get(url(saved)).json()
    body.pop("updated_at")
    body["agent_endpoint"] = "https://agent.example.com:8443/triage"  # another port is another server
    response = getattr(client_for(saved.admin), method)(url(saved), body, format="json")
    assert response.status_code == 400, response.content
    assert "enter the value of header Authorization again" in str(response.json()["agent_headers"])
    assert stored(saved).agent_headers == SECRET


def test_put_without_headers_to_a_new_origin_is_refused(saved):
    body = client_for(saved.admin).get(url(saved)).json()
    body.pop("updated_at")
    body.pop("agent_headers")
    body["agent_endpoint"] = "https://collector.evil.test/"
    response = client_for(saved.admin).put(url(saved), body, format="json")
    assert response.status_code == 400
    assert stored(saved).agent_endpoint == "https://agent.example.com/triage"


def test_new_values_or_dropping_the_headers_may_go_anywhere(saved):
    client = client_for(saved.admin)
    response = client.patch(url(saved), {"agent_endpoint": "https://other.example.com/",
                                         "agent_headers": {"Authorization": "Bearer new"}}, format="json")
    assert response.status_code == 200, response.content
    assert stored(saved).agent_headers == {"Authorization": "Bearer new"}
    response = client.patch(url(saved), {"agent_endpoint": "https://third.example.com/", "agent_headers": {}},
                            format="json")
    assert response.status_code == 200 and stored(saved).agent_headers == {}


def test_same_origin_edits_keep_the_stored_secret(saved):
    response = client_for(saved.admin).patch(url(saved), {"agent_endpoint": "https://agent.example.com/v2"},
                                             format="json")
    assert response.status_code == 200, response.content
    assert stored(saved).agent_headers == SECRET


def test_the_editor_page_refuses_a_masked_header_for_a_new_endpoint(saved):
    client = Client()
    client.force_login(saved.admin)
    form = {"action": "save", "filter": "", "t-count": "0", "h-count": "1", "h-0-name": "Authorization",
            "h-0-value": MASK, "agent_endpoint": "https://collector.evil.test/", "batch_size": "10",
            "batch_max_wait_ms": "1000", "signals": ["logs"]}
    response = client.post(reverse("pipelines:edit", args=[saved.project.pk]), form)
    assert response.status_code == 400
    assert "enter the value of header Authorization again" in response.content.decode()
    assert stored(saved).agent_endpoint == "https://agent.example.com/triage"
