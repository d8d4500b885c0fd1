"""Per-project statistics: stream sizes, worker counters from the stats KV bucket, consumer lag, DLQ depth."""

from __future__ import annotations

import json

import pytest

from projects.streams import dlq_subject, raw_subject
from tests.support.clients import client_for
from tests.support.deadline import wait_for
from tests.support.sink_harness import Reply, add_sink, consumer_info, publish_output
from tests.support.stats import project_stats, put_stats_key

pytestmark = pytest.mark.django_db(transaction=True)


def put_pipeline_counters(js, project_id, worker_id, **counters):
    """What a pipeline worker writes to gf-ai-stats (its own key per worker)."""
    put_stats_key(js, f"{project_id}.pipeline.{worker_id}", {**counters, "updatedAt": "t"})


def publish(js, subject, data):
    async def send(jetstream):
        await jetstream.publish(subject, json.dumps(data).encode())

    js.run(send)


def test_a_new_project_has_zero_everywhere(js, new_team):
    team = new_team()
    body = project_stats(team)
    assert body["received"] == {"messages": 0, "bytes": 0}
    assert body["outputs"]["messages"] == 0 and body["sinks"] == {}
    assert body["dlq_depth"] == {"total": 0, "pipeline": 0, "sink": 0}
    assert body["filtered_out"] == body["batches_sent"] == body["agent_errors"] == 0


def test_the_numbers_move_with_the_data_plane(js, new_team, stub_servers, sink_worker):
    team = new_team()
    pid = team.project.pk
    for i in range(3):
        publish(js, raw_subject(pid, "logs"), {"body": f"r{i}"})
    put_pipeline_counters(js, pid, "w1", received=3, filtered=1, filter_errors=1, batches_sent=1, records_sent=2,
                          agent_errors=0, dlq=0)
    put_pipeline_counters(js, pid, "w2", received=2, filtered=2, filter_errors=0, batches_sent=1, records_sent=0,
                          agent_errors=1, dlq=1)
    publish(js, dlq_subject(pid, "pipeline"), {"stage": "pipeline", "records": []})

    good, bad = stub_servers(), stub_servers()
    bad.default = Reply(400, b"invalid_payload")
    hook = add_sink(team, "hook", "webhook", {"url": good.url()})
    chat = add_sink(team, "chat", "slack", {"webhook_url": bad.url()})
    for sink in (hook, chat):
        wait_for(lambda sink=sink: consumer_info(js, pid, sink["id"]), message="consumer")
    publish_output(js, pid, {"summary": "one"})
    publish_output(js, pid, {"summary": "two"})
    body = wait_for(lambda: (lambda b: b if b["sinks"][hook["id"]]["deliveries"] == 2
                             and b["sinks"][chat["id"]]["dlq"] == 2 else None)(project_stats(team)),
                    message="sink counters")
    assert body["received"]["messages"] == 3 and body["received"]["bytes"] > 0
    assert body["pipeline_received"] == 5 and body["filtered_out"] == 3 and body["filter_errors"] == 1
    assert body["batches_sent"] == 2 and body["records_sent"] == 2 and body["agent_errors"] == 1
    assert body["outputs"]["messages"] == 2
    assert body["dlq_depth"] == {"total": 3, "pipeline": 1, "sink": 2}
    hook_figures = body["sinks"][hook["id"]]
    assert hook_figures["rtt_p50_ms"] > 0 and hook_figures["rtt_p99_ms"] >= hook_figures["rtt_p50_ms"]
    assert hook_figures | {"last_success_at": None, "rtt_p50_ms": None, "rtt_p99_ms": None} == {
        "name": "hook", "deliveries": 2, "failures": 0, "dlq": 0, "last_error": "", "last_error_at": None,
        "last_success_at": None, "stalled_since": None, "lag": 0, "throttled_seconds": 0, "rtt_p50_ms": None,
        "rtt_p99_ms": None, "concurrency_limit": 1, "in_flight": 0}  # a strict-order sink: one at a time
    failing = body["sinks"][chat["id"]]
    assert failing["failures"] == 2 and failing["deliveries"] == 0 and "invalid_payload" in failing["last_error"]
    assert body["consumer_lag"] == {f"sink-{hook['id']}": 0, f"sink-{chat['id']}": 0}


def test_outsiders_cannot_see_statistics(js, new_team):
    team = new_team()
    assert client_for(team.outsider).get(f"/api/v1/projects/{team.project.pk}/stats/").status_code == 404
