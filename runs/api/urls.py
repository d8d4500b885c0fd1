"""Routes of the runs API, mounted under /api/v1/projects/{id}/runs/."""

from __future__ import annotations

from django.urls import path

from runs.api import views

urlpatterns = [
    path("", views.RunListView.as_view(), name="api-runs"),
    # path: agents may use request ids with "/" in them; replay is matched first for that reason.
    path("<path:request_id>/replay/", views.RunReplayView.as_view(), name="api-run-replay"),
    path("<path:request_id>/", views.RunDetailView.as_view(), name="api-run"),
]
