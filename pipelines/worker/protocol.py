"""The raw JetStream protocol the pipeline worker speaks on its shared pull consumer.

Acks are fire-and-forget publishes of these bytes to a message's reply subject (a lost ack
only means a redelivery). The consumer's ack_wait is short (5 s) and does not depend on any
setting: every message held for longer than a second gets a progress heartbeat (+WPI) every
second (pipelines/worker/held.py), so a worker that crashes has its records redelivered to the
others about 5 s later, and no request timeout or backoff can outlast ack_wait.
"""

from __future__ import annotations

from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from pipelines.stages.records import CompiledPipeline
from projects.streams import raw_subject

CONSUMER_NAME = "pipeline"
MAX_ACK_PENDING = 50_000
ACK = b"+ACK"
NAK = b"-NAK"
NAK_LATER = b'-NAK {"delay": 5000000000}'  # released for 5 s: an immediate retry would fail the same way
IN_PROGRESS = b"+WPI"
ACK_WAIT_SECONDS = 5.0
# A message held longer than this gets +WPI, and again every HEARTBEAT_SECONDS: the longest
# silence the server sees is about twice this, well inside ACK_WAIT_SECONDS.
HEARTBEAT_SECONDS = 1.0


def consumer_config(compiled: CompiledPipeline) -> ConsumerConfig:
    """The shared durable consumer; every runner computes the same one from the same config version."""
    config = compiled.config
    # Held messages are kept alive by heartbeats, so ack_wait is only how long a crashed
    # worker's records wait before another worker gets them.
    return ConsumerConfig(
        durable_name=CONSUMER_NAME, ack_policy=AckPolicy.EXPLICIT, deliver_policy=DeliverPolicy.ALL,
        ack_wait=ACK_WAIT_SECONDS, max_ack_pending=MAX_ACK_PENDING, max_deliver=-1,
        filter_subjects=[raw_subject(config.project_id, signal) for signal in config.signals],
        description="GlassFlow pipeline worker")
