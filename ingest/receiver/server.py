"""Serve the receiver with uvicorn; the management command and the benchmark call ``serve()``.

uvicorn owns SIGTERM/SIGINT: it stops accepting, lets in-flight requests finish (up to
``graceful_seconds``), then runs the lifespan shutdown, where the receiver drains NATS.
"""

from __future__ import annotations

import gc
import logging

import uvicorn

logger = logging.getLogger(__name__)

APP_FACTORY = "ingest.receiver.app:create_app"


def serve(host: str = "127.0.0.1", port: int = 4318, workers: int = 1, graceful_seconds: int = 20,
          access_log: bool = False, log_level: str = "info") -> None:
    """Run until SIGTERM/SIGINT. With ``workers > 1`` uvicorn forks worker processes on one socket."""
    # Every request allocates thousands of short-lived dicts (one per record); with the default
    # thresholds the cyclic GC runs constantly and its full collections show up as latency tails.
    # Records are acyclic, so collect rarely, and keep start-up objects out of every collection.
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
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
