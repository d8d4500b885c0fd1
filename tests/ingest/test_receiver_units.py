"""Table-driven tests of the receiver's pure parts: body limits and gunzip, key lookup, PubAck errors."""

from __future__ import annotations

import gzip

import pytest

from ingest.receiver.agentoutput import parse_output_request
from ingest.receiver.body import decode_content, gunzip
from ingest.receiver.errors import Rejected
from ingest.receiver.keyindex import KeyIndex, ProjectKey, keys_of_document, presented_key
from ingest.receiver.publisher import classify_ack_error
from projects.apikeys import hash_key, new_key
from projects.configwatch import UnreadableDocument


@pytest.mark.parametrize("data, limit", [
    (b"", 10), (b"hello", 5), (b"x" * 100_000, 100_000),
])
def test_gunzip_returns_bodies_within_the_limit(data, limit):
    assert gunzip(gzip.compress(data), limit) == data


def test_gunzip_reads_concatenated_members():
    assert gunzip(gzip.compress(b"ab") + gzip.compress(b"cd"), 10) == b"abcd"


def test_gunzip_refuses_a_body_of_many_members_quickly():
    import time

    body = gzip.compress(b"") * 400_000  # ~8 MB of empty members: quadratic if walked one by one
    started = time.monotonic()
    with pytest.raises(Rejected) as raised:
        gunzip(body, 8 * 1024 * 1024)
    assert raised.value.status == 400 and "gzip members" in raised.value.message
    assert time.monotonic() - started < 1


@pytest.mark.parametrize("body, limit, status", [
    (gzip.compress(b"x" * 101), 100, 413),
    (gzip.compress(b"ab") + gzip.compress(b"c" * 99), 100, 413),
    (gzip.compress(b"abc")[:-4], 100, 400),
    (b"plain", 100, 400),
    (gzip.compress(b"ok") + b"trailing garbage", 100, 400),
])
def test_gunzip_refuses_oversized_and_broken_bodies(body, limit, status):
    with pytest.raises(Rejected) as caught:
        gunzip(body, limit)
    assert caught.value.status == status


@pytest.mark.parametrize("encoding, expected", [(None, b"raw"), ("", b"raw"), ("identity", b"raw"),
                                                ("GZIP", b"raw-gz"), ("x-gzip", b"raw-gz")])
def test_content_encodings(encoding, expected):
    body = gzip.compress(b"raw-gz") if expected == b"raw-gz" else b"raw"
    assert decode_content(body, encoding, 100) == expected


def test_unknown_content_encoding_is_415():
    with pytest.raises(Rejected) as caught:
        decode_content(b"x", "br", 100)
    assert caught.value.status == 415


def document(project_id: str, *secrets: str) -> dict:
    return {"projectId": project_id, "apiKeys": [
        {"id": i, "prefix": secret[:12], "hash": hash_key(secret)} for i, secret in enumerate(secrets)]}


def test_the_index_finds_the_project_of_a_key_and_forgets_removed_ones():
    (_, key_a), (_, key_b) = new_key(), new_key()
    index = KeyIndex()
    index.replace_all({"A": keys_of_document("A", document("A", key_a)), "B": keys_of_document("B", document("B", key_b))})
    assert index.authenticate(key_a).project_id == "A"
    assert index.authenticate(key_b).project_id == "B"
    assert index.authenticate(key_a[:-1] + ("x" if key_a[-1] != "x" else "y")) is None
    assert index.authenticate("not-a-key") is None
    index.set_project("A", [])
    assert index.authenticate(key_a) is None
    index.remove_project("B")
    assert index.authenticate(key_b) is None and index.project_count == 0


def test_two_projects_sharing_a_prefix_are_told_apart_by_the_hash():
    prefix = "gfk_abcdef01"
    key_a, key_b = f"{prefix}_{'a' * 43}", f"{prefix}_{'b' * 43}"
    index = KeyIndex()
    index.set_project("A", [ProjectKey("A", 1, prefix, hash_key(key_a))])
    index.set_project("B", [ProjectKey("B", 2, prefix, hash_key(key_b))])
    assert index.authenticate(key_a).project_id == "A"
    assert index.authenticate(key_b).project_id == "B"
    index.remove_project("A")
    assert index.authenticate(key_a) is None and index.authenticate(key_b).project_id == "B"


@pytest.mark.parametrize("value", [None, UnreadableDocument("not json"), {"projectId": "other", "apiKeys": []},
                                   {"projectId": "A", "apiKeys": [{"id": 1}]}, []])
def test_an_unreadable_document_grants_nothing(value):
    assert keys_of_document("A", value) == []


@pytest.mark.parametrize("headers, expected", [
    ({b"x-api-key": b" k1 "}, "k1"),
    ({b"authorization": b"Bearer k2"}, "k2"),
    ({b"authorization": b"bearer  k3 "}, "k3"),
    ({b"authorization": b"Basic abc"}, None),
    ({b"x-api-key": b"k4", b"authorization": b"Bearer k5"}, "k4"),
    ({}, None),
])
def test_presented_key(headers, expected):
    assert presented_key(headers) == expected


@pytest.mark.parametrize("ack, full", [
    (b'{"error":{"code":503,"err_code":10077,"description":"maximum bytes exceeded"}}', True),
    (b'{"error":{"code":503,"err_code":10047,"description":"insufficient resources"}}', True),
    (b'{"error":{"code":503,"description":"maximum messages exceeded"}}', True),
    (b'{"error":{"code":503,"err_code":10008,"description":"JetStream system temporarily unavailable"}}', False),
    (b'{"error": 1}', False),
])
def test_puback_errors_are_classified(ack, full):
    assert classify_ack_error(ack).full is full


@pytest.mark.parametrize("body, header_id, expected", [
    (b'{"payload": {"a": 1}, "request_id": "r1"}', None, ({"a": 1}, "r1")),
    (b'{"payload": null}', "h1", (None, "h1")),
    (b'{"payload": 1, "request_id": ""}', None, (1, None)),
])
def test_agent_output_bodies(body, header_id, expected):
    assert parse_output_request(body, header_id) == expected
