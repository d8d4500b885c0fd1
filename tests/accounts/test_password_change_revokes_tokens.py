"""A password change (API, browser page, or anywhere else the password is set) revokes every
refresh token issued before it, rotated ones included, and the access tokens too."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.support.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another-long-passphrase-77"


def login(api, email: str, password: str = PASSWORD) -> dict:
    response = api.post("/api/v1/auth/login/", {"email": email, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def refresh_status(api, token: str) -> int:
    return api.post("/api/v1/auth/refresh/", {"refresh": token}, format="json").status_code


def test_api_password_change_revokes_refresh_and_access_tokens_taken_before(api):
    user = UserFactory(email="me@example.com")
    before = login(api, user.email)
    rotated = api.post("/api/v1/auth/refresh/", {"refresh": login(api, user.email)["refresh"]},
                       format="json").json()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {before['access']}")
    response = api.post("/api/v1/auth/password/", {"old_password": PASSWORD, "new_password": NEW_PASSWORD},
                        format="json")
    assert response.status_code == 200, response.content
    fresh = response.json()
    api.credentials()
    assert refresh_status(api, before["refresh"]) == 401
    assert refresh_status(api, rotated["refresh"]) == 401
    assert api.get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Bearer {before['access']}").status_code == 401
    assert api.get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Bearer {fresh['access']}").status_code == 200
    assert refresh_status(api, fresh["refresh"]) == 200
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)


def test_api_password_change_checks_the_old_password_and_the_new_ones_strength(api):
    user = UserFactory(email="me@example.com")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {login(api, user.email)['access']}")
    wrong = api.post("/api/v1/auth/password/", {"old_password": "nope", "new_password": NEW_PASSWORD},
                     format="json")
    assert wrong.status_code == 400 and "old_password" in wrong.json()
    weak = api.post("/api/v1/auth/password/", {"old_password": PASSWORD, "new_password": "12345678"},
                    format="json")
    assert weak.status_code == 400 and "new_password" in weak.json()


def test_browser_password_change_revokes_refresh_tokens_and_keeps_the_session(api):
    user = UserFactory(email="me@example.com")
    tokens = login(api, user.email)
    browser = Client()
    browser.force_login(user)
    response = browser.post(reverse("accounts:password_change"), {
        "old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert refresh_status(api, tokens["refresh"]) == 401
    assert browser.get(reverse("projects:list")).status_code == 200


def test_a_password_set_elsewhere_revokes_them_too(api):
    user = UserFactory(email="me@example.com")
    tokens = login(api, user.email)
    user.set_password(NEW_PASSWORD)  # what Django admin and `manage.py changepassword` do
    user.save()
    assert refresh_status(api, tokens["refresh"]) == 401
