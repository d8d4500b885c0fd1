"""Serve the receiver with uvicorn; the management command and the benchmark call ``serve()``.

uvicorn owns SIGTERM/SIGINT: it stops accepting, lets in-flight requests finish (up to
``graceful_seconds``), then runs the lifespan shutdown, where the gRPC server finishes its calls
and the receiver drains NATS. The OTLP/gRPC server is started by the same lifespan on the same
event loop, so one process serves both protocols from one NATS connection and key index.

With ``workers > 1`` uvicorn's supervisor shares the HTTP socket with its worker processes and
each worker binds the gRPC port with SO_REUSEPORT; each worker has its own NATS connection and
key index. Their metrics are written to ``PROMETHEUS_MULTIPROC_DIR`` (a fresh temporary folder
unless set) so that a scrape of any worker's ``/metrics`` sums all of them.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile

import uvicorn

from glassflow_site.gctuning import tune_gc_for_records
from ingest.receiver.receiver_config import GRACE_ENV, GRPC_LISTEN_ENV, WORKERS_ENV

logger = logging.getLogger(__name__)

APP_FACTORY = "ingest.receiver.app:create_app"


MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
INVALID_REQUEST = "Invalid HTTP request received."
GRPC_HINT = (" Not HTTP/1.1: a gRPC (HTTP/2) client pointed at the OTLP/HTTP port? OTLP/gRPC is served on "
             "port 4317 (runreceiver --grpc-port); set OTEL_EXPORTER_OTLP_PROTOCOL and the port together.")


class ExplainInvalidRequests(logging.Filter):
    """uvicorn logs only "Invalid HTTP request received." when an OTLP/gRPC exporter (HTTP/2) is
    pointed at 4318, the most common misconfiguration; say what probably happened."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == INVALID_REQUEST and not record.args:
            record.msg = INVALID_REQUEST + GRPC_HINT
        return True


def explain_invalid_requests() -> None:
    logger_ = logging.getLogger("uvicorn.error")
    if not any(isinstance(existing, ExplainInvalidRequests) for existing in logger_.filters):
        logger_.addFilter(ExplainInvalidRequests())


def grpc_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def prepare_worker_environment(grpc_host: str, grpc_port: int, workers: int, graceful_seconds: int) -> str | None:
    """Hand the gRPC address and the worker count to the app factory of every worker process.

    Returns the multiprocess metrics folder this call created (to be removed at exit), if any.
    """
    os.environ[GRPC_LISTEN_ENV] = grpc_address(grpc_host, grpc_port) if grpc_port else ""
    os.environ[WORKERS_ENV] = str(workers)
    os.environ[GRACE_ENV] = str(graceful_seconds)
    folder = os.environ.get(MULTIPROC_ENV)
    if folder:
        # Files of a previous run would be summed into this one's counters.
        os.makedirs(folder, exist_ok=True)
        for name in os.listdir(folder):
            if name.endswith(".db"):
                os.remove(os.path.join(folder, name))
        return None
    if workers == 1:
        return None
    folder = tempfile.mkdtemp(prefix="glassflow-receiver-metrics-")
    os.environ[MULTIPROC_ENV] = folder
    return folder


def serve(host: str = "127.0.0.1", port: int = 4318, workers: int = 1, graceful_seconds: int = 20,
          access_log: bool = False, log_level: str = "info", grpc_host: str | None = None,
          grpc_port: int = 4317) -> None:
    """Run until SIGTERM/SIGINT. With ``workers > 1`` uvicorn runs worker processes on one socket.

    ``grpc_port`` 0 serves OTLP/HTTP only; ``grpc_host`` defaults to ``host``.
    """
    tune_gc_for_records()
    created = prepare_worker_environment(grpc_host or host, grpc_port, workers, graceful_seconds)
    logger.info("OTLP/HTTP receiver listening on http://%s:%d (%d worker%s)", host, port, workers,
                "" if workers == 1 else "s")
    try:
        _run_uvicorn(host, port, workers, graceful_seconds, access_log, log_level)
    finally:
        if created:
            shutil.rmtree(created, ignore_errors=True)


def _run_uvicorn(host: str, port: int, workers: int, graceful_seconds: int, access_log: bool,
                 log_level: str) -> None:
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        lifespan="on",
        access_log=access_log,
        log_level=log_level,
        log_config=None,  # keep the process's logging setup (Django's LOGGING under manage.py)
        timeout_graceful_shutdown=graceful_seconds,
        server_header=False,
    )
