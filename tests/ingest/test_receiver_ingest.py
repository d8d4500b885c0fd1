"""OTLP/HTTP ingest end to end: real client payloads in, the right flat records in the right subject out."""

from __future__ import annotations

import gzip

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse

from ingest.otlp import decode_request, flatten_logs, flatten_metrics, flatten_spans
from tests.support import receiver as support

pytestmark = pytest.mark.django_db(transaction=True)


VECTORS = support.load_vectors()
SUBJECT_SIGNAL = {"logs": "in", "traces": "spans", "metrics": "metrics"}
FLATTEN = {"logs": flatten_logs, "traces": flatten_spans, "metrics": flatten_metrics}


def expected_records(vector: dict) -> list[dict]:
    body = vector["body"]
    if vector["content_encoding"] == "gzip":
        body = gzip.decompress(body)
    request = decode_request(vector["signal"], body, vector["content_type"])
    return FLATTEN[vector["signal"]](request, 0)


def test_all_nineteen_vectors_are_present():
    assert len(VECTORS) == 19, "OTLP vectors not found: set OTLP_VECTORS_DIR"


def test_every_vector_is_accepted_and_its_records_land_in_the_signal_subject(receiver, nats_server):
    project = support.make_project()
    support.wait_until_key_works(receiver, project.key)
    stream = f"gf-ai-raw-{project.id}"
    stored = 0
    for vector in VECTORS:
        headers = {"Content_Encoding": vector["content_encoding"]} if vector["content_encoding"] else {}
        response = support.post(receiver, vector["path"], vector["body"], project.key, vector["content_type"], **headers)
        assert response.status_code == 200, (vector["name"], response.content)
        assert response.headers["content-type"] == vector["content_type"]
        assert response.content == (b"{}" if vector["content_type"] == "application/json" else b""), vector["name"]

        expected = expected_records(vector)
        messages = support.stream_messages(nats_server.url, stream)[stored:]
        stored += len(expected)
        assert len(messages) == len(expected), vector["name"]
        subject = f"gf-ai-raw.{project.id}.{SUBJECT_SIGNAL[vector['signal']]}"
        assert {message["subject"] for message in messages} == {subject}, vector["name"]
        assert [message["data"] for message in messages] == expected, vector["name"]
        ids = [message["headers"]["Nats-Msg-Id"] for message in messages]
        assert len(set(ids)) == len(ids)
    assert support.stream_count(nats_server.url, stream) == stored == sum(len(expected_records(v)) for v in VECTORS)


def test_bearer_authorization_and_any_header_case_are_accepted(receiver, nats_server):
    project = support.make_project()
    support.wait_until_key_works(receiver, project.key)
    vector = next(v for v in VECTORS if v["name"] == "python-logs-proto-none")
    response = support.post(receiver, "/v1/logs", vector["body"], None, "application/x-protobuf",
                    Authorization=f"Bearer {project.key}")
    assert response.status_code == 200
    response = support.post(receiver, "/v1/logs", vector["body"] + b"", None, "Application/X-Protobuf; charset=binary",
                    x_api_key=project.key)
    assert response.status_code == 200
    assert ExportLogsServiceResponse.FromString(response.content) == ExportLogsServiceResponse()


def test_gzip_of_a_json_body_made_here_is_accepted(receiver, nats_server):
    project = support.make_project()
    support.wait_until_key_works(receiver, project.key)
    vector = next(v for v in VECTORS if v["name"] == "node-traces-json-none")
    response = support.post(receiver, "/v1/traces", gzip.compress(vector["body"]), project.key, "application/json",
                    Content_Encoding="gzip")
    assert response.status_code == 200
    assert response.json() == {}
    assert support.stream_count(nats_server.url, f"gf-ai-raw-{project.id}") == 4


def test_a_retried_request_is_stored_once(receiver, nats_server):
    project = support.make_project()
    support.wait_until_key_works(receiver, project.key)
    vector = next(v for v in VECTORS if v["name"] == "collector-logs-proto-gzip")
    stream = f"gf-ai-raw-{project.id}"
    for _ in range(3):
        response = support.post(receiver, "/v1/logs", vector["body"], project.key, "application/x-protobuf",
                        Content_Encoding="gzip")
        assert response.status_code == 200
    assert support.stream_count(nats_server.url, stream) == 9
    # The same records sent without compression are the same request content: still de-duplicated.
    response = support.post(receiver, "/v1/logs", gzip.decompress(vector["body"]), project.key, "application/x-protobuf")
    assert response.status_code == 200
    assert support.stream_count(nats_server.url, stream) == 9


def test_an_empty_request_succeeds_without_publishing(receiver, nats_server):
    project = support.make_project()
    support.wait_until_key_works(receiver, project.key)
    assert support.post(receiver, "/v1/metrics", b"{}", project.key, "application/json").json() == {}
    assert support.post(receiver, "/v1/traces", b"", project.key).content == b""
    assert support.stream_count(nats_server.url, f"gf-ai-raw-{project.id}") == 0
