"""API key format and hashing, pure so the receiver can check keys without Django models.

A key is ``gfk_`` + 8 hex characters (the public prefix, used to look it up) + ``_`` +
43 URL-safe random characters. Only the SHA-256 of the whole key is stored: the key
carries 256 random bits, so a slow password hash would add nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

KEY_PREFIX = "gfk_"
PREFIX_LENGTH = len(KEY_PREFIX) + 8


def new_key() -> tuple[str, str]:
    """Return (prefix, secret) of a new random key."""
    prefix = KEY_PREFIX + secrets.token_hex(4)
    return prefix, f"{prefix}_{secrets.token_urlsafe(32)}"


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def key_prefix(secret: str) -> str | None:
    """The public lookup prefix of a key, or None if the text is not shaped like one of our keys."""
    if not secret.startswith(KEY_PREFIX) or len(secret) <= PREFIX_LENGTH + 1 or secret[PREFIX_LENGTH] != "_":
        return None
    return secret[:PREFIX_LENGTH]


def key_matches(secret: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented key with a stored hash."""
    return hmac.compare_digest(hash_key(secret), stored_hash)
