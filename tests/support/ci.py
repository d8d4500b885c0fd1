"""Skips that must not hide missing parts in CI (``CI=true``), where they fail instead.

Django-free, so pure test packages (``tests/expr``) can use it too.
"""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def skip_outside_ci(reason: str) -> None:
    """Skip on a developer's machine that lacks a piece (a corpus, Chromium); fail in CI, where a
    silent skip would hide that a whole part of the suite never ran."""
    if in_ci():
        pytest.fail(f"{reason} (CI must run this test, not skip it)", pytrace=False)
    pytest.skip(reason)
