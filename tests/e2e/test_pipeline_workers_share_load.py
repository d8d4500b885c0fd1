"""Two pipeline worker processes on one project share its durable consumer: each delivers part of
the records, together they deliver every record, and none twice.
"""

from __future__ import annotations

import pytest

from tests.support.deadline import wait_for
from tests.support.processes import PIPELINE_WORKER
from tests.support.standins import distinct_seqs, seq_of
from tests.support.telemetry import post_logs, wait_until_key_accepted

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SECOND_WORKER = "e2e-pipeline-b"
RECORDS = 3000


@pytest.fixture
def second_worker(stack):
    stack.start_pipeline(SECOND_WORKER)
    yield SECOND_WORKER
    assert stack.stop(SECOND_WORKER) == 0, f"SIGTERM is a clean shutdown; see {stack.log_dir}"


def test_two_pipeline_workers_share_the_records_of_a_project_and_deliver_every_one(
        stack, project, agent, second_worker):
    agent.send_outputs = False
    project.configure_pipeline(agent.url, batch_size=10, batch_max_wait_ms=50)
    workers = (PIPELINE_WORKER, second_worker)

    def running(worker: str) -> bool:
        return (project.worker_stats(worker) or {}).get("state") == "running"

    wait_for(lambda: stack.check_alive() or all(running(worker) for worker in workers), timeout=30, interval=0.2,
             message="both workers run the project's pipeline")
    wait_until_key_accepted(stack.receiver_url, project.key)

    post_logs(stack.receiver_url, project.key, range(RECORDS), per_request=100)
    wait_for(lambda: stack.check_alive() or distinct_seqs(agent.accepted_records()) == set(range(RECORDS)),
             timeout=60, message="every record delivered")
    project.wait_settled(project.raw_stream, "pipeline")
    assert sorted(seq_of(record) for record in agent.accepted_records()) == list(range(RECORDS)), "none twice"

    def shares() -> dict | None:
        sent = {worker: (project.worker_stats(worker) or {}).get("records_sent", 0) for worker in workers}
        return sent if sum(sent.values()) == RECORDS else None

    sent = wait_for(shares, timeout=10, interval=0.3, message="both workers' counters published")
    assert all(count > 0 for count in sent.values()), f"one worker did all the work: {sent}"
