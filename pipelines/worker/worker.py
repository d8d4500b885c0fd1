"""The pipeline worker process: follow the config bucket, run one PipelineRunner per active project.

Configuration arrives only through the KV watch on the config bucket (projects/configwatch.py;
key = project id, deleted projects are purged), so pipelines start, stop and change within
moments of a save and no restart is ever needed. A document that cannot run (bad expression,
bad setting) is logged, reported in the stats bucket, and leaves that pipeline stopped; it
never takes the process down. The loop and its named steps are glassflow_site/workerloop.py,
shared with the sink worker.

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

from prometheus_client import CollectorRegistry

from glassflow_site.supervision import SupervisionCollector
from glassflow_site.workerloop import WorkerLoop, WorkerLoopSettings
from pipelines.stages.config import ConfigError, parse_pipeline
from pipelines.stages.records import compile_pipeline
from pipelines.worker.agentclient import AgentClient
from pipelines.worker.counters import StatsBook, StatsCollector, safe_worker_id
from pipelines.worker.runner import PipelineRunner
from projects.configwatch import UnreadableDocument, document_version
from projects.natsops import ensure_streams, stats_bucket
from projects.streams import StreamLimits
from runs.recorder import RunHistory, RunHistorySettings

logger = logging.getLogger(__name__)


@dataclass(kw_only=True)
class PipelineWorkerSettings(WorkerLoopSettings):
    stream_limits: StreamLimits | None = field(default_factory=StreamLimits)
    run_history: RunHistorySettings = field(default_factory=RunHistorySettings)
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")
    # HTTP/1.1 carries one request per connection at a time, so this bounds the batches in flight
    # to agents over all projects of the process (each project's max_concurrency bounds its own).
    max_connections: int = 4096


class PipelineWorker(WorkerLoop):
    kind = "pipeline"

    def __init__(self, settings: PipelineWorkerSettings, nc=None):
        super().__init__(settings, nc)
        self.settings: PipelineWorkerSettings = settings
        self.worker_id = safe_worker_id(settings.worker_id)
        self.stats = StatsBook(self.worker_id)
        self.runners: dict[str, PipelineRunner] = {}
        self.versions: dict[str, int] = {}
        self.agent: AgentClient | None = None
        self.runs: RunHistory | None = None

    async def open(self) -> None:
        s = self.settings
        await self.connect(f"glassflow-pipeline-{self.worker_id}")
        self.agent = AgentClient(allow_private=s.allow_private_targets, max_connections=s.max_connections,
                                 max_keepalive=s.max_connections)
        self.runs = RunHistory(self.nc, s.run_history)
        self.runs.start()
        await self.stats.attach(await stats_bucket(self.js, s.stats_bucket, s.replicas))
        try:
            self.serve_metrics()
        except Exception:
            await self.nc.close()
            raise
        await self.config.open()
        logger.info("pipeline worker %s started (NATS %s, metrics %s)", self.worker_id, ", ".join(s.servers),
                    f"port {s.metrics_port}" if s.metrics_port else "off")

    def metrics_registry(self) -> CollectorRegistry:
        registry = CollectorRegistry()
        registry.register(StatsCollector(self.stats))
        registry.register(SupervisionCollector())
        return registry

    async def flush_stats(self) -> None:
        await self.stats.publish()

    async def shutdown(self) -> None:
        logger.info("pipeline worker %s stopping: releasing %d pipeline(s)", self.worker_id, len(self.runners))
        self.stop.set()
        await self.stop_tasks()
        await asyncio.gather(*(runner.stop() for runner in self.runners.values()), return_exceptions=True)
        for project_id in self.runners:
            self.stats.projects[project_id].state = "stopped"
        self.runners.clear()
        await self.flush_stats()
        if self.runs:
            await self.runs.close()
        if self.agent:
            await self.agent.close()
        self.stop_metrics()
        await self.drain()
        logger.info("pipeline worker %s stopped", self.worker_id)

    async def unreadable(self, project_id: str, document: UnreadableDocument) -> None:
        logger.error("configuration of project %s is not JSON; its pipeline stays stopped", project_id)
        await self._set_state(project_id, "error", "configuration document is not JSON")
        await self._stop_runner(project_id)

    async def _unless_config_error(self, project_id: str, step, value):
        """``step(value)`` (parsing or compiling); on a ConfigError the pipeline is stopped, the error
        reported in the stats bucket, and None returned."""
        try:
            return step(value)
        except ConfigError as exc:
            logger.error("%s; the pipeline stays stopped", exc)
            await self._stop_runner(project_id)
            await self._set_state(project_id, "error", str(exc))
            return None

    async def apply(self, project_id: str, document: dict | None) -> None:
        """Bring this process in line with one project's document (None: the project is gone).
        Called with the project's lock held (``WorkerLoop.apply_locked``)."""
        pending = self.unsettled.get(project_id)
        if pending is not None and (document is None or document_version(pending) <= document_version(document)):
            del self.unsettled[project_id]
        if document is None:
            await self._stop_runner(project_id)
            self.versions.pop(project_id, None)
            self.stats.forget(project_id)
            logger.info("project %s was deleted; its pipeline is stopped", project_id)
            return
        config = await self._unless_config_error(project_id, parse_pipeline, document)
        if config is None:
            return
        if config.version < self.versions.get(project_id, 0):
            return  # an older document replayed by the watch after a newer one was applied
        self.versions[project_id] = config.version
        if not config.active:
            if await self._stop_runner(project_id):
                logger.info("project %s: pipeline disabled (version %d)", project_id, config.version)
            await self._set_state(project_id, "stopped", "")
            return
        compiled = await self._unless_config_error(project_id, compile_pipeline, config)
        if compiled is None:
            return
        runner = self.runners.get(project_id)
        if runner is not None:
            await runner.reconfigure(compiled)
            logger.info("project %s: pipeline reconfigured (version %d)", project_id, config.version)
            return
        if self.settings.stream_limits is not None:
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

    async def on_reconnected(self) -> None:
        for runner in self.runners.values():
            runner.on_reconnected()
