"""Projects: the unit of tenancy, with members, API keys and the NATS resources they own."""

from __future__ import annotations

from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
