"""Prometheus metrics of the receiver, in a registry of its own.

A registry per app (not prometheus_client's global one) lets tests run several apps in
one process. With ``--workers N`` (``PROMETHEUS_MULTIPROC_DIR`` set by ``runreceiver``)
prometheus_client's multiprocess mode writes every worker's values to files in that folder,
and a scrape, whichever worker answers it, sums them: counters and histograms add up, the
in-flight and connected gauges add up over live workers, the project count is the largest.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST

KNOWN_PATHS = frozenset({"/v1/logs", "/v1/traces", "/v1/metrics", "/internal/agent-output",
                         "/healthz", "/readyz", "/metrics"})

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_SIZE_BUCKETS = (256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216)


class ReceiverMetrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("glassflow_receiver_requests", "HTTP requests answered, by path and status",
                                ["path", "status"], registry=self.registry)
        self.records = Counter("glassflow_receiver_records_published",
                               "Records acknowledged by JetStream, by signal", ["signal"], registry=self.registry)
        self.rejected = Counter("glassflow_receiver_records_rejected",
                                "Records refused through partial_success, by signal", ["signal"],
                                registry=self.registry)
        self.publish_seconds = Histogram("glassflow_receiver_publish_seconds",
                                         "Time from the first publish of a request to its last JetStream ack",
                                         buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.body_bytes = Histogram("glassflow_receiver_body_bytes",
                                    "Request body sizes as received (before decompression), by path",
                                    ["path"], buckets=_SIZE_BUCKETS, registry=self.registry)
        self.grpc_requests = Counter("glassflow_receiver_grpc_requests", "OTLP/gRPC calls answered, by method and code",
                                     ["method", "code"], registry=self.registry)
        self.in_flight = Gauge("glassflow_receiver_requests_in_flight",
                               "Ingest requests being handled (OTLP and agent output)", registry=self.registry,
                               multiprocess_mode="livesum")
        self.nats_connected = Gauge("glassflow_receiver_nats_connected",
                                    "Worker processes connected to NATS (1 per connected worker)",
                                    registry=self.registry, multiprocess_mode="livesum")
        self.task_restarts = Counter("glassflow_task_restarts", "Background tasks that failed and were restarted",
                                     ["task"], registry=self.registry)
        self.projects = Gauge("glassflow_receiver_projects", "Projects with at least one active key",
                              registry=self.registry, multiprocess_mode="livemax")

    def count_request(self, path: str, status: int) -> None:
        self.requests.labels(path if path in KNOWN_PATHS else "other", str(status)).inc()

    def count_grpc(self, method: str, code) -> None:
        self.grpc_requests.labels(method, code.name).inc()

    def render(self) -> bytes:
        folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if not folder:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=folder)
        return generate_latest(registry)

    @staticmethod
    def process_exiting() -> None:
        """Drop this worker's live gauges from the shared figures (multiprocess mode only)."""
        folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if folder:
            multiprocess.mark_process_dead(os.getpid(), path=folder)
