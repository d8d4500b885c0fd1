"""The real receiver adds each agent output that carries a request id to that run's history, once."""

from __future__ import annotations

import json

import httpx
import pytest

from runs import store
from tests.support import receiver as support
from tests.support.clients import Js
from tests.support.deadline import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def receiver(nats_server):
    yield from support.running_receiver(nats_server.url)


def send_output(receiver, key, body) -> httpx.Response:
    return httpx.post(receiver.url + "/internal/agent-output", content=json.dumps(body).encode(),
                      headers={"Content-Type": "application/json", "X-API-Key": key}, timeout=10)


def run_of(nats_server, project_id, request_id):
    async def read(js):
        try:
            return await store.get_run(js, project_id, request_id)
        except store.RunNotFound:
            return None

    return Js(nats_server.url).run(read)


def test_an_output_joins_its_run_once_even_when_the_agent_retries_the_send(receiver, nats_server):
    project = support.make_project()
    support.wait_until_key_works(receiver, project.key)
    body = {"payload": {"summary": "pool exhausted"}, "request_id": "batch 7/a"}  # not a subject token
    assert send_output(receiver, project.key, body).json()["duplicate"] is False
    assert send_output(receiver, project.key, body).json()["duplicate"] is True
    assert send_output(receiver, project.key, {"payload": {"summary": "no id"}}).status_code == 200
    run = wait_for(lambda: run_of(nats_server, project.id, "batch 7/a"), message="the output is in the run history")
    assert [output["payload"] for output in run["outputs"]] == [{"summary": "pool exhausted"}]
    assert run["status"] == "unknown", "no batch was recorded for this id, only its output"
    assert support.stream_count(nats_server.url, f"gf-ai-runs-{project.id}") == 1, "duplicates and id-less outputs add nothing"
