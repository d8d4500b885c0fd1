"""Hosts that DNS resolution would reject (empty label, label over 63, name over 253, bad IDNA) are refused on save.

Before, such a URL passed the save-time check and only failed inside the delivery, where
``getaddrinfo`` raised ``UnicodeError``; now the API and the UI forms say what is wrong.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from outbound.policy import OutboundTargetError, check_url
from tests.support.clients import client_as, client_for
from tests.support.forms import pipeline_form, webhook_sink_form

LONG_LABEL = "a" * 64
LONG_NAME = ".".join(["b" * 60] * 5)  # 304 characters

INVALID = [
    ("https://hooks..example.com/x", "empty label"),
    (f"https://{LONG_LABEL}.example.com/x", "longer than 63"),
    (f"https://{LONG_NAME}/x", "longer than 253"),
    ("https://-hooks.example.com/x", "hyphen"),
    ("https://hooks%20x.example.com/x", "not allowed in a host name"),
    ("https://xn--zz.example.com/x", "internationalized"),
]


@pytest.mark.parametrize("url,message", INVALID)
def test_hosts_dns_would_reject_are_refused_with_a_reason(url, message):
    with pytest.raises(OutboundTargetError, match=message):
        check_url(url, allow_private=True)


@pytest.mark.parametrize("url", [
    "https://hooks.example.com./x", "https://bücher.example/x", "http://my_agent:8000/agent",
    f"https://{'c' * 63}.example.com/x", "http://agent/x",
])
def test_valid_and_internal_host_names_are_still_accepted(url):
    assert check_url(url, allow_private=True) == url


@pytest.mark.django_db
@pytest.mark.parametrize("url,message", INVALID[:3])
def test_api_refuses_invalid_hosts_for_sinks_and_the_agent_endpoint(team, url, message):
    client = client_for(team.admin)
    base = f"/api/v1/projects/{team.project.pk}"
    webhook = client.post(f"{base}/sinks/", {"name": "hook", "kind": "webhook", "config": {"url": url}},
                          format="json")
    assert webhook.status_code == 400 and message in webhook.content.decode()
    slack = client.post(f"{base}/sinks/", {"name": "alerts", "kind": "slack", "config": {"webhook_url": url}},
                        format="json")
    assert slack.status_code == 400 and message in slack.content.decode()
    pipeline = client.patch(f"{base}/pipeline/", {"agent_endpoint": url}, format="json")
    assert pipeline.status_code == 400 and message in pipeline.content.decode()


@pytest.mark.django_db
def test_ui_forms_refuse_an_invalid_host_with_the_reason(team):
    client = client_as(team.admin)
    pid = team.project.pk
    sink = client.post(reverse("sinks:create", args=[pid, "webhook"]),
                       webhook_sink_form(url="https://hooks..example.com/x"))
    assert sink.status_code == 400 and "empty label" in sink.content.decode()
    pipeline = client.post(reverse("pipelines:edit", args=[pid]),
                           pipeline_form(agent_endpoint="https://hooks..example.com/x"))
    assert "empty label" in pipeline.content.decode()
