"""The sink worker process: follows the ``gf-ai-config`` KV bucket and runs one consumer per enabled sink.

Consumers are created, updated and removed live as the control plane publishes project
documents; several runsink processes may run the same consumers (JetStream shares the work).
SIGTERM sets ``stop``: consumers stop fetching, a delivery attempt in flight finishes, a
message waiting for its next retry is handed back (nak), counters are flushed and the
connection is drained. ``load_config`` + ``process_batch`` are one iteration for tests; the
loop and its named steps are glassflow_site/workerloop.py, shared with the pipeline worker.
A consumer is deleted only when ``consumer_is_dead`` says no document, however new, can
want it again, so processes acting on different versions never undo each other's work.
Long-lived tasks are supervised (glassflow_site.supervision).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

import nats.errors
from nats.aio.client import Client
from nats.js.errors import NotFoundError as JsNotFoundError
from nats.js.kv import KeyValue
from prometheus_client import REGISTRY, CollectorRegistry

from glassflow_site.supervision import SupervisionCollector, supervise
from glassflow_site.workerloop import WorkerLoop, WorkerLoopSettings
from outbound import Outbound
from projects import natsops
from projects.configwatch import UnreadableDocument, document_version
from projects.streams import output_stream
from sinks.kinds import KINDS
from sinks.kinds.base import USER_AGENT, DeliveryContext
from sinks.worker.consumer import (
    VERSION_KEY,
    ConsumerOptions,
    SinkConsumer,
    consumer_is_dead,
    delete_consumer,
    parse_consumer_name,
)
from sinks.worker.pacing import Pacer
from sinks.worker.tally import StatsRecorder

logger = logging.getLogger(__name__)


@dataclass(kw_only=True)
class SinkWorkerSettings(WorkerLoopSettings):
    consumer: ConsumerOptions
    reconnect_wait: float = 1.0
    stats_interval: float = 1.0
    grace_seconds: float = 20.0


def enabled_sinks(document: dict) -> dict[str, dict]:
    return {str(sink["id"]): sink for sink in document.get("sinks", [])
            if sink.get("enabled") and sink.get("kind") in KINDS}


class SinkWorker(WorkerLoop):
    kind = "sink"
    js_timeout = 10.0

    def __init__(self, settings: SinkWorkerSettings, nc: Client | None = None):
        super().__init__(settings, nc)
        self.settings: SinkWorkerSettings = settings
        self.stats = StatsRecorder()
        self.pacer = Pacer()
        self.client = Outbound(allow_private=settings.allow_private_targets, user_agent=USER_AGENT)
        self.context = DeliveryContext(self.client, settings.consumer.request_timeout)
        self.documents: dict[str, dict] = {}
        self.consumers: dict[str, SinkConsumer] = {}
        self.tasks: dict[str, asyncio.Task] = {}
        self.ensured: set[str] = set()
        self.running = False
        self.stats_kv: KeyValue | None = None

    async def open(self) -> None:
        await self.connect("glassflow-sink")
        self.stats_kv = await natsops.stats_bucket(self.js, self.settings.stats_bucket, self.settings.replicas)
        self.serve_metrics()
        await self.config.open()
        logger.info("sink worker started")

    def metrics_registry(self) -> CollectorRegistry:
        # The sink's metrics (sinks/worker/metrics.py) live in the default registry.
        with contextlib.suppress(ValueError):  # already registered (the worker ran before in this process)
            REGISTRY.register(SupervisionCollector())
        return REGISTRY

    async def unreadable(self, project_id: str, document: UnreadableDocument) -> None:
        logger.error("configuration of project %s is not JSON; ignoring it", project_id)

    async def apply(self, project_id: str, document: dict | None) -> None:
        """Make this process's consumers match the project's document (None: project deleted)."""
        if document is None:
            self.documents.pop(project_id, None)
            self.unsettled.pop(project_id, None)
            self.ensured.discard(project_id)
            for sink_id in [sid for sid, c in self.consumers.items() if c.project_id == project_id]:
                await self.remove(sink_id, delete=True)
            return
        self.documents[project_id] = document
        desired = enabled_sinks(document)
        try:
            if self.settings.stream_limits is not None and project_id not in self.ensured:
                await natsops.ensure_streams(self.js, project_id, self.settings.stream_limits)
                self.ensured.add(project_id)
            # Deleting consumers on the strength of an older document would undo what a faster runsink
            # process just did for a newer one (a re-enabled sink), and its recreated consumer would
            # skip the messages in between.
            current = await self.config.is_latest(project_id, document)
            for sink_id, consumer in [(sid, c) for sid, c in self.consumers.items() if c.project_id == project_id]:
                wanted = desired.get(sink_id)
                if wanted is None or int(wanted.get("generation", 0)) != consumer.generation:
                    await self.remove(sink_id, delete=consumer_is_dead(document, sink_id, consumer.generation,
                                                                       None, current))
            for sink_id, sink in desired.items():
                if sink_id in self.consumers:
                    self.consumers[sink_id].sink = sink  # new URL/headers apply from the next delivery
                    continue
                consumer = SinkConsumer(self.js, project_id, sink, self.settings.consumer, self.context,
                                        self.stats, self.stop, max_payload=self.nc.max_payload, pacer=self.pacer,
                                        config_version=document_version(document))
                await consumer.bind()
                self.consumers[sink_id] = consumer
                logger.info("%s: consumer %s started", consumer.label, consumer.name)
                if self.running:
                    self.tasks[sink_id] = self.start_consuming(consumer)
            await self.remove_orphans(project_id, document, current)
            self.unsettled.pop(project_id, None)
        except (OSError, nats.errors.Error) as exc:
            logger.warning("project %s: could not set up its sink consumers yet (%s); will retry", project_id, exc)
            self.unsettled[project_id] = document

    async def remove_orphans(self, project_id: str, document: dict, current: bool) -> None:
        """Delete consumers of sinks removed, disabled or re-enabled (older generations) while no
        runsink process was watching, or that another process left behind."""
        try:
            infos = await self.js.consumers_info(output_stream(project_id))
        except JsNotFoundError:
            return
        for info in infos:
            parsed = parse_consumer_name(info.name or "")
            if parsed is None:
                continue
            sink_id, generation = parsed
            recorded = ((info.config.metadata or {}) if info.config else {}).get(VERSION_KEY)
            created = int(recorded) if recorded and recorded.isdigit() else None
            if consumer_is_dead(document, sink_id, generation, created, current):
                await delete_consumer(self.js, project_id, sink_id, generation)
                logger.info("project %s: consumer %s of a disabled or removed sink deleted", project_id, info.name)

    async def remove(self, sink_id: str, *, delete: bool) -> None:
        consumer = self.consumers.pop(sink_id)
        task = self.tasks.pop(sink_id, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await consumer.unbind()
        if delete:
            with contextlib.suppress(OSError, nats.errors.Error):
                await delete_consumer(self.js, consumer.project_id, sink_id, consumer.generation)
        logger.info("%s: consumer %s", consumer.label, "deleted" if delete else "stopped")

    async def process_batch(self) -> int:
        """One iteration over every consumer (sequentially), then flush the counters; returns messages seen."""
        seen = 0
        for consumer in list(self.consumers.values()):
            seen += (await consumer.process_batch()).received
        await self.flush_stats()
        return seen

    async def flush_stats(self) -> None:
        if self.stats_kv is not None:
            await self.stats.flush(self.stats_kv)

    def start_work(self) -> None:
        self.running = True
        for sink_id, consumer in self.consumers.items():
            self.tasks[sink_id] = self.start_consuming(consumer)

    def start_consuming(self, consumer: SinkConsumer) -> asyncio.Task:
        return supervise("sink-consumer", lambda: self.consume(consumer), name=consumer.label)

    async def consume(self, consumer: SinkConsumer) -> None:
        delay = 1.0
        while not self.stop.is_set():
            try:
                await consumer.process_batch()
                delay = 1.0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001  one broken consumer must not stop the others
                logger.warning("%s: %s: %s; retrying in %.0f s", consumer.label, exc.__class__.__name__, exc, delay)
                await consumer.unbind()  # rebinding recreates a consumer deleted under us
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), delay)
                delay = min(30.0, delay * 2)

    async def shutdown(self) -> None:
        self.stop.set()
        await self.stop_tasks()
        tasks = list(self.tasks.values())
        if tasks:
            done, pending = await asyncio.wait(tasks, timeout=self.settings.grace_seconds)
            for task in pending:
                task.cancel()  # in-flight messages come back after ack_wait
            await asyncio.gather(*pending, return_exceptions=True)
        self.tasks.clear()
        for consumer in self.consumers.values():
            # Unsubscribe before draining: a pull subscription's inbox keeps the fetch requests'
            # late status replies queued, and drain() would wait for them until its timeout.
            await consumer.unbind()
        with contextlib.suppress(Exception):
            await self.flush_stats()
        await self.client.close()
        self.stop_metrics()
        if self.nc is not None and self.nc.is_connected:
            await self.nc.drain()
        logger.info("sink worker stopped")
