"""A pipeline worker killed with SIGKILL in the middle of 10,000 records, then started again:
every record reaches the agent at least once, and only the batches that were in flight at the
moment of the kill reach it twice.

The agent holds (does not answer) the batches that arrive after the first 5,000 records, so the
kill lands while known batches are in flight; their 200 reaches no one, so they come back.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.support.deadline import wait_for
from tests.support.processes import PIPELINE_WORKER
from tests.support.standins import distinct_seqs, seq_of
from tests.support.telemetry import post_logs, wait_until_key_accepted

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

RECORDS = 10_000
BATCH = 10
CONCURRENT_BATCHES = 4  # the pipeline's max_concurrency here: the adaptive limit reaches it


def test_a_killed_pipeline_worker_loses_no_record_and_repeats_only_its_batches_in_flight(stack, project, agent):
    agent.send_outputs = False  # no sinks here: the agent only records
    project.configure_pipeline(agent.url, batch_size=BATCH, batch_max_wait_ms=50, request_timeout_ms=2000,
                              max_concurrency=CONCURRENT_BATCHES)
    wait_until_key_accepted(stack.receiver_url, project.key)
    agent.hold_after(RECORDS // 2)
    post_logs(stack.receiver_url, project.key, range(RECORDS), per_request=500)

    wait_for(lambda: agent.held, timeout=60, message="the worker reached the middle of the stream")
    # Let the worker fill its delivery slots (it cannot get further: the agent answers none of them).
    wait_for(lambda: len(agent.held) >= CONCURRENT_BATCHES, timeout=5, message="every delivery slot in use")
    stack.kill(PIPELINE_WORKER)
    in_flight = {seq_of(record) for request in agent.held for record in request.body}
    before_restart = {seq_of(record) for record in agent.received_records()}
    assert len(before_restart) < RECORDS, "killed in the middle"
    agent.release()

    stack.start_pipeline(PIPELINE_WORKER)
    # What the dead worker held comes back after the consumer's ack_wait (10 s here).
    wait_for(lambda: stack.check_alive() or len(distinct_seqs(agent.received_records())) == RECORDS,
             timeout=60, interval=0.2, message="every record delivered after the restart")
    project.wait_settled(project.raw_stream, "pipeline")

    counts = Counter(seq_of(record) for record in agent.received_records())
    assert set(counts) == set(range(RECORDS))
    repeated = {seq for seq, times in counts.items() if times > 1}
    duplicates = sum(counts.values()) - len(counts)
    assert len(in_flight) <= CONCURRENT_BATCHES * BATCH
    assert repeated <= in_flight, f"records repeated that were not in flight: {sorted(repeated - in_flight)[:20]}"
    assert duplicates <= CONCURRENT_BATCHES * BATCH, f"{duplicates} duplicates"
    assert project.dead_letters() == []
