"""parse_agent_request: the pipeline's batch as an agent receives it."""

from __future__ import annotations

import json

import pytest
from glassflow_ai import AgentRequest, AgentRequestError, parse_agent_request

RECORDS = [{"severityText": "ERROR", "body": "boom"}, {"severityText": "INFO", "body": "ok"}]


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Project-ID": "p-1", "X-Request-ID": "r-1"},
        {"x-project-id": "p-1", "x-request-id": "r-1"},
        {"X-PROJECT-ID": "p-1", "X-Request-Id": "r-1", "Content-Type": "application/json"},
        {b"x-project-id": b"p-1", b"x-request-id": b"r-1"},
    ],
    ids=["canonical", "lowercase", "mixed case", "ASGI bytes"],
)
def test_headers_are_found_whatever_their_case(headers):
    parsed = parse_agent_request(json.dumps(RECORDS).encode(), headers)
    assert parsed == AgentRequest(records=RECORDS, project_id="p-1", request_id="r-1")


def test_missing_or_empty_headers_are_none_and_str_bodies_work():
    parsed = parse_agent_request(json.dumps(RECORDS), {"X-Request-ID": " "})
    assert (parsed.project_id, parsed.request_id, parsed.records) == (None, None, RECORDS)


def test_an_empty_batch_is_valid():
    assert parse_agent_request(b"[]", {}).records == []


@pytest.mark.parametrize(
    "body, fragment",
    [
        (b"{", "not JSON"),
        (b'{"records": []}', "must be a JSON array"),
        (b"[1, {}]", "record 0"),
        (b"\xff", "not JSON"),
    ],
)
def test_bodies_that_are_not_arrays_of_objects_are_rejected(body, fragment):
    with pytest.raises(AgentRequestError, match=fragment):
        parse_agent_request(body, {})
