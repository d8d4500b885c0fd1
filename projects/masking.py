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


def same_origin(first: str, second: str) -> bool:
    """True when both URLs go to the same scheme, host and port."""
    a, b = urlsplit(first or ""), urlsplit(second or "")
    try:
        return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)
    except ValueError:  # a bad port; the URL itself is rejected elsewhere
        return False


def restore_headers(submitted: dict[str, str], stored: dict[str, str], *, target_changed: bool = False
                    ) -> dict[str, str]:
    """Swap masked values for the stored secrets.

    Not when the target (scheme, host, port) changes in the same edit: otherwise anyone who may
    edit the URL but never saw the secret could send it to a server of their choosing.
    """
    restored = {}
    for name, value in submitted.items():
        if value == MASK and target_changed:
            raise ValueError(f"enter the value of header {name} again: stored secrets are only sent to the "
                             "target they were entered for, and this change points them elsewhere")
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
