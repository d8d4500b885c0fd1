"""Strict readers for settings taken from the environment.

Every reader fails at start with a message naming the variable, so a typo in a
deployment (``DEBUG=ture``, ``NATS_STREAM_REPLICAS=three``) stops the process
instead of silently running with a default. django-environ and similar packages
fall back to ``False`` or the default on unparseable values, which is exactly
what we do not want here, so these few lines are ours.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None, *, required: bool = False) -> str | None:
    value = os.environ.get(name)
    if value is None or value == "":
        if required:
            raise ImproperlyConfigured(f"{name} must be set")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use one of 1/0, true/false, yes/no, on/off")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip().replace("_", ""))
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum {minimum}")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name}={value} is above the maximum {maximum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024**2, "mb": 1024**2,
               "mib": 1024**2, "g": 1024**3, "gb": 1024**3, "gib": 1024**3}


def env_bytes(name: str, default: int) -> int:
    """A size such as ``1GiB``, ``512MiB``, ``8m`` or a plain number of bytes."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    text = raw.strip().lower()
    digits = text.rstrip("abcdefghijklmnopqrstuvwxyz ")
    unit = text[len(digits):].strip()
    try:
        number = float(digits)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a size (examples: 1GiB, 512MiB, 1048576)") from None
    if unit not in _SIZE_UNITS or number <= 0:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a size (examples: 1GiB, 512MiB, 1048576)")
    return int(number * _SIZE_UNITS[unit])


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def env_seconds(name: str, default: int) -> int:
    """A duration such as ``7d``, ``12h``, ``90m``, ``30s`` or a plain number of seconds."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    text = raw.strip().lower()
    unit = text[-1] if text[-1] in _DURATION_UNITS else "s"
    digits = text[:-1] if text[-1] in _DURATION_UNITS else text
    try:
        value = int(digits)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a duration (examples: 7d, 12h, 30m, 3600)") from None
    if value <= 0:
        raise ImproperlyConfigured(f"{name}={raw!r} must be positive")
    return value * _DURATION_UNITS[unit]


_PLACEHOLDERS = ("change-me", "changeme", "change_me", "replace-me", "placeholder", "example", "secret-key-here",
                 "insecure")


def env_secret(name: str, *, minimum_length: int, default: str | None = None) -> str | None:
    """A secret that must be long and not a value copied from an example file (checked when set).

    ``change-me-too`` from an env.example would otherwise be a working credential in production.
    """
    value = env_str(name, default)
    if value is None:
        return None
    lowered = value.lower()
    if any(marker in lowered for marker in _PLACEHOLDERS):
        raise ImproperlyConfigured(f"{name} looks like a placeholder from an example file; generate a real one "
                                   "with `python -c 'import secrets; print(secrets.token_urlsafe(50))'`")
    if len(value) < minimum_length:
        raise ImproperlyConfigured(f"{name} is shorter than {minimum_length} characters; generate one with "
                                   "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`")
    return value
