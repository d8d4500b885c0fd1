"""The receiver's long-lived state: the NATS connection and the tasks that live beside requests.

Started by the ASGI lifespan. The connection is made in the background and retried forever
(``max_reconnect_attempts=-1``) with every configured server URL, so the HTTP side comes up
at once: ``/healthz`` answers, ``/readyz`` says 503 and ingest answers 503 + Retry-After
until NATS is reachable and the project configuration is loaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from glassflow_site.supervision import supervise
from projects.configwatch import ConfigWatch

from .keyindex import KeyIndex
from .keyuse_writer import KeyUsageRecorder
from .metrics import ReceiverMetrics
from .publisher import AckClient, AckPublisher
from .receiver_config import ReceiverConfig

logger = logging.getLogger(__name__)

_ERROR_LOG_EVERY = 10.0  # seconds between repeated connection-error log lines
_STOP_GRACE = 5.0


class Runtime:
    def __init__(self, config: ReceiverConfig) -> None:
        self.config = config
        self.nc = AckClient()
        self.index = KeyIndex()
        self.metrics = ReceiverMetrics()
        self.publisher = AckPublisher(self.nc)
        self.keyuse = KeyUsageRecorder(self.nc, config.keyuse_bucket, config.replicas, config.keyuse_interval)
        self.watcher = ConfigWatch(self.nc, self.index, bucket=config.config_bucket, replicas=config.replicas,
                                   check_interval=config.config_check_interval)
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._connect_task: asyncio.Task | None = None
        self._publisher_ready = False
        self._last_error_log = 0.0

    @property
    def ready(self) -> bool:
        return self._publisher_ready and self.nc.is_connected and self.index.loaded

    @property
    def connected(self) -> bool:
        return self._publisher_ready and self.nc.is_connected

    async def start(self) -> None:
        self._connect_task = self._spawn(self._connect_and_run(), "receiver-nats")

    async def _connect_and_run(self) -> None:
        config = self.config
        await self.nc.connect(
            servers=config.nats_servers,
            name="glassflow-receiver",
            connect_timeout=config.connect_timeout,
            reconnect_time_wait=config.reconnect_wait,
            max_reconnect_attempts=-1,
            allow_reconnect=True,
            # Our subjects are built from UUIDs and fixed words; validating each of them on
            # every publish is pure cost on the hot path.
            skip_subject_validation=True,
            error_cb=self._on_error,
            disconnected_cb=self._on_disconnected,
            reconnected_cb=self._on_reconnected,
        )
        logger.info("connected to NATS at %s", self.nc.connected_url.netloc if self.nc.connected_url else "?")
        await self.publisher.start()
        self._publisher_ready = True
        self.metrics.nats_connected.set(1)
        # Restarted if they fail (glassflow_site.supervision): a dead config watch would leave
        # the receiver with stale keys, a dead key-use recorder would stop last-used times.
        count = self.metrics.task_restarts.labels
        for kind, run in (("receiver-config-watch", self.watcher.run), ("receiver-keyuse", self.keyuse.run)):
            self._tasks.append(supervise(kind, lambda run=run: run(self._stop),
                                         on_failure=lambda kind: count(kind).inc()))

    def _spawn(self, coroutine, name: str) -> asyncio.Task:
        task = asyncio.create_task(coroutine, name=name)
        task.add_done_callback(_log_failure)
        task.add_done_callback(lambda done: self._count_failure(name, done))
        return task

    def _count_failure(self, name: str, task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.metrics.task_restarts.labels(name).inc()

    async def _on_error(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._last_error_log >= _ERROR_LOG_EVERY:
            self._last_error_log = now
            logger.warning("NATS connection error: %s", exc or type(exc).__name__)

    async def _on_disconnected(self) -> None:
        self.metrics.nats_connected.set(0)
        if self._stop.is_set():
            return  # our own drain at shutdown
        logger.warning("disconnected from NATS; reconnecting (ingest answers 503 meanwhile)")

    async def _on_reconnected(self) -> None:
        self.metrics.nats_connected.set(1)
        logger.info("reconnected to NATS")
        self.watcher.restart()

    async def stop(self) -> None:
        """Stop the background tasks, then drain the connection (pending acks and writes finish first)."""
        self._stop.set()
        if self._connect_task is not None and not self._connect_task.done():
            # Still looking for a server: nothing was accepted, so there is nothing to finish.
            self._connect_task.cancel()
            await asyncio.gather(self._connect_task, return_exceptions=True)
        tasks = [task for task in self._tasks if not task.done()]
        if tasks:
            _, still_running = await asyncio.wait(tasks, timeout=_STOP_GRACE)
            for task in still_running:
                task.cancel()
            await asyncio.gather(*still_running, return_exceptions=True)
        if self.nc.is_connected:
            try:
                await self.nc.drain()
                return
            except Exception as exc:
                logger.warning("draining the NATS connection failed: %s", exc)
        with contextlib.suppress(Exception):
            await self.nc.close()


def _log_failure(task: asyncio.Task) -> None:
    # The connect task is not restarted (the client keeps reconnecting by itself); if it fails
    # the receiver stays unready (/readyz 503), and this says why.
    if not task.cancelled() and task.exception() is not None:
        logger.error("receiver task %s failed", task.get_name(), exc_info=task.exception())
