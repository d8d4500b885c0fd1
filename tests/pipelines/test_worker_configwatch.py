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
