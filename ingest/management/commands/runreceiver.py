"""``manage.py runreceiver``: the OTLP receiver, HTTP on 4318 and gRPC on 4317 (see docs/receiver.md)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from glassflow_site.fdlimit import raise_open_file_limit
from ingest.receiver.receiver_config import ReceiverConfig
from ingest.receiver.server import serve

# Clients (OTLP exporters, collectors) keep connections open; systemd's default soft limit is 1024.
RECEIVER_OPEN_FILES = 65536


class Command(BaseCommand):
    help = "Run the OTLP/HTTP and OTLP/gRPC receiver (logs, traces, metrics, agent output) that publishes to JetStream."
    # The receiver serves no Django view and opens no database: skipping the system checks keeps
    # URL confs, admin and DRF out of its start-up and its memory.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1",
                            help="address to listen on (0.0.0.0 to accept from other hosts)")
        parser.add_argument("--port", type=int, default=4318, help="port to listen on (OTLP/HTTP default 4318)")
        parser.add_argument("--grpc-port", type=int, default=4317,
                            help="OTLP/gRPC port (OTLP's default 4317); 0 serves OTLP/HTTP only")
        parser.add_argument("--grpc-host", default=None, help="address for OTLP/gRPC (default: --host)")
        parser.add_argument("--workers", type=int, default=1,
                            help="worker processes sharing both ports, each with its own NATS connection")
        parser.add_argument("--graceful-seconds", type=int, default=20,
                            help="on SIGTERM, how long in-flight requests may take to finish")
        parser.add_argument("--access-log", action="store_true", help="log every request")

    def handle(self, *args, **options):
        if options["workers"] < 1:
            raise CommandError("--workers must be at least 1")
        try:
            ReceiverConfig.from_settings()  # fail here, with the setting's name, not in every worker
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        raise_open_file_limit(RECEIVER_OPEN_FILES)  # one descriptor per client connection
        serve(host=options["host"], port=options["port"], workers=options["workers"],
              graceful_seconds=options["graceful_seconds"], access_log=options["access_log"],
              log_level="debug" if options["verbosity"] >= 2 else "info",
              grpc_host=options["grpc_host"], grpc_port=options["grpc_port"])
