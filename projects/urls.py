"""Routes of the project pages."""

from __future__ import annotations

from django.urls import path

from projects import views

app_name = "projects"
urlpatterns = [
    path("", views.project_list, name="list"),
    path("projects/<uuid:project_id>/", views.project_detail, name="detail"),
]
