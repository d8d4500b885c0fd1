"""Routes of the runs API, mounted under /api/v1/projects/{id}/runs/."""

from __future__ import annotations

from django.urls import path

from runs.api import views

urlpatterns = [
    path("", views.RunListView.as_view(), name="api-runs"),
    path("<str:request_id>/", views.RunDetailView.as_view(), name="api-run"),
    path("<str:request_id>/replay/", views.RunReplayView.as_view(), name="api-run-replay"),
]
