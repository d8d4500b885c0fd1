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
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from glassflow_site.timestamps import format_rfc3339, now_rfc3339
from pipelines.stages.ratelimit import DailyBudget

if TYPE_CHECKING:
    from pipelines.worker.flow import DeliveryGate

logger = logging.getLogger(__name__)


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


COUNTER_NAMES = tuple(counter.name for counter in fields(Counters))


SAMPLE_CHARS = 2000  # of the raw record shown beside the latest filter/transform error


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
    flow: DeliveryGate | None = None  # the running pipeline's delivery gate (concurrency, limits)
    book: StatsBook | None = None
    project_id: str = ""
    # (kind, message, raw record bytes, epoch seconds) of the latest filter or transform error:
    # kept as references on the per-record path, turned into text only when published.
    last_record_error: tuple[str, str, bytes, float] | None = None

    def failed(self, error: str, *, transient: bool) -> None:
        now = time.time()
        self.last_error, self.last_error_at = error, now
        if transient and self.stalled_since is None:
            self.stalled_since = now

    def delivered(self) -> None:
        self.stalled_since = None

    def health(self) -> dict:
        return {"stalled_since": format_rfc3339(self.stalled_since), "last_error": self.last_error,
                "last_error_at": format_rfc3339(self.last_error_at)}

    async def sync_budget(self) -> None:
        """Share this worker's count against max_records_per_day and learn everyone's (see StatsBook)."""
        if self.book is not None and self.flow is not None and self.flow.budget is not None:
            await self.book.sync_budget(self.project_id, self.flow.budget)

    def flow_figures(self) -> dict[str, Any]:
        """Gauges of the delivery gate, flat beside the counters (``throttledSeconds`` is cumulative)."""
        if self.flow is None:
            return {}
        figures = self.flow.figures()
        return {"concurrencyLimit": figures.limit, "inFlight": figures.in_flight, "waiting": figures.waiting,
                "rttP50Ms": figures.rtt_p50_ms, "rttP99Ms": figures.rtt_p99_ms,
                "throttledSeconds": figures.throttled_seconds, "throttledBy": figures.throttled_by}

    def note_record_error(self, kind: str, message: str, data: bytes) -> None:
        self.last_record_error = (kind, message, data, time.time())

    def record_error_document(self) -> dict | None:
        if self.last_record_error is None:
            return None
        kind, message, data, at = self.last_record_error
        sample = data.decode("utf-8", errors="replace")
        if len(sample) > SAMPLE_CHARS:
            sample = sample[:SAMPLE_CHARS] + "…"
        return {"kind": kind, "message": message, "sample": sample,
                "at": format_rfc3339(at)}


def worker_key(project_id: str, worker_id: str) -> str:
    return f"{project_id}.pipeline.{worker_id}"


def budget_key(project_id: str) -> str:
    """One key per pipeline, shared by its workers: ``{"day": "YYYY-MM-DD", "records": n}``."""
    return f"{project_id}.budget"


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
            stats = self.projects[project_id] = ProjectStats(Counters(), book=self, project_id=project_id)
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

    async def sync_budget(self, project_id: str, budget: DailyBudget, now: float | None = None) -> None:
        """Add what this worker sent against the day's record budget to the shared key, with
        compare-and-set (every worker of the pipeline adds its own), and learn the total. The key
        outlives a restart, so a restarted worker does not get a fresh day's budget."""
        if self.kv is None:
            return
        key = budget_key(project_id)
        budget.used(time.time() if now is None else now)  # rolls over to today
        day, pending = budget.day, budget.pending
        try:
            for _ in range(20):
                try:
                    entry = await self.kv.get(key)
                except KeyNotFoundError:
                    entry = None
                try:
                    current = json.loads(entry.value or b"{}") if entry is not None else {}
                except ValueError:
                    current = {}
                total = current.get("records", 0) if current.get("day") == day else 0
                total = (total if isinstance(total, int) else 0) + pending
                payload = json.dumps({"day": day, "records": total}, separators=(",", ":")).encode()
                try:
                    if entry is None:
                        await self.kv.create(key, payload)
                    else:
                        await self.kv.update(key, payload, last=entry.revision)
                except KeyWrongLastSequenceError:
                    continue  # another worker added its count in between; read again
                budget.synced_to(day, total, pending)
                return
        except Exception:  # noqa: BLE001 -- the local count still limits; retried on the next round
            logger.warning("could not share the daily record count of project %s", project_id, exc_info=True)

    async def publish(self) -> None:
        """Write every project whose counters or state changed since the last write."""
        if self.kv is None:
            return
        for project_id, stats in list(self.projects.items()):
            await stats.sync_budget()
            # Flat, so the control plane sums the same names over every worker's key.
            body = {**asdict(stats.counters), **stats.flow_figures(), "state": stats.state, "error": stats.error,
                    **stats.health(), "workerId": self.worker_id}
            if stats.last_record_error is not None:
                body["lastRecordError"] = stats.record_error_document()
            if body == stats.published:
                continue
            document = dict(body, updatedAt=now_rfc3339())
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
        limit = GaugeMetricFamily("glassflow_pipeline_concurrency_limit",
                                  "Batches this worker may have in flight to the agent now (adaptive)", labels=["project"])
        in_flight = GaugeMetricFamily("glassflow_pipeline_in_flight", "Batches in flight to the agent",
                                      labels=["project"])
        waiting = GaugeMetricFamily("glassflow_pipeline_waiting_batches",
                                    "Batches waiting for a concurrency slot, a Retry-After or a limit", labels=["project"])
        rtt = GaugeMetricFamily("glassflow_pipeline_agent_rtt_seconds",
                                "Round-trip time of recent successful agent requests", labels=["project", "quantile"])
        throttled = CounterMetricFamily("glassflow_pipeline_throttled_seconds",
                                        "Time batches waited for max_batches_per_minute or max_records_per_day",
                                        labels=["project"])
        for project_id, stats in list(self.book.projects.items()):
            for name in COUNTER_NAMES:
                families[name].add_metric([project_id], getattr(stats.counters, name))
            running.add_metric([project_id], 1 if stats.state == "running" else 0)
            stalled.add_metric([project_id], stats.stalled_since or 0)
            if stats.flow is not None:
                figures = stats.flow.figures()
                limit.add_metric([project_id], figures.limit)
                in_flight.add_metric([project_id], figures.in_flight)
                waiting.add_metric([project_id], figures.waiting)
                for quantile, value in (("0.5", figures.rtt_p50_ms), ("0.99", figures.rtt_p99_ms)):
                    if value is not None:
                        rtt.add_metric([project_id, quantile], value / 1000)
                throttled.add_metric([project_id], figures.throttled_seconds)
        yield from families.values()
        yield from (running, limit, in_flight, waiting, rtt, throttled, stalled)
