"""Delivery counters and last error per sink, kept in the KV bucket ``gf-ai-stats``.

The worker cannot write the database, so each sink's key ``{projectId}.sink.{sinkId}`` holds
``{"sinkId", "deliveries", "failures", "dlq", "lastError", "lastErrorAt", "lastSuccessAt",
"stalledSince", "throttledSeconds", "rttP50Ms", "rttP99Ms", "concurrencyLimit", "inFlight", "updatedAt"}`` (``stalledSince``: the first transient failure since the last
delivery, null when the sink is delivering); the API merges it into the sink's last_error when serving. Several runsink
processes share a sink's consumer, so a process never overwrites the key with its own view:
it adds its deltas with compare-and-set on the key's revision.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field

import nats.errors
from nats.js import JetStreamContext
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from glassflow_site.timestamps import now_rfc3339
from sinks.worker import metrics
from sinks.worker.pacing import RoundTrips

logger = logging.getLogger(__name__)

COUNTERS = ("deliveries", "failures", "dlq")


def sink_stats_key(project_id: object, sink_id: object) -> str:
    return f"{project_id}.sink.{sink_id}"


@dataclass
class SinkTally:
    """What one process saw for one sink since its last flush."""

    project_id: str
    sink_id: str
    deliveries: int = 0
    failures: int = 0
    dlq: int = 0
    last_error: str | None = None
    last_error_at: str | None = None
    last_success_at: str | None = None
    stalled_since: str | None = None  # first transient failure after this window's last success
    throttled_seconds: float = 0.0
    rtt_ms: tuple[float | None, float | None] | None = None  # p50, p99 of recent deliveries
    flow: tuple[int, int] | None = None  # concurrency limit, in flight: this process's latest view

    def empty(self) -> bool:
        return not (self.deliveries or self.failures or self.dlq or self.last_error_at or self.last_success_at
                    or self.throttled_seconds or self.rtt_ms or self.flow)

    def merge_into(self, current: dict) -> dict:
        merged = {**current, "sinkId": self.sink_id, "updatedAt": now_rfc3339()}
        for name in COUNTERS:
            merged[name] = int(current.get(name, 0)) + getattr(self, name)
        # ISO timestamps in UTC with the same format compare correctly as strings.
        if self.last_error_at and self.last_error_at >= (current.get("lastErrorAt") or ""):
            merged["lastError"], merged["lastErrorAt"] = self.last_error, self.last_error_at
        if self.last_success_at and self.last_success_at >= (current.get("lastSuccessAt") or ""):
            merged["lastSuccessAt"] = self.last_success_at
        # Stalled from the earliest failure no later success has cleared, whichever process saw it.
        stalled = current.get("stalledSince")
        if stalled and self.last_success_at and self.last_success_at >= stalled:
            stalled = None
        if self.stalled_since:
            stalled = min(stalled, self.stalled_since) if stalled else self.stalled_since
        merged["stalledSince"] = stalled
        try:
            throttled = float(current.get("throttledSeconds", 0))
        except (TypeError, ValueError):
            throttled = 0.0
        merged["throttledSeconds"] = round(throttled + self.throttled_seconds, 3)
        if self.rtt_ms is not None:  # a gauge: the latest view of whichever worker wrote last
            merged["rttP50Ms"], merged["rttP99Ms"] = self.rtt_ms
        if self.flow is not None:  # gauges too
            merged["concurrencyLimit"], merged["inFlight"] = self.flow
        return merged


@dataclass
class StatsRecorder:
    tallies: dict[tuple[str, str], SinkTally] = field(default_factory=dict)
    stalled: dict[tuple[str, str], float] = field(default_factory=dict)  # this process's view, for /metrics
    round_trips: dict[tuple[str, str], RoundTrips] = field(default_factory=dict)

    def tally(self, project_id: str, sink_id: str) -> SinkTally:
        key = (project_id, sink_id)
        if key not in self.tallies:
            self.tallies[key] = SinkTally(project_id, sink_id)
        return self.tallies[key]

    def delivered(self, project_id: str, sink_id: str, rtt: float | None = None) -> None:
        tally = self.tally(project_id, sink_id)
        tally.deliveries += 1
        tally.last_success_at = now_rfc3339()
        tally.stalled_since = None
        metrics.DELIVERIES.labels(project_id, sink_id).inc()
        if self.stalled.pop((project_id, sink_id), None) is not None:
            metrics.STALLED_SINCE.labels(project_id, sink_id).set(0)
        if rtt is not None:
            trips = self.round_trips.setdefault((project_id, sink_id), RoundTrips())
            trips.add(rtt)
            tally.rtt_ms = trips.percentiles_ms()
            for quantile, value in zip(("0.5", "0.99"), tally.rtt_ms, strict=True):
                metrics.ROUND_TRIP_SECONDS.labels(project_id, sink_id, quantile).set(value / 1000)

    def flow(self, project_id: str, sink_id: str, limit: int, in_flight: int) -> None:
        """The sink's current concurrency limit and outputs in flight in this process."""
        self.tally(project_id, sink_id).flow = (limit, in_flight)
        metrics.CONCURRENCY_LIMIT.labels(project_id, sink_id).set(limit)
        metrics.IN_FLIGHT.labels(project_id, sink_id).set(in_flight)

    def throttled(self, project_id: str, sink_id: str, seconds: float) -> None:
        """Time an output waited for the sink's rate limit."""
        self.tally(project_id, sink_id).throttled_seconds += seconds
        metrics.THROTTLED_SECONDS.labels(project_id, sink_id).inc(seconds)

    def attempt_failed(self, project_id: str, sink_id: str, error: str, *, transient: bool = True) -> None:
        """One failed attempt, recorded as it happens (the next flush publishes it mid-outage)."""
        tally = self.tally(project_id, sink_id)
        tally.failures += 1
        tally.last_error, tally.last_error_at = error, now_rfc3339()
        metrics.FAILED_ATTEMPTS.labels(project_id, sink_id).inc()
        if transient and tally.stalled_since is None:
            tally.stalled_since = tally.last_error_at
        if transient and (project_id, sink_id) not in self.stalled:
            self.stalled[(project_id, sink_id)] = time.time()
            metrics.STALLED_SINCE.labels(project_id, sink_id).set(self.stalled[(project_id, sink_id)])

    def dead_lettered(self, project_id: str, sink_id: str, error: str) -> None:
        tally = self.tally(project_id, sink_id)
        tally.dlq += 1
        tally.last_error, tally.last_error_at = error, now_rfc3339()
        metrics.DEAD_LETTERS.labels(project_id, sink_id).inc()

    async def flush(self, kv: KeyValue) -> None:
        """Add every pending tally to its key; tallies that could not be written stay for next time."""
        pending, self.tallies = self.tallies, {}
        for key, tally in pending.items():
            if tally.empty():
                continue
            try:
                await add_tally(kv, tally)
            except Exception:  # noqa: BLE001  counters must never stop deliveries; keep them for the next flush
                logger.warning("could not write stats of sink %s; will retry", tally.sink_id, exc_info=True)
                self.tallies.setdefault(key, tally)


async def add_tally(kv: KeyValue, tally: SinkTally) -> None:
    key = sink_stats_key(tally.project_id, tally.sink_id)
    for _ in range(20):
        try:
            entry = await kv.get(key)
        except KeyNotFoundError:
            entry = None
        current: dict = {}
        if entry is not None and entry.value:
            try:
                current = json.loads(entry.value)
            except ValueError:
                current = {}
        payload = json.dumps(tally.merge_into(current), separators=(",", ":")).encode()
        try:
            if entry is None:
                await kv.create(key, payload)
            else:
                await kv.update(key, payload, last=entry.revision)
            return
        except KeyWrongLastSequenceError:
            continue  # another runsink process added its counts in between; read again
    raise RuntimeError(f"too many concurrent writers on {key}")


async def read_stats(js: JetStreamContext, bucket: str, prefix: str) -> dict[str, dict]:
    """Every key under ``{prefix}.`` in the stats bucket, decoded; {} when the bucket does not exist yet."""
    try:
        kv = await js.key_value(bucket)
    except BucketNotFoundError:
        return {}
    watcher = await kv.watch(f"{prefix}.>", ignore_deletes=True)
    values: dict[str, dict] = {}
    try:
        while True:
            try:
                entry = await watcher.updates(timeout=2.0)
            except nats.errors.TimeoutError:
                break
            if entry is None:
                break  # caught up with the current values
            try:
                values[entry.key] = json.loads(entry.value or b"{}")
            except ValueError:
                logger.warning("stats key %s is not JSON; ignoring it", entry.key)
    finally:
        await watcher.stop()
    return values
