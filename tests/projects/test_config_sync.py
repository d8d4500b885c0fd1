"""NATS coordination: streams follow projects, the KV document follows the database, outages lose nothing."""

from __future__ import annotations

import json

import pytest
from nats.js.errors import KeyNotFoundError, NotFoundError

from projects.configdoc import build_config_document
from projects.configsync import sync_pending
from projects.models import ApiKey, Project, ProjectTombstone
from projects.natsbridge import bridge
from tests.support.clients import client_for
from tests.support.deadline import wait_for
from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

STREAMS = ("gf-ai-raw-{}", "gf-ai-output-{}", "gf-ai-dlq-{}")


def stream_names(js):
    async def names(jetstream):
        return {info.config.name for info in await jetstream.streams_info()}

    return js.run(names)


def kv_document(js, project_id):
    async def get(jetstream):
        kv = await jetstream.key_value("gf-ai-config")
        try:
            return json.loads((await kv.get(str(project_id))).value)
        except KeyNotFoundError:
            return None

    return js.run(get)


def comparable(document):
    return {k: v for k, v in (document or {}).items() if k != "generatedAt"}


def assert_kv_matches_db(js, project_id):
    expected = comparable(build_config_document(Project.objects.get(pk=project_id)))
    assert comparable(kv_document(js, project_id)) == expected


@pytest.fixture
def owner_client():
    user = UserFactory()
    return client_for(user)


def create_project(client, name="svc"):
    response = client.post("/api/v1/projects/", {"name": name}, format="json")
    assert response.status_code == 201
    return response.json()["id"]


def test_project_create_makes_three_streams_with_the_configured_limits(js, owner_client, settings):
    project_id = create_project(owner_client)
    assert {name.format(project_id) for name in STREAMS} <= stream_names(js)

    async def raw_info(jetstream):
        return await jetstream.stream_info(f"gf-ai-raw-{project_id}")

    info = js.run(raw_info)
    assert set(info.config.subjects) == {f"gf-ai-raw.{project_id}.in", f"gf-ai-raw.{project_id}.spans",
                                         f"gf-ai-raw.{project_id}.metrics"}
    assert info.config.max_bytes == settings.STREAM_MAX_BYTES
    assert str(getattr(info.config.discard, "value", info.config.discard)) == "new"
    assert Project.objects.get(pk=project_id).config_pending is False


def test_project_delete_removes_streams_and_document(js, owner_client):
    project_id = create_project(owner_client)
    assert owner_client.delete(f"/api/v1/projects/{project_id}/").status_code == 204
    assert not {name.format(project_id) for name in STREAMS} & stream_names(js)
    assert kv_document(js, project_id) is None
    assert not ProjectTombstone.objects.exists()


def test_kv_document_matches_the_database_after_every_kind_of_change(js, owner_client):
    project_id = create_project(owner_client)
    base = f"/api/v1/projects/{project_id}"
    assert_kv_matches_db(js, project_id)

    key = owner_client.post(f"{base}/keys/", {"name": "collector"}, format="json").json()
    assert_kv_matches_db(js, project_id)
    assert [k["prefix"] for k in kv_document(js, project_id)["apiKeys"]] == [key["prefix"]]

    owner_client.patch(f"{base}/pipeline/", {"agent_endpoint": "http://127.0.0.1:9000/agent", "enabled": True,
                                            "agent_headers": {"Authorization": "Bearer a"}}, format="json")
    assert_kv_matches_db(js, project_id)
    assert kv_document(js, project_id)["pipeline"]["agentHeaders"] == {"Authorization": "Bearer a"}

    sink = owner_client.post(f"{base}/sinks/", {"name": "hook", "kind": "webhook",
                                                "config": {"url": "http://127.0.0.1:9001/"}}, format="json").json()
    assert_kv_matches_db(js, project_id)
    owner_client.patch(f"{base}/sinks/{sink['id']}/", {"enabled": False}, format="json")
    assert_kv_matches_db(js, project_id)
    owner_client.delete(f"{base}/sinks/{sink['id']}/")
    assert kv_document(js, project_id)["sinks"] == []

    owner_client.post(f"{base}/keys/{key['id']}/revoke/")
    assert_kv_matches_db(js, project_id)
    assert kv_document(js, project_id)["apiKeys"] == []


def test_the_document_never_contains_a_raw_key(js, owner_client):
    project_id = create_project(owner_client)
    secret = owner_client.post(f"/api/v1/projects/{project_id}/keys/", {"name": "k"}, format="json").json()["key"]
    document = kv_document(js, project_id)
    assert secret not in json.dumps(document)
    assert document["apiKeys"][0]["hash"] == ApiKey.objects.get(project_id=project_id).key_hash


def test_internal_endpoint_serves_the_same_document_with_the_service_token(js, owner_client, client, settings):
    settings.INTERNAL_API_ON_PUBLIC = True  # tests/projects/test_internal_listener.py covers the listener
    project_id = create_project(owner_client)
    url = f"/internal/v1/projects/{project_id}/config"
    assert client.get(url).status_code == 401
    assert client.get(url, HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {settings.INTERNAL_SERVICE_TOKEN}")
    assert response.status_code == 200
    assert comparable(response.json()) == comparable(kv_document(js, project_id))


def test_an_older_document_never_replaces_a_newer_one(js, owner_client):
    from projects import natsops

    project_id = create_project(owner_client)
    current = kv_document(js, project_id)
    stale = {**current, "version": current["version"] - 1, "name": "stale"}

    async def put(jetstream):
        kv = await jetstream.key_value("gf-ai-config")
        return await natsops.put_config_document(kv, stale)

    assert js.run(put) is False
    assert kv_document(js, project_id)["name"] == current["name"]


@pytest.mark.slow
def test_changes_made_while_nats_is_down_are_published_when_it_returns(js, owner_client, nats_server):
    project_id = create_project(owner_client)
    nats_server.kill()
    try:
        response = owner_client.post(f"/api/v1/projects/{project_id}/keys/", {"name": "during-outage"},
                                     format="json")
        assert response.status_code == 201
        new_project = create_project(owner_client, name="born-during-outage")
        assert Project.objects.get(pk=project_id).config_pending
        deleted = create_project(owner_client, name="to-delete")
    finally:
        nats_server.start()
    # "to-delete" was created while NATS was down; delete it once NATS is back but before reconciling.
    owner_client.delete(f"/api/v1/projects/{deleted}/")
    wait_for(lambda: sync_pending() == 0, timeout=20, message="pending configuration published")
    assert_kv_matches_db(js, project_id)
    assert [k["prefix"] for k in kv_document(js, project_id)["apiKeys"]] == [response.json()["prefix"]]
    assert_kv_matches_db(js, new_project)
    assert f"gf-ai-raw-{new_project}" in stream_names(js)
    assert not Project.objects.filter(config_published_version__lt=1).exists()
    assert not ProjectTombstone.objects.exists()


@pytest.mark.slow
def test_a_deletion_while_nats_is_down_removes_the_streams_later(js, owner_client, nats_server):
    project_id = create_project(owner_client)
    nats_server.kill()
    try:
        assert owner_client.delete(f"/api/v1/projects/{project_id}/").status_code == 204
        assert ProjectTombstone.objects.filter(project_id=project_id).exists()
    finally:
        nats_server.start()
    wait_for(lambda: sync_pending() == 0, timeout=20, message="tombstone processed")
    assert f"gf-ai-raw-{project_id}" not in stream_names(js)
    assert kv_document(js, project_id) is None


def test_publishconfig_all_restores_a_wiped_bucket(js, owner_client):
    from django.core.management import call_command

    project_id = create_project(owner_client)

    async def wipe(jetstream):
        await jetstream.delete_key_value("gf-ai-config")

    js.run(wipe)
    bridge.reset()
    with pytest.raises(NotFoundError):
        js.run(lambda jetstream: jetstream.key_value("gf-ai-config"))
    call_command("publishconfig", "--all")
    assert_kv_matches_db(js, project_id)


def test_key_list_shows_last_use_reported_by_the_receiver_through_kv(js, owner_client):
    project_id = create_project(owner_client)
    key = owner_client.post(f"/api/v1/projects/{project_id}/keys/", {"name": "k"}, format="json").json()

    async def report(jetstream):
        from nats.js.api import KeyValueConfig
        from nats.js.errors import BucketNotFoundError

        try:
            kv = await jetstream.key_value("gf-ai-keyuse")  # the receiver may have made it already
        except BucketNotFoundError:
            kv = await jetstream.create_key_value(KeyValueConfig(bucket="gf-ai-keyuse"))
        await kv.put(key["prefix"], b"2026-01-02T03:04:05Z")

    js.run(report)
    listed = owner_client.get(f"/api/v1/projects/{project_id}/keys/").json()["results"]
    assert listed[0]["last_used_at"].startswith("2026-01-02T03:04:05")
    assert ApiKey.objects.get(pk=key["id"]).last_used_at.year == 2026
