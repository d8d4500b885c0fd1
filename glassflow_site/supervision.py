"""No background task dies unnoticed: one supervision rule for the receiver and the workers.

A long-lived task (a batch timer, a heartbeat loop, a config watch) is started with
``supervise(kind, factory)``: if it raises, the error is logged with its traceback,
``glassflow_task_restarts_total{task=kind}`` is incremented, and the task is started
again after a short backoff (1 s, doubling to 30 s, back to 1 s once it ran a minute).
It ends only when its coroutine returns or it is cancelled. Short-lived tasks (one
delivery, one dead-letter write) settle their own messages; ``report_failure`` is their
done-callback, so an exception that escapes them is at least logged and counted.

Before this, a timer that died (``nc.publish`` raising while the reconnect buffer was
full during a NATS outage) left a project that never pulled again until a restart.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable

from prometheus_client.core import CounterMetricFamily

logger = logging.getLogger(__name__)

FIRST_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 30.0
HEALTHY_AFTER_SECONDS = 60.0

# Per process: task kind -> failures. Read by SupervisionCollector for /metrics.
FAILURES: Counter[str] = Counter()


def supervise(kind: str, factory: Callable[[], Awaitable[None]], *, name: str | None = None,
              first_delay: float = FIRST_DELAY_SECONDS,
              on_failure: Callable[[str], None] | None = None) -> asyncio.Task:
    """Run ``factory()`` as a task that is restarted whenever it raises; ``kind`` labels the metric.

    ``on_failure(kind)`` is for processes that count in a registry of their own (the receiver's
    multiprocess metrics) instead of through SupervisionCollector.
    """
    return asyncio.create_task(_keep_running(kind, name or kind, factory, first_delay, on_failure),
                               name=name or kind)


async def _keep_running(kind: str, name: str, factory: Callable[[], Awaitable[None]], first_delay: float,
                        on_failure: Callable[[str], None] | None) -> None:
    delay = first_delay
    while True:
        started = time.monotonic()
        try:
            await factory()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            FAILURES[kind] += 1
            if on_failure is not None:
                on_failure(kind)
            if time.monotonic() - started >= HEALTHY_AFTER_SECONDS:
                delay = first_delay
            logger.error("background task %s failed; restarting it in %.0f s", name, delay, exc_info=True)
        await asyncio.sleep(delay)
        delay = min(MAX_DELAY_SECONDS, delay * 2)


def report_failure(kind: str) -> Callable[[asyncio.Task], None]:
    """A done-callback for short-lived tasks: log and count an exception that escaped them."""
    def callback(task: asyncio.Task) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            FAILURES[kind] += 1
            logger.error("task %s failed", task.get_name(), exc_info=exc)
    return callback


class SupervisionCollector:
    """``glassflow_task_restarts_total{task}``: background task failures in this process."""

    def collect(self):
        family = CounterMetricFamily("glassflow_task_restarts", "Background tasks that failed and were restarted "
                                     "(or, for short-lived tasks, failed), by kind of task", labels=["task"])
        for kind, count in sorted(FAILURES.items()):
            family.add_metric([kind], count)
        yield family
