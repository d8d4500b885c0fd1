"""Signup, login, refresh with rotation, logout that blacklists, and the rate limit on auth endpoints."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from tests.support.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def signup(api, email="new@example.com", password=PASSWORD, **extra):
    return api.post("/api/v1/auth/signup/", {"email": email, "password": password, **extra}, format="json")


def test_signup_creates_user_with_lowercased_email_and_returns_tokens(api):
    response = signup(api, email="New.User@Example.COM", name="New User")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["user"]["email"] == "new.user@example.com"
    assert body["access"] and body["refresh"]
    assert User.objects.get(email="new.user@example.com").check_password(PASSWORD)


def test_signup_rejects_duplicate_email_in_any_case(api):
    UserFactory(email="taken@example.com")
    response = signup(api, email="TAKEN@example.com")
    assert response.status_code == 400
    assert "email" in response.json()


@pytest.mark.parametrize("password", ["short", "12345678901", "password123"])
def test_signup_rejects_weak_passwords_naming_the_field(api, password):
    response = signup(api, password=password)
    assert response.status_code == 400
    assert "password" in response.json()


def test_signup_rejects_invalid_email(api):
    response = signup(api, email="not-an-email")
    assert response.status_code == 400
    assert "email" in response.json()


def test_login_with_email_returns_access_and_refresh(api):
    UserFactory(email="me@example.com")
    response = api.post("/api/v1/auth/login/", {"email": "ME@example.com", "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    access = response.json()["access"]
    me = api.get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert me.status_code == 200
    assert me.json()["email"] == "me@example.com"


def test_login_with_wrong_password_is_401(api):
    UserFactory(email="me@example.com")
    response = api.post("/api/v1/auth/login/", {"email": "me@example.com", "password": "wrong"}, format="json")
    assert response.status_code == 401


def test_refresh_rotates_and_the_old_refresh_token_stops_working(api):
    tokens = signup(api).json()
    first = api.post("/api/v1/auth/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert first.status_code == 200
    assert first.json()["refresh"] != tokens["refresh"]
    again = api.post("/api/v1/auth/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert again.status_code == 401


def test_logout_blacklists_the_refresh_token(api):
    tokens = signup(api).json()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    response = api.post("/api/v1/auth/logout/", {"refresh": tokens["refresh"]}, format="json")
    assert response.status_code == 204
    after = api.post("/api/v1/auth/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert after.status_code == 401


def test_logout_refuses_another_users_refresh_token(api):
    mine = signup(api, email="a@example.com").json()
    theirs = signup(api, email="b@example.com").json()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {mine['access']}")
    response = api.post("/api/v1/auth/logout/", {"refresh": theirs["refresh"]}, format="json")
    assert response.status_code == 400
    assert api.post("/api/v1/auth/refresh/", {"refresh": theirs["refresh"]}, format="json").status_code == 200


def test_me_needs_authentication(api):
    assert api.get("/api/v1/auth/me/").status_code == 401


def test_login_is_rate_limited_per_client(api):
    UserFactory(email="me@example.com")
    statuses = [api.post("/api/v1/auth/login/", {"email": "me@example.com", "password": "wrong"},
                         format="json").status_code for _ in range(25)]
    assert statuses[0] == 401
    assert statuses[-1] == 429
    assert 429 in statuses[:21]
    # Another client (another peer address) is not held back by the first one's failures.
    other = APIClient(REMOTE_ADDR="192.0.2.7")
    response = other.post("/api/v1/auth/login/", {"email": "me@example.com", "password": "wrong"}, format="json")
    assert response.status_code == 401
