"""Routes of the project pages (list, activity, settings, members, keys); the dead-letter and run
history pages are included from their apps under the same ``projects:`` names."""

from __future__ import annotations

from django.urls import include, path

from projects.views import dashboard, keys, members, project_settings

app_name = "projects"
P = "projects/<uuid:project_id>/"
urlpatterns = [
    path("", dashboard.project_list, name="list"),
    path(P, dashboard.project_detail, name="detail"),
    path(P + "stats/", dashboard.project_stats, name="stats"),
    path(P + "settings/", project_settings.project_settings, name="settings"),
    path(P + "rename/", project_settings.rename_project, name="rename"),
    path(P + "delete/", project_settings.delete_project, name="delete"),
    path(P + "members/", members.members, name="members"),
    path(P + "members/<int:user_id>/role/", members.change_role, name="member_role"),
    path(P + "members/<int:user_id>/remove/", members.remove_member, name="member_remove"),
    path(P + "keys/", keys.keys, name="keys"),
    path(P + "keys/<int:key_id>/revoke/", keys.revoke_key, name="key_revoke"),
    path(P + "deadletters/", include("deadletters.urls")),
    path(P + "runs/", include("runs.urls")),
]
