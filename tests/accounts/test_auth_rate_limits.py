"""Login and signup rate limits key on the real client, count in a table every web process
shares, and cover the API, the browser login form and Django admin's login."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings

from tests.support.factories import UserFactory

pytestmark = pytest.mark.django_db

ATTEMPTS = 30  # the default AUTH_RATE_LIMIT is 20/min


def rotating(index: int) -> dict:
    """What an attacker sends: a new X-Forwarded-For on every request, from one TCP peer."""
    return {"HTTP_X_FORWARDED_FOR": f"203.0.113.{index}", "REMOTE_ADDR": "198.51.100.7"}


def test_api_login_is_limited_whatever_x_forwarded_for_says(api):
    UserFactory(email="me@example.com")
    statuses = [api.post("/api/v1/auth/login/", {"email": "me@example.com", "password": "wrong"}, format="json",
                         **rotating(i)).status_code for i in range(ATTEMPTS)]
    assert statuses.count(429) >= ATTEMPTS - 20, statuses
    assert api.post("/api/v1/auth/login/", {"email": "me@example.com", "password": "wrong"}, format="json",
                    REMOTE_ADDR="198.51.100.8").status_code == 401  # another client is not blocked


def test_api_signup_is_limited_whatever_x_forwarded_for_says(api):
    statuses = [api.post("/api/v1/auth/signup/", {"email": f"u{i}@example.com", "password": "x"}, format="json",
                         **rotating(i)).status_code for i in range(ATTEMPTS)]
    assert statuses.count(429) >= ATTEMPTS - 20, statuses


def test_browser_login_form_is_limited_whatever_x_forwarded_for_says():
    client = Client()
    statuses = [client.post("/accounts/login/", {"username": "me@example.com", "password": "wrong"},
                            **rotating(i)).status_code for i in range(ATTEMPTS)]
    assert statuses.count(429) >= ATTEMPTS - 20, statuses


def test_browser_signup_form_is_limited_whatever_x_forwarded_for_says():
    client = Client()
    statuses = [client.post("/accounts/signup/", {"email": f"u{i}@example.com", "password": "x"},
                            **rotating(i)).status_code for i in range(ATTEMPTS)]
    assert statuses.count(429) >= ATTEMPTS - 20, statuses


def test_admin_login_is_limited():
    client = Client()
    statuses = [client.post("/admin/login/", {"username": "me@example.com", "password": "wrong"},
                            **rotating(i)).status_code for i in range(ATTEMPTS)]
    assert statuses[0] == 200  # the form again, with "please enter the correct e-mail and password"
    assert statuses.count(429) >= ATTEMPTS - 20, statuses


def test_behind_a_configured_proxy_the_forwarded_client_is_the_key(api):
    UserFactory(email="me@example.com")
    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}):
        statuses = [api.post("/api/v1/auth/login/", {"email": "me@example.com", "password": "wrong"},
                             format="json", **rotating(i % 2)).status_code for i in range(ATTEMPTS)]
    # Two real clients behind one proxy: each has its own 20 attempts, so none is refused.
    assert 429 not in statuses, statuses


def test_counters_live_in_the_shared_database_table(api):
    api.post("/api/v1/auth/login/", {"email": "me@example.com", "password": "wrong"}, format="json")
    table = settings.CACHES["ratelimit"]["LOCATION"]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608  a constant from settings
        assert cursor.fetchone()[0] >= 1


def test_the_browser_password_change_is_limited_too():
    user = UserFactory(email="me@example.com")
    client = Client()
    client.force_login(user)
    statuses = [client.post("/accounts/password/", {"old_password": "guess", "new_password1": "x",
                                                    "new_password2": "x"}, **rotating(i)).status_code
                for i in range(ATTEMPTS)]
    assert statuses[0] == 400
    assert statuses.count(429) >= ATTEMPTS - 20, statuses
