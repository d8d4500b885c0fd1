"""The REST API's routes, gathered from each app's api/urls.py."""

from __future__ import annotations

from django.urls import include, path

from projects.api.views import ProjectStatsView

urlpatterns = [
    path("auth/", include("accounts.api.urls")),
    path("projects/", include("projects.api.urls")),
    path("projects/<uuid:project_id>/pipeline/", include("pipelines.api.urls")),
    path("projects/<uuid:project_id>/sinks/", include("sinks.api.urls")),
    path("projects/<uuid:project_id>/deadletters/", include("deadletters.api.urls")),
    path("projects/<uuid:project_id>/runs/", include("runs.api.urls")),
    path("projects/<uuid:project_id>/stats/", ProjectStatsView.as_view(), name="api-project-stats"),
]
