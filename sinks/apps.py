"""Sinks: where agent outputs are delivered (one kind per module of sinks/kinds/: webhook, Slack, chat webhook)."""

from __future__ import annotations

from django.apps import AppConfig


class SinksConfig(AppConfig):
    name = "sinks"
