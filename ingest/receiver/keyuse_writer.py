"""Tell the control plane when each key was last used, without touching the database.

``record()`` is called on the request path and only notes the time in memory (at most once
per ``interval`` per key); a background task writes ``prefix -> RFC 3339 UTC time`` to the
``gf-ai-keyuse`` KV bucket. Failures are logged and the note is kept for the next attempt:
a lost "last used" time is not worth failing or slowing a request for.
"""

from __future__ import annotations

import asyncio
import logging
import time

from nats.aio.client import Client
from nats.js.kv import KeyValue

from glassflow_site.timestamps import now_rfc3339
from projects import natsops

logger = logging.getLogger(__name__)

_RETRY_SECONDS = 2.0


class KeyUsageRecorder:
    def __init__(self, nc: Client, bucket: str, replicas: int, interval: float = 60.0) -> None:
        self._nc = nc
        self._bucket = bucket
        self._replicas = replicas
        self._interval = interval
        self._noted: dict[str, float] = {}  # prefix -> monotonic time of the last note
        self._pending: dict[str, str] = {}  # prefix -> timestamp still to be written
        self._wake = asyncio.Event()

    def record(self, prefix: str) -> None:
        """Note that a key was used now; O(1) and never raises."""
        now = time.monotonic()
        last = self._noted.get(prefix)
        if last is not None and now - last < self._interval:
            return
        self._noted[prefix] = now
        self._pending[prefix] = now_rfc3339(timespec="seconds")
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        kv: KeyValue | None = None
        while not stop.is_set():
            if not self._pending:
                self._wake.clear()
                waiter = asyncio.ensure_future(self._wake.wait())
                stopper = asyncio.ensure_future(stop.wait())
                await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                stopper.cancel()
                continue
            try:
                kv = kv or await self._open_bucket()
                await self._write_pending(kv)
            except Exception as exc:
                kv = None  # the bucket may have been deleted: look it up (or create it) again
                logger.warning("could not record key usage in %s (%s); will retry", self._bucket, exc)
                try:
                    await asyncio.wait_for(stop.wait(), _RETRY_SECONDS)
                except TimeoutError:
                    pass
        self._forget_old()

    async def _open_bucket(self) -> KeyValue:
        return await natsops.open_bucket(self._nc.jetstream(), self._bucket, replicas=self._replicas,
                                 description="GlassFlow API key last-used times, written by the receiver")

    async def _write_pending(self, kv: KeyValue) -> None:
        while self._pending:
            prefix, stamp = next(iter(self._pending.items()))
            await kv.put(prefix, stamp.encode())
            # Only drop it if no newer note arrived while we were writing.
            if self._pending.get(prefix) == stamp:
                del self._pending[prefix]
        self._forget_old()

    def _forget_old(self) -> None:
        # Keeps memory proportional to the keys used in the last interval, not all keys ever seen.
        cutoff = time.monotonic() - self._interval
        for prefix in [p for p, at in self._noted.items() if at < cutoff]:
            del self._noted[prefix]
