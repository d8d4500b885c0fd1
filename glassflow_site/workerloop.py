"""The one shape of a data-plane worker (``runpipeline``, ``runsink``): named steps around a loop.

As in healthchecks' ``sendalerts``, the loop is made of steps a test can call one at a time:

- ``open()``: connect to NATS (unless given a connection), open the buckets, start the config watch;
- ``load_config(timeout)``: apply every configuration change that has arrived (projects/configwatch.py
  calls ``snapshot``/``change``, which end in the worker's ``apply(project_id, document)``);
- ``apply(project_id, document)``: bring this process in line with one project's document
  (``None``: the project is gone); a document that cannot be applied yet is kept in ``unsettled``;
- ``housekeeping()``: flush the counters and, every ``retry_interval``, apply the unsettled
  documents again;
- ``shutdown()``: stop the background tasks, let in-flight work drain, drain the connection.

``start()`` is ``open()`` plus the background tasks (the config watch, housekeeping every
``stats_interval`` and the worker's own ``start_work()``); ``run()`` starts, waits for ``stop``
(set by SIGTERM/SIGINT) and shuts down. A stop while still connecting ends the start attempt.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass, field
from typing import Any

import nats
from nats.aio.client import Client
from prometheus_client import CollectorRegistry, start_http_server

from glassflow_site.supervision import supervise
from projects.configwatch import ConfigWatch, UnreadableDocument, apply_snapshot, configured_bucket
from projects.streams import StreamLimits

logger = logging.getLogger(__name__)


def _setting(name: str) -> Any:
    from django.conf import settings

    return getattr(settings, name)


class WorkerStartError(RuntimeError):
    """The worker cannot start; the message says what to change."""


@dataclass(kw_only=True)
class WorkerLoopSettings:
    """What both workers need; ``from_settings`` reads it from Django settings the same way for both."""

    servers: list[str] = field(default_factory=lambda: ["nats://127.0.0.1:4222"])
    connect_timeout: float = 2.0
    reconnect_wait: float = 2.0
    config_bucket: str = field(default_factory=configured_bucket)
    stats_bucket: str = field(default_factory=lambda: _setting("STATS_BUCKET"))
    replicas: int = 1
    stream_limits: StreamLimits | None = None  # when set, the worker ensures each project's streams
    allow_private_targets: bool = False
    metrics_port: int = 0
    metrics_addr: str = "127.0.0.1"
    stats_interval: float = 2.0  # housekeeping: how often counters are flushed
    retry_interval: float = 5.0  # how often unsettled documents are applied again
    grace_seconds: float = 10.0  # on shutdown, how long in-flight work may finish

    @classmethod
    def from_settings(cls, **values: Any):
        from django.conf import settings

        from projects.configsync import stream_limits

        common = {"servers": list(settings.NATS_SERVERS), "connect_timeout": settings.NATS_CONNECT_TIMEOUT,
                  "config_bucket": settings.CONFIG_BUCKET, "stats_bucket": settings.STATS_BUCKET,
                  "replicas": settings.STREAM_REPLICAS, "stream_limits": stream_limits(),
                  "allow_private_targets": settings.ALLOW_PRIVATE_TARGETS}
        return cls(**{**common, **values})


class WorkerLoop:
    kind = "worker"  # names the connection and the supervised tasks
    js_timeout = 5.0

    def __init__(self, settings: WorkerLoopSettings, nc: Client | None = None):
        self.settings = settings
        self.nc = nc
        self.js = nc.jetstream(timeout=self.js_timeout) if nc is not None else None
        self.stop = asyncio.Event()  # set by SIGTERM/SIGINT: finish the current work, then shut down
        self.ready = asyncio.Event()  # set once the first config snapshot has been applied
        self.unsettled: dict[str, Any] = {}  # documents that could not be applied yet; tried again
        self.config = ConfigWatch(nc, self, bucket=settings.config_bucket, replicas=settings.replicas) \
            if nc is not None else None
        self.metrics_server = None
        self._tasks: list[asyncio.Task] = []
        self._last_retry = 0.0
        # One owner per project while its document is applied: the config watch and the retries of
        # housekeeping run as separate tasks. Locks are kept (a few bytes per project ever seen):
        # dropping one while a task waits on it would let a third task create a second owner.
        self._locks: dict[str, asyncio.Lock] = {}

    # -- steps ---------------------------------------------------------------------------------

    async def open(self) -> None:
        raise NotImplementedError

    async def load_config(self, timeout: float = 0.2) -> bool:
        """Apply every configuration change that has arrived; True if there was any."""
        if self.config is None or not self.config.opened:
            await self.open()
        return await self.config.poll(timeout)

    async def apply(self, project_id: str, document: Any) -> None:
        raise NotImplementedError

    async def housekeeping(self) -> bool:
        """Flush the counters; every ``retry_interval`` apply the unsettled documents again.
        True if there was something to retry."""
        await self.flush_stats()
        now = asyncio.get_running_loop().time()
        if not self.unsettled or now - self._last_retry < self.settings.retry_interval:
            return False
        self._last_retry = now
        await self.retry_unsettled()
        return True

    async def shutdown(self) -> None:
        raise NotImplementedError

    # -- hooks -----------------------------------------------------------------------------------

    async def flush_stats(self) -> None:
        raise NotImplementedError

    async def unreadable(self, project_id: str, document: UnreadableDocument) -> None:
        """A project's document is not JSON."""
        raise NotImplementedError

    def start_work(self) -> None:
        """Start the worker's own long-lived tasks once it is open."""

    def metrics_registry(self) -> CollectorRegistry:
        raise NotImplementedError

    # -- the loop --------------------------------------------------------------------------------

    async def start(self) -> None:
        """Open, then follow the config bucket and keep house in the background."""
        await self.open()
        self._tasks = [supervise(f"{self.kind}-config-watch", lambda: self.config.run(self.stop)),
                       supervise(f"{self.kind}-housekeeping", self._keep_house)]
        self.start_work()

    async def run(self) -> None:
        """Start, work until ``stop`` is set, then shut down gracefully."""
        starting = asyncio.create_task(self.start())
        stopped = asyncio.create_task(self.stop.wait())
        await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
            if self.nc is not None and not self.nc.is_closed:
                await self.nc.close()
            logger.info("%s worker stopped before it could start", self.kind)
            return
        stopped.cancel()
        starting.result()  # a failed start raises here
        try:
            await self.stop.wait()
        finally:
            await self.shutdown()

    async def _keep_house(self) -> None:
        while True:
            await asyncio.sleep(self.settings.stats_interval)
            await self.housekeeping()

    async def stop_tasks(self) -> None:
        """Cancel the config watch and housekeeping tasks (the first thing ``shutdown`` does)."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self.config is not None:
            await self.config.close()

    # -- shared pieces ---------------------------------------------------------------------------

    async def connect(self, name: str) -> None:
        """Connect to NATS (retrying for ever) unless a connection was given, and start the config watch."""
        s = self.settings
        if self.nc is None:
            self.nc = await nats.connect(s.servers, name=name, connect_timeout=s.connect_timeout,
                                         reconnect_time_wait=s.reconnect_wait, max_reconnect_attempts=-1,
                                         reconnected_cb=self._reconnected, disconnected_cb=self._disconnected,
                                         error_cb=self._error,
                                         # Subjects we publish to are built by us (acks reuse the server's
                                         # reply subject); validating each of them costs ~10 % of a record.
                                         skip_subject_validation=True)
            self.js = self.nc.jetstream(timeout=self.js_timeout)
        if self.config is None:
            self.config = ConfigWatch(self.nc, self, bucket=s.config_bucket, replicas=s.replicas)

    def serve_metrics(self) -> None:
        s = self.settings
        if not s.metrics_port:
            return
        try:
            self.metrics_server, _ = start_http_server(s.metrics_port, addr=s.metrics_addr,
                                                       registry=self.metrics_registry())
        except OSError as exc:
            raise WorkerStartError(f"cannot serve metrics on {s.metrics_addr}:{s.metrics_port} ({exc}); "
                                   "choose another --metrics-port, or 0 to turn metrics off") from None

    def stop_metrics(self) -> None:
        if self.metrics_server is not None:
            self.metrics_server.shutdown()
            self.metrics_server = None

    async def drain(self) -> None:
        """Drain the connection (pending publishes finish first); close it when draining fails."""
        if self.nc is None or self.nc.is_closed:
            return
        try:
            await self.nc.drain()
        except Exception:  # noqa: BLE001 -- shutting down anyway
            await self.nc.close()

    async def snapshot(self, documents: dict[str, Any], gone: set[str]) -> None:
        """The config watch's first pass: apply every document, forget the projects that are gone."""
        await apply_snapshot(self.change, documents, gone)
        self.ready.set()

    async def change(self, project_id: str, document: Any) -> None:
        """One project's document from the config watch (None: the project is gone)."""
        if isinstance(document, UnreadableDocument):
            await self.unreadable(project_id, document)
            return
        try:
            await self.apply_locked(project_id, document)
        except Exception:  # noqa: BLE001 -- one project's trouble must not stop the others
            logger.exception("applying the configuration of project %s failed; retrying later", project_id)
            if document is not None:
                self.unsettled[project_id] = document

    async def apply_locked(self, project_id: str, document: Any) -> None:
        """``apply`` with the project's lock held, so two tasks never apply one project at once."""
        async with self._locks.setdefault(project_id, asyncio.Lock()):
            await self.apply(project_id, document)

    async def retry_unsettled(self) -> None:
        """Apply again the documents that could not be applied."""
        for project_id, document in list(self.unsettled.items()):
            if self.unsettled.get(project_id) is not document:
                continue  # applied (or replaced by a newer document) meanwhile
            try:
                await self.apply_locked(project_id, document)
            except Exception as exc:  # noqa: BLE001
                logger.warning("project %s: configuration still cannot be applied: %s", project_id, exc)
                self.unsettled.setdefault(project_id, document)

    async def on_reconnected(self) -> None:
        """Hook: NATS reconnected."""

    async def _reconnected(self) -> None:
        logger.info("reconnected to NATS at %s", self.nc.connected_url.netloc if self.nc.connected_url else "?")
        await self.on_reconnected()

    async def _disconnected(self) -> None:
        if not self.stop.is_set():
            logger.warning("disconnected from NATS; reconnecting")

    async def _error(self, exc: Exception) -> None:
        logger.warning("NATS error: %s", exc)


def run_from_command(worker: WorkerLoop) -> None:
    """What ``runpipeline`` and ``runsink`` do once they built their worker: run it until SIGTERM or
    SIGINT sets ``stop``; a WorkerStartError becomes the command's error message."""
    from django.core.management.base import CommandError

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, worker.stop.set)
        await worker.run()

    try:
        asyncio.run(main())
    except WorkerStartError as exc:
        raise CommandError(str(exc)) from None
