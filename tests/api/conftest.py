"""A project with something behind every API route (a sink, a key, a dead letter), synced to the
session's nats-server, and JWT headers for its owner, admin, viewer and an outsider."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from django.test import Client
from rest_framework_simplejwt.tokens import RefreshToken

from projects.configsync import remove_project, sync_project
from projects.models import ApiKey
from projects.streams import dlq_subject, raw_subject
from sinks.models import Sink
from tests.support.factories import Team, make_team

ROLES = ("owner", "admin", "viewer", "outsider")


@dataclass
class World:
    team: Team
    path_values: dict[str, str]
    headers: dict[str, dict[str, str]]


def bearer(user) -> dict[str, str]:
    return {"Authorization": f"Bearer {RefreshToken.for_user(user).access_token}"}


@pytest.fixture
def world(db, settings, js) -> World:
    settings.STREAM_MAX_BYTES = 4 * 1024**2  # JetStream reserves it; keep the session server roomy
    settings.ALLOWED_HOSTS = ["testserver", "localhost"]
    team = make_team()
    sink = Sink.objects.create(project=team.project, name="hook", kind="webhook",
                               config={"url": "http://127.0.0.1:9/", "method": "POST", "headers": {}})
    key, _ = ApiKey.mint(team.project, "fuzz", created_by=team.owner)
    assert sync_project(team.project.pk)
    entry = {"id": "e-1", "projectId": str(team.project.pk), "stage": "pipeline", "reason": "transform failed",
             "attempts": 1, "records": [{"body": "x"}], "subject": raw_subject(team.project.pk, "logs")}

    async def publish(jetstream):
        return (await jetstream.publish(dlq_subject(team.project.pk, "pipeline"), json.dumps(entry).encode())).seq

    seq = js.run(publish)
    values = {"project_id": str(team.project.pk), "sink_id": str(sink.pk), "key_id": str(key.pk),
              "user_id": str(team.admin.pk), "seq": str(seq), "request_id": "req-1"}
    yield World(team, values, {role: bearer(team.user(role)) for role in ROLES})
    remove_project(team.project.pk)


@pytest.fixture
def openapi(db) -> dict:
    response = Client().get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()
