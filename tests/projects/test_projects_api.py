"""Projects, members and API keys through the REST API."""

from __future__ import annotations

import hashlib

import pytest

from pipelines.models import Pipeline
from projects import services
from projects.models import ApiKey, Membership, Project, Role
from tests.support.clients import client_for
from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_creating_a_project_makes_the_creator_owner_and_gives_it_a_pipeline():
    user = UserFactory()
    response = client_for(user).post("/api/v1/projects/", {"name": "  checkout  "}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "checkout"
    assert body["role"] == "owner"
    project = Project.objects.get(pk=body["id"])
    assert Membership.objects.get(project=project).user == user
    assert Pipeline.objects.filter(project=project).exists()


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "   "}, {"name": "x" * 101}])
def test_project_name_is_required_and_bounded(body):
    response = client_for(UserFactory()).post("/api/v1/projects/", body, format="json")
    assert response.status_code == 400
    assert "name" in response.json()


def test_api_key_secret_is_returned_once_and_only_its_hash_is_stored(team):
    client = client_for(team.admin)
    response = client.post(f"/api/v1/projects/{team.project.pk}/keys/", {"name": "collector"}, format="json")
    assert response.status_code == 201
    body = response.json()
    secret = body["key"]
    assert secret.startswith(body["prefix"] + "_")
    key = ApiKey.objects.get(pk=body["id"])
    assert key.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(ApiKey.objects.filter(pk=key.pk).values().first())
    listed = client.get(f"/api/v1/projects/{team.project.pk}/keys/").json()["results"]
    assert [k["prefix"] for k in listed] == [body["prefix"]]
    assert "key" not in listed[0] and secret not in str(listed)


def test_revoking_a_key_keeps_it_listed_as_revoked(team):
    client = client_for(team.admin)
    created = client.post(f"/api/v1/projects/{team.project.pk}/keys/", {"name": "ci"}, format="json").json()
    revoked = client.post(f"/api/v1/projects/{team.project.pk}/keys/{created['id']}/revoke/").json()
    assert revoked["revoked_at"] is not None and revoked["is_active"] is False


def test_key_name_is_required(team):
    response = client_for(team.admin).post(f"/api/v1/projects/{team.project.pk}/keys/", {"name": ""},
                                           format="json")
    assert response.status_code == 400 and "name" in response.json()


def test_owner_adds_member_by_email_and_changes_role(team):
    client = client_for(team.owner)
    newcomer = UserFactory(email="newcomer@example.com")
    added = client.post(f"/api/v1/projects/{team.project.pk}/members/",
                        {"email": "NEWCOMER@example.com", "role": "admin"}, format="json")
    assert added.status_code == 201, added.content
    assert added.json()["role"] == "admin"
    changed = client.patch(f"/api/v1/projects/{team.project.pk}/members/{newcomer.pk}/", {"role": "viewer"},
                           format="json")
    assert changed.json()["role"] == "viewer"


@pytest.mark.parametrize("body,field", [
    ({"email": "nobody@example.com", "role": "viewer"}, "email"),
    ({"email": "not-an-email", "role": "viewer"}, "email"),
    ({"email": "x@example.com", "role": "superuser"}, "role"),
])
def test_adding_a_member_validates_email_and_role(team, body, field):
    UserFactory(email="x@example.com")
    response = client_for(team.owner).post(f"/api/v1/projects/{team.project.pk}/members/", body, format="json")
    assert response.status_code == 400 and field in response.json()


def test_adding_an_existing_member_again_is_400(team):
    response = client_for(team.owner).post(f"/api/v1/projects/{team.project.pk}/members/",
                                           {"email": team.viewer.email, "role": "admin"}, format="json")
    assert response.status_code == 400


def test_adding_a_member_who_joined_meanwhile_is_refused_by_the_service(team):
    """The API and the members page both add through services.add_member: a second add of the same
    person (two invites racing past the forms' check) is an InviteError, never a 500 or a second row."""
    newcomer = UserFactory()
    services.add_member(team.project, newcomer, Role.VIEWER)
    with pytest.raises(services.InviteError, match="already a member"):
        services.add_member(team.project, newcomer, Role.ADMIN)
    assert Membership.objects.get(project=team.project, user=newcomer).role == Role.VIEWER


def test_the_last_owner_cannot_be_removed_or_demoted(team):
    client = client_for(team.owner)
    path = f"/api/v1/projects/{team.project.pk}/members/{team.owner.pk}/"
    assert client.delete(path).status_code == 400
    demote = client.patch(path, {"role": "admin"}, format="json")
    assert demote.status_code == 400 and "role" in demote.json()
    assert Membership.objects.get(project=team.project, user=team.owner).role == "owner"


def test_an_owner_can_leave_once_there_is_another_owner(team):
    client = client_for(team.owner)
    client.patch(f"/api/v1/projects/{team.project.pk}/members/{team.admin.pk}/", {"role": "owner"}, format="json")
    assert client.delete(f"/api/v1/projects/{team.project.pk}/members/{team.owner.pk}/").status_code == 204


def test_owner_deletes_project(team):
    assert client_for(team.owner).delete(f"/api/v1/projects/{team.project.pk}/").status_code == 204
    assert not Project.objects.filter(pk=team.project.pk).exists()
