"""The receiver's fast publish path leans on nats-py internals; a nats-py upgrade that changes
them must fail here, not silently fall back to the slow path or lose PubAcks.

``ingest/receiver/publisher.py`` overrides ``Client._process_msg`` to take PubAck frames straight
from the protocol parser, and writes HPUB commands with ``_send_command`` and ``_flush_pending``.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import uuid

import nats
import pytest
from nats.aio.client import Client

from ingest.receiver.publisher import AckClient, AckPublisher


@contextlib.asynccontextmanager
async def scratch_stream(nc):
    """A stream of the test's own and a started AckPublisher on ``nc``; both removed (and ``nc``
    closed) afterwards."""
    stream = f"internals-{uuid.uuid4().hex[:8]}"
    js = nc.jetstream()
    try:
        await js.add_stream(name=stream, subjects=[f"{stream}.>"], max_bytes=8 * 1024**2)
        publisher = AckPublisher(nc)
        await publisher.start()
        yield js, stream, publisher
    finally:
        await js.delete_stream(stream)
        await nc.close()


def parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_the_nats_py_internals_the_publisher_overrides_or_calls_keep_their_shape():
    assert parameters(Client._process_msg) == ["self", "sid", "subject", "reply", "data", "headers"]
    assert inspect.iscoroutinefunction(Client._process_msg)
    assert parameters(Client._send_command)[:2] == ["self", "cmd"]
    assert inspect.iscoroutinefunction(Client._send_command)
    assert inspect.iscoroutinefunction(Client._flush_pending)
    assert {"in_msgs", "in_bytes", "out_msgs", "out_bytes"} <= set(Client().stats)


@pytest.mark.asyncio
async def test_pubacks_come_through_the_frame_fast_path_and_every_message_is_stored(nats_server):
    nc = AckClient()
    await nc.connect(nats_server.url, connect_timeout=2, max_reconnect_attempts=0)
    async with scratch_stream(nc) as (js, stream, publisher):
        assert publisher._fast_write, "nats-py lost _send_command/_flush_pending: the batch write fell back"

        payloads = [json.dumps({"n": n}).encode() for n in range(50)]
        result = await publisher.publish(f"{stream}.logs", payloads, f"req-{stream}", timeout=5)
        assert (result.stored, result.duplicates) == (50, 0)
        again = await publisher.publish(f"{stream}.logs", payloads, f"req-{stream}", timeout=5)
        assert again.duplicates == 50, "Nats-Msg-Id headers written by the fast path de-duplicate a retry"

        # The acks were taken from the parsed frames: none went through the subscription's queue.
        assert publisher._sub.delivered == 0
        assert (await js.stream_info(stream)).state.messages == 50


@pytest.mark.asyncio
async def test_a_plain_client_still_gets_every_puback_through_the_subscription(nats_server):
    nc = await nats.connect(nats_server.url, connect_timeout=2, max_reconnect_attempts=0)
    async with scratch_stream(nc) as (_, stream, publisher):
        result = await publisher.publish(f"{stream}.logs", [b"{}"] * 10, None, timeout=5)
        assert result.stored == 10
        assert publisher._sub.delivered == 10
