"""Routes of the run history pages, included by ``projects.urls`` under /projects/{id}/runs/
(no namespace of their own: the names stay ``projects:runs`` and friends)."""

from __future__ import annotations

from django.urls import path

from runs import views

urlpatterns = [
    path("", views.runs, name="runs"),
    # path: agents may use request ids with "/" in them; replay is matched first for that reason.
    path("<path:request_id>/replay/", views.replay_run, name="run_replay"),
    path("<path:request_id>/", views.run, name="run"),
]
