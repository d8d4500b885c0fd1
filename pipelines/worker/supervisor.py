"""The pipeline worker process: follow the config bucket, run one PipelineRunner per active project.

Configuration arrives only through the KV watch on ``gf-ai-config`` (key = project
id, deleted projects are purged), so pipelines start, stop and change within moments
of a save and no restart is ever needed. A document that cannot run (bad expression,
bad setting) is logged, reported in the stats bucket, and leaves that pipeline
stopped; it never takes the process down.

One project's configuration is applied by one task at a time (a lock per project): the
config watch and the housekeeping retry may both hold a document for the same project,
and two concurrent applies would each start a runner and leak one of them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from dataclasses import dataclass, field

import nats
from prometheus_client import CollectorRegistry, start_http_server

from glassflow_site.supervision import SupervisionCollector, supervise
from pipelines.stages.config import ConfigError, parse_pipeline
from pipelines.stages.records import compile_pipeline
from pipelines.worker.agent import AgentClient
from pipelines.worker.counters import STATS_BUCKET, StatsBook, StatsCollector, safe_worker_id
from pipelines.worker.runner import PipelineRunner
from projects.configwatch import (
    ConfigWatch,
    UnreadableDocument,
    apply_snapshot,
    configured_bucket,
    document_version,
)
from projects.natsops import ensure_streams, stats_bucket
from projects.streams import StreamLimits
from runs.recorder import RunHistory, RunHistorySettings

logger = logging.getLogger(__name__)

STATS_INTERVAL_SECONDS = 2.0
RETRY_INTERVAL_SECONDS = 5.0


class WorkerStartError(RuntimeError):
    """The worker cannot start; the message says what to change."""


@dataclass
class WorkerSettings:
    servers: list[str]
    config_bucket: str = field(default_factory=configured_bucket)
    stats_bucket: str = STATS_BUCKET
    replicas: int = 1
    stream_limits: StreamLimits = field(default_factory=StreamLimits)
    run_history: RunHistorySettings = field(default_factory=RunHistorySettings)
    allow_private_targets: bool = False
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")
    metrics_port: int = 0
    metrics_addr: str = "127.0.0.1"
    grace_seconds: float = 10.0
    # HTTP/1.1 carries one request per connection at a time, so this bounds the batches in flight
    # to agents over all projects of the process (each project's max_concurrency bounds its own).
    max_connections: int = 4096
    connect_timeout: float = 2.0


class Worker:
    def __init__(self, settings: WorkerSettings):
        self.settings = settings
        self.worker_id = safe_worker_id(settings.worker_id)
        self.stats = StatsBook(self.worker_id)
        self.runners: dict[str, PipelineRunner] = {}
        self.versions: dict[str, int] = {}
        self.retry: dict[str, dict] = {}  # documents whose runner could not start; tried again
        self.locks: dict[str, asyncio.Lock] = {}  # one owner per project while applying its document
        self.ready = asyncio.Event()  # set once the initial config snapshot has been applied
        self.nc = None
        self.js = None
        self.agent: AgentClient | None = None
        self.runs: RunHistory | None = None
        self.metrics_server = None
        self._tasks: list[asyncio.Task] = []
        self.config: ConfigWatch | None = None

    async def start(self) -> None:
        s = self.settings
        self.nc = await nats.connect(s.servers, name=f"glassflow-pipeline-{self.worker_id}",
                                     connect_timeout=s.connect_timeout, max_reconnect_attempts=-1,
                                     reconnected_cb=self._reconnected, disconnected_cb=self._disconnected,
                                     error_cb=self._error,
                                     # Subjects we publish to are built by us (acks reuse the server's
                                     # reply subject); validating each of ~3 per record costs ~10 %.
                                     skip_subject_validation=True)
        self.js = self.nc.jetstream()
        self.agent = AgentClient(allow_private=s.allow_private_targets, max_connections=s.max_connections,
                                 max_keepalive=s.max_connections)
        self.runs = RunHistory(self.nc, s.run_history)
        self.runs.start()
        await self.stats.attach(await stats_bucket(self.js, s.stats_bucket, s.replicas))
        if s.metrics_port:
            registry = CollectorRegistry()
            registry.register(StatsCollector(self.stats))
            registry.register(SupervisionCollector())
            try:
                self.metrics_server, _ = start_http_server(s.metrics_port, addr=s.metrics_addr, registry=registry)
            except OSError as exc:
                await self.nc.close()
                raise WorkerStartError(f"cannot serve metrics on {s.metrics_addr}:{s.metrics_port} ({exc}); "
                                       "choose another --metrics-port, or 0 to turn metrics off") from None
        self.config = ConfigWatch(self.nc, self, bucket=s.config_bucket, replicas=s.replicas)
        await self.config.open()
        forever = asyncio.Event()  # the tasks are cancelled by close()
        self._tasks = [supervise("pipeline-config-watch", lambda: self.config.run(forever)),
                       supervise("pipeline-housekeeping", self._housekeeping)]
        logger.info("pipeline worker %s started (NATS %s, metrics %s)", self.worker_id, ", ".join(s.servers),
                    f"port {s.metrics_port}" if s.metrics_port else "off")

    async def run(self, stop: asyncio.Event) -> None:
        """Start, work until ``stop`` is set, then shut down gracefully.

        A stop while still connecting (NATS unreachable: the client keeps retrying) ends the
        start attempt instead of waiting for NATS forever.
        """
        starting = asyncio.create_task(self.start())
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
            if self.nc is not None and not self.nc.is_closed:
                await self.nc.close()
            logger.info("pipeline worker %s stopped before it could start", self.worker_id)
            return
        stopped.cancel()
        starting.result()  # a failed start raises here
        try:
            await stop.wait()
        finally:
            await self.close()

    async def close(self) -> None:
        logger.info("pipeline worker %s stopping: releasing %d pipeline(s)", self.worker_id, len(self.runners))
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.config is not None:
            await self.config.close()
        await asyncio.gather(*(runner.stop() for runner in self.runners.values()), return_exceptions=True)
        for project_id in self.runners:
            self.stats.projects[project_id].state = "stopped"
        self.runners.clear()
        await self.stats.publish()
        if self.runs:
            await self.runs.close()
        if self.agent:
            await self.agent.close()
        if self.metrics_server is not None:
            self.metrics_server.shutdown()
        if self.nc is not None and not self.nc.is_closed:
            try:
                await self.nc.drain()
            except Exception:  # noqa: BLE001
                await self.nc.close()
        logger.info("pipeline worker %s stopped", self.worker_id)

    async def snapshot(self, documents: dict, gone: set[str]) -> None:
        """The config watch's first pass: apply every document, forget the projects that are gone."""
        await apply_snapshot(self.change, documents, gone)
        self.ready.set()

    async def change(self, project_id: str, document) -> None:
        """One project's document from the config watch (None: the project is gone)."""
        if isinstance(document, UnreadableDocument):
            logger.error("configuration of project %s is not JSON; its pipeline stays stopped", project_id)
            await self._set_state(project_id, "error", "configuration document is not JSON")
            await self._stop_runner(project_id)
            return
        try:
            await self.apply_document(project_id, document)
        except Exception:  # noqa: BLE001 -- one project's trouble must not stop the others
            logger.exception("applying the configuration of project %s failed; retrying later", project_id)
            if document is not None:
                self.retry[project_id] = document

    async def apply_document(self, project_id: str, document: dict | None) -> None:
        """Bring this process in line with one project's document (None: the project is gone)."""
        # Locks are kept (a few bytes per project ever seen): dropping one while a task waits on
        # it would let a third task create a second lock, and a second owner.
        async with self.locks.setdefault(project_id, asyncio.Lock()):
            await self._apply_document(project_id, document)

    async def _apply_document(self, project_id: str, document: dict | None) -> None:
        pending = self.retry.get(project_id)
        if pending is not None and (document is None or document_version(pending) <= document_version(document)):
            del self.retry[project_id]
        if document is None:
            await self._stop_runner(project_id)
            self.versions.pop(project_id, None)
            self.stats.forget(project_id)
            logger.info("project %s was deleted; its pipeline is stopped", project_id)
            return
        try:
            config = parse_pipeline(document)
        except ConfigError as exc:
            logger.error("%s; the pipeline stays stopped", exc)
            await self._stop_runner(project_id)
            await self._set_state(project_id, "error", str(exc))
            return
        if config.version < self.versions.get(project_id, 0):
            return  # an older document replayed by the watch after a newer one was applied
        self.versions[project_id] = config.version
        if not config.active:
            if await self._stop_runner(project_id):
                logger.info("project %s: pipeline disabled (version %d)", project_id, config.version)
            await self._set_state(project_id, "stopped", "")
            return
        try:
            compiled = compile_pipeline(config)
        except ConfigError as exc:
            logger.error("%s", exc)
            await self._stop_runner(project_id)
            await self._set_state(project_id, "error", str(exc))
            return
        runner = self.runners.get(project_id)
        if runner is not None:
            await runner.reconfigure(compiled)
            logger.info("project %s: pipeline reconfigured (version %d)", project_id, config.version)
            return
        await ensure_streams(self.js, project_id, self.settings.stream_limits)
        stats = await self.stats.for_project(project_id)
        runner = PipelineRunner(self.nc, self.js, compiled, self.agent, stats,
                                grace_seconds=self.settings.grace_seconds, runs=self.runs)
        try:
            await runner.start()
        except BaseException:
            # Started half-way (consumer, subscription, timer): undo it, or it would keep
            # delivering with this version's settings beside the next attempt's runner.
            await runner.stop()
            raise
        self.runners[project_id] = runner
        logger.info("project %s: pipeline started (version %d, signals %s, batch %d / %d ms)", project_id,
                    config.version, ",".join(config.signals), config.batch_size, config.batch_max_wait_ms)

    async def _stop_runner(self, project_id: str) -> bool:
        runner = self.runners.get(project_id)
        if runner is None:
            return False
        await runner.stop()
        self.runners.pop(project_id, None)
        return True

    async def _set_state(self, project_id: str, state: str, error: str) -> None:
        if state == "stopped" and project_id not in self.stats.projects:
            return  # never ran here: no key in the stats bucket for projects without a pipeline
        stats = await self.stats.for_project(project_id)
        stats.state, stats.error = state, error

    async def _housekeeping(self) -> None:
        """Publish counters every couple of seconds and retry pipelines that failed to start."""
        since_retry = 0.0
        while True:
            await asyncio.sleep(STATS_INTERVAL_SECONDS)
            await self.stats.publish()
            since_retry += STATS_INTERVAL_SECONDS
            if self.retry and since_retry >= RETRY_INTERVAL_SECONDS:
                since_retry = 0.0
                await self.retry_pending()

    async def retry_pending(self) -> None:
        """Try again to apply the documents whose pipeline could not start."""
        for project_id, document in list(self.retry.items()):
            if self.retry.get(project_id) is not document:
                continue  # applied (or replaced by a newer document) meanwhile
            try:
                await self.apply_document(project_id, document)
            except Exception as exc:  # noqa: BLE001
                logger.warning("project %s: pipeline still cannot start: %s", project_id, exc)
                self.retry.setdefault(project_id, document)

    async def _reconnected(self) -> None:
        logger.info("reconnected to NATS at %s", self.nc.connected_url.netloc if self.nc.connected_url else "?")
        for runner in self.runners.values():
            runner.on_reconnected()

    async def _disconnected(self) -> None:
        logger.warning("disconnected from NATS; reconnecting")

    async def _error(self, exc: Exception) -> None:
        logger.warning("NATS error: %s", exc)

