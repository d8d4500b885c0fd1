"""Prometheus metrics of the sink worker, served by ``manage.py runsink --metrics-port``."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

DELIVERIES = Counter("glassflow_sink_deliveries_total", "Outputs delivered to a sink", ["project", "sink"])
FAILED_ATTEMPTS = Counter("glassflow_sink_failed_attempts_total", "Delivery attempts that failed",
                          ["project", "sink"])
DEAD_LETTERS = Counter("glassflow_sink_dead_letters_total", "Outputs moved to the dead-letter stream",
                       ["project", "sink"])
STALLED_SINCE = Gauge("glassflow_sink_stalled_since_seconds",
                      "Unix time of the first transient failure since the sink's last delivery; 0 when not stalled",
                      ["project", "sink"])
THROTTLED_SECONDS = Counter("glassflow_sink_throttled_seconds_total",
                            "Time outputs waited for the sink's max_per_minute (Slack: 60)", ["project", "sink"])
ROUND_TRIP_SECONDS = Gauge("glassflow_sink_rtt_seconds", "Round-trip time of recent first-attempt deliveries",
                           ["project", "sink", "quantile"])
CONCURRENCY_LIMIT = Gauge("glassflow_sink_concurrency_limit",
                          "Outputs the sink's adaptive concurrency controller lets go at once (1: strict order)",
                          ["project", "sink"])
IN_FLIGHT = Gauge("glassflow_sink_in_flight", "Outputs being delivered to the sink right now", ["project", "sink"])
