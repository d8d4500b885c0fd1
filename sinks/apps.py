"""Sinks: where agent outputs are delivered (webhooks, Slack)."""

from __future__ import annotations

from django.apps import AppConfig


class SinksConfig(AppConfig):
    name = "sinks"
