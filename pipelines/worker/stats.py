"""Per-project counters of the pipeline worker, published to KV ``gf-ai-stats`` and to Prometheus.

Each worker process writes its own key ``{projectId}.pipeline.{workerId}`` with
cumulative counters; the control plane sums the keys of a project. A worker started
with the same ``--worker-id`` continues from the counters it finds there, so restarts
do not leave a trail of keys behind.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from pipelines.stages.deadletter import rfc3339

logger = logging.getLogger(__name__)

STATS_BUCKET = "gf-ai-stats"
COUNTER_NAMES = ("received", "filtered", "filter_errors", "transform_errors", "batches_sent", "records_sent",
                 "agent_errors", "dlq")


@dataclass
class Counters:
    received: int = 0
    filtered: int = 0
    filter_errors: int = 0
    transform_errors: int = 0
    batches_sent: int = 0
    records_sent: int = 0
    agent_errors: int = 0
    dlq: int = 0


@dataclass
class ProjectStats:
    counters: Counters
    state: str = "stopped"  # running | stopped | error
    error: str = ""
    published: dict | None = None  # what was last written, to skip unchanged writes
    # Delivery health: set at the first transient failure after a success, cleared by the next
    # success. While set, the pipeline is "stalled since" then: records wait in the stream.
    stalled_since: float | None = None  # epoch seconds
    last_error: str = ""
    last_error_at: float | None = None

    def failed(self, error: str, *, transient: bool) -> None:
        now = time.time()
        self.last_error, self.last_error_at = error, now
        if transient and self.stalled_since is None:
            self.stalled_since = now

    def delivered(self) -> None:
        self.stalled_since = None

    def health(self) -> dict:
        return {"stalled_since": _iso(self.stalled_since), "last_error": self.last_error,
                "last_error_at": _iso(self.last_error_at)}


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else rfc3339(datetime.fromtimestamp(epoch, UTC))


def worker_key(project_id: str, worker_id: str) -> str:
    return f"{project_id}.pipeline.{worker_id}"


def safe_worker_id(value: str) -> str:
    """KV keys allow letters, digits and - _ = /; the worker id must also not contain dots."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", value)[:100] or "worker"


class StatsBook:
    """All projects' counters in this process, and their publication."""

    def __init__(self, worker_id: str):
        self.worker_id = worker_id
        self.projects: dict[str, ProjectStats] = {}
        self.kv: KeyValue | None = None

    async def attach(self, kv: KeyValue) -> None:
        self.kv = kv

    async def for_project(self, project_id: str) -> ProjectStats:
        stats = self.projects.get(project_id)
        if stats is None:
            stats = self.projects[project_id] = ProjectStats(Counters())
            await self._resume(project_id, stats)
        return stats

    async def _resume(self, project_id: str, stats: ProjectStats) -> None:
        if self.kv is None:
            return
        try:
            entry = await self.kv.get(worker_key(project_id, self.worker_id))
            previous = json.loads(entry.value or b"{}")
        except (KeyNotFoundError, ValueError):
            return
        except Exception:  # noqa: BLE001 -- counters are best effort; never block a pipeline on them
            logger.warning("could not read previous counters of project %s", project_id, exc_info=True)
            return
        for name in COUNTER_NAMES:
            if isinstance(previous.get(name), int):
                setattr(stats.counters, name, previous[name])

    def forget(self, project_id: str) -> None:
        self.projects.pop(project_id, None)

    async def publish(self) -> None:
        """Write every project whose counters or state changed since the last write."""
        if self.kv is None:
            return
        for project_id, stats in list(self.projects.items()):
            # Flat, so the control plane sums the same names over every worker's key.
            body = {**asdict(stats.counters), "state": stats.state, "error": stats.error,
                    **stats.health(), "workerId": self.worker_id}
            if body == stats.published:
                continue
            document = dict(body, updatedAt=rfc3339(datetime.now(UTC)))
            try:
                await self.kv.put(worker_key(project_id, self.worker_id),
                                  json.dumps(document, separators=(",", ":")).encode())
                stats.published = body
            except Exception:  # noqa: BLE001 -- retried on the next round
                logger.warning("could not publish counters of project %s", project_id, exc_info=True)


class StatsCollector(Collector):
    """Prometheus view of the same counters (read at scrape time, so nothing is counted twice)."""

    def __init__(self, book: StatsBook):
        self.book = book

    def collect(self):
        families = {name: CounterMetricFamily(f"glassflow_pipeline_{name}", f"Pipeline worker: {name}",
                                              labels=["project"]) for name in COUNTER_NAMES}
        running = GaugeMetricFamily("glassflow_pipeline_running", "1 when this worker runs the project's pipeline",
                                    labels=["project"])
        stalled = GaugeMetricFamily("glassflow_pipeline_stalled_since_seconds",
                                    "Unix time of the first transient agent failure since the last delivered batch; "
                                    "0 when not stalled", labels=["project"])
        for project_id, stats in list(self.book.projects.items()):
            for name in COUNTER_NAMES:
                families[name].add_metric([project_id], getattr(stats.counters, name))
            running.add_metric([project_id], 1 if stats.state == "running" else 0)
            stalled.add_metric([project_id], stats.stalled_since or 0)
        yield from families.values()
        yield running
        yield stalled
