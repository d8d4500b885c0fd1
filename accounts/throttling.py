"""Rate limit for the browser login and signup forms, sharing the API's `auth` rate and cache."""

from __future__ import annotations

from rest_framework.throttling import SimpleRateThrottle


class AuthFormThrottle(SimpleRateThrottle):
    scope = "auth"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": "auth-form", "ident": self.get_ident(request)}


def form_rate_limited(request) -> bool:
    """True when this client has posted to the login/signup forms too often."""
    return not AuthFormThrottle().allow_request(request, None)
