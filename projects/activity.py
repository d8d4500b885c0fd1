"""Numbers for the activity dashboard and the project list's health line.

The numbers come from ``projects.figures.project_stats`` (stream info, consumer lag
and the workers' counters in the ``gf-ai-stats`` bucket), read through the NATS bridge;
when NATS cannot be asked they show as "no data yet". A short history of samples per project is kept
in the cache so the dashboard can draw sparklines without a time-series store.

The "Delivery to the agent" panel (``delivery_panel``: the adaptive concurrency limit, batches in
flight and waiting, RTT p50/p99, time throttled and a small SVG chart of the limit and the RTT p99)
and the compact per-sink rows (``sink_rows``) are read from the same sample history.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.core.cache import cache

from glassflow_site.timestamps import format_rfc3339, parse_rfc3339
from projects.figures import project_stats
from projects.natsbridge import NatsUnavailable, bridge
from projects.sparkline import area_points, rates, sparkline_points
from projects.streams import raw_stream

logger = logging.getLogger(__name__)

HISTORY_SAMPLES = 60
CHART_WIDTH = 300.0  # the delivery panel's chart of the concurrency limit and RTT p99
CHART_HEIGHT = 60.0
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
    Metric("filter_errors", "Filter errors", counter=True, bad=True),
    Metric("transform_errors", "Transform errors", counter=True, bad=True),
    Metric("batches", "Batches to agent", counter=True),
    Metric("agent_errors", "Agent errors", counter=True, bad=True),
    Metric("outputs", "Agent outputs", counter=True),
    Metric("deliveries", "Deliveries", counter=True),
    Metric("dlq_depth", "Dead letters", counter=False, bad=True),
    Metric("consumer_lag", "Consumer lag", counter=False),
)


def _metrics(stats: dict) -> dict:
    """projects.figures.project_stats's nested answer as the dashboard's flat metrics."""
    sinks = stats.get("sinks") or {}
    errors = [(values.get("last_error_at") or "", values.get("last_error")) for values in sinks.values()
              if values.get("last_error")]
    last_error_at, last_error = max(errors) if errors else (None, "")
    return {
        "records_in": (stats.get("received") or {}).get("messages"),
        "dropped": stats.get("filtered_out"),
        "filter_errors": stats.get("filter_errors"),
        "transform_errors": stats.get("transform_errors"),
        "record_error": stats.get("last_record_error"),
        "batches": stats.get("batches_sent"),
        "agent_errors": stats.get("agent_errors"),
        "outputs": (stats.get("outputs") or {}).get("messages"),
        "deliveries": sum(int(values.get("deliveries") or 0) for values in sinks.values()),
        "dlq_depth": (stats.get("dlq_depth") or {}).get("total"),
        "consumer_lag": sum(int(value or 0) for value in (stats.get("consumer_lag") or {}).values()),
        "last_error": last_error,
        "last_error_at": last_error_at,
        "pipeline_stalled_since": stats.get("pipeline_stalled_since"),
        "delivery": stats.get("delivery"),
        "pipeline_last_error": stats.get("pipeline_last_error") or "",
        # Each sink's delivery figures (concurrency limit, in flight, RTT, throttled time) once a worker wrote them.
        "sink_flows": {sink_id: {name: values.get(name) for name in (
            "concurrency_limit", "in_flight", "rtt_p50_ms", "rtt_p99_ms", "throttled_seconds")}
            for sink_id, values in sinks.items() if values.get("concurrency_limit") is not None},
        "sink_stalls": {sink_id: [values["stalled_since"], values.get("last_error") or ""]
                        for sink_id, values in sinks.items() if values.get("stalled_since")},
    }


def stalled(project, history: list[tuple[float, dict]]) -> list[dict]:
    """What is stalled right now (an outage pauses delivery; records wait in the stream), with since when and why."""
    latest = history[-1][1] if history else {}
    lines = []
    if latest.get("pipeline_stalled_since"):
        lines.append({"what": "Agent delivery", "since": parse_rfc3339(latest["pipeline_stalled_since"]),
                      "error": latest.get("pipeline_last_error") or ""})
    stalls = latest.get("sink_stalls") or {}
    if stalls:
        names = {str(pk): name for pk, name in project.sinks.values_list("pk", "name")}
        for sink_id, (since, error) in sorted(stalls.items()):
            lines.append({"what": f"Sink {names.get(sink_id, sink_id)}", "since": parse_rfc3339(since), "error": error})
    return lines


async def records_since(js, project_id: UUID, seconds: int) -> int:
    """How many records reached the raw stream in the last ``seconds``.

    Asks JetStream for the first message at or after the start time (MSG.GET with
    start_time) and counts sequences from there to the last one: one round trip,
    no scan. Deleted messages in between are counted too, which is close enough here.
    """
    stream = raw_stream(project_id)
    info = await js.stream_info(stream)
    if not info.state.messages:
        return 0
    start = datetime.now(UTC) - timedelta(seconds=seconds)
    request = json.dumps({"start_time": format_rfc3339(start, timespec="microseconds")}).encode()
    reply = await js._nc.request(f"$JS.API.STREAM.MSG.GET.{stream}", request, timeout=3)  # noqa: SLF001
    answer = json.loads(reply.data)
    if "error" in answer:
        return 0  # nothing stored since then
    return info.state.last_seq - int(answer["message"]["seq"]) + 1


def read_stats(project_id: UUID) -> dict | None:
    """Current values of METRICS (plus last_error), or None when NATS could not be asked."""
    bucket = settings.STATS_BUCKET

    async def numbers(js) -> dict:
        return _metrics(await project_stats(js, project_id, bucket))

    try:
        return bridge.call(numbers, timeout=5)
    except NatsUnavailable:
        return None
    except Exception:  # noqa: BLE001  the dashboard degrades to "no data yet" rather than failing
        logger.warning("statistics of project %s could not be read", project_id, exc_info=True)
        return None


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


def record_error(history: list[tuple[float, dict]]) -> dict | None:
    """The latest filter or transform error (kind, message, sample record, at), if any worker saw one."""
    latest = history[-1][1] if history else {}
    error = latest.get("record_error")
    if not isinstance(error, dict):
        return None
    return {**error, "at": parse_rfc3339(error.get("at"))}


def health(projects: list) -> dict:
    """Health lines for the project list: records in the last hour and the last error, per project id.

    One bridge call for all projects; when NATS cannot be asked the lines say "no data yet"
    and the last error is the most recent sink failure stored in the database.
    """
    ids = [project.pk for project in projects]

    async def lines(js) -> dict:
        found = {}
        for project_id in ids:
            try:
                recent = await records_since(js, project_id, 3600)
                flat = _metrics(await project_stats(js, project_id, settings.STATS_BUCKET))
            except Exception:  # noqa: BLE001  one project without streams must not blank the others
                logger.debug("no health data for project %s", project_id, exc_info=True)
                continue
            found[project_id] = {"records_last_hour": recent, "last_error": flat["last_error"],
                                 "last_error_at": parse_rfc3339(flat["last_error_at"])}
        return found

    try:
        known = bridge.call(lines, timeout=8) if ids else {}
    except NatsUnavailable:
        known = {}
    out = {}
    for project in projects:
        line = known.get(project.pk) or {"records_last_hour": None, "last_error": "", "last_error_at": None}
        if not line["last_error"]:
            sink = project.sinks.exclude(last_error="").order_by("-last_error_at").first()
            if sink is not None:
                line.update(last_error=f"{sink.name}: {sink.last_error}", last_error_at=sink.last_error_at)
        out[project.pk] = line
    return out

def delivery_panel(history: list[tuple[float, dict]]) -> dict | None:
    """None until a worker has reported its delivery figures."""
    series = [values.get("delivery") or {} for _, values in history]
    latest = series[-1] if series else {}
    if not latest or latest.get("concurrency_limit") is None:
        return None
    limits = [figures.get("concurrency_limit") for figures in series]
    rtts = [figures.get("rtt_p99_ms") for figures in series]
    return {
        **latest,
        "throttled_minutes": round(float(latest.get("throttled_seconds") or 0) / 60, 1),
        # Each line scaled to its own maximum (the labels say which is which and the peak values).
        "limit_line": sparkline_points(limits, CHART_WIDTH, CHART_HEIGHT),
        "rtt_line": sparkline_points(rtts, CHART_WIDTH, CHART_HEIGHT),
        "limit_peak": max((value for value in limits if value is not None), default=None),
        "rtt_peak": max((value for value in rtts if value is not None), default=None),
        "width": CHART_WIDTH, "height": CHART_HEIGHT,
    }


def sink_rows(project, history: list[tuple[float, dict]]) -> list[dict]:
    """One row per sink a runsink process has reported figures for, in the sinks' order."""
    flows = (history[-1][1].get("sink_flows") or {}) if history else {}
    if not flows:
        return []
    rows = []
    for sink_id, name, max_concurrency in project.sinks.order_by("created_at").values_list("pk", "name",
                                                                                         "max_concurrency"):
        figures = flows.get(str(sink_id))
        if figures is not None:
            rows.append({**figures, "name": name, "max_concurrency": max_concurrency,
                         "throttled_minutes": round(float(figures.get("throttled_seconds") or 0) / 60, 1)})
    return rows
