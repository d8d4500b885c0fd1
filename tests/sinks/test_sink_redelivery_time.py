"""A runsink process killed with SIGKILL mid-delivery: another one gets the output within seconds.

ack_wait is a fixed 5 s kept alive by in_progress() while a batch is worked on, so neither a
30 s request timeout nor a long delivery lets the server hand the output out twice, and a crash
costs about 5 s (before: max(30 s, 3 × request timeout), here 90 s).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nats
import pytest

from projects import natsops
from projects.streams import StreamLimits, output_stream, output_subject
from sinks.worker.worker import SinkWorker
from tests.support.deadline import wait_for_async
from tests.support.sink_harness import fast_options
from tests.support.standins import StandIn

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

BASE_DIR = Path(__file__).resolve().parents[2]
SMALL = StreamLimits(max_bytes=16 * 1024**2)
REDELIVERY_DEADLINE_SECONDS = 8.0  # ack_wait (5 s) plus a fetch and this machine's load


def start_runsink(nats_url: str, bucket: str, log: Path) -> subprocess.Popen:
    env = dict(os.environ, NATS_URL=nats_url, CONFIG_BUCKET=bucket, ALLOW_PRIVATE_TARGETS="1", DEBUG="0",
               LOG_LEVEL="INFO", SECRET_KEY=os.environ.get("SECRET_KEY", "sink-redelivery-secret"))
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, str(BASE_DIR / "manage.py"), "runsink", "--metrics-port", "0",
                                 "--request-timeout", "30"], cwd=BASE_DIR, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


async def test_a_killed_sink_workers_output_is_redelivered_within_seconds(nats_server, tmp_path):
    webhook = StandIn("hook")
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    project_id, sink_id = str(uuid.uuid4()), str(uuid.uuid4())
    bucket = f"gf-ai-config-redelivery-{uuid.uuid4().hex[:8]}"
    await natsops.ensure_streams(js, project_id, SMALL)
    kv = await natsops.config_bucket(js, bucket, 1)
    await natsops.put_config_document(kv, {"projectId": project_id, "version": 1, "sinks": [
        {"id": sink_id, "name": "hook", "kind": "webhook", "enabled": True, "generation": 0,
         "config": {"url": webhook.url, "method": "POST", "headers": {}}}]})
    crashing = start_runsink(nats_server.url, bucket, tmp_path / "runsink.log")
    survivor = None
    try:
        async def consumer_exists() -> bool:
            return any(info.name == f"sink-{sink_id}" for info in await js.consumers_info(output_stream(project_id)))

        await wait_for_async(consumer_exists, timeout=30, message="runsink created the sink's consumer")
        webhook.hold()
        await js.publish(output_subject(project_id), json.dumps(
            {"projectId": project_id, "requestId": "r-1", "receivedAt": "t", "payload": {}}).encode())
        await wait_for_async(lambda: webhook.held, timeout=30, message="the delivery is in flight")
        first = webhook.held[0].at
        # Held well past ack_wait: in_progress() must keep it with the live worker meanwhile.
        await wait_for_async(lambda: time.monotonic() - first > 7, timeout=10)
        assert len(webhook.requests) == 1, "the output was handed out again while its worker was alive"
        os.kill(crashing.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        crashing.wait(10)
        webhook.release()
        options = dataclasses.replace(fast_options(), config_bucket=bucket)
        survivor = SinkWorker(dataclasses.replace(options, consumer=dataclasses.replace(options.consumer, ack_wait=5.0)),
                              await nats.connect(nats_server.url))
        runner = asyncio.create_task(survivor.run())
        await wait_for_async(lambda: len(webhook.requests) >= 2, timeout=100, message="the output redelivered")
        redelivered_after = webhook.requests[1].at - killed_at
        print(f"sink output redelivered {redelivered_after:.1f} s after the kill")
        assert redelivered_after <= REDELIVERY_DEADLINE_SECONDS
        survivor.stop.set()
        await asyncio.wait_for(runner, 20)
    finally:
        if crashing.poll() is None:
            crashing.kill()
        webhook.close()
        await natsops.delete_streams(js, project_id, SMALL)
        await nc.close()
