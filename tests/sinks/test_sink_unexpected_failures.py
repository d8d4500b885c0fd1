"""A sink whose delivery fails in a way no retry can fix is dead-lettered at once, with its error
recorded, instead of looping: an invalid host saved before save-time validation existed, or a
config the kind cannot read (real nats-server, configuration put into NATS as the control plane does).
"""

from __future__ import annotations

import json
import time

import nats
import pytest

from projects import natsops
from projects.streams import output_stream
from sinks.worker.worker import SinkWorker
from tests.support import sink_harness as harness
from tests.support.deadline import wait_for_async


async def dead_letters(js, project_id: str) -> list[dict]:
    info = await js.stream_info(f"gf-ai-dlq-{project_id}")
    return [json.loads((await js.get_msg(f"gf-ai-dlq-{project_id}", seq)).data)
            for seq in range(info.state.first_seq, info.state.last_seq + 1) if info.state.messages]


@pytest.mark.parametrize(("config", "words"), [
    ({"url": "https://hooks..example.com/x", "method": "POST", "headers": {}}, "empty label"),
    ({"url": f"https://{'a' * 64}.example.com/x", "method": "POST", "headers": {}}, "longer than 63"),
    ({"method": "POST"}, "the sink could not deliver: KeyError"),
])
async def test_an_undeliverable_sink_config_is_dead_lettered_at_once_and_recorded(nats_server, config, words):
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    project_id, sink_id = await harness.project_with_sink(js, "https://placeholder.example/")
    kv = await natsops.config_bucket(js, harness.steps_options().config_bucket, 1)
    await natsops.put_config_document(kv, {"projectId": project_id, "version": 2, "sinks": [
        {"id": sink_id, "name": "hook", "kind": "webhook", "enabled": True, "config": config}]})
    worker = SinkWorker(harness.steps_options(), nc)  # production policy: transient failures would retry for ever
    try:
        await worker.load_config()
        await harness.publish_request(js, project_id, "a")
        started = time.monotonic()
        await wait_for_async(lambda: worker.process_batch(), message="the output was handled")
        assert time.monotonic() - started < 5, "no retry loop"
        [entry] = await dead_letters(js, project_id)
        assert entry["attempts"] == 1 and words in entry["lastError"]
        info = await js.consumer_info(output_stream(project_id), f"sink-{sink_id}")
        assert info.num_ack_pending == 0 and info.num_pending == 0
        stats = json.loads((await (await js.key_value("gf-ai-stats")).get(f"{project_id}.sink.{sink_id}")).value)
        assert stats["dlq"] == 1 and words in stats["lastError"] and stats.get("stalledSince") is None
    finally:
        await natsops.delete_streams(js, project_id, harness.SMALL_LIMITS)
        await worker.shutdown()


