"""``manage.py runsink``: deliver agent outputs to webhooks and Slack until SIGTERM.

Transient failures are retried while the stream holds the outputs (backoff 1 s doubling up to
60 s, 10 s per request: settings SINK_INITIAL_BACKOFF_MS, SINK_MAX_BACKOFF_MS and
SINK_REQUEST_TIMEOUT_SECONDS, overridden per process with the options below); a sink's own
"dead-letter after" setting opts in to giving up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys

import nats
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from prometheus_client import REGISTRY, start_http_server

from glassflow_site.fdlimit import raise_open_file_limit
from glassflow_site.supervision import SupervisionCollector
from outbound import RetryPolicy
from projects.configsync import stream_limits
from sinks.worker.consumer import ConsumerOptions
from sinks.worker.worker import SinkWorker, WorkerOptions

logger = logging.getLogger(__name__)



# Outbound connections to webhooks and Slack, plus NATS; systemd's default soft limit is 1024.
SINK_OPEN_FILES = 4096


class Command(BaseCommand):
    help = "Run the sink worker: one durable consumer per enabled sink, delivering to webhooks and Slack."

    def add_arguments(self, parser):
        parser.add_argument("--initial-backoff-ms", type=int, default=settings.SINK_INITIAL_BACKOFF_MS)
        parser.add_argument("--max-backoff-ms", type=int, default=settings.SINK_MAX_BACKOFF_MS)
        parser.add_argument("--request-timeout", type=float, default=settings.SINK_REQUEST_TIMEOUT_SECONDS,
                            help="seconds per delivery attempt")
        parser.add_argument("--batch-size", type=int, default=settings.SINK_BATCH_SIZE)
        parser.add_argument("--metrics-port", type=int, default=9465, help="Prometheus /metrics port (0 = off)")
        parser.add_argument("--metrics-addr", default="127.0.0.1",
                            help="address the metrics endpoint listens on (loopback by default; 0.0.0.0 for all)")

    def handle(self, *args, **options):
        raise_open_file_limit(SINK_OPEN_FILES)
        # Transient failures are retried while the stream holds the outputs; a sink may opt in to
        # dead-lettering after a while (its dead_letter_after_minutes, in the config document).
        retry = RetryPolicy(initial_backoff=options["initial_backoff_ms"] / 1000,
                            max_backoff=options["max_backoff_ms"] / 1000)
        timeout = options["request_timeout"]
        # ack_wait keeps its short default whatever the timeout: every message of a batch being
        # worked on is kept alive by in_progress(), so ack_wait only delays a crashed process's work.
        consumer = ConsumerOptions(retry=retry, request_timeout=timeout, batch_size=options["batch_size"])
        worker_options = WorkerOptions(
            consumer=consumer, allow_private=settings.ALLOW_PRIVATE_TARGETS, config_bucket=settings.CONFIG_BUCKET,
            stats_bucket=settings.STATS_BUCKET, replicas=settings.STREAM_REPLICAS,
            stream_limits=stream_limits(), shutdown_grace=timeout + 5)
        # Until the worker's own handler is installed (after connecting) nothing is in flight, so a
        # SIGTERM during start-up simply exits cleanly instead of killing the process with -15.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        if options["metrics_port"]:
            with contextlib.suppress(ValueError):  # already registered (the command ran before in this process)
                REGISTRY.register(SupervisionCollector())
            try:
                start_http_server(options["metrics_port"], addr=options["metrics_addr"])
            except OSError as exc:
                raise CommandError(f"cannot serve metrics on {options['metrics_addr']}:{options['metrics_port']} "
                                   f"({exc}); choose another --metrics-port, or 0 to turn metrics off") from None
        asyncio.run(run(worker_options))


async def run(options: WorkerOptions) -> None:
    async def log_error(exc: Exception) -> None:
        logger.warning("NATS: %s", exc)

    nc = await nats.connect(servers=settings.NATS_SERVERS, connect_timeout=settings.NATS_CONNECT_TIMEOUT,
                            allow_reconnect=True, max_reconnect_attempts=-1, reconnect_time_wait=1,
                            error_cb=log_error, name="glassflow-sink")
    worker = SinkWorker(nc, options)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, worker.stop.set)
    await worker.run()
