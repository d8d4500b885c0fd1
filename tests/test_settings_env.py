"""Settings come from the environment and a bad value stops the process at start, naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from glassflow_site import env

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("raw,expected", [("1", True), ("true", True), ("YES", True), ("on", True),
                                          ("0", False), ("false", False), ("No", False), ("off", False)])
def test_booleans_accept_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("GF_TEST_FLAG", raw)
    assert env.env_bool("GF_TEST_FLAG", not expected) is expected


@pytest.mark.parametrize("reader,raw", [
    (lambda: env.env_bool("GF_TEST", False), "ture"),
    (lambda: env.env_int("GF_TEST", 1), "three"),
    (lambda: env.env_int("GF_TEST", 1, minimum=1, maximum=5), "7"),
    (lambda: env.env_int("GF_TEST", 1, minimum=1), "0"),
    (lambda: env.env_bytes("GF_TEST", 1), "12 parsecs"),
    (lambda: env.env_bytes("GF_TEST", 1), "-5MiB"),
    (lambda: env.env_seconds("GF_TEST", 1), "soon"),
    (lambda: env.env_seconds("GF_TEST", 1), "0d"),
])
def test_bad_values_raise_improperly_configured_naming_the_variable(monkeypatch, reader, raw):
    monkeypatch.setenv("GF_TEST", raw)
    with pytest.raises(ImproperlyConfigured, match="GF_TEST"):
        reader()


@pytest.mark.parametrize("raw,expected", [("1GiB", 1024**3), ("512MiB", 512 * 1024**2), ("8m", 8 * 1024**2),
                                          ("1048576", 1048576), ("1.5k", 1536)])
def test_sizes_understand_units(monkeypatch, raw, expected):
    monkeypatch.setenv("GF_TEST_SIZE", raw)
    assert env.env_bytes("GF_TEST_SIZE", 0) == expected


@pytest.mark.parametrize("raw,expected", [("7d", 604800), ("12h", 43200), ("90m", 5400), ("30s", 30),
                                          ("3600", 3600)])
def test_durations_understand_units(monkeypatch, raw, expected):
    monkeypatch.setenv("GF_TEST_AGE", raw)
    assert env.env_seconds("GF_TEST_AGE", 0) == expected


def run_check(**overrides: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items()
                   if key not in {"SECRET_KEY", "DEBUG", "DATABASE_URL"}}
    environment.update(overrides)
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "CRITICAL"],
                          cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)


def test_production_profile_refuses_to_start_without_a_secret_key():
    result = run_check()
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_a_misspelt_boolean_stops_the_start(tmp_path):
    result = run_check(SECRET_KEY="x" * 60, DEBUG="ture", GLASSFLOW_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "DEBUG='ture' is not a boolean" in result.stderr


def test_a_bad_database_url_stops_the_start(tmp_path):
    result = run_check(SECRET_KEY="x" * 60, DATABASE_URL="nosuchdb://x", GLASSFLOW_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_production_defaults_are_safe(tmp_path):
    code = ("from django.conf import settings as s; "
            "print(s.DEBUG, s.ALLOW_PRIVATE_TARGETS, s.SESSION_COOKIE_SECURE, s.ALLOWED_HOSTS)")
    environment = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "ALLOW_PRIVATE_TARGETS", "ALLOWED_HOSTS"}}
    environment.update(SECRET_KEY="x" * 60, GLASSFLOW_VAR_DIR=str(tmp_path),
                       DJANGO_SETTINGS_MODULE="glassflow_site.settings")
    result = subprocess.run([sys.executable, "-c", f"import django; django.setup(); {code}"], cwd=ROOT,
                            env=environment, capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["False", "False", "True", "[]"], result.stderr


@pytest.mark.django_db
def test_models_and_migrations_agree():
    from django.core.management import call_command

    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
