"""Project statistics as tests see them: the stats API's answer, and the gf-ai-stats keys the workers write."""

from __future__ import annotations

import json

from tests.support.clients import client_for


def project_stats(team, role: str = "viewer") -> dict:
    """``GET /api/v1/projects/{id}/stats/`` as a member with ``role``; asserts it answered 200."""
    response = client_for(team.user(role)).get(f"/api/v1/projects/{team.project.pk}/stats/")
    assert response.status_code == 200, response.content
    return response.json()


def put_stats_key(js, key: str, document: dict) -> None:
    """Write one key of the gf-ai-stats bucket, as a pipeline worker (``{project}.pipeline.{worker}``)
    or a sink worker (``sinks.worker.tally.sink_stats_key``) would."""
    from projects.natsops import stats_bucket

    async def put(jetstream):
        kv = await stats_bucket(jetstream, "gf-ai-stats")
        await kv.put(key, json.dumps(document).encode())

    js.run(put)
