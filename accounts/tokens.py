"""Revocation of a user's JWTs when their password changes.

Access tokens carry a digest of the password hash (simplejwt's ``CHECK_REVOKE_TOKEN``), so
they stop working at once. Refresh tokens are not checked that way, so every refresh token
issued to the user (each one is recorded as outstanding, rotated ones too) is blacklisted:
a stolen refresh token cannot renew itself past a password change.
"""

from __future__ import annotations


def revoke_refresh_tokens(user) -> int:
    """Blacklist every refresh token of ``user`` that is not blacklisted yet; returns how many."""
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

    live = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    created = BlacklistedToken.objects.bulk_create([BlacklistedToken(token=token) for token in live],
                                                   ignore_conflicts=True)
    return len(created)
