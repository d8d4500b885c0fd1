"""URL map of the internal listener (glassflow_site/internal_asgi.py): the internal API only."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("internal/v1/", include("projects.internal.urls")),
]
