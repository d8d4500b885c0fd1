"""A project's data-plane statistics, from JetStream only (never the database).

Stream sizes and consumer lag come from stream and consumer info; the workers' counters
come from the KV bucket ``gf-ai-stats``: ``{projectId}.pipeline.{workerId}`` (one key per
pipeline worker, summed here) and ``{projectId}.sink.{sinkId}`` (one per sink, already
shared by all sink workers).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from glassflow_site.timestamps import format_rfc3339
from projects.streams import dlq_stream, dlq_subject, output_stream, raw_stream
from sinks.worker.consumer import parse_consumer_name
from sinks.worker.tally import read_stats

PIPELINE_COUNTERS = ("received", "filtered", "filter_errors", "transform_errors", "batches_sent", "records_sent",
                     "agent_errors", "dlq")
SINK_COUNTERS = ("deliveries", "failures", "dlq")
STALE_AFTER = timedelta(minutes=15)


async def _stream_state(js: JetStreamContext, name: str, subjects_filter: str | None = None):
    try:
        return (await js.stream_info(name, subjects_filter=subjects_filter)).state
    except NotFoundError:
        return None


async def _lag(js: JetStreamContext, stream: str) -> dict[str, dict]:
    try:
        infos = await js.consumers_info(stream)
    except NotFoundError:
        return {}
    return {info.name: {"pending": info.num_pending or 0, "in_flight": info.num_ack_pending or 0}
            for info in infos}


def as_int(value: object) -> int:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0


def pipeline_health(workers: list[dict], now: datetime) -> dict:
    """Whether the pipeline is stalled (since the earliest stall any live worker reports) and its last error.

    A stalled worker writes its key at every retry; a key not written for STALE_AFTER belongs
    to a worker that is gone, and its stall no longer counts.
    """
    fresh_after = format_rfc3339(now - STALE_AFTER)
    stalls = [str(w["stalled_since"]) for w in workers
              if w.get("stalled_since") and str(w.get("updatedAt") or "") >= fresh_after]
    errors = [(str(w.get("last_error_at") or ""), str(w.get("last_error") or "")) for w in workers
              if w.get("last_error")]
    last_error_at, last_error = max(errors) if errors else (None, "")
    return {"pipeline_stalled_since": min(stalls) if stalls else None, "pipeline_last_error": last_error,
            "pipeline_last_error_at": last_error_at}


def delivery_figures(workers: list[dict], now: datetime) -> dict:
    """The agent delivery of every running worker together: concurrency limits and batches in flight
    add up, the RTT is the worst worker's, throttled time adds up, and what throttles is named."""
    fresh_after = format_rfc3339(now - STALE_AFTER)
    live = [w for w in workers if w.get("state") == "running" and str(w.get("updatedAt") or "") >= fresh_after
            and "concurrencyLimit" in w]

    def worst(name: str) -> float | None:
        values = [w[name] for w in live if isinstance(w.get(name), int | float)]
        return max(values) if values else None

    return {"concurrency_limit": sum(as_int(w.get("concurrencyLimit")) for w in live) if live else None,
            "in_flight": sum(as_int(w.get("inFlight")) for w in live),
            "waiting": sum(as_int(w.get("waiting")) for w in live),
            "rtt_p50_ms": worst("rttP50Ms"), "rtt_p99_ms": worst("rttP99Ms"),
            "throttled_seconds": round(sum(float(w.get("throttledSeconds") or 0) for w in workers), 3),
            "throttled_by": next((str(w["throttledBy"]) for w in live if w.get("throttledBy")), "")}


async def project_stats(js: JetStreamContext, project_id: object, bucket: str) -> dict:
    raw = await _stream_state(js, raw_stream(project_id))
    outputs = await _stream_state(js, output_stream(project_id))
    dlq = await _stream_state(js, dlq_stream(project_id), subjects_filter=f"gf-ai-dlq.{project_id}.>")
    lag = {**await _lag(js, raw_stream(project_id)), **await _lag(js, output_stream(project_id))}
    counters = await read_stats(js, bucket, str(project_id))

    pipeline = dict.fromkeys(PIPELINE_COUNTERS, 0)
    workers: list[dict] = []
    record_errors: list[dict] = []
    sinks: dict[str, dict] = {}
    prefix = f"{project_id}."
    for key, value in counters.items():
        kind, _, name = key.removeprefix(prefix).partition(".")
        if kind == "pipeline":
            for counter in PIPELINE_COUNTERS:
                pipeline[counter] += as_int(value.get(counter))
            workers.append(value)
            if isinstance(value.get("lastRecordError"), dict):
                record_errors.append(value["lastRecordError"])
        elif kind == "sink" and name:
            sinks[name] = {**{c: as_int(value.get(c)) for c in SINK_COUNTERS},
                           "last_error": value.get("lastError") or "", "last_error_at": value.get("lastErrorAt"),
                           "last_success_at": value.get("lastSuccessAt"),
                           "stalled_since": value.get("stalledSince") or None,
                           "throttled_seconds": value.get("throttledSeconds") or 0,
                           "rtt_p50_ms": value.get("rttP50Ms"), "rtt_p99_ms": value.get("rttP99Ms"),
                           "concurrency_limit": value.get("concurrencyLimit"), "in_flight": value.get("inFlight")}
    # A sink's consumer is sink-{id} or, after re-enabling, sink-{id}-g{n}: the newest generation counts.
    sink_lag: dict[str, tuple[int, int | None]] = {}
    for name, values in lag.items():
        parsed = parse_consumer_name(name)
        if parsed is not None and parsed[1] >= sink_lag.get(parsed[0], (-1, None))[0]:
            sink_lag[parsed[0]] = (parsed[1], values.get("pending"))
    for sink_id in sink_lag:
        sinks.setdefault(sink_id, {**dict.fromkeys(SINK_COUNTERS, 0), "last_error": "", "last_error_at": None,
                                   "last_success_at": None})
    for sink_id, values in sinks.items():
        values["lag"] = sink_lag.get(sink_id, (0, None))[1]

    subjects = (dlq.subjects or {}) if dlq else {}
    return {
        "received": {"messages": raw.messages if raw else 0, "bytes": raw.bytes if raw else 0},
        "filtered_out": pipeline["filtered"],
        "filter_errors": pipeline["filter_errors"],
        "transform_errors": pipeline["transform_errors"],
        # The latest filter/transform error over every pipeline worker: message and sample record.
        "last_record_error": max(record_errors, key=lambda error: str(error.get("at") or ""), default=None),
        "pipeline_received": pipeline["received"],
        "batches_sent": pipeline["batches_sent"],
        "records_sent": pipeline["records_sent"],
        "agent_errors": pipeline["agent_errors"],
        **pipeline_health(workers, datetime.now(UTC)),
        "delivery": delivery_figures(workers, datetime.now(UTC)),
        "outputs": {"messages": outputs.messages if outputs else 0, "bytes": outputs.bytes if outputs else 0},
        "sinks": sinks,
        "dlq_depth": {"total": dlq.messages if dlq else 0,
                      "pipeline": subjects.get(dlq_subject(project_id, "pipeline"), 0),
                      "sink": subjects.get(dlq_subject(project_id, "sink"), 0)},
        "consumer_lag": {name: value["pending"] for name, value in lag.items()
                         if name == "pipeline" or name.startswith("sink-")},
    }
