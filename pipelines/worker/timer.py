"""The batch timer of a runner: wakes when the open batch reaches its max wait (or at least every
second, or when woken), hands a due batch over, then lets the runner do its periodic work
(re-requesting after lost pull requests, recovering a lost consumer)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pipelines.stages.batching import Batcher

TICK_SECONDS = 1.0


async def run_batch_timer(batcher: Batcher, wake: asyncio.Event, stopping: asyncio.Event,
                          on_due: Callable[[list[Any]], None], on_tick: Callable[[], Awaitable[None]]) -> None:
    while not stopping.is_set():
        deadline = batcher.deadline
        timeout = TICK_SECONDS if deadline is None else max(0.0, deadline - time.monotonic())
        wake.clear()
        try:
            await asyncio.wait_for(wake.wait(), min(timeout, TICK_SECONDS))
        except TimeoutError:
            pass
        if stopping.is_set():
            return
        due = batcher.take_if_due(time.monotonic())
        if due:
            on_due(due)
        await on_tick()
