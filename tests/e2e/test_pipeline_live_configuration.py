"""Pipeline changes made through the API reach the running worker without a restart: disabling
stops delivery while records keep being stored, and enabling again with a new filter delivers
the stored records through the new filter.
"""

from __future__ import annotations

import pytest

from tests.support.deadline import wait_for
from tests.support.processes import PIPELINE_WORKER
from tests.support.standins import distinct_seqs, seq_of
from tests.support.telemetry import post_logs, wait_until_key_accepted

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def state_of(project) -> str | None:
    return (project.worker_stats(PIPELINE_WORKER) or {}).get("state")


def test_a_disabled_pipeline_keeps_records_and_delivers_them_through_the_new_filter_once_enabled_again(
        stack, project, agent):
    agent.send_outputs = False
    project.configure_pipeline(agent.url, filter="severityNumber >= 17", batch_max_wait_ms=50)
    wait_for(lambda: state_of(project) == "running", timeout=15, interval=0.2, message="pipeline running")
    wait_until_key_accepted(stack.receiver_url, project.key)
    post_logs(stack.receiver_url, project.key, range(0, 4), severity=17)
    post_logs(stack.receiver_url, project.key, range(4, 8), severity=9)
    wait_for(lambda: distinct_seqs(agent.accepted_records()) == {0, 1, 2, 3}, timeout=15, message="errors delivered")
    project.wait_settled(project.raw_stream, "pipeline")

    project.call("patch", project.path("pipeline/"), {"enabled": False})
    wait_for(lambda: state_of(project) == "stopped", timeout=15, interval=0.2,
             message="the worker reports the pipeline stopped")
    post_logs(stack.receiver_url, project.key, range(8, 12), severity=17)
    post_logs(stack.receiver_url, project.key, range(12, 16), severity=9)
    assert project.stored(project.raw_stream) == 16, "ingest goes on while the pipeline is disabled"
    consumer = project.consumer(project.raw_stream, "pipeline")
    assert consumer is not None and consumer.num_pending == 8, "the consumer keeps its position"
    assert distinct_seqs(agent.received_records()) == {0, 1, 2, 3}, "nothing delivered while disabled"

    project.call("patch", project.path("pipeline/"), {"enabled": True, "filter": 'severityText == "INFO"'})
    wait_for(lambda: {12, 13, 14, 15} <= distinct_seqs(agent.accepted_records()), timeout=15,
             message="the stored records go through the new filter")
    project.wait_settled(project.raw_stream, "pipeline")
    assert sorted(seq_of(record) for record in agent.accepted_records()) == [0, 1, 2, 3, 12, 13, 14, 15]
