"""The run-history stream is created and deleted with its project, with its own limits."""

from __future__ import annotations

import pytest
from nats.js.errors import NotFoundError

from tests.support.clients import client_for

pytestmark = pytest.mark.django_db(transaction=True)


def runs_stream_config(js, project_id):
    async def info(jetstream):
        try:
            return (await jetstream.stream_info(f"gf-ai-runs-{project_id}")).config
        except NotFoundError:
            return None

    return js.run(info)


def test_the_runs_stream_comes_and_goes_with_the_project_with_its_own_limits(js, team, settings):
    settings.STREAM_MAX_BYTES = 32 * 1024**2
    settings.RUN_HISTORY_MAX_AGE_SECONDS = 3600
    owner = client_for(team.owner)
    response = owner.post("/api/v1/projects/", {"name": "runs"}, format="json")
    assert response.status_code == 201
    project_id = response.json()["id"]
    config = runs_stream_config(js, project_id)
    assert config.subjects == [f"gf-ai-runs.{project_id}.>"]
    assert config.max_bytes == 8 * 1024**2, "a quarter of STREAM_MAX_BYTES unless RUN_HISTORY_MAX_BYTES says"
    assert config.max_age == 3600
    assert str(getattr(config.discard, "value", config.discard)) == "old", "history drops old runs, never pushes back"
    assert owner.delete(f"/api/v1/projects/{project_id}/").status_code == 204
    assert runs_stream_config(js, project_id) is None
