"""Publish project configuration documents to the gf-ai-config KV bucket (and ensure streams).

By default only what is pending (changes made while NATS was unreachable); ``--all``
re-publishes every project, for example into a wiped bucket; ``--watch`` keeps going.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from projects.configsync import sync_all, sync_pending


class Command(BaseCommand):
    help = "Publish pending (or, with --all, every) project configuration document to NATS."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="re-publish every project, not only pending ones")
        parser.add_argument("--watch", action="store_true", help="keep publishing pending changes until stopped")

    def handle(self, *args, **options):
        if options["all"]:
            failures = sync_all()
            if failures:
                raise CommandError(f"{failures} project(s) could not be published: is NATS reachable at "
                                   f"{settings.NATS_URL}?")
            self.stdout.write("Every project's configuration is published.")
            if not options["watch"]:
                return
        while True:
            left = sync_pending()
            if not options["watch"]:
                if left:
                    raise CommandError(f"{left} change(s) could not be published: is NATS reachable at "
                                       f"{settings.NATS_URL}?")
                self.stdout.write("No configuration changes are pending.")
                return
            close_old_connections()
            time.sleep(settings.CONFIG_RECONCILE_INTERVAL)
