"""Route of the pipeline API."""

from __future__ import annotations

from django.urls import path

from pipelines.api import views

urlpatterns = [path("", views.PipelineView.as_view(), name="api-pipeline")]
