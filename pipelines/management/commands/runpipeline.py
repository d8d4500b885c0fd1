"""``manage.py runpipeline``: run the pipeline worker until SIGTERM or SIGINT.

The command only turns settings and arguments into a ``PipelineWorkerSettings`` and runs the
asyncio loop; everything else lives in ``pipelines.worker`` (runsink is built the same way).
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from glassflow_site.fdlimit import connections_within_file_limit
from glassflow_site.gctuning import tune_gc_for_records
from glassflow_site.workerloop import run_from_command
from pipelines.worker import PipelineWorker, PipelineWorkerSettings
from runs.recorder import RunHistorySettings


class Command(BaseCommand):
    help = "Run the pipeline worker: filter, transform and batch raw records and deliver them to agents."

    def add_arguments(self, parser):
        parser.add_argument("--metrics-port", type=int, default=9464, help="Prometheus /metrics port (0 = off)")
        parser.add_argument("--metrics-addr", default="127.0.0.1",
                            help="address the metrics endpoint listens on (loopback by default; 0.0.0.0 for all)")
        parser.add_argument("--worker-id", default="",
                            help="stable id for the stats bucket (default: hostname-pid); a worker restarted with "
                                 "the same id continues its counters")
        parser.add_argument("--max-connections", type=int, default=4096,
                            help="connections to agents kept by this process (bounds batches in flight over all "
                                 "projects; each pipeline's max_concurrency bounds its own)")
        parser.add_argument("--grace-seconds", type=float, default=10.0,
                            help="on shutdown, how long in-flight deliveries may finish before they are released")

    def handle(self, *args, **options):
        worker_settings = PipelineWorkerSettings.from_settings(
            run_history=RunHistorySettings(enabled=settings.RUN_HISTORY_ENABLED,
                                           preview_bytes=settings.RUN_HISTORY_PREVIEW_BYTES),
            metrics_port=options["metrics_port"], metrics_addr=options["metrics_addr"],
            max_connections=connections_within_file_limit(max(1, options["max_connections"])),
            grace_seconds=max(0.0, options["grace_seconds"]))
        if options["worker_id"]:
            worker_settings.worker_id = options["worker_id"]
        tune_gc_for_records()
        run_from_command(PipelineWorker(worker_settings))
