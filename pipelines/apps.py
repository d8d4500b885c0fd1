"""Pipelines: each project's filter, transforms, batching and agent delivery settings."""

from __future__ import annotations

from django.apps import AppConfig


class PipelinesConfig(AppConfig):
    name = "pipelines"
