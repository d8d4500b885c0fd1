"""Routes of the dead letters pages, included by ``projects.urls`` under /projects/{id}/deadletters/
(no namespace of their own: the names stay ``projects:deadletters`` and friends)."""

from __future__ import annotations

from django.urls import path

from deadletters import views

urlpatterns = [
    path("", views.dead_letters, name="deadletters"),
    path("action/", views.dead_letter_action, name="deadletters_action"),
    path("<int:seq>/", views.dead_letter, name="deadletter"),
]
