"""The sink worker process: follows the ``gf-ai-config`` KV bucket and runs one consumer per enabled sink.

Consumers are created, updated and removed live as the control plane publishes project
documents; several runsink processes may run the same consumers (JetStream shares the work).
SIGTERM sets ``stop``: consumers stop fetching, a delivery attempt in flight finishes, a
message waiting for its next retry is handed back (nak), counters are flushed and the
connection is drained. ``load_config`` + ``process_batch`` are one iteration for tests.
A consumer is deleted only when ``consumer_is_dead`` says no document, however new, can
want it again, so processes acting on different versions never undo each other's work.
Long-lived tasks are supervised (glassflow_site.supervision).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

import nats.errors
from nats.aio.client import Client
from nats.js.errors import NotFoundError as JsNotFoundError
from nats.js.kv import KeyValue

from glassflow_site.supervision import supervise
from outbound import Outbound
from projects import natsops
from projects.configwatch import (
    ConfigWatch,
    UnreadableDocument,
    apply_snapshot,
    configured_bucket,
    document_version,
)
from projects.streams import StreamLimits, output_stream
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


@dataclass(frozen=True)
class WorkerOptions:
    consumer: ConsumerOptions
    allow_private: bool = False
    config_bucket: str = field(default_factory=configured_bucket)
    stats_bucket: str = "gf-ai-stats"
    replicas: int = 1
    stream_limits: StreamLimits | None = None  # when set, the worker also ensures each project's streams
    stats_interval: float = 1.0
    reconcile_interval: float = 5.0
    shutdown_grace: float = 20.0


def enabled_sinks(document: dict) -> dict[str, dict]:
    return {str(sink["id"]): sink for sink in document.get("sinks", [])
            if sink.get("enabled") and sink.get("kind") in KINDS}


class SinkWorker:
    def __init__(self, nc: Client, options: WorkerOptions):
        self.nc = nc
        self.js = nc.jetstream(timeout=10)
        self.options = options
        self.stop = asyncio.Event()
        self.stats = StatsRecorder()
        self.pacer = Pacer()
        self.client = Outbound(allow_private=options.allow_private, user_agent=USER_AGENT)
        self.context = DeliveryContext(self.client, options.consumer.request_timeout)
        self.documents: dict[str, dict] = {}
        self.consumers: dict[str, SinkConsumer] = {}
        self.tasks: dict[str, asyncio.Task] = {}
        self.unsettled: set[str] = set()
        self.ensured: set[str] = set()
        self.running = False
        self.stats_kv: KeyValue | None = None
        self.config = ConfigWatch(nc, self, bucket=options.config_bucket, replicas=options.replicas)

    async def open(self) -> None:
        self.stats_kv = await natsops.stats_bucket(self.js, self.options.stats_bucket, self.options.replicas)
        await self.config.open()

    async def load_config(self, timeout: float = 0.2) -> bool:
        """Apply every configuration change that has arrived; True if there was any."""
        if self.stats_kv is None:
            await self.open()
        return await self.config.poll(timeout)

    async def snapshot(self, documents: dict, gone: set[str]) -> None:
        await apply_snapshot(self.change, documents, gone)

    async def change(self, project_id: str, document) -> None:
        if isinstance(document, UnreadableDocument):
            logger.error("configuration of project %s is not JSON; ignoring it", project_id)
            return
        await self.apply(project_id, document)

    async def apply(self, project_id: str, document: dict | None) -> None:
        """Make this process's consumers match the project's document (None: project deleted)."""
        if document is None:
            self.documents.pop(project_id, None)
            self.unsettled.discard(project_id)
            self.ensured.discard(project_id)
            for sink_id in [sid for sid, c in self.consumers.items() if c.project_id == project_id]:
                await self.remove(sink_id, delete=True)
            return
        self.documents[project_id] = document
        desired = enabled_sinks(document)
        try:
            if self.options.stream_limits is not None and project_id not in self.ensured:
                await natsops.ensure_streams(self.js, project_id, self.options.stream_limits)
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
                consumer = SinkConsumer(self.js, project_id, sink, self.options.consumer, self.context,
                                        self.stats, self.stop, max_payload=self.nc.max_payload, pacer=self.pacer,
                                        config_version=document_version(document))
                await consumer.bind()
                self.consumers[sink_id] = consumer
                logger.info("%s: consumer %s started", consumer.label, consumer.name)
                if self.running:
                    self.tasks[sink_id] = self.start_consuming(consumer)
            await self.remove_orphans(project_id, document, current)
            self.unsettled.discard(project_id)
        except (OSError, nats.errors.Error) as exc:
            logger.warning("project %s: could not set up its sink consumers yet (%s); will retry", project_id, exc)
            self.unsettled.add(project_id)

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

    async def run(self) -> None:
        """Run until ``stop`` is set, then shut down gracefully."""
        await self.open()
        self.running = True
        for sink_id, consumer in self.consumers.items():
            self.tasks[sink_id] = self.start_consuming(consumer)
        flusher = supervise("sink-stats-flush", self.flush_periodically)
        logger.info("sink worker started")
        last_retry = 0.0
        try:
            while not self.stop.is_set():
                await self.load_config(timeout=0.5)
                now = asyncio.get_running_loop().time()
                if self.unsettled and now - last_retry >= self.options.reconcile_interval:
                    last_retry = now
                    for project_id in list(self.unsettled):
                        if project_id in self.documents:
                            await self.apply(project_id, self.documents[project_id])
        finally:
            flusher.cancel()
            await self.shutdown()

    async def flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.options.stats_interval)
            await self.flush_stats()

    async def shutdown(self) -> None:
        self.stop.set()
        tasks = list(self.tasks.values())
        if tasks:
            done, pending = await asyncio.wait(tasks, timeout=self.options.shutdown_grace)
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
        await self.config.close()
        await self.client.close()
        if self.nc.is_connected:
            await self.nc.drain()
        logger.info("sink worker stopped")
