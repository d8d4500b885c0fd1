"""Routes of the internal service API."""

from __future__ import annotations

from django.urls import path

from projects.internal import views

urlpatterns = [
    path("projects/<uuid:project_id>/config", views.project_config, name="internal-project-config"),
]
