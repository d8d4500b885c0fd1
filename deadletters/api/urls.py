"""Routes of the dead letters API, mounted under /api/v1/projects/{id}/deadletters/."""

from __future__ import annotations

from django.urls import path

from deadletters.api import views

urlpatterns = [
    path("", views.DeadLetterListView.as_view(), name="api-deadletters"),
    path("replay/", views.DeadLetterBulkReplayView.as_view(), name="api-deadletters-replay"),
    path("discard/", views.DeadLetterBulkDiscardView.as_view(), name="api-deadletters-discard"),
    path("<int:seq>/", views.DeadLetterDetailView.as_view(), name="api-deadletter"),
    path("<int:seq>/replay/", views.DeadLetterReplayView.as_view(), name="api-deadletter-replay"),
]
