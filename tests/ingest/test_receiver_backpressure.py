"""Back-pressure and faults: a full stream gets 429, an unreachable or stalled NATS 503, never a lost 200."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import httpx
import nats
import pytest

from projects.natsbridge import bridge
from tests.support import receiver as support
from tests.support.deadline import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

VECTORS = [v for v in support.load_vectors() if v["signal"] == "logs"]
LOGS = next(v for v in VECTORS if v["name"] == "python-logs-proto-none")
PUBLISH_TIMEOUT = 1.0


@pytest.fixture(scope="module")
def receiver(nats_server):
    yield from support.running_receiver(nats_server.url, publish_timeout=PUBLISH_TIMEOUT)


def send(receiver, vector, key):
    headers = {"Content_Encoding": vector["content_encoding"]} if vector["content_encoding"] else {}
    return support.post(receiver, vector["path"], vector["body"], key, vector["content_type"], **headers)


def test_a_full_stream_gets_429_with_retry_after(receiver, nats_server, settings):
    settings.STREAM_MAX_BYTES = 6 * 1024  # the project's streams are created with this limit
    project = support.make_project()
    support.wait_until_key_works(receiver, project.key)
    answers = [send(receiver, vector, project.key) for vector in VECTORS]
    refused = [response for response in answers if response.status_code == 429]
    assert refused, [response.status_code for response in answers]
    assert {response.status_code for response in answers} <= {200, 429}
    assert int(refused[0].headers["retry-after"]) > 0
    assert b"stream is full" in refused[0].content
    # Once the stream is full, a JSON export is refused too, with a JSON google.rpc.Status body.
    json_vector = next(v for v in VECTORS if v["content_type"] == "application/json")
    json_refusal = send(receiver, json_vector, project.key)
    assert json_refusal.status_code == 429
    assert json_refusal.headers["content-type"] == "application/json"
    assert json_refusal.json()["code"] == 8  # RESOURCE_EXHAUSTED
    assert "stream is full" in json_refusal.json()["message"]


def test_a_missing_stream_gets_503(receiver, nats_server, project):
    async def drop_raw_stream():
        nc = await nats.connect(nats_server.url, max_reconnect_attempts=0)
        try:
            await nc.jetstream().delete_stream(f"gf-ai-raw-{project.id}")
        finally:
            await nc.close()

    asyncio.run(drop_raw_stream())
    response = send(receiver, LOGS, project.key)
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert b"no JetStream stream answered" in response.content


def test_a_stalled_nats_gets_503_within_the_publish_timeout(receiver, nats_server):
    project = support.make_project()
    support.wait_until_key_works(receiver, project.key)
    os.kill(nats_server.process.pid, signal.SIGSTOP)  # connection stays open, nothing is acknowledged
    try:
        started = time.monotonic()
        response = send(receiver, LOGS, project.key)
        waited = time.monotonic() - started
    finally:
        os.kill(nats_server.process.pid, signal.SIGCONT)
    assert response.status_code == 503
    # The receiver's publish timeout is 1 s; allow one more for the request itself on a busy machine.
    assert waited < PUBLISH_TIMEOUT + 1.0, f"answered after {waited:.2f}s"
    assert b"did not acknowledge" in response.content
    assert response.headers["retry-after"]
    # The client's retry of the same request stores each record once, whatever arrived before.
    assert send(receiver, LOGS, project.key).status_code == 200
    assert support.stream_count(nats_server.url, f"gf-ai-raw-{project.id}") == 7


@pytest.mark.slow
def test_nats_down_gets_503_and_ingest_resumes_when_it_returns(receiver, nats_server):
    project = support.make_project()
    support.wait_until_key_works(receiver, project.key)
    stream = f"gf-ai-raw-{project.id}"
    acknowledged = 0
    for vector in VECTORS[:4]:
        assert send(receiver, vector, project.key).status_code == 200
        acknowledged += vector_records(vector)

    nats_server.kill()
    try:
        response = wait_for(lambda: (r := send(receiver, LOGS, project.key)).status_code == 503 and r,
                            timeout=5, message="503 while NATS is down")
        assert response.headers["retry-after"]
        assert httpx.get(receiver.url + "/readyz").status_code == 503
        assert httpx.get(receiver.url + "/healthz").status_code == 200
    finally:
        nats_server.start()

    wait_for(lambda: send(receiver, LOGS, project.key).status_code == 200, timeout=20,
             message="ingest works again after NATS restarts")
    acknowledged += 7
    # Everything answered 200 survived the kill; the retried request was stored once.
    assert support.stream_count(nats_server.url, stream) == acknowledged
    wait_for(lambda: httpx.get(receiver.url + "/readyz").status_code == 200, timeout=10, message="ready again")

    # The config watch was restarted after the reconnect: revocation still takes effect quickly.
    bridge.reset()  # the control plane's own connection was broken by the kill too
    second = project.new_key()
    wait_for(lambda: support.post(receiver, "/v1/logs", b"", second["key"]).status_code == 200, timeout=2,
             message="key created after the restart works")
    project.revoke(second["id"])
    wait_for(lambda: support.post(receiver, "/v1/logs", b"", second["key"]).status_code == 401, timeout=1.0,
             message="key revoked after the restart is refused within a second")


def vector_records(vector: dict) -> int:
    return vector["counts"]["logRecords"]
