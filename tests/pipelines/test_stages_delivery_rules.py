"""Batching, agent rejection sentences and dead-letter entries on plain data (retry rules: tests/outbound)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from deadletters.entries import build_entry, encode_entries, entry_id
from glassflow_site.timestamps import format_rfc3339
from outbound import gave_up_reason
from pipelines.stages import Batcher
from pipelines.stages.refusals import rejection_reason


@pytest.mark.parametrize(("size", "wait", "events", "expected"), [
    # events: ("add", item, now) or ("tick", now); expected: batches released, in order
    (3, 1.0, [("add", 1, 0.0), ("add", 2, 0.1), ("add", 3, 0.2)], [[1, 2, 3]]),
    (3, 1.0, [("add", 1, 0.0), ("tick", 0.5), ("tick", 1.0)], [[1]]),
    (2, 1.0, [("add", 1, 0.0), ("add", 2, 0.1), ("add", 3, 0.2), ("tick", 1.1), ("tick", 1.2)], [[1, 2], [3]]),
    # The wait starts with the first record of a batch, not with the previous batch.
    (5, 1.0, [("add", 1, 0.0), ("tick", 1.0), ("add", 2, 5.0), ("tick", 5.9), ("tick", 6.0)], [[1], [2]]),
    (1, 1.0, [("add", 1, 0.0), ("add", 2, 0.0)], [[1], [2]]),
])
def test_batches_leave_when_full_or_when_the_wait_is_over(size, wait, events, expected):
    batcher, released = Batcher(size, wait), []
    for event in events:
        batch = batcher.add(event[1], event[2]) if event[0] == "add" else batcher.take_if_due(event[1])
        if batch:
            released.append(batch)
    assert released == expected


@pytest.mark.parametrize(("status", "body", "expected"), [
    (400, "missing field", "agent endpoint answered 400 Bad Request: missing field"),
    (401, "", "agent endpoint answered 401 Unauthorized (check the Authorization header in the pipeline settings)"),
    (404, "", "agent endpoint answered 404 Not Found (check the agent endpoint URL in the pipeline settings)"),
])
def test_rejections_read_as_a_sentence_a_user_can_act_on(status, body, expected):
    assert rejection_reason(status, body) == expected


def test_giving_up_says_how_long_it_tried():
    reason = gave_up_reason("agent endpoint", "503 Service Unavailable", 8, 301.2)
    assert "8 attempts over 301 s" in reason and "503 Service Unavailable" in reason


def test_a_dead_letter_entry_has_the_documented_shape():
    failed_at = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    entry = build_entry(project_id="p1", reason="r", attempts=2, last_error="e", request_id="req",
                        records=[{"body": "x"}], subject="gf-ai-raw.p1.in", failed_at=failed_at,
                        id=entry_id("p1", "gf-ai-raw.p1.in", [3, 1]))
    assert set(entry) == {"id", "projectId", "stage", "reason", "attempts", "lastError", "failedAt", "requestId",
                          "records", "subject"}
    assert entry["stage"] == "pipeline" and entry["failedAt"] == "2026-01-02T03:04:05.678Z"
    assert entry["id"] == entry_id("p1", "gf-ai-raw.p1.in", [1, 3]), "the id depends on the messages only"
    assert format_rfc3339(failed_at).endswith("Z")


def test_a_dead_letter_too_large_for_one_message_is_split_into_parts():
    records = [{"body": "x" * 1000, "n": n} for n in range(100)]
    entry = build_entry(project_id="p1", reason="r", attempts=1, last_error="e", request_id="req", records=records,
                        subject="s", failed_at=datetime.now(UTC), id="base")
    parts = [json.loads(payload) for _, payload in encode_entries(entry, 20_000)]
    assert len(parts) > 1 and all(len(json.dumps(part)) <= 20_000 for part in parts)
    assert [record["n"] for part in parts for record in part["records"]] == list(range(100))
    assert len({part["id"] for part in parts}) == len(parts) and parts[0]["parts"] == len(parts)
