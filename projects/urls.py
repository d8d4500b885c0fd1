"""Routes of the project pages (list, activity, settings, members, keys, dead letters)."""

from __future__ import annotations

from django.urls import path

from projects import views
from projects.ui import deadletters, keys, members, runs, settings

app_name = "projects"
P = "projects/<uuid:project_id>/"
urlpatterns = [
    path("", views.project_list, name="list"),
    path(P, views.project_detail, name="detail"),
    path(P + "stats/", views.project_stats, name="stats"),
    path(P + "settings/", settings.project_settings, name="settings"),
    path(P + "rename/", settings.rename_project, name="rename"),
    path(P + "delete/", settings.delete_project, name="delete"),
    path(P + "members/", members.members, name="members"),
    path(P + "members/<int:user_id>/role/", members.change_role, name="member_role"),
    path(P + "members/<int:user_id>/remove/", members.remove_member, name="member_remove"),
    path(P + "keys/", keys.keys, name="keys"),
    path(P + "keys/<int:key_id>/revoke/", keys.revoke_key, name="key_revoke"),
    path(P + "deadletters/", deadletters.dead_letters, name="deadletters"),
    path(P + "deadletters/action/", deadletters.dead_letter_action, name="deadletters_action"),
    path(P + "deadletters/<int:seq>/", deadletters.dead_letter, name="deadletter"),
    path(P + "runs/", runs.runs, name="runs"),
    path(P + "runs/<path:request_id>/replay/", runs.replay_run, name="run_replay"),
    path(P + "runs/<path:request_id>/", runs.run, name="run"),
]
