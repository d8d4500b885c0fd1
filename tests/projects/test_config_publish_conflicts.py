"""A publish refused because the KV document is ahead of the database (a restored database) is resolved.

The database is the source of truth: its state is published over the newer-numbered
document with a warning, so a key revoked after a restore stops working at the receiver.
"""

from __future__ import annotations

import json
import logging

import pytest

from projects.models import Project
from tests.support.clients import client_for
from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def kv_document(js, project_id):
    async def get(jetstream):
        kv = await jetstream.key_value("gf-ai-config")
        return json.loads((await kv.get(str(project_id))).value)

    return js.run(get)


def put_raw(js, project_id, document):
    async def put(jetstream):
        kv = await jetstream.key_value("gf-ai-config")
        await kv.put(str(project_id), json.dumps(document).encode())

    js.run(put)


def test_a_key_revoked_after_a_database_restore_disappears_from_the_kv_document(js, caplog):
    client = client_for(UserFactory())
    project_id = client.post("/api/v1/projects/", {"name": "restored"}, format="json").json()["id"]
    base = f"/api/v1/projects/{project_id}"
    key = client.post(f"{base}/keys/", {"name": "leaked"}, format="json").json()
    published = kv_document(js, project_id)
    assert [k["prefix"] for k in published["apiKeys"]] == [key["prefix"]]
    # The installation ran on (and published) further versions before its database was restored.
    put_raw(js, project_id, {**published, "version": published["version"] + 5})

    with caplog.at_level(logging.WARNING, logger="projects.configsync"):
        assert client.post(f"{base}/keys/{key['id']}/revoke/").status_code in (200, 204)

    document = kv_document(js, project_id)
    assert document["apiKeys"] == []
    project = Project.objects.get(pk=project_id)
    assert document["version"] == project.config_version > published["version"] + 5
    assert not project.config_pending
    assert any("ahead of the database" in record.getMessage() for record in caplog.records)


def test_a_document_already_published_by_a_racing_publisher_is_not_republished(js):
    from projects.configsync import sync_project

    client = client_for(UserFactory())
    project_id = client.post("/api/v1/projects/", {"name": "raced"}, format="json").json()["id"]
    before = kv_document(js, project_id)
    Project.objects.filter(pk=project_id).update(config_published_version=0)
    assert sync_project(project_id) is True
    after = kv_document(js, project_id)
    assert after == before  # same version and content: left as it was
    assert not Project.objects.get(pk=project_id).config_pending
