"""Sink kinds through the registry: the chat-webhook kind (API, form, delivery to a loopback server, the
worker), and a kind registered at test time working through the generic form, serializer and test action."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from outbound import Outbound
from projects.masking import MASK, restore_headers
from sinks.kinds import KINDS
from sinks.kinds.base import DeliveryContext, HttpRequest, HttpSinkKind, TransportError
from sinks.kinds.chat import MAX_TEXT, ChatWebhookKind, build_chat_text
from sinks.kinds.fields import HEADERS, TEXT, URL, ConfigField
from sinks.models import Sink
from tests.support.clients import client_for
from tests.support.deadline import wait_for
from tests.support.sink_harness import (
    Reply,
    WorkerThread,
    add_sink,
    consumer_info,
    publish_output,
)

pytestmark = pytest.mark.django_db

DISCORD_URL = "https://discord.com/api/webhooks/123/SECRET-TOKEN"
MESSAGE = {"projectId": "p", "requestId": "r1", "receivedAt": "2026-01-15T10:30:02.120Z",
           "payload": {"summary": "db down", "severity": "critical", "host": "db-1"}}


def sinks_path(team) -> str:
    return f"/api/v1/projects/{team.project.pk}/sinks/"


def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_chat_webhook_sink_is_created_with_its_defaults_and_a_masked_url(team):
    client = client_for(team.admin)
    response = client.post(sinks_path(team), {"name": "discord", "kind": "chat_webhook",
                                              "config": {"webhook_url": DISCORD_URL, "text_key": "content"}},
                           format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["config"] == {"webhook_url": f"https://discord.com/{MASK}", "text_key": "content",
                              "max_per_minute": 30}
    assert Sink.objects.get(pk=body["id"]).config["webhook_url"] == DISCORD_URL
    again = client.put(f"{sinks_path(team)}{body['id']}/", {"name": "discord", "kind": "chat_webhook",
                                                             "config": body["config"]}, format="json")
    assert again.status_code == 200, again.content
    assert Sink.objects.get(pk=body["id"]).config["webhook_url"] == DISCORD_URL


@pytest.mark.parametrize("config,key", [
    ({}, "webhook_url"),
    ({"webhook_url": "ftp://discord.com/x"}, "webhook_url"),
    ({"webhook_url": "http://169.254.169.254/x"}, "webhook_url"),
    ({"webhook_url": DISCORD_URL, "text_key": "body"}, "text_key"),
    ({"webhook_url": DISCORD_URL, "text_key": []}, "text_key"),
    ({"webhook_url": DISCORD_URL, "text_key": {"a": 1}}, "text_key"),
    ({"webhook_url": DISCORD_URL, "channel": "#x"}, "config"),
    ({"webhook_url": DISCORD_URL, "max_per_minute": 0}, "max_per_minute"),
])
def test_an_invalid_chat_webhook_config_is_400_naming_the_key(team, config, key):
    response = client_for(team.admin).post(sinks_path(team), {"name": "x", "kind": "chat_webhook", "config": config},
                                           format="json")
    assert response.status_code == 400, response.content
    assert key in response.json()["config"], response.json()


@pytest.mark.parametrize("text_key", ["text", "content"])
async def test_a_chat_webhook_posts_the_text_under_its_key(stub, text_key):
    async with Outbound(allow_private=True) as client:
        await ChatWebhookKind.deliver({"webhook_url": stub.url("/api/webhooks/1/t"), "text_key": text_key},
                                      MESSAGE, DeliveryContext(client, 3))
    (request,) = stub.received()
    assert request.method == "POST" and request.path == "/api/webhooks/1/t"
    assert request.headers["Content-Type"] == "application/json"
    assert request.json() == {text_key: build_chat_text(MESSAGE)}
    assert "**Summary:** db down" in request.json()[text_key] and '"host": "db-1"' in request.json()[text_key]


@pytest.mark.parametrize("reply,permanent,retry_after,words", [
    (Reply(404, b'{"message": "Unknown Webhook"}'), True, None, "create a new incoming webhook"),
    (Reply(401, b""), True, None, "create a new incoming webhook"),
    (Reply(429, b"", {"Retry-After": "3"}), False, 3.0, "429"),
    (Reply(503, b"down"), False, None, "the chat webhook answered 503"),
    (Reply(400, b"bad"), True, None, "the chat webhook answered 400"),
])
async def test_chat_webhook_answers_map_to_errors(stub, reply, permanent, retry_after, words):
    stub.reply(reply)
    with pytest.raises(TransportError) as caught:
        async with Outbound(allow_private=True) as client:
            await ChatWebhookKind.deliver({"webhook_url": stub.url(), "text_key": "text"}, MESSAGE,
                                          DeliveryContext(client, 3))
    assert caught.value.permanent is permanent and caught.value.retry_after == retry_after
    assert words in caught.value.message


@pytest.mark.parametrize("payload,expected", [
    ({"summary": "db down", "root_cause": "leak"}, "**Summary:** db down\n**Root cause:** leak"),
    ({"severity": {"level": 3}}, '**Severity:** {"level": 3}'),
    ({"service": "api"}, '```json\n{\n  "service": "api"\n}\n```'),
    ("just a string", "just a string"),
    ("", "_(empty output)_"),
    (None, "_(empty output)_"),
])
def test_chat_text_labels_known_keys_and_shows_the_rest_as_json(payload, expected):
    assert build_chat_text({"requestId": "r1", "payload": payload}) == f"{expected}\n_GlassFlow · request r1_"


@pytest.mark.parametrize("payload", [{"summary": "s" * 5000}, {"trace": "x" * 5000}, "y" * 5000])
def test_chat_text_stays_within_discords_limit(payload):
    text = build_chat_text({"requestId": "r1", "payload": payload})
    assert len(text) <= MAX_TEXT and "… (truncated)" in text


def test_the_sink_form_shows_and_saves_the_chat_webhook_fields(team):
    client = page_client(team.admin)
    pid = team.project.pk
    assert "+ Add Chat webhook" in client.get(reverse("sinks:list", args=[pid])).content.decode()
    form = client.get(reverse("sinks:create", args=[pid, "chat_webhook"])).content.decode()
    assert 'name="webhook_url" id="id_webhook_url"' in form and 'autocomplete="off"' in form
    assert '<option value="text" selected>' in form and '<option value="content">' in form
    assert 'placeholder="30 (Discord&#x27;s limit)"' in form
    refused = client.post(reverse("sinks:create", args=[pid, "chat_webhook"]),
                          {"action": "save", "name": "chat", "webhook_url": "ftp://x", "text_key": "content"})
    assert refused.status_code == 400 and "only http and https" in refused.content.decode()
    assert '<option value="content" selected>' in refused.content.decode()
    assert client.post(reverse("sinks:create", args=[pid, "chat_webhook"]),
                       {"action": "save", "name": "chat", "enabled": "on", "webhook_url": DISCORD_URL,
                        "text_key": "content"}).status_code == 302
    sink = Sink.objects.get(project=team.project, name="chat")
    assert sink.kind == "chat_webhook" and sink.config == {"webhook_url": DISCORD_URL, "text_key": "content",
                                                           "max_per_minute": 30}
    edit = client.get(reverse("sinks:edit", args=[pid, sink.pk])).content.decode()
    assert "SECRET-TOKEN" not in edit and f"https://discord.com/{MASK}" in edit
    listing = client.get(reverse("sinks:list", args=[pid])).content.decode()
    assert "Chat webhook" in listing and "SECRET-TOKEN" not in listing


def test_the_test_action_delivers_to_a_chat_webhook(team, stub):
    sink = Sink.objects.create(project=team.project, name="chat", kind="chat_webhook",
                               config={"webhook_url": stub.url("/hooks/x"), "text_key": "content"})
    response = client_for(team.admin).post(f"{sinks_path(team)}{sink.pk}/test/")
    assert response.json() == {"ok": True}
    (request,) = stub.received()
    assert request.json()["content"].startswith("**Summary:** Test message from GlassFlow")


@pytest.mark.django_db(transaction=True)
def test_the_sink_worker_delivers_outputs_to_a_chat_webhook(js, nats_server, stub, new_team):
    team = new_team()
    worker = WorkerThread(nats_server.url).start()
    try:
        sink = add_sink(team, "discord", "chat_webhook", {"webhook_url": stub.url("/api/webhooks/1/t"),
                                                          "text_key": "content"})
        wait_for(lambda: consumer_info(js, team.project.pk, sink["id"]), message="consumer of the chat sink")
        publish_output(js, team.project.pk, {"summary": "db down", "severity": "critical"})
        (request,) = wait_for(stub.received, message="chat webhook request")
    finally:
        worker.stop()
    assert request.json() == {"content": "**Summary:** db down\n**Severity:** critical\n_GlassFlow · request req-1_"}


class EchoKind(HttpSinkKind):
    """A kind that exists only in this test: its fields, validation and delivery, nothing else."""

    name = "echo"
    label = "Echo"
    target = "the echo server"
    form_rows = ((ConfigField("endpoint", "Endpoint", URL), ConfigField("greeting", "Greeting", TEXT, default="hi")),
                 (ConfigField("headers", "Headers", HEADERS),))

    @classmethod
    def clean_fields(cls, config: dict, errors: dict[str, str], *, allow_private: bool, stored: dict) -> dict:
        endpoint = config.get("endpoint", "")
        if not isinstance(endpoint, str) or not endpoint.startswith("http://127.0.0.1:"):
            errors["endpoint"] = "the echo server listens on 127.0.0.1"
        return {"endpoint": endpoint, "greeting": str(config.get("greeting", "hi")),
                "headers": restore_headers(config.get("headers") or {}, stored.get("headers", {}))}

    @classmethod
    def request(cls, config: dict, message: dict) -> HttpRequest:
        body = json.dumps({"greeting": config["greeting"], "requestId": message["requestId"]}).encode()
        return HttpRequest("PUT", config["endpoint"], body, config["headers"])


@pytest.fixture
def echo_kind(monkeypatch):
    monkeypatch.setitem(KINDS, EchoKind.name, EchoKind)
    return EchoKind


def test_a_kind_registered_at_test_time_works_through_the_generic_form_serializer_and_test_action(
        team, stub, echo_kind):
    client = page_client(team.admin)
    pid = team.project.pk
    assert "+ Add Echo" in client.get(reverse("sinks:list", args=[pid])).content.decode()
    form = client.get(reverse("sinks:create", args=[pid, "echo"])).content.decode()
    assert 'id="id_endpoint"' in form and 'id="id_greeting" value="hi"' in form and "+ Add header" in form
    with_row = client.post(reverse("sinks:create", args=[pid, "echo"]),
                           {"action": "add-header", "name": "echo", "endpoint": stub.url(), "h-count": "0"})
    assert 'id="h-0-name"' in with_row.content.decode()
    refused = client.post(reverse("sinks:create", args=[pid, "echo"]),
                          {"action": "save", "name": "echo", "endpoint": "https://example.com/", "h-count": "0"})
    assert refused.status_code == 400 and "the echo server listens on 127.0.0.1" in refused.content.decode()
    assert client.post(reverse("sinks:create", args=[pid, "echo"]), {
        "action": "save", "name": "echo", "enabled": "on", "endpoint": stub.url("/echo"), "greeting": "hello",
        "h-count": "1", "h-0-name": "X-Token", "h-0-value": "hunter2"}).status_code == 302
    sink = Sink.objects.get(project=team.project, name="echo")
    assert sink.config == {"endpoint": stub.url("/echo"), "greeting": "hello", "headers": {"X-Token": "hunter2"}}
    shown = client_for(team.viewer).get(f"{sinks_path(team)}{sink.pk}/").json()
    assert shown["kind"] == "echo" and shown["config"]["headers"] == {"X-Token": MASK}
    assert client_for(team.admin).post(f"{sinks_path(team)}{sink.pk}/test/").json() == {"ok": True}
    (request,) = stub.received()
    assert request.method == "PUT" and request.headers["X-Token"] == "hunter2"
    assert request.json() == {"greeting": "hello", "requestId": "glassflow-test-message"}


def test_the_api_refuses_a_kind_that_is_not_registered(team, stub):
    response = client_for(team.admin).post(sinks_path(team), {"name": "echo", "kind": "echo",
                                                              "config": {"endpoint": stub.url()}}, format="json")
    assert response.status_code == 400 and "kind" in response.json()
    assert page_client(team.admin).get(reverse("sinks:create", args=[team.project.pk, "echo"])).status_code == 404
