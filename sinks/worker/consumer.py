"""One sink's durable pull consumer ``sink-{sinkId}`` on its project's output stream.

Each sink has its own cursor, so a failing Slack never delays or duplicates a webhook.
``process_batch`` is one iteration: fetch, deliver each message in order with retries,
ack after success or after the DLQ stored the failure, nak on shutdown. While a batch is
being worked on, a keepalive marks every unacknowledged message in progress so the server
does not hand it to another runsink process during long retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass

import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from projects.streams import output_stream, output_subject
from sinks.kinds import get_kind
from sinks.kinds.base import DeliveryContext
from sinks.worker.deadletter import REPLAY_SINK_HEADER, publish_dead_letter, sink_dead_letter
from sinks.worker.delivery import RetryPolicy, deliver_with_retries
from sinks.worker.pacing import Pacer
from sinks.worker.stats import StatsRecorder

logger = logging.getLogger(__name__)


def consumer_name(sink_id: object) -> str:
    return f"sink-{sink_id}"


@dataclass(frozen=True)
class ConsumerOptions:
    retry: RetryPolicy
    request_timeout: float = 10.0
    batch_size: int = 10
    fetch_timeout: float = 1.0
    ack_wait: float = 60.0
    max_ack_pending: int = 1000

    @property
    def keepalive_interval(self) -> float:
        return max(0.5, self.ack_wait / 3)

    @property
    def handback_delay(self) -> float:
        """Delay of a nak on shutdown. Our last pull request lingers on the server until its expiry
        (fetch_timeout); an immediate nak would be redelivered into it, to a process that is
        leaving, and sit unacknowledged for ack_wait. Waiting past the expiry avoids that."""
        return self.fetch_timeout + 1.0


@dataclass
class BatchResult:
    received: int = 0
    delivered: int = 0
    dead_lettered: int = 0
    skipped: int = 0
    requeued: int = 0


async def ensure_consumer(js: JetStreamContext, project_id: str, sink_id: str, options: ConsumerOptions) -> None:
    """Create the sink's consumer if it does not exist. A new sink starts at new messages."""
    config = ConsumerConfig(
        durable_name=consumer_name(sink_id), name=consumer_name(sink_id), deliver_policy=DeliverPolicy.NEW,
        ack_policy=AckPolicy.EXPLICIT, ack_wait=options.ack_wait, max_ack_pending=options.max_ack_pending,
        filter_subject=output_subject(project_id), description=f"GlassFlow sink {sink_id}")
    try:
        await js.consumer_info(output_stream(project_id), consumer_name(sink_id))
    except NotFoundError:
        await js.add_consumer(output_stream(project_id), config)


async def delete_consumer(js: JetStreamContext, project_id: str, sink_id: str) -> None:
    with contextlib.suppress(NotFoundError):
        await js.delete_consumer(output_stream(project_id), consumer_name(sink_id))


class SinkConsumer:
    def __init__(self, js: JetStreamContext, project_id: str, sink: dict, options: ConsumerOptions,
                 context: DeliveryContext, stats: StatsRecorder, stop: asyncio.Event, max_payload: int = 1024 * 1024,
                 pacer: Pacer | None = None):
        self.js = js
        self.project_id = project_id
        self.sink = sink
        self.options = options
        self.context = context
        self.stats = stats
        self.stop = stop
        self.subscription: JetStreamContext.PullSubscription | None = None
        self.pacer = pacer or Pacer()  # shared by the worker's consumers: one budget per target URL
        self.inflight: list[Msg] = []
        # Leave room for headers and protocol overhead under the server's max_payload.
        self.max_entry_bytes = max(64 * 1024, max_payload - 16 * 1024)

    @property
    def sink_id(self) -> str:
        return self.sink["id"]

    @property
    def label(self) -> str:
        return f"sink {self.sink.get('name', '')} ({self.sink_id}) of project {self.project_id}"

    async def bind(self) -> None:
        """Create the consumer if needed and subscribe to it; also used after it was deleted under us."""
        await self.unbind()
        await ensure_consumer(self.js, self.project_id, self.sink_id, self.options)
        self.subscription = await self.js.pull_subscribe_bind(
            consumer=consumer_name(self.sink_id), stream=output_stream(self.project_id))

    async def unbind(self) -> None:
        if self.subscription is not None:
            with contextlib.suppress(Exception):  # the connection may already be gone
                await self.subscription.unsubscribe()
            self.subscription = None

    async def process_batch(self) -> BatchResult:
        """Fetch and handle one batch; an empty result means there was no work."""
        if self.subscription is None:
            await self.bind()
        try:
            messages = await self.subscription.fetch(self.options.batch_size, timeout=self.options.fetch_timeout)
        except (nats.errors.TimeoutError, TimeoutError):
            return BatchResult()  # no work: fetch timing out is the normal idle case
        if not messages:
            return BatchResult()
        started = time.monotonic()
        result = BatchResult(received=len(messages))
        self.inflight = list(messages)
        keepalive = asyncio.create_task(self._keepalive())
        try:
            for msg in messages:
                if self.stop.is_set():
                    await msg.nak(delay=self.options.handback_delay)  # another process (or our restart) takes it
                    result.requeued += 1
                else:
                    await self.handle(msg, result)
                self.inflight.remove(msg)
        finally:
            keepalive.cancel()
            for msg in self.inflight:  # an exception escaped: give the rest back now, not after ack_wait
                with contextlib.suppress(Exception):
                    await msg.nak(delay=self.options.handback_delay)
            self.inflight = []
        logger.info("%s: batch in=%d delivered=%d dlq=%d skipped=%d requeued=%d in %.3fs", self.label,
                    result.received, result.delivered, result.dead_lettered, result.skipped, result.requeued,
                    time.monotonic() - started)
        return result

    async def _keepalive(self) -> None:
        while True:
            await asyncio.sleep(self.options.keepalive_interval)
            for msg in list(self.inflight):
                with contextlib.suppress(Exception):
                    await msg.in_progress()

    async def handle(self, msg: Msg, result: BatchResult) -> None:
        target = (msg.headers or {}).get(REPLAY_SINK_HEADER)
        if target and target != self.sink_id:
            await msg.ack()  # a replay meant for another sink of this project
            result.skipped += 1
            return
        try:
            message = json.loads(msg.data)
            if not isinstance(message, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            await self.dead_letter(msg, msg.data.decode(errors="replace"), result, attempts=0,
                                   error=f"the output message is not a JSON object: {exc}",
                                   reason="invalid output message")
            return
        kind = get_kind(self.sink["kind"])
        config = self.sink.get("config", {})
        waited = await self.pacer.wait_turn(kind, config, self.stop)
        if waited:
            self.stats.throttled(self.project_id, self.sink_id, waited)
        if self.stop.is_set():
            await msg.nak(delay=self.options.handback_delay)
            result.requeued += 1
            return
        started = time.monotonic()
        try:
            outcome = await deliver_with_retries(
                kind, config, message, self.context, self.options.retry, self.stop,
                label=self.label, on_failed_attempt=lambda error: self.stats.attempt_failed(
                    self.project_id, self.sink_id, error))
        finally:
            self.pacer.done(kind, config)
        if outcome.delivered:
            await msg.ack()
            rtt = time.monotonic() - started if outcome.attempts == 1 else None
            self.stats.delivered(self.project_id, self.sink_id, rtt)
            result.delivered += 1
        elif outcome.interrupted:
            await msg.nak(delay=self.options.handback_delay)
            result.requeued += 1
        else:
            await self.dead_letter(msg, message, result, attempts=outcome.attempts, error=outcome.error,
                                   reason=outcome.reason)

    async def dead_letter(self, msg: Msg, output: object, result: BatchResult, *, attempts: int, error: str,
                          reason: str) -> None:
        entry = sink_dead_letter(project_id=self.project_id, sink=self.sink, reason=reason, attempts=attempts,
                                 last_error=error, output=output, subject=msg.subject)
        sequence = msg.metadata.sequence.stream if msg.reply else None
        try:
            await publish_dead_letter(self.js, entry, sequence, self.max_entry_bytes)
        except Exception:  # noqa: BLE001  without a stored DLQ entry the message must stay in the stream
            logger.exception("%s: could not store a DLQ entry; the message will be redelivered", self.label)
            await msg.nak(delay=self.options.retry.initial_backoff)
            result.requeued += 1
            return
        await msg.ack()
        logger.warning("%s: message moved to the DLQ: %s", self.label, reason)
        self.stats.dead_lettered(self.project_id, self.sink_id, error)
        result.dead_lettered += 1
