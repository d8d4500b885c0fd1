"""The deployment docs/deploy.md recommends, under fire: a 3-node JetStream cluster, replicas 3.

Three nats-servers from the wheel form a cluster on loopback; the receiver, a pipeline worker
and a sink worker run as subprocesses with ``STREAM_REPLICAS=3`` and every server in
``NATS_URL``. A sender posts numbered records at a steady rate while the test (a) kills -9 the
leader of the project's raw stream, (b) restarts the three servers one after another (SIGTERM,
start, wait until healthy), (c) kills -9 the leader of the configuration bucket. Every record
the receiver acknowledged (200) must reach the agent, and every output the agent sent must reach
the webhook. Duplicates and the longest pause in acceptance are reported (``-s`` shows them).

Marked ``cluster``: not part of ``make test``; ``make test-cluster`` runs it (CI does, after).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter

import httpx
import nats
import pytest

from projects.natsbridge import bridge
from tests.support.deadline import wait_for
from tests.support.e2e_project import ProjectApi
from tests.support.factories import UserFactory
from tests.support.nats_cluster import NatsCluster
from tests.support.processes import DataPlane
from tests.support.standins import Agent, StandIn, seq_of
from tests.support.telemetry import log_request, wait_until_key_accepted

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]

RECORDS_PER_REQUEST = 10
REQUEST_INTERVAL = 0.1  # 100 records/s
SETTLE_AFTER_FAULT = 3.0  # traffic keeps flowing a moment after each fault before the next


class ClusterJs:
    """tests.conftest.Js for a cluster: connects to any of the servers."""

    def __init__(self, urls: list[str]):
        self.urls = urls

    def run(self, operation):
        async def main():
            nc = await nats.connect(self.urls, connect_timeout=2, max_reconnect_attempts=3)
            try:
                return await operation(nc.jetstream(timeout=10))
            finally:
                await nc.close()

        return asyncio.run(main())


class SteadySender(threading.Thread):
    """POSTs numbered records at a steady rate; remembers which ones the receiver acknowledged."""

    def __init__(self, receiver_url: str, api_key: str):
        super().__init__(name="steady-sender", daemon=True)
        self.url = f"{receiver_url}/v1/logs"
        self.headers = {"X-API-Key": api_key, "Content-Type": "application/x-protobuf"}
        self.acked: set[int] = set()
        self.statuses: Counter[int] = Counter()  # 0: no answer (connection error, timeout)
        self.ok_times: list[float] = []
        self.phases: list[tuple[str, float]] = []  # (fault, when it started)
        self.halt = threading.Event()

    def run(self) -> None:
        seq = 0
        with httpx.Client(timeout=10, headers=self.headers) as client:
            next_at = time.monotonic()
            while not self.halt.is_set():
                seqs = range(seq, seq + RECORDS_PER_REQUEST)
                seq += RECORDS_PER_REQUEST
                try:
                    status = client.post(self.url, content=log_request(seqs)).status_code
                except httpx.HTTPError:
                    status = 0
                self.statuses[status] += 1
                if status == 200:
                    self.acked.update(seqs)
                    self.ok_times.append(time.monotonic())
                next_at += REQUEST_INTERVAL
                self.halt.wait(max(0.0, next_at - time.monotonic()))

    def mark(self, phase: str) -> None:
        self.phases.append((phase, time.monotonic()))

    def longest_pauses(self) -> dict[str, float]:
        """The longest gap between two acknowledged requests, by the fault during which it ended."""
        pauses: dict[str, float] = {}
        times = self.ok_times
        for earlier, later in zip(times, times[1:], strict=False):
            phase = next((name for name, at in reversed(self.phases) if at <= later), "before faults")
            pauses[phase] = round(max(pauses.get(phase, 0.0), later - earlier), 1)
        return pauses


@pytest.fixture
def cluster(tmp_path):
    nodes = NatsCluster(tmp_path / "cluster")
    nodes.root.mkdir()
    try:
        nodes.start_all()
        yield nodes
    finally:
        nodes.stop_all()


def test_a_three_node_cluster_loses_no_acknowledged_record_through_leader_kills_and_a_rolling_restart(
        cluster, settings, tmp_path):
    settings.NATS_SERVERS = cluster.urls
    settings.NATS_URL = ",".join(cluster.urls)
    settings.STREAM_REPLICAS = 3
    bridge.reset()
    js = ClusterJs(cluster.urls)
    plane = DataPlane(settings.NATS_URL, tmp_path)
    plane.env.update(STREAM_REPLICAS="3", LOG_LEVEL="WARNING")
    project = ProjectApi(UserFactory(), "cluster", js)
    assert js.run(lambda j: j.stream_info(project.raw_stream)).config.num_replicas == 3
    agent, webhook = None, StandIn("hook")
    sender = None
    figures: dict[str, object] = {}
    try:
        plane.start_receiver()
        plane.start_pipeline("cluster-pipeline")
        plane.start("sink", "runsink", "--initial-backoff-ms", "100", "--max-backoff-ms", "400",
                    "--request-timeout", "5", "--metrics-port", "0")
        plane.wait_receiver_ready(timeout=60)
        agent = Agent(receiver_url=plane.receiver_url, api_key=project.key)
        project.configure_pipeline(agent.url, batch_size=50, batch_max_wait_ms=200)
        hook = project.add_sink("hook", "webhook", {"url": webhook.url, "method": "POST", "headers": {}})
        project.wait_for_sink_consumers(hook["id"], timeout=30)
        wait_until_key_accepted(plane.receiver_url, project.key, timeout=30)

        sender = SteadySender(plane.receiver_url, project.key)
        sender.start()
        wait_for(lambda: len(agent.accepted_records()) > 100, timeout=60, message="records flowing to the agent")

        victim = cluster.leader_of(project.raw_stream)
        figures["raw stream leader killed"] = victim.name
        sender.mark("(a) raw stream leader killed")
        cluster.kill(victim)
        time.sleep(SETTLE_AFTER_FAULT)  # traffic flows on two nodes for a while
        cluster.start(victim)
        cluster.wait_healthy(victim)

        sender.mark("(b) rolling restart")
        for node in cluster.nodes:
            cluster.stop(node)
            cluster.start(node)
            cluster.wait_healthy(node)
            plane.check_alive()
        time.sleep(SETTLE_AFTER_FAULT)

        victim = cluster.leader_of("KV_gf-ai-config")
        figures["config bucket leader killed"] = victim.name
        sender.mark("(c) config bucket leader killed")
        cluster.kill(victim)
        time.sleep(SETTLE_AFTER_FAULT)
        cluster.start(victim)
        cluster.wait_healthy(victim)
        time.sleep(SETTLE_AFTER_FAULT)
        sender.mark("after faults")
    finally:
        if sender is not None:
            sender.halt.set()
            sender.join(30)
    try:
        plane.check_alive()
        acked = sender.acked
        wait_for(lambda: acked <= {seq_of(r) for r in agent.accepted_records()}, timeout=120, interval=0.5,
                 message="every acknowledged record reached the agent")
        project.wait_settled(project.raw_stream, "pipeline", timeout=60)
        wait_for(lambda: set(agent.outputs) <= {r.body["requestId"] for r in webhook.delivered()}, timeout=120,
                 interval=0.5, message="every output reached the webhook")
        delivered = Counter(seq_of(r) for r in agent.accepted_records())
        outputs = Counter(r.body["requestId"] for r in webhook.delivered())
        figures.update({
            "records acknowledged": len(acked),
            "answers by status (0: none)": dict(sender.statuses),
            "acknowledged records lost": len(acked - set(delivered)),
            "record duplicates at the agent": sum(delivered.values()) - len(delivered),
            "outputs": len(agent.outputs),
            "outputs lost": len(set(agent.outputs) - set(outputs)),
            "output duplicates at the webhook": sum(outputs.values()) - len(outputs),
            "longest pause in acceptance (s)": sender.longest_pauses(),
        })
        print("\ncluster test figures:", figures)
        assert figures["acknowledged records lost"] == 0
        assert figures["outputs lost"] == 0
        assert project.dead_letters() == []
    finally:
        plane.stop_all()
        if agent is not None:
            agent.close()
        webhook.close()
        project.delete()
        bridge.reset()
