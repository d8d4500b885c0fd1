"""Sink consumers across runsink processes: re-enabling a sink never loses outputs, settings follow.

Two SinkWorkers, each with its own NATS connection, act on different versions of one project's
document, as two runsink processes do while a change propagates.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid

import nats
import pytest

from projects import natsops
from projects.streams import StreamLimits, output_stream, output_subject
from sinks.worker.worker import SinkWorker
from tests.support.deadline import wait_for_async
from tests.support.sink_harness import StubServer, fast_options

SMALL = StreamLimits(max_bytes=16 * 1024**2)
BUCKET = f"gf-ai-config-generations-{uuid.uuid4().hex[:8]}"


def options(**consumer):
    base = fast_options()
    return dataclasses.replace(base, config_bucket=BUCKET, consumer=dataclasses.replace(base.consumer, **consumer))


def document(project_id: str, sink_id: str, url: str, version: int, *, enabled: bool, generation: int) -> dict:
    return {"projectId": project_id, "version": version, "sinks": [
        {"id": sink_id, "name": "hook", "kind": "webhook", "enabled": enabled, "generation": generation,
         "config": {"url": url, "method": "POST", "headers": {}}}]}


async def publish(js, project_id: str, request_id: str) -> None:
    message = {"projectId": project_id, "requestId": request_id, "receivedAt": "t", "payload": {}}
    await js.publish(output_subject(project_id), json.dumps(message).encode())


@pytest.fixture
def stub():
    server = StubServer().up()
    yield server
    server.down()


async def test_a_process_disabling_late_never_deletes_the_consumer_of_the_re_enabled_sink(nats_server, stub):
    nc_a, nc_b = await nats.connect(nats_server.url), await nats.connect(nats_server.url)
    js = nc_a.jetstream()
    project_id, sink_id = str(uuid.uuid4()), str(uuid.uuid4())
    await natsops.ensure_streams(js, project_id, SMALL)
    kv = await natsops.config_bucket(js, BUCKET, 1)
    enabled = document(project_id, sink_id, stub.url(), 1, enabled=True, generation=0)
    disabled = document(project_id, sink_id, stub.url(), 2, enabled=False, generation=0)
    re_enabled = document(project_id, sink_id, stub.url(), 3, enabled=True, generation=1)
    await natsops.put_config_document(kv, disabled)
    a, b = SinkWorker(options(), nc_a), SinkWorker(options(), nc_b)
    runner = asyncio.create_task(b.run())
    try:
        await a.open()
        await a.apply(project_id, enabled)  # A ran the sink before it was disabled
        await wait_for_async(lambda: b.documents.get(project_id, {}).get("version") == 2, message="B caught up")
        # The race: B already applied the re-enabled document (version 3) when A, which had checked
        # that version 2 was the newest one, gets to deleting the disabled sink's consumer.
        await b.apply(project_id, re_enabled)
        await a.apply(project_id, disabled)
        for n in range(5):
            await publish(js, project_id, f"after-re-enable-{n}")
        await wait_for_async(lambda: len(stub.received()) >= 5, timeout=15,
                             message="outputs published after the re-enable delivered")
        assert sorted(r.json()["requestId"] for r in stub.received()) == [f"after-re-enable-{n}" for n in range(5)]
        names = {info.name for info in await js.consumers_info(output_stream(project_id))}
        assert names == {f"sink-{sink_id}-g1"}, "only the re-enabled sink's consumer is left"
    finally:
        b.stop.set()
        await asyncio.wait_for(runner, 20)
        await natsops.delete_streams(js, project_id, SMALL)
        await a.shutdown()


async def test_an_existing_sink_consumer_is_updated_when_the_worker_settings_change(nats_server, stub):
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    project_id, sink_id = str(uuid.uuid4()), str(uuid.uuid4())
    await natsops.ensure_streams(js, project_id, SMALL)
    doc = document(project_id, sink_id, stub.url(), 1, enabled=True, generation=0)
    try:
        before = SinkWorker(options(ack_wait=30.0, max_ack_pending=1000), nc)
        await before.open()
        await before.apply(project_id, doc)
        await before.remove(sink_id, delete=False)
        info = await js.consumer_info(output_stream(project_id), f"sink-{sink_id}")
        assert (info.config.ack_wait, info.config.max_ack_pending) == (30.0, 1000)

        after = SinkWorker(options(ack_wait=5.0, max_ack_pending=200), nc)
        await after.open()
        await after.apply(project_id, doc)
        info = await js.consumer_info(output_stream(project_id), f"sink-{sink_id}")
        assert (info.config.ack_wait, info.config.max_ack_pending) == (5.0, 200)
        await after.remove(sink_id, delete=False)
    finally:
        await natsops.delete_streams(js, project_id, SMALL)
        await nc.close()


@pytest.mark.django_db
def test_enabling_a_disabled_sink_starts_a_new_consumer_generation_in_the_document(team):
    from projects.configdoc import build_config_document
    from sinks.models import Sink
    from tests.support.clients import client_for

    client = client_for(team.admin)
    base = f"/api/v1/projects/{team.project.pk}/sinks/"
    sink = client.post(base, {"name": "hook", "kind": "webhook", "config": {"url": "https://ops.example.com/h"}},
                       format="json").json()
    client.patch(f"{base}{sink['id']}/", {"name": "renamed"}, format="json")
    assert Sink.objects.get(pk=sink["id"]).consumer_generation == 0  # edits keep the consumer
    client.patch(f"{base}{sink['id']}/", {"enabled": False}, format="json")
    client.patch(f"{base}{sink['id']}/", {"enabled": True}, format="json")
    stored = Sink.objects.get(pk=sink["id"])
    assert stored.consumer_generation == 1 and stored.consumer_name == f"sink-{sink['id']}-g1"
    stored.enabled = False
    stored.save(update_fields=["enabled"])
    stored = Sink.objects.get(pk=sink["id"])
    stored.enabled = True
    stored.save(update_fields=["enabled"])  # the UI's toggle saves only this field
    assert Sink.objects.get(pk=sink["id"]).consumer_generation == 2
    [entry] = build_config_document(team.project)["sinks"]
    assert entry["generation"] == 2


async def test_project_stats_report_the_lag_of_a_re_enabled_sinks_consumer_under_its_sink(nats_server, stub):

    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    project_id, sink_id = str(uuid.uuid4()), str(uuid.uuid4())
    await natsops.ensure_streams(js, project_id, SMALL)
    try:
        worker = SinkWorker(options(), nc)
        await worker.open()
        await worker.apply(project_id, document(project_id, sink_id, stub.url(), 3, enabled=True, generation=1))
        await worker.remove(sink_id, delete=False)  # keep the consumer, stop delivering
        for n in range(2):
            await publish(js, project_id, f"waiting-{n}")
        stats = await wait_for_async(lambda: _with_lag(js, project_id, sink_id, 2), timeout=10)
        assert set(stats["sinks"]) == {sink_id}
    finally:
        await natsops.delete_streams(js, project_id, SMALL)
        await nc.close()


async def _with_lag(js, project_id: str, sink_id: str, expected: int) -> dict | None:
    from projects.figures import project_stats

    stats = await project_stats(js, project_id, "gf-ai-stats")
    return stats if (stats["sinks"].get(sink_id) or {}).get("lag") == expected else None
