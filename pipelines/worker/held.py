"""The messages a runner holds: counted from arrival until their fate is settled, and kept alive.

A message is held (unacked) from arrival until it is acked (delivered, filtered out, or its
dead letter stored) or nak'ed (released). ``settle`` publishes the verdict; ``send_heartbeats``
sends +WPI for every message held longer than HEARTBEAT_SECONDS, so a batch waiting in the
batcher, in flight, between retries or for a delivery slot never outlives the consumer's short
ack_wait (pipelines/worker/protocol.py).
"""

from __future__ import annotations

import asyncio
import logging
import time

import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg

from pipelines.worker.protocol import HEARTBEAT_SECONDS, IN_PROGRESS

logger = logging.getLogger(__name__)


class HeldMessages:
    def __init__(self, nc: Client, project_id: str):
        self.nc = nc
        self.project_id = project_id
        self.count = 0
        # Reply subject -> when it arrived, for every message whose fate is not settled yet;
        # insertion order is age order, so the heartbeat stops at the first young one.
        self.since: dict[str, float] = {}

    def hold(self, msg: Msg) -> None:
        self.count += 1
        self.since[msg.reply] = time.monotonic()

    async def ack_now(self, msg: Msg, payload: bytes) -> None:
        """Settle one message on the hot path (a filtered record): no copy, no error handling."""
        self.count -= 1
        del self.since[msg.reply]
        await self.nc.publish(msg.reply, payload)

    async def settle(self, msgs: list[Msg], payload: bytes) -> None:
        """Ack or nak held messages. The list is emptied first, so settling it twice is harmless."""
        batch = list(msgs)
        msgs.clear()
        self.count -= len(batch)
        since = self.since
        for msg in batch:
            since.pop(msg.reply, None)
        publish = self.nc.publish
        try:
            for msg in batch:
                await publish(msg.reply, payload)
        except Exception:  # noqa: BLE001 -- unacked messages are redelivered after ack_wait: no loss
            logger.warning("project %s: could not send %s for %d message(s)", self.project_id, payload.decode(),
                           len(batch), exc_info=True)

    async def run_heartbeats(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            await self.send_heartbeats()

    async def send_heartbeats(self) -> int:
        """+WPI for every message held longer than HEARTBEAT_SECONDS; returns how many were sent."""
        limit = time.monotonic() - HEARTBEAT_SECONDS
        publish = self.nc.publish
        sent = 0
        try:
            for reply, since in list(self.since.items()):  # a copy: settle() runs meanwhile
                if since > limit:
                    break
                await publish(reply, IN_PROGRESS)
                sent += 1
        except nats.errors.OutboundBufferLimitError:
            # Disconnected with a full reconnect buffer: the server cannot hear us anyway. If the
            # outage outlasts ack_wait the messages are redelivered (duplicates, never loss).
            logger.debug("project %s: heartbeat skipped while NATS is unreachable", self.project_id)
        return sent
