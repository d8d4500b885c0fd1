"""Routes of the sinks pages, mounted under /projects/{id}/sinks/."""

from __future__ import annotations

from django.urls import path

from sinks import views

app_name = "sinks"
urlpatterns = [
    path("", views.sink_list, name="list"),
    path("new/<str:kind>/", views.sink_create, name="create"),
    path("<uuid:sink_id>/", views.sink_edit, name="edit"),
    path("<uuid:sink_id>/delete/", views.sink_delete, name="delete"),
    path("<uuid:sink_id>/toggle/", views.sink_toggle, name="toggle"),
    path("<uuid:sink_id>/test/", views.sink_test, name="test"),
]
