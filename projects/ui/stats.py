"""Numbers for the activity dashboard and the project list's health line.

The sink/stats engineer's stats provider (``deadletters``) is preferred when it is
installed; until then, and whenever it fails, the numbers that JetStream itself
knows are read from stream and consumer info (records in, outputs, DLQ depth, lag)
and the rest show as "no data yet". A short history of samples per project is kept
in the cache so the dashboard can draw sparklines without a time-series store.
"""

from __future__ import annotations

import importlib
import logging
import time
from dataclasses import dataclass
from uuid import UUID

from django.core.cache import cache

from projects.natsbridge import NatsUnavailable, bridge
from projects.streams import dlq_stream, output_stream, raw_stream
from projects.ui.sparkline import area_points, rates, sparkline_points

logger = logging.getLogger(__name__)

HISTORY_SAMPLES = 60
MIN_SAMPLE_INTERVAL = 2.0  # several open dashboards must not each add a sample per poll


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    counter: bool  # cumulative: the chart shows its rate; else a level (gauge) charted as is
    bad: bool = False  # a non-zero value is worth a red colour


METRICS = (
    Metric("records_in", "Records in", counter=True),
    Metric("dropped", "Dropped by filter", counter=True),
    Metric("batches", "Batches to agent", counter=True),
    Metric("agent_errors", "Agent errors", counter=True, bad=True),
    Metric("outputs", "Agent outputs", counter=True),
    Metric("deliveries", "Deliveries", counter=True),
    Metric("dlq_depth", "Dead letters", counter=False, bad=True),
    Metric("consumer_lag", "Consumer lag", counter=False),
)


def _provider():
    """The stats function of the dead-letter/stats package, if that package has landed."""
    for module_name, attribute in (("deadletters.stats", "project_stats"), ("deadletters.stats", "read_stats")):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        function = getattr(module, attribute, None)
        if callable(function):
            return function
    return None


async def _stream_numbers(js, project_id: UUID) -> dict[str, int | None]:
    """What JetStream knows without the workers' counters: sequence numbers, depth and consumer lag."""
    raw = await js.stream_info(raw_stream(project_id))
    output = await js.stream_info(output_stream(project_id))
    dlq = await js.stream_info(dlq_stream(project_id))
    lag = 0
    for stream in (raw_stream(project_id), output_stream(project_id)):
        for consumer in await js.consumers_info(stream):
            lag += (consumer.num_pending or 0) + (consumer.num_ack_pending or 0)
    # last_seq counts every record ever stored, so it keeps rising when old records age out.
    return {"records_in": raw.state.last_seq, "outputs": output.state.last_seq,
            "dlq_depth": dlq.state.messages, "consumer_lag": lag}


def read_stats(project_id: UUID) -> dict[str, int | None] | None:
    """Current values of METRICS (None where unknown), or None when nothing could be read."""
    provider = _provider()
    if provider is not None:
        try:
            values = provider(project_id)
            if values:
                return {metric.key: values.get(metric.key) for metric in METRICS} | {
                    key: values[key] for key in ("records_last_hour", "last_error", "last_error_at") if key in values}
        except Exception:  # noqa: BLE001  the dashboard degrades to stream numbers rather than failing
            logger.warning("stats provider failed for project %s", project_id, exc_info=True)

    async def numbers(js):
        return await _stream_numbers(js, project_id)

    try:
        found = bridge.call(numbers, timeout=5)
    except NatsUnavailable:
        return None
    except Exception:  # noqa: BLE001  a missing stream (project just created, NATS wiped) is "no data yet"
        logger.debug("no stream numbers for project %s", project_id, exc_info=True)
        return None
    return {metric.key: found.get(metric.key) for metric in METRICS}


def _history_key(project_id: UUID) -> str:
    return f"ui-stats-history:{project_id}"


def sample(project_id: UUID) -> list[tuple[float, dict]]:
    """Read the stats now (unless a sample is very recent) and return the project's recent history."""
    history: list[tuple[float, dict]] = cache.get(_history_key(project_id)) or []
    now = time.time()
    if not history or now - history[-1][0] >= MIN_SAMPLE_INTERVAL:
        values = read_stats(project_id)
        if values is not None:
            history = [*history, (now, values)][-HISTORY_SAMPLES:]
            cache.set(_history_key(project_id), history, timeout=3600)
    return history


def cards(history: list[tuple[float, dict]]) -> list[dict]:
    """One card per metric: current value, rate (counters) and sparkline points."""
    latest = history[-1][1] if history else {}
    out = []
    for metric in METRICS:
        series = [(at, values.get(metric.key)) for at, values in history]
        if metric.counter:
            chart = rates(series)
            rate = chart[-1] if chart else None
        else:
            chart = [value for _, value in series]
            rate = None
        line = sparkline_points(chart)
        value = latest.get(metric.key)
        out.append({"metric": metric, "value": value, "rate": rate, "line": line, "area": area_points(line),
                    "bad": metric.bad and bool(value)})
    return out


def health(project) -> dict:
    """The project list's health line: records in the last hour and the last error, where known.

    Only the stats provider is asked (one cheap read per project); without it the line says
    "no data yet" and the last error is the most recent sink failure stored in the database.
    """
    line: dict = {"records_last_hour": None, "last_error": "", "last_error_at": None}
    provider = _provider()
    if provider is not None:
        try:
            values = provider(project.pk) or {}
            line.update({key: values[key] for key in line if values.get(key) is not None})
        except Exception:  # noqa: BLE001  one broken project must not break the list
            logger.warning("stats provider failed for project %s", project.pk, exc_info=True)
    if not line["last_error"]:
        sink = project.sinks.exclude(last_error="").order_by("-last_error_at").first()
        if sink is not None:
            line.update(last_error=f"{sink.name}: {sink.last_error}", last_error_at=sink.last_error_at)
    return line
