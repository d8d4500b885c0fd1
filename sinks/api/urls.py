"""Routes of the sinks API."""

from __future__ import annotations

from django.urls import path

from sinks.api import views

urlpatterns = [
    path("", views.SinkListView.as_view(), name="api-sinks"),
    path("<uuid:sink_id>/", views.SinkDetailView.as_view(), name="api-sink"),
    path("<uuid:sink_id>/test/", views.SinkTestView.as_view(), name="api-sink-test"),
]
