"""projects/configwatch.py: the one watch of the config bucket the receiver and both workers listen to."""

from __future__ import annotations

import uuid

import nats
import pytest

from projects.configwatch import ConfigWatch, UnreadableDocument, document_version
from projects.natsops import config_bucket, put_config_document


class Recorder:
    def __init__(self):
        self.snapshots: list[tuple[dict, set]] = []
        self.changes: list[tuple[str, object]] = []

    async def snapshot(self, documents, gone):
        self.snapshots.append((documents, gone))

    async def change(self, project_id, document):
        self.changes.append((project_id, document))


@pytest.mark.asyncio
async def test_a_snapshot_then_changes_removals_and_unreadable_documents(nats_server):
    nc = await nats.connect(nats_server.url, connect_timeout=2)
    bucket = f"gf-ai-config-test-{uuid.uuid4().hex[:12]}"
    try:
        kv = await config_bucket(nc.jetstream(), bucket, 1)
        await put_config_document(kv, {"projectId": "a", "version": 1})
        await put_config_document(kv, {"projectId": "b", "version": 1})
        await kv.purge("b")
        listener = Recorder()
        watch = ConfigWatch(nc, listener, bucket=bucket)
        await watch.poll(0.5)
        assert listener.snapshots == [({"a": {"projectId": "a", "version": 1}}, set())]
        assert watch.caught_up and listener.changes == []

        await kv.put("c", b"not json")
        await kv.delete("a")
        assert await watch.poll(0.5)
        assert listener.changes[0][0] == "c" and isinstance(listener.changes[0][1], UnreadableDocument)
        assert listener.changes[1] == ("a", None)

        await put_config_document(kv, {"projectId": "d", "version": 2})
        await watch.poll(0.5)
        watch.restart()  # a fresh first pass: "c" and "d" are there, nothing delivered before is gone
        await kv.purge("d")
        await watch.poll(0.5)
        documents, gone = listener.snapshots[-1]
        assert set(documents) == {"c"} and gone == {"d"}
        assert await watch.is_latest("d", {"version": 2}) is False  # purged: unsure, so not the latest
        await watch.close()
    finally:
        await nc.close()


def test_a_document_without_an_integer_version_counts_as_version_0():
    assert document_version({"version": 3}) == 3
    assert document_version({"version": "3"}) == 0
    assert document_version({}) == 0
    assert document_version(None) == 0


class FailingOnce(Recorder):
    """A listener whose second snapshot fails part-way (as a worker's can, on a NATS error)."""

    async def snapshot(self, documents, gone):
        if len(self.snapshots) == 1 and not getattr(self, "failed", False):
            self.failed = True
            raise ConnectionError("NATS went away while applying")
        await super().snapshot(documents, gone)


@pytest.mark.asyncio
async def test_a_wiped_bucket_names_no_project_as_gone_and_a_failed_snapshot_is_reported_again(nats_server):
    nc = await nats.connect(nats_server.url, connect_timeout=2)
    bucket = f"gf-ai-config-test-{uuid.uuid4().hex[:12]}"
    try:
        js = nc.jetstream()
        kv = await config_bucket(js, bucket, 1)
        await put_config_document(kv, {"projectId": "a", "version": 1})
        listener = Recorder()
        watch = ConfigWatch(nc, listener, bucket=bucket, check_interval=0.0)
        await watch.poll(0.5)
        assert listener.snapshots == [({"a": {"projectId": "a", "version": 1}}, set())]

        # Wiped and recreated: until the control plane republishes, absence means nothing, so the
        # workers must not tear "a" down (the sink worker would delete its durable consumers).
        await js.delete_key_value(bucket)
        kv = await config_bucket(js, bucket, 1)
        await put_config_document(kv, {"projectId": "b", "version": 1})
        await watch.poll(0.5)
        documents, gone = listener.snapshots[-1]
        assert set(documents) == {"b"} and gone == set()
        # An explicit deletion still arrives as a change.
        await kv.purge("b")
        await watch.poll(0.5)
        assert listener.changes[-1] == ("b", None)
        await watch.close()

        failing = FailingOnce()
        watch = ConfigWatch(nc, failing, bucket=bucket)
        await put_config_document(kv, {"projectId": "c", "version": 1})
        await watch.poll(0.5)
        assert set(failing.snapshots[-1][0]) == {"c"}
        await kv.purge("c")
        watch.restart()
        with pytest.raises(ConnectionError):
            await watch.poll(0.5)  # the listener fails while taking the snapshot that drops "c"
        watch.restart()
        await watch.poll(0.5)
        assert failing.snapshots[-1] == ({}, {"c"})  # so the next snapshot reports "c" gone again
        await watch.close()
    finally:
        await nc.close()
