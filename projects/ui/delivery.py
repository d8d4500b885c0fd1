"""The Activity page's "Delivery to the agent" panel (the adaptive concurrency and the cost guards) and
its compact per-sink rows (each sink's concurrency limit, in flight, RTT and throttled time).

From the dashboard's sample history (``projects.ui.stats.sample``): the current concurrency
limit, batches in flight and waiting, RTT p50/p99, time throttled by a limit and what throttles
now, and a small server-side SVG chart of the limit and the RTT p99 over the samples.
"""

from __future__ import annotations

from projects.ui.sparkline import sparkline_points

CHART_WIDTH = 300.0
CHART_HEIGHT = 60.0


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
