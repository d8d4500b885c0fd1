"""Owner/admin/viewer/outsider on every endpoint: outsiders get 404, viewers cannot change anything."""

from __future__ import annotations

import pytest

from projects.models import ApiKey, Membership, Project, Role
from sinks.models import Sink
from tests.support.clients import client_for
from tests.support.factories import UserFactory, project_state

pytestmark = pytest.mark.django_db

WEBHOOK = {"name": "hook", "kind": "webhook", "config": {"url": "https://example.com/hook"}}


def endpoints(team):
    """(method, path, body, least role that may do it, status when allowed) for every project-scoped
    endpoint, in an order where each allowed call leaves the next one something to act on."""
    pid = team.project.pk
    key, _ = ApiKey.mint(team.project, "existing")
    sink = Sink.objects.create(project=team.project, name="existing", kind="webhook",
                               config={"url": "https://example.com/x", "method": "POST", "headers": {}})
    extra = UserFactory()
    Membership.objects.create(project=team.project, user=extra, role=Role.VIEWER)
    base = f"/api/v1/projects/{pid}"
    return [
        ("get", f"{base}/", None, "viewer", 200),
        ("patch", f"{base}/", {"name": "renamed"}, "admin", 200),
        ("get", f"{base}/members/", None, "viewer", 200),
        ("post", f"{base}/members/", {"email": UserFactory().email, "role": "viewer"}, "owner", 201),
        ("patch", f"{base}/members/{extra.pk}/", {"role": "admin"}, "owner", 200),
        ("get", f"{base}/keys/", None, "viewer", 200),
        ("post", f"{base}/keys/", {"name": "ci"}, "admin", 201),
        ("post", f"{base}/keys/{key.pk}/revoke/", None, "admin", 200),
        ("get", f"{base}/pipeline/", None, "viewer", 200),
        ("put", f"{base}/pipeline/", {"batch_size": 20}, "admin", 200),
        ("patch", f"{base}/pipeline/", {"batch_size": 30}, "admin", 200),
        ("get", f"{base}/sinks/", None, "viewer", 200),
        ("post", f"{base}/sinks/", WEBHOOK, "admin", 201),
        ("get", f"{base}/sinks/{sink.pk}/", None, "viewer", 200),
        ("patch", f"{base}/sinks/{sink.pk}/", {"enabled": False}, "admin", 200),
        ("delete", f"{base}/sinks/{sink.pk}/", None, "admin", 204),
        ("delete", f"{base}/members/{extra.pk}/", None, "owner", 204),
        ("delete", f"{base}/", None, "owner", 204),
    ]


RANK = {"viewer": 0, "admin": 1, "owner": 2}


@pytest.mark.parametrize("role", ["owner", "admin", "viewer", "outsider"])
def test_each_role_gets_exactly_the_access_its_rank_allows(team, role):
    client = client_for(team.user(role))
    for method, path, body, least, allowed_status in endpoints(team):
        before = project_state(team.project.pk)
        response = getattr(client, method)(path, body, format="json")
        allowed = role != "outsider" and RANK[role] >= RANK[least]
        expected = allowed_status if allowed else 404 if role == "outsider" else 403
        assert response.status_code == expected, (role, method, path, response.status_code, response.content)
        if not allowed:
            assert project_state(team.project.pk) == before, f"a refused {method.upper()} {path} changed data"
        if allowed and method == "delete" and path.endswith(f"{team.project.pk}/"):
            assert not Project.objects.filter(pk=team.project.pk).exists()
            break


def test_outsider_does_not_see_the_project_in_the_list(team):
    names = [p["name"] for p in client_for(team.outsider).get("/api/v1/projects/").json()["results"]]
    assert team.project.name not in names
    names = [p["name"] for p in client_for(team.viewer).get("/api/v1/projects/").json()["results"]]
    assert names == [team.project.name]


def test_list_shows_the_callers_role(team):
    body = client_for(team.admin).get("/api/v1/projects/").json()
    assert body["results"][0]["role"] == "admin"


def test_unknown_project_is_404_not_500(team):
    response = client_for(team.owner).get("/api/v1/projects/00000000-0000-0000-0000-000000000000/keys/")
    assert response.status_code == 404


def test_anonymous_requests_are_401(api, team):
    assert api.get(f"/api/v1/projects/{team.project.pk}/").status_code == 401
    assert api.get("/api/v1/projects/").status_code == 401


def test_a_key_of_one_project_cannot_be_revoked_through_another(team):
    other = client_for(team.outsider).post("/api/v1/projects/", {"name": "mine"}, format="json").json()
    key, _ = ApiKey.mint(team.project, "theirs")
    response = client_for(team.outsider).post(f"/api/v1/projects/{other['id']}/keys/{key.pk}/revoke/")
    assert response.status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None
