"""Dead letters: pages, API and JetStream reads; no models of its own."""

from __future__ import annotations

from django.apps import AppConfig


class DeadlettersConfig(AppConfig):
    name = "deadletters"
