"""Masking of secrets the user entered (headers, webhook URLs) in API responses and pages.

A client that reads a masked value and sends it back unchanged keeps the stored secret:
``restore_headers``/``restore_value`` swap the mask for what was stored, so an edit form
can round-trip without ever seeing the secret.
"""

from __future__ import annotations

from urllib.parse import urlsplit

MASK = "********"


def mask_headers(headers: dict[str, str]) -> dict[str, str]:
    return {name: MASK for name in headers}


def restore_headers(submitted: dict[str, str], stored: dict[str, str]) -> dict[str, str]:
    restored = {}
    for name, value in submitted.items():
        if value == MASK:
            previous = next((v for k, v in stored.items() if k.lower() == name.lower()), None)
            if previous is None:
                raise ValueError(f"header {name} has no stored value to keep; enter its value")
            restored[name] = previous
        else:
            restored[name] = value
    return restored


def mask_url(url: str) -> str:
    """Keep scheme and host so the user recognises the target; hide path and query, which carry the secret."""
    if not url:
        return ""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/{MASK}"


def restore_value(submitted: str, stored: str, masked: str) -> str:
    return stored if submitted in (masked, MASK) and stored else submitted
