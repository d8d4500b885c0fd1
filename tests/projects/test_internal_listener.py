"""The internal API (every tenant's unmasked secrets) is off on the public web app and served by
its own loopback listener; placeholder or short service tokens and secret keys stop the start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from glassflow_site.internal_asgi import application as internal_app
from pipelines.models import Pipeline
from tests.support.factories import make_team

ROOT = Path(__file__).resolve().parent.parent.parent


def auth() -> dict:
    return {"Authorization": f"Bearer {settings.INTERNAL_SERVICE_TOKEN}"}


@pytest.fixture
def secret_project(db):
    team = make_team()
    Pipeline.objects.filter(project=team.project).update(agent_endpoint="https://agent.example.com/",
                                                         agent_headers={"Authorization": "Bearer tenant-secret"})
    return team.project


def test_the_public_app_does_not_answer_the_internal_api_by_default(client, secret_project):
    assert settings.INTERNAL_API_ON_PUBLIC is False  # the production default (DEBUG off)
    response = client.get(f"/internal/v1/projects/{secret_project.pk}/config",
                          HTTP_AUTHORIZATION=auth()["Authorization"])
    assert response.status_code == 404
    assert b"tenant-secret" not in response.content


@pytest.mark.django_db(transaction=True)
async def test_the_internal_listener_serves_it_with_the_token_and_nothing_else():
    from asgiref.sync import sync_to_async

    team = await sync_to_async(make_team)()
    await sync_to_async(Pipeline.objects.filter(project=team.project).update)(
        agent_headers={"Authorization": "Bearer tenant-secret"})
    transport = httpx.ASGITransport(app=internal_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8001") as client:
        url = f"/internal/v1/projects/{team.project.pk}/config"
        assert (await client.get(url)).status_code == 401
        response = await client.get(url, headers=auth())
        assert response.status_code == 200
        assert response.json()["pipeline"]["agentHeaders"] == {"Authorization": "Bearer tenant-secret"}
        assert (await client.get("/api/v1/projects/", headers=auth())).status_code == 404
        assert (await client.get("/admin/login/")).status_code == 404
    # The database connection lives in asgiref's worker thread; close it there, or PostgreSQL
    # refuses to drop the test database at the end of the session.
    await sync_to_async(connections.close_all)()


def test_runinternal_refuses_a_non_loopback_address():
    with pytest.raises(CommandError, match="loopback"):
        call_command("runinternal", "--host", "0.0.0.0")


def start_settings(tmp_path, **overrides: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items()
                   if key not in {"SECRET_KEY", "DEBUG", "DATABASE_URL", "INTERNAL_SERVICE_TOKEN"}}
    environment.update({"GLASSFLOW_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "glassflow_site.settings",
                        "SECRET_KEY": "k3Yq-" + "a1b2c3d4e5" * 5, **overrides})
    return subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("variable,value,message", [
    ("INTERNAL_SERVICE_TOKEN", "change-me-too", "placeholder"),
    ("INTERNAL_SERVICE_TOKEN", "short-token", "shorter than 32"),
    ("SECRET_KEY", "change-me-to-50-random-characters", "placeholder"),
    ("SECRET_KEY", "tooshort", "shorter than 32"),
])
def test_placeholder_or_short_secrets_stop_the_start(tmp_path, variable, value, message):
    result = start_settings(tmp_path, **{variable: value})
    assert result.returncode != 0
    assert variable in result.stderr and message in result.stderr


def test_the_example_env_file_does_not_start_as_it_is(tmp_path):
    example = dict(line.split("=", 1) for line in (ROOT / "deploy/systemd/env.example").read_text().splitlines()
                   if line and not line.startswith("#"))
    result = start_settings(tmp_path, SECRET_KEY=example["SECRET_KEY"],
                            INTERNAL_SERVICE_TOKEN=example.get("INTERNAL_SERVICE_TOKEN", "change-me"))
    assert result.returncode != 0 and "placeholder" in result.stderr


def test_a_real_token_starts(tmp_path):
    assert start_settings(tmp_path, INTERNAL_SERVICE_TOKEN="Zt8" + "q9W2e7R4" * 5).returncode == 0
