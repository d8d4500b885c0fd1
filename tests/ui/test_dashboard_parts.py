"""The dashboard's pure parts (sparklines, rates) and the bounded live tail against a real nats-server."""

from __future__ import annotations

import asyncio
import json
import uuid

import nats
import pytest

from projects.sparkline import area_points, rates, sparkline_points
from projects.views.live import compact, tail_events


@pytest.mark.parametrize(("values", "expected"), [
    ([], ""),
    ([None, None], ""),
    ([0, 0], "0.0,29.0 100.0,29.0"),
    ([0, 10], "0.0,29.0 100.0,1.0"),
    ([5, None, 10], "0.0,15.0 100.0,1.0"),
])
def test_sparkline_points_scale_from_zero_to_the_maximum(values, expected):
    assert sparkline_points(values) == expected


def test_area_closes_the_line_along_the_bottom():
    assert area_points("0.0,29.0 100.0,1.0") == "0.0,30.0 0.0,29.0 100.0,1.0 100.0,30.0"
    assert area_points("") == ""


@pytest.mark.parametrize(("samples", "expected"), [
    ([(0, 0), (2, 10), (4, 10)], [5.0, 0.0]),
    ([(0, 10), (1, 4)], [None]),  # counter went down: a restart or aged-out records, not a negative rate
    ([(0, None), (1, 4)], [None]),
    ([(1, 1)], []),
])
def test_rates_between_samples(samples, expected):
    assert rates(samples) == expected


def test_compact_keeps_events_on_one_line_and_bounded():
    assert compact(b'{"body": "a\\nb"}') == '{"body":"a\\nb"}'
    assert compact(b"plain\ntext") == "plain text"
    assert len(compact(json.dumps({"body": "x" * 5000}).encode())) == 2000


async def test_live_tail_streams_records_and_outputs_with_a_rate_cap_and_ends(nats_server):
    project_id = uuid.uuid4()
    events: list[str] = []

    async def consume():
        async for chunk in tail_events(project_id, max_seconds=2.5, per_second=3):
            events.append(chunk)

    task = asyncio.create_task(consume())
    nc = await nats.connect(nats_server.url)
    try:
        for _ in range(100):  # wait until the tail has subscribed
            if any("event: status" in e for e in events):
                break
            await asyncio.sleep(0.02)
        for index in range(6):
            await nc.publish(f"gf-ai-raw.{project_id}.in", json.dumps({"body": f"record {index}"}).encode())
        await nc.publish(f"gf-ai-output.{project_id}.out", b'{"payload": {"summary": "done"}}')
        await nc.publish(f"gf-ai-raw.{uuid.uuid4()}.in", b'{"body": "another project"}')
        await nc.flush()
        await asyncio.wait_for(task, 5)
    finally:
        await nc.close()
    data = [e for e in events if e.startswith("event: raw") or e.startswith("event: output")]
    assert len(data) == 3  # capped at 3 per second; the rest is counted as skipped
    assert all("another project" not in e for e in events)
    assert any("skipped" in e for e in events)
    assert events[-1].startswith("event: end")
