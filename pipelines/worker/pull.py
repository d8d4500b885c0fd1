"""Pipelined pull requests for one durable consumer, on the plain NATS connection.

nats-py's ``fetch`` waits for each batch before asking for the next and acks with a
round trip; here at most two ``$JS.API.CONSUMER.MSG.NEXT`` requests are outstanding,
messages arrive in one subscription callback, and acks are fire-and-forget publishes
(at-least-once anyway: a lost ack only means a redelivery). Each request has its own
reply subject under one wildcard subscription so a status message names the request it
ends (data messages carry their original subject). JetStream serves requests FIFO, so data
messages are counted against the oldest request.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable

from nats.aio.client import Client
from nats.aio.msg import Msg

logger = logging.getLogger(__name__)

MAX_OUTSTANDING_REQUESTS = 2
STATUS_COOLDOWN_SECONDS = 1.0


class PullFeed:
    def __init__(self, nc: Client, stream: str, consumer: str, *, callback: Callable[[Msg], Awaitable[None]],
                 on_lost: Callable[[str], None], expires_seconds: float = 3.0):
        self.nc = nc
        self.api_subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{consumer}"
        # The subscription callback is the consumer's own (one coroutine per message, not two);
        # it calls on_status / on_delivered so the bookkeeping of requests stays here.
        self.callback = callback
        self.on_lost = on_lost
        self.expires_seconds = expires_seconds
        self.prefix = nc.new_inbox()
        self.requests: deque[list] = deque()  # [reply subject, messages still owed, issued at]
        self.owed = 0  # messages requested and not yet delivered, over all outstanding requests
        self.serial = 0
        self.paused_until = 0.0
        self.sub = None

    async def start(self) -> None:
        self.sub = await self.nc.subscribe(f"{self.prefix}.*", cb=self.callback,
                                           pending_msgs_limit=-1, pending_bytes_limit=-1)

    async def close(self) -> None:
        """Unsubscribe, then dispatch what had already arrived (drain: UNSUB, round trip, empty the queue)."""
        sub, self.sub = self.sub, None
        if sub is not None:
            try:
                await sub.drain()
            except Exception:  # noqa: BLE001 -- connection closing: what is unacked is redelivered later
                logger.debug("draining the pull subscription failed", exc_info=True)
                try:
                    await sub.unsubscribe()
                except Exception:  # noqa: BLE001
                    logger.debug("unsubscribing failed too", exc_info=True)
        self.requests.clear()
        self.owed = 0

    @property
    def outstanding(self) -> int:
        return len(self.requests)

    async def top_up(self, room: int, request_size: int) -> None:
        """Issue requests while fewer than two are outstanding and ``room`` covers what is owed."""
        if self.sub is None or time.monotonic() < self.paused_until:
            return
        while len(self.requests) < MAX_OUTSTANDING_REQUESTS:
            size = min(request_size, room - self.owed)
            # Don't dribble out tiny requests: wait until at least half a request fits.
            if size < max(1, request_size // 2):
                return
            self.serial += 1
            reply = f"{self.prefix}.{self.serial}"
            body = json.dumps({"batch": size, "expires": int(self.expires_seconds * 1e9)}).encode()
            self.requests.append([reply, size, time.monotonic()])
            self.owed += size
            await self.nc.publish(self.api_subject, body, reply=reply)

    def expire_stale(self) -> None:
        """Forget requests the server never answered (lost in a reconnect), so new ones can go out."""
        limit = time.monotonic() - self.expires_seconds - 2.0
        while self.requests and self.requests[0][2] < limit:
            _, owed, _ = self.requests.popleft()
            self.owed -= owed

    def reset(self) -> None:
        """After a reconnect the server has forgotten every outstanding request."""
        self.requests.clear()
        self.owed = 0

    def on_delivered(self) -> bool:
        """Count a data message against the oldest request; True when that request is now complete."""
        if self.requests:
            head = self.requests[0]
            head[1] -= 1
            self.owed -= 1
            if head[1] <= 0:
                self.requests.popleft()
                return True
        return False

    def on_status(self, msg: Msg) -> None:
        headers = msg.headers or {}
        status = headers.get("Status", "")
        description = headers.get("Description", "") or ""
        if status == "100":
            return  # idle heartbeat
        for index, request in enumerate(self.requests):
            if request[0] == msg.subject:
                del self.requests[index]
                self.owed -= request[1]
                break
        if status in ("404", "408"):
            return  # no messages / request expired: the normal end of an idle request
        # 409 (consumer deleted, too many waiting requests, leadership change...) or 503 (no
        # JetStream answering): back off a moment instead of re-requesting in a tight loop.
        self.paused_until = time.monotonic() + STATUS_COOLDOWN_SECONDS
        text = f"{status} {description}".strip()
        if status == "503" or "Consumer Deleted" in description or "Consumer is push based" in description:
            self.on_lost(text)
        else:
            logger.info("pull request on %s ended with %s", self.api_subject, text)
