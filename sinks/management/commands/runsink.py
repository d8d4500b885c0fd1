"""``manage.py runsink``: deliver agent outputs to webhooks and Slack until SIGTERM.

Transient failures are retried while the stream holds the outputs (backoff 1 s doubling up to
60 s, 10 s per request: settings SINK_INITIAL_BACKOFF_MS, SINK_MAX_BACKOFF_MS and
SINK_REQUEST_TIMEOUT_SECONDS, overridden per process with the options below); a sink's own
"dead-letter after" setting opts in to giving up.
"""

from __future__ import annotations

import signal
import sys

from django.conf import settings
from django.core.management.base import BaseCommand

from glassflow_site.fdlimit import raise_open_file_limit
from glassflow_site.workerloop import run_from_command
from outbound import RetryPolicy
from sinks.worker.consumer import ConsumerOptions
from sinks.worker.worker import SinkWorker, SinkWorkerSettings

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
        worker_settings = SinkWorkerSettings.from_settings(
            consumer=consumer, metrics_port=options["metrics_port"], metrics_addr=options["metrics_addr"],
            grace_seconds=timeout + 5)
        # Until the worker's own handler is installed nothing is in flight, so a SIGTERM during
        # start-up simply exits cleanly instead of killing the process with -15.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        run_from_command(SinkWorker(worker_settings))
