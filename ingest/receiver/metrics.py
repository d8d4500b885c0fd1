"""Prometheus metrics of one receiver process, in a registry of its own.

A registry per app (not prometheus_client's global one) lets tests run several apps in
one process. With ``--workers N`` each worker process has its own figures and a scrape sees
one of them; run one worker per container/port when exact figures matter.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
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
                               "Ingest requests being handled (OTLP and agent output)", registry=self.registry)
        self.nats_connected = Gauge("glassflow_receiver_nats_connected", "1 while connected to NATS",
                                    registry=self.registry)
        self.projects = Gauge("glassflow_receiver_projects", "Projects with at least one active key",
                              registry=self.registry)

    def count_request(self, path: str, status: int) -> None:
        self.requests.labels(path if path in KNOWN_PATHS else "other", str(status)).inc()

    def count_grpc(self, method: str, code) -> None:
        self.grpc_requests.labels(method, code.name).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
