"""Keys come from the config KV bucket: missing, unknown, revoked and foreign keys are refused."""

from __future__ import annotations

import asyncio
import re

import nats
import pytest
from nats.js.errors import BucketNotFoundError, KeyNotFoundError

from projects.natsbridge import bridge
from tests.support import receiver as support
from tests.support.deadline import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def receiver(nats_server):
    yield from support.running_receiver(nats_server.url, config_check_interval=0.5)

LOGS = next(v for v in support.load_vectors() if v["name"] == "python-logs-proto-none")
LOGS_JSON = next(v for v in support.load_vectors() if v["name"] == "python-logs-json-none")


def status_message(response) -> str:
    return response.json()["message"]


def test_a_request_without_a_key_gets_401_with_a_json_status(receiver):
    response = support.post(receiver, "/v1/logs", LOGS_JSON["body"], None, "application/json")
    assert response.status_code == 401
    assert response.json()["code"] == 16
    assert "missing API key" in status_message(response)


def test_an_unknown_key_gets_401_in_the_request_encoding(receiver):
    response = support.post(receiver, "/v1/logs", LOGS["body"], "gfk_00000000_notarealkeyatallnotarealkeyatallnotareal")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/x-protobuf"
    assert b"unknown or revoked API key" in response.content
    assert b"API keys page" in response.content  # where keys are made, not "the project's settings"
    assert support.post(receiver, "/v1/logs", LOGS["body"], "test-key").status_code == 401


def test_a_new_key_works_and_a_revoked_key_stops_within_a_second(receiver, nats_server):
    project = support.make_project()
    support.wait_until_key_works(receiver, project.key)
    second = project.new_key()
    wait_for(lambda: support.post(receiver, "/v1/logs", b"", second["key"]).status_code == 200, timeout=1.0,
             message="a new key is accepted within a second")

    project.revoke(second["id"])
    wait_for(lambda: support.post(receiver, "/v1/logs", LOGS["body"], second["key"]).status_code == 401, timeout=1.0,
             message="a revoked key is refused within a second")
    assert support.post(receiver, "/v1/logs", LOGS["body"], project.key).status_code == 200


def test_a_key_of_project_a_can_never_write_to_project_b(receiver, nats_server):
    project_a = support.make_project("a")
    project_b = support.make_project("b")
    support.wait_until_key_works(receiver, project_a.key)
    support.wait_until_key_works(receiver, project_b.key)
    assert support.post(receiver, "/v1/logs", LOGS["body"], project_a.key).status_code == 200
    assert support.stream_count(nats_server.url, f"gf-ai-raw-{project_a.id}") == 7
    assert support.stream_count(nats_server.url, f"gf-ai-raw-{project_b.id}") == 0
    # A key with B's public prefix but A's secret part is not B's key.
    forged = project_b.key_prefix + project_a.key[len(project_a.key_prefix):]
    assert support.post(receiver, "/v1/logs", LOGS["body"], forged).status_code == 401


def test_a_deleted_project_key_stops_working(receiver, nats_server):
    project = support.make_project()
    support.wait_until_key_works(receiver, project.key)
    assert project.client.delete(f"/api/v1/projects/{project.id}/").status_code == 204
    wait_for(lambda: support.post(receiver, "/v1/logs", LOGS["body"], project.key).status_code == 401, timeout=2.0,
             message="the deleted project's key is refused")


def key_use(nats_url: str, prefix: str) -> tuple[str, int] | None:
    """(timestamp, KV revision) of a key's last-use entry, or None."""

    async def read():
        nc = await nats.connect(nats_url, max_reconnect_attempts=0)
        try:
            entry = await (await nc.jetstream().key_value("gf-ai-keyuse")).get(prefix)
            return entry.value.decode(), entry.revision
        except (KeyNotFoundError, BucketNotFoundError):
            return None
        finally:
            await nc.close()

    return asyncio.run(read())


def test_key_use_is_recorded_in_the_keyuse_bucket_at_most_once_a_minute(receiver, nats_server):
    project = support.make_project()
    support.wait_until_key_works(receiver, project.key)
    stamp, revision = wait_for(lambda: key_use(nats_server.url, project.key_prefix), timeout=5,
                               message="key use recorded")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp)
    for _ in range(3):
        assert support.post(receiver, "/v1/logs", b"", project.key).status_code == 200
    assert support.post(receiver, "/v1/logs", LOGS["body"], project.key).status_code == 200
    # A barrier: the recorder writes notes one at a time in the order they were taken, so once a
    # second key's first use is in the bucket, any write the requests above caused has happened.
    second = project.new_key()
    support.wait_until_key_works(receiver, second["key"])
    wait_for(lambda: key_use(nats_server.url, second["prefix"]), timeout=5, message="second key's use recorded")
    assert key_use(nats_server.url, project.key_prefix) == (stamp, revision)


def test_keys_published_into_a_wiped_and_recreated_config_bucket_work(receiver, nats_server, project):
    from django.core.management import call_command

    async def wipe():
        nc = await nats.connect(nats_server.url, max_reconnect_attempts=0)
        try:
            await nc.jetstream().delete_key_value("gf-ai-config")
        finally:
            await nc.close()

    asyncio.run(wipe())
    bridge.reset()
    call_command("publishconfig", "--all")  # the operator's way to restore the bucket
    second = project.new_key()
    wait_for(lambda: support.post(receiver, "/v1/logs", b"", second["key"]).status_code == 200, timeout=5,
             message="a key published after the bucket was recreated is accepted")
    assert support.post(receiver, "/v1/logs", b"", project.key).status_code == 200
