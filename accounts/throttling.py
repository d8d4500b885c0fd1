"""Rate limits of signup, login, token refresh, password change and the admin login.

One ``auth`` rate (``AUTH_RATE_LIMIT``) for the API and the browser forms. Counters live in
the ``ratelimit`` cache (a database table), so every web process and host counts together.
The client is the TCP peer unless ``NUM_PROXIES`` says how many proxies append to
``X-Forwarded-For``; a client-supplied header is never trusted on its own.
"""

from __future__ import annotations

from django.core.cache import caches
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle


class AuthThrottle(ScopedRateThrottle):
    """The API's throttle for views with ``throttle_scope = "auth"``, on the shared cache."""

    def __init__(self) -> None:
        super().__init__()
        self.cache = caches["ratelimit"]


class AuthFormThrottle(SimpleRateThrottle):
    scope = "auth"

    def __init__(self) -> None:
        super().__init__()
        self.cache = caches["ratelimit"]

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": "auth-form", "ident": self.get_ident(request)}


def form_rate_limited(request) -> bool:
    """True when this client has posted to the login/signup forms too often."""
    return not AuthFormThrottle().allow_request(request, None)
