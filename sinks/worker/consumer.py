"""One sink's durable pull consumer ``sink-{sinkId}[-g{generation}]`` on its project's output stream.

Each sink has its own cursor, so a failing Slack never delays or duplicates a webhook.
``process_batch`` is one iteration: fetch, deliver each message in order with retries,
ack after success or after the DLQ stored the failure, nak on shutdown. A sink whose
``maxConcurrency`` is above 1 delivers a batch's messages concurrently instead, as many at a time
as its adaptive concurrency controller (pipelines.worker.flow.DeliveryGate) allows; order is then
not kept. While a batch is
being worked on, a keepalive marks every unacknowledged message in progress so the server
does not hand it to another runsink process during long retries; so ack_wait is short
(5 s), and a crashed runsink's messages go to another one about 5 s later.

The name carries the sink's generation (bumped each time the sink is enabled again), so a
consumer name is never reused: deleting the consumer of a disabled sink can never delete
the one a faster process made for the re-enabled sink. The consumer's metadata records the
config version that created it (see ``consumer_is_dead``). ``ensure_consumer`` also updates
an existing consumer whose settings (ack_wait, max_ack_pending, subject) differ.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import time
from dataclasses import dataclass

import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from deadletters.entries import REPLAY_SINK_HEADER, sink_dead_letter
from deadletters.publish import publish_dead_letter
from outbound import RetryPolicy
from pipelines.worker.flow import DeliveryGate
from projects.streams import output_stream, output_subject
from sinks.kinds import get_kind
from sinks.kinds.base import DeliveryContext
from sinks.worker.pacing import Pacer
from sinks.worker.retries import deliver_with_retries
from sinks.worker.tally import StatsRecorder

logger = logging.getLogger(__name__)

VERSION_KEY = "glassflow_config_version"
MAX_CONCURRENCY_LIMIT = 256  # also the model's bound (sinks.models)


def max_concurrency_of(sink: dict) -> int:
    """The sink's ``maxConcurrency`` from the config document; 1 (strict order) when absent or invalid."""
    value = sink.get("maxConcurrency", 1)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return 1
    return min(value, MAX_CONCURRENCY_LIMIT)


def consumer_name(sink_id: object, generation: int = 0) -> str:
    # Generation 0 keeps the name consumers had before generations existed (and their cursor).
    return f"sink-{sink_id}" if not generation else f"sink-{sink_id}-g{generation}"


def parse_consumer_name(name: str) -> tuple[str, int] | None:
    """(sink id, generation) of a sink consumer's name, None for other consumers."""
    if not name.startswith("sink-"):
        return None
    sink_id, _, generation = name.removeprefix("sink-").partition("-g")  # "-g" never occurs in a UUID
    if generation and not generation.isdigit():
        return None
    return sink_id, int(generation or 0)


def consumer_is_dead(document: dict, sink_id: str, generation: int, created_version: int | None,
                     document_is_current: bool) -> bool:
    """Whether no document as new as ``document`` or newer can want this consumer again.

    Safe against any other runsink process, however far ahead or behind it is: a consumer of
    an older generation, or of this generation of a disabled sink, is never wanted again; a
    sink missing from the document is gone if the consumer was created for an older document
    (otherwise our document may predate the sink).
    """
    sink = next((entry for entry in document.get("sinks", []) if str(entry.get("id")) == sink_id), None)
    if sink is None:
        if created_version is None:  # made before versions were recorded
            return document_is_current
        return created_version <= int(document.get("version", 0))
    current = int(sink.get("generation", 0))
    if generation != current:
        return generation < current
    return not sink.get("enabled")


@dataclass(frozen=True)
class ConsumerOptions:
    retry: RetryPolicy
    request_timeout: float = 10.0
    batch_size: int = 10
    fetch_timeout: float = 1.0
    ack_wait: float = 5.0
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


async def ensure_consumer(js: JetStreamContext, project_id: str, sink_id: str, options: ConsumerOptions,
                          generation: int = 0, config_version: int = 0) -> None:
    """Create the sink's consumer, or update it if its settings differ. A new sink starts at new messages."""
    name = consumer_name(sink_id, generation)
    config = ConsumerConfig(
        durable_name=name, name=name, deliver_policy=DeliverPolicy.NEW,
        ack_policy=AckPolicy.EXPLICIT, ack_wait=options.ack_wait, max_ack_pending=options.max_ack_pending,
        filter_subject=output_subject(project_id), description=f"GlassFlow sink {sink_id}",
        metadata={VERSION_KEY: str(config_version)})
    try:
        info = await js.consumer_info(output_stream(project_id), name)
    except NotFoundError:
        await js.add_consumer(output_stream(project_id), config)
        return
    have = info.config
    if (have.ack_wait, have.max_ack_pending, have.filter_subject) != (
            config.ack_wait, config.max_ack_pending, config.filter_subject):
        # The version that created it stays: it is what consumer_is_dead compares.
        config.metadata = {VERSION_KEY: (have.metadata or {}).get(VERSION_KEY, str(config_version))}
        await js.add_consumer(output_stream(project_id), config)
        logger.info("consumer %s updated: ack_wait %s s, max_ack_pending %s", name, config.ack_wait,
                    config.max_ack_pending)


async def delete_consumer(js: JetStreamContext, project_id: str, sink_id: str, generation: int = 0) -> None:
    with contextlib.suppress(NotFoundError):
        await js.delete_consumer(output_stream(project_id), consumer_name(sink_id, generation))


class SinkConsumer:
    def __init__(self, js: JetStreamContext, project_id: str, sink: dict, options: ConsumerOptions,
                 context: DeliveryContext, stats: StatsRecorder, stop: asyncio.Event, max_payload: int = 1024 * 1024,
                 pacer: Pacer | None = None, config_version: int = 0):
        self.js = js
        self.project_id = project_id
        self.sink = sink
        self.generation = int(sink.get("generation", 0))
        self.config_version = config_version
        self.options = options
        self.context = context
        self.stats = stats
        self.stop = stop
        self.subscription: JetStreamContext.PullSubscription | None = None
        self.pacer = pacer or Pacer()  # shared by the worker's consumers: one budget per target URL
        self.inflight: list[Msg] = []
        self.gate: DeliveryGate | None = None  # only while maxConcurrency > 1; keeps what it learnt
        self.delivering = 0  # outputs being delivered right now (their retries included)
        # Leave room for headers and protocol overhead under the server's max_payload.
        self.max_entry_bytes = max(64 * 1024, max_payload - 16 * 1024)

    @property
    def sink_id(self) -> str:
        return self.sink["id"]

    @property
    def name(self) -> str:
        return consumer_name(self.sink_id, self.generation)

    @property
    def label(self) -> str:
        return f"sink {self.sink.get('name', '')} ({self.sink_id}) of project {self.project_id}"

    def retry_policy(self) -> RetryPolicy:
        """The worker's policy, with this sink's own "dead-letter after" when it has one (the worker's
        default is None: retry while the stream holds the outputs)."""
        seconds = self.sink.get("deadLetterAfterSeconds")
        if isinstance(seconds, int) and not isinstance(seconds, bool) and seconds > 0:
            return dataclasses.replace(self.options.retry, dead_letter_after=float(seconds))
        return self.options.retry

    async def bind(self) -> None:
        """Create the consumer if needed and subscribe to it; also used after it was deleted under us."""
        await self.unbind()
        await ensure_consumer(self.js, self.project_id, self.sink_id, self.options, self.generation,
                              self.config_version)
        self.subscription = await self.js.pull_subscribe_bind(consumer=self.name, stream=output_stream(self.project_id))

    def current_gate(self) -> DeliveryGate | None:
        """The controller for this sink's current maxConcurrency; None for strict order (1)."""
        limit = max_concurrency_of(self.sink)
        if limit == 1:
            if self.gate is not None:
                self.gate.stop()
                self.gate = None
            return None
        if self.gate is None:
            self.gate = DeliveryGate(limit)
        else:
            self.gate.configure(limit, None, None)
        return self.gate

    def record_flow(self) -> None:
        gate = self.gate
        limit, in_flight = (gate.controller.limit, gate.controller.in_flight) if gate else (1, self.delivering)
        self.stats.flow(self.project_id, self.sink_id, limit, in_flight)

    async def unbind(self) -> None:
        if self.gate is not None:
            self.gate.stop()
            self.gate = None
        if self.subscription is not None:
            with contextlib.suppress(Exception):  # the connection may already be gone
                await self.subscription.unsubscribe()
            self.subscription = None

    async def process_batch(self) -> BatchResult:
        """Fetch and handle one batch; an empty result means there was no work."""
        if self.subscription is None:
            await self.bind()
        try:
            # A concurrent sink fetches enough to fill its largest allowed concurrency.
            size = max(self.options.batch_size, max_concurrency_of(self.sink))
            messages = await self.subscription.fetch(size, timeout=self.options.fetch_timeout)
        except (nats.errors.TimeoutError, TimeoutError):
            return BatchResult()  # no work: fetch timing out is the normal idle case
        if not messages:
            return BatchResult()
        started = time.monotonic()
        result = BatchResult(received=len(messages))
        self.inflight = list(messages)
        keepalive = asyncio.create_task(self._keepalive())
        gate = self.current_gate()
        try:
            if gate is None:
                for msg in messages:
                    await self._handle_one(msg, result, None)
            else:
                # The gate decides how many go at once; the others wait for a turn, kept alive meanwhile.
                release = asyncio.create_task(self._release_on_stop(gate))
                try:
                    outcomes = await asyncio.gather(*(self._handle_one(msg, result, gate) for msg in messages),
                                                    return_exceptions=True)
                finally:
                    release.cancel()
                # Only once every delivery ended: the rest would otherwise be handed back while still going.
                failure = next((item for item in outcomes if isinstance(item, BaseException)), None)
                if failure is not None:
                    raise failure
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

    async def _handle_one(self, msg: Msg, result: BatchResult, gate: DeliveryGate | None) -> None:
        if self.stop.is_set():
            await msg.nak(delay=self.options.handback_delay)  # another process (or our restart) takes it
            result.requeued += 1
        else:
            await self.handle(msg, result, gate)
        self.inflight.remove(msg)

    async def _release_on_stop(self, gate: DeliveryGate) -> None:
        """On shutdown, outputs still waiting for a turn are handed back at once (the gate answers them
        None), not sent one by one as the ones in flight finish."""
        await self.stop.wait()
        gate.stop()

    async def _keepalive(self) -> None:
        while True:
            await asyncio.sleep(self.options.keepalive_interval)
            for msg in list(self.inflight):
                with contextlib.suppress(Exception):
                    await msg.in_progress()

    async def handle(self, msg: Msg, result: BatchResult, gate: DeliveryGate | None = None) -> None:
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
        if gate is None:
            waited = await self.pacer.wait_turn(kind, config, self.stop)
        else:
            waited = await self.pacer.reserve_turn(kind, config, self.stop)
        if waited:
            self.stats.throttled(self.project_id, self.sink_id, waited)
        if self.stop.is_set():
            await msg.nak(delay=self.options.handback_delay)
            result.requeued += 1
            return
        started = time.monotonic()
        self.delivering += 1
        self.record_flow()
        try:
            outcome = await deliver_with_retries(
                kind, config, message, self.context, self.retry_policy(), self.stop,
                label=self.label, on_failed_attempt=lambda error, permanent: self.stats.attempt_failed(
                    self.project_id, self.sink_id, error, transient=not permanent), gate=gate)
        finally:
            self.delivering -= 1
            if gate is None:
                self.pacer.done(kind, config)
            self.record_flow()
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
