"""Recreating a runner's pull consumer when the server lost it (deleted under us, or a restarted
server without it): the pull feed reports the loss, the batch timer's next tick recreates it."""

from __future__ import annotations

import logging

from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig

logger = logging.getLogger(__name__)


class ConsumerRecovery:
    def __init__(self, js: JetStreamContext, project_id: str, stream: str):
        self.js = js
        self.project_id = project_id
        self.stream = stream
        self.lost: str | None = None  # why the consumer was lost, until it is recreated

    def lose(self, reason: str) -> None:
        self.lost = reason

    async def recover(self, config: ConsumerConfig) -> None:
        """Recreate the consumer if it was lost; on failure it stays lost and is tried again later."""
        reason, self.lost = self.lost, None
        if reason is None:
            return
        try:
            await self.js.add_consumer(self.stream, config)
            logger.warning("project %s: pull consumer was lost (%s) and has been recreated", self.project_id, reason)
        except Exception as exc:  # noqa: BLE001 -- the stream may be gone with the project; retried
            logger.warning("project %s: pull consumer lost (%s), recreating failed: %s", self.project_id, reason, exc)
            self.lost = reason
