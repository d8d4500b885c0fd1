"""Serve the receiver with uvicorn; the management command and the benchmark call ``serve()``.

uvicorn owns SIGTERM/SIGINT: it stops accepting, lets in-flight requests finish (up to
``graceful_seconds``), then runs the lifespan shutdown, where the receiver drains NATS.
"""

from __future__ import annotations

import logging

import uvicorn

from glassflow_site.gctuning import tune_gc_for_records

logger = logging.getLogger(__name__)

APP_FACTORY = "ingest.receiver.app:create_app"


def serve(host: str = "127.0.0.1", port: int = 4318, workers: int = 1, graceful_seconds: int = 20,
          access_log: bool = False, log_level: str = "info") -> None:
    """Run until SIGTERM/SIGINT. With ``workers > 1`` uvicorn forks worker processes on one socket."""
    tune_gc_for_records()
    logger.info("OTLP/HTTP receiver listening on http://%s:%d (%d worker%s)", host, port, workers,
                "" if workers == 1 else "s")
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
