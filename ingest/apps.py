"""Ingest: the receiver that takes OTLP/HTTP and agent output into JetStream."""

from __future__ import annotations

from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "ingest"
