"""Commands the README gives a new user work as written, on `make run`'s defaults."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


@pytest.mark.slow
def test_the_readmes_operator_command_creates_a_superuser_without_secret_key_or_debug_set(tmp_path):
    command = re.search(r"`(make superuser)`", README)
    assert command, "the README names `make superuser` for Django admin"
    # Like a new user's shell: no SECRET_KEY, no DEBUG, no DATABASE_URL (the SQLite in var/ -- here a temp one).
    env = {name: value for name, value in os.environ.items()
           if name not in ("SECRET_KEY", "DEBUG", "DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(GLASSFLOW_VAR_DIR=str(tmp_path), DJANGO_SUPERUSER_EMAIL="ops@example.com",
               DJANGO_SUPERUSER_PASSWORD="a-long-operator-passphrase")
    finished = subprocess.run([*command.group(1).split(), "ARGS=--noinput"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stdout[-2000:] + finished.stderr[-2000:]
    databases = list(tmp_path.glob("*.sqlite3"))
    assert databases, list(tmp_path.iterdir())
    with sqlite3.connect(databases[0]) as db:
        rows = db.execute("select email, is_superuser from accounts_user").fetchall()
    assert rows == [("ops@example.com", 1)]
