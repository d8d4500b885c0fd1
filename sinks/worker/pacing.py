"""Pacing sink deliveries to a target's documented rate (Slack: about one message a second per webhook).

One ``RateLimiter`` per target URL in this process, so two sinks posting to the same Slack
webhook share its budget. The wait happens before a message's delivery while the consumer
keeps its messages in progress: messages wait in the stream, nothing is dropped, and the
target never sees the burst that would answer 429. The spacing counts from the end of the
previous delivery (its retries included), not from its start: the target sees the gap between
arrivals, and a slow first answer (a new connection) must not squeeze the next message in early.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

from pipelines.stages.ratelimit import RateLimiter
from sinks.kinds.base import SinkKind


class Pacer:
    def __init__(self) -> None:
        self.limiters: dict[str, RateLimiter] = {}

    def limiter_for(self, kind: type[SinkKind], config: dict) -> RateLimiter | None:
        per_minute = config.get("max_per_minute", kind.default_max_per_minute)
        if not isinstance(per_minute, int) or isinstance(per_minute, bool) or per_minute < 1:
            return None
        key = kind.target_of(config)  # the kind knows which of its keys is the address
        limiter = self.limiters.get(key)
        if limiter is None or limiter.spacing != 60.0 / per_minute:
            limiter = self.limiters[key] = RateLimiter(per_minute)
        return limiter

    async def wait_turn(self, kind: type[SinkKind], config: dict, stop: asyncio.Event) -> float:
        """Wait until the target may get the next message; the seconds waited (0 when not limited).
        Returns early when ``stop`` is set (the caller then hands the message back)."""
        limiter = self.limiter_for(kind, config)
        if limiter is None:
            return 0.0
        started = time.monotonic()
        wait = limiter.wait(started)
        await _sleep_unless_stopped(stop, wait)
        return time.monotonic() - started

    async def reserve_turn(self, kind: type[SinkKind], config: dict, stop: asyncio.Event) -> float:
        """For concurrent deliveries: take the next free slot at once, then wait for it. Several
        outputs of one sink wait at the same time, so each must claim its own slot (spaced from the
        previous start, not end); the seconds waited, as ``wait_turn``."""
        limiter = self.limiter_for(kind, config)
        if limiter is None:
            return 0.0
        started = time.monotonic()
        wait = limiter.wait(started)
        limiter.take(started)
        await _sleep_unless_stopped(stop, wait)
        return time.monotonic() - started

    def done(self, kind: type[SinkKind], config: dict) -> None:
        """The delivery (with its retries) ended: the next message waits a full spacing from now."""
        limiter = self.limiter_for(kind, config)
        if limiter is not None:
            limiter.take(time.monotonic())


class RoundTrips:
    """Recent delivery round-trip times of one sink, for p50/p99 in its stats key."""

    def __init__(self, size: int = 256):
        self.samples: deque[float] = deque(maxlen=size)

    def add(self, seconds: float) -> None:
        self.samples.append(seconds)

    def percentiles_ms(self) -> tuple[float | None, float | None]:
        if not self.samples:
            return None, None
        ordered = sorted(self.samples)
        last = len(ordered) - 1
        return round(ordered[round(0.5 * last)] * 1000, 1), round(ordered[round(0.99 * last)] * 1000, 1)


async def _sleep_unless_stopped(stop: asyncio.Event, seconds: float) -> None:
    if seconds > 0:
        try:
            await asyncio.wait_for(stop.wait(), seconds)
        except TimeoutError:
            pass
