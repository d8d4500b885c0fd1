"""Bad input is refused with the right status and a message saying why; none of it hurts the process."""

from __future__ import annotations

import gzip

import httpx
import pytest

from tests.support import receiver as support

pytestmark = pytest.mark.django_db(transaction=True)

LIMIT = 256 * 1024
LOGS = next(v for v in support.load_vectors() if v["name"] == "python-logs-proto-none")


@pytest.fixture(scope="module")
def receiver(nats_server):
    yield from support.running_receiver(nats_server.url, max_body_bytes=LIMIT)


@pytest.mark.parametrize("body, content_type, expected", [
    (b"\xff\xff\xff\xff\xff", "application/x-protobuf", b"invalid protobuf"),
    (b"{not json", "application/json", b"invalid JSON at line 1 column 2"),
    (b"[1, 2]", "application/json", b"the body must be an object"),
    (b'{"resourceLogs": 5}', "application/json", b"resourceLogs must be a list"),
    (b'{"resourceLogs": [{"scopeLogs": [{"logRecords": [{"traceId": "xyz"}]}]}]}', "application/json",
     b"expected 32 hex digits"),
])
def test_undecodable_bodies_get_400_with_the_reason(receiver, project, nats_server, body, content_type, expected):
    response = support.post(receiver, "/v1/logs", body, project.key, content_type)
    assert response.status_code == 400
    assert response.headers["content-type"] == content_type
    assert expected in response.content
    if content_type == "application/json":
        assert response.json()["code"] == 3
    assert support.stream_count(nats_server.url, f"gf-ai-raw-{project.id}") == 0


def test_invalid_gzip_gets_400(receiver, project):
    truncated = gzip.compress(LOGS["body"])[:-30]
    response = support.post(receiver, "/v1/logs", truncated, project.key, Content_Encoding="gzip")
    assert response.status_code == 400
    assert b"truncated" in response.content
    response = support.post(receiver, "/v1/logs", b"not gzip at all", project.key, Content_Encoding="gzip")
    assert response.status_code == 400
    assert b"not valid gzip" in response.content


def test_a_body_over_the_limit_gets_413_with_or_without_content_length(receiver, project):
    too_big = b"\x00" * (LIMIT + 1)
    response = support.post(receiver, "/v1/logs", too_big, project.key)
    assert response.status_code == 413
    assert b"larger than the limit" in response.content

    def chunks():
        for _ in range(LIMIT // 4096 + 2):
            yield b"\x00" * 4096

    response = httpx.post(receiver.url + "/v1/logs", content=chunks(), timeout=30,
                          headers={"Content-Type": "application/x-protobuf", "X-API-Key": project.key})
    assert response.status_code == 413


def test_a_body_that_inflates_over_the_limit_gets_413(receiver, project):
    inflating = gzip.compress(b"\x00" * (LIMIT + 1))
    assert len(inflating) < LIMIT
    response = support.post(receiver, "/v1/logs", inflating, project.key, Content_Encoding="gzip")
    assert response.status_code == 413
    assert b"decompressed request body is larger than the limit" in response.content


def test_a_compressed_body_over_the_limit_gets_413_before_any_inflating(receiver, project):
    bomb = support.gzip_bomb(gib=1)
    assert LIMIT < len(bomb) < 2 * 1024**2  # ~1 MB on the wire, over this receiver's 256 KiB limit
    response = support.post(receiver, "/v1/logs", bomb, project.key, Content_Encoding="gzip")
    assert response.status_code == 413
    # The compressed check names the request body; the decompressed one would say "decompressed".
    assert f"request body is larger than the limit of {LIMIT} bytes".encode() in response.content
    assert b"decompressed" not in response.content


def test_other_content_types_and_encodings_get_415(receiver, project):
    response = support.post(receiver, "/v1/logs", LOGS["body"], project.key, "text/plain")
    assert response.status_code == 415
    assert "application/x-protobuf or application/json" in response.json()["message"]
    response = support.post(receiver, "/v1/logs", LOGS["body"], project.key, Content_Encoding="br")
    assert response.status_code == 415
    assert b"Content-Encoding" in response.content


def test_other_methods_get_405_and_unknown_paths_404(receiver, project):
    response = httpx.get(receiver.url + "/v1/logs", headers={"X-API-Key": project.key})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "accepts POST only" in response.json()["message"]
    assert httpx.put(receiver.url + "/v1/traces", content=b"").status_code == 405
    assert httpx.post(receiver.url + "/healthz").status_code == 405
    assert httpx.post(receiver.url + "/v2/logs", content=b"").status_code == 404


def test_bad_requests_do_not_disturb_good_ones(receiver, project, nats_server):
    for body in (b"\xff" * 100, b"\x0a\xff\xff\xff\xff\x0f"):
        assert support.post(receiver, "/v1/logs", body, project.key).status_code == 400
    assert support.post(receiver, "/v1/logs", LOGS["body"], project.key).status_code == 200
    assert support.stream_count(nats_server.url, f"gf-ai-raw-{project.id}") == 7
    assert httpx.get(receiver.url + "/healthz").status_code == 200
