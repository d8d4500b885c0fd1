"""Routes of the projects API."""

from __future__ import annotations

from django.urls import path

from projects.api import views

urlpatterns = [
    path("", views.ProjectListView.as_view(), name="api-projects"),
    path("<uuid:project_id>/", views.ProjectDetailView.as_view(), name="api-project"),
    path("<uuid:project_id>/members/", views.MemberListView.as_view(), name="api-members"),
    path("<uuid:project_id>/members/<int:user_id>/", views.MemberDetailView.as_view(), name="api-member"),
    path("<uuid:project_id>/keys/", views.ApiKeyListView.as_view(), name="api-keys"),
    path("<uuid:project_id>/keys/<int:key_id>/revoke/", views.ApiKeyRevokeView.as_view(), name="api-key-revoke"),
]
