"""Serve the internal API (/internal/v1/) on its own, loopback-only listener."""

from __future__ import annotations

import ipaddress

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Serve /internal/v1/ (unmasked configuration documents) on 127.0.0.1:INTERNAL_API_PORT."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="a loopback address (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=settings.INTERNAL_API_PORT)

    def handle(self, *args, **options):
        try:
            loopback = ipaddress.ip_address(options["host"]).is_loopback
        except ValueError:
            loopback = options["host"] == "localhost"
        if not loopback:
            raise CommandError("the internal API returns every tenant's secrets: listen on a loopback address "
                               "(127.0.0.1 or ::1) and reach it through the host, not the network")
        if not settings.INTERNAL_SERVICE_TOKEN:
            raise CommandError("set INTERNAL_SERVICE_TOKEN first: without it the internal API is disabled")
        uvicorn.run("glassflow_site.internal_asgi:application", host=options["host"], port=options["port"],
                    lifespan="off", access_log=False)
