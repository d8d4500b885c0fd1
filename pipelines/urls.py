"""Routes of the pipeline editor page, mounted under /projects/{id}/pipeline/."""

from __future__ import annotations

from django.urls import path

from pipelines import views

app_name = "pipelines"
urlpatterns = [
    path("", views.edit, name="edit"),
    path("check/", views.check, name="check"),
    path("try/", views.try_records, name="try"),
    path("recent/", views.recent_records, name="recent"),
]
