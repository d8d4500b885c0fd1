"""One project's pipeline in this process: pull raw records, run the stages, batch, deliver, ack.

A ``PipelineRunner`` owns a ``PullFeed`` on the shared durable consumer ``pipeline``
of the project's raw stream; any number of runners in any number of processes share
that consumer and split the records. Messages are held (unacked) from arrival until
their fate is settled: acked after the agent answered 2xx or after their dead letter
was stored, nak'ed when the runner stops first. How many are held is bounded, so a
slow agent slows the pulling instead of filling memory.

The consumer's ack_wait is short (5 s) and does not depend on any setting: every message
held for longer than a second (waiting in a batch, in flight, between retries, waiting for
a delivery slot or its dead-letter write) gets a progress heartbeat (+WPI) every second.
So a worker that crashes has its records redelivered to the others about 5 s later, and
no request timeout or backoff can outlast ack_wait. The timer and the heartbeat loop are
supervised (glassflow_site.supervision): if one raises, it is logged, counted, restarted.
"""

from __future__ import annotations

import asyncio
import logging
import time

import nats.errors
import orjson
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from deadletters.publish import DeadLetterWriter
from glassflow_site.supervision import report_failure, supervise
from pipelines.stages.batching import Batcher
from pipelines.stages.records import CompiledPipeline, RecordOutcome
from pipelines.worker.agent import AgentClient
from pipelines.worker.batchcall import deliver_batch
from pipelines.worker.counters import ProjectStats
from pipelines.worker.flow import DeliveryGate
from pipelines.worker.pull import PullFeed
from projects.streams import raw_stream, raw_subject
from runs.recorder import RunHistory, RunHistorySettings

logger = logging.getLogger(__name__)

CONSUMER_NAME = "pipeline"
MAX_ACK_PENDING = 50_000
MAX_HELD = 40_000  # per runner, under the consumer's max_ack_pending shared by all workers
ACK = b"+ACK"
NAK = b"-NAK"
NAK_LATER = b'-NAK {"delay": 5000000000}'
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


class PipelineRunner:
    """One project's consumer in this process; start(), reconfigure() and stop() are driven by the Worker."""

    def __init__(self, nc: Client, js: JetStreamContext, compiled: CompiledPipeline, agent: AgentClient,
                 stats: ProjectStats, *, grace_seconds: float = 10.0, runs: RunHistory | None = None):
        self.nc = nc
        self.js = js
        self.compiled = compiled
        self.project_id = compiled.config.project_id
        self.agent = agent
        self.stats = stats
        self.counters = stats.counters
        self.grace_seconds = grace_seconds
        self.runs = runs or RunHistory(nc, RunHistorySettings(enabled=False))  # run history (runs/recorder.py)
        self.dead_letters = DeadLetterWriter(js, self.project_id, nc.max_payload or 1024 * 1024)
        config = compiled.config
        self.gate = DeliveryGate(config.max_concurrency, max_batches_per_minute=config.max_batches_per_minute,
                                 max_records_per_day=config.max_records_per_day)
        stats.flow = self.gate
        self.order_lock = asyncio.Lock()  # max_concurrency 1: one batch at a time, retries included
        self.batcher: Batcher[tuple[Msg, dict]] = Batcher(1, 1.0)
        self.feed: PullFeed | None = None
        self.held = 0
        # Reply subject -> when it arrived, for every message whose fate is not settled yet;
        # insertion order is age order, so the heartbeat stops at the first young one.
        self.held_since: dict[str, float] = {}
        self.stopping = asyncio.Event()
        self.wake = asyncio.Event()
        self.tasks: set[asyncio.Task] = set()
        self.timer: asyncio.Task | None = None
        self.heartbeat: asyncio.Task | None = None
        self.consumer_lost: str | None = None
        self._apply_sizes(compiled)

    def _apply_sizes(self, compiled: CompiledPipeline) -> None:
        config = compiled.config
        self.batcher.size = config.batch_size
        self.batcher.max_wait = config.batch_max_wait_ms / 1000
        self.request_size = min(max(config.batch_size * 2, 200), 1000)
        self.gate.configure(config.max_concurrency, config.max_batches_per_minute, config.max_records_per_day)

    @property
    def max_held(self) -> int:
        """How many messages to hold unsettled: enough for twice the current concurrency limit (so the
        controller can see the limit reached and raise it), not more (a slow agent slows the pulling)."""
        return min(MAX_HELD, max(4 * self.request_size, self.batcher.size * (2 * self.gate.controller.limit + 2)))

    async def start(self) -> None:
        await self.stats.sync_budget()  # what was sent today before a restart still counts
        await self.js.add_consumer(raw_stream(self.project_id), consumer_config(self.compiled))
        self.feed = PullFeed(self.nc, raw_stream(self.project_id), CONSUMER_NAME, callback=self._on_message,
                             on_lost=self._on_lost)
        await self.feed.start()
        self.stats.state, self.stats.error = "running", ""
        self.timer = supervise("pipeline-timer", self._run_timer, name=f"pipeline-timer-{self.project_id}")
        self.heartbeat = supervise("pipeline-heartbeat", self._run_heartbeats,
                                   name=f"pipeline-heartbeat-{self.project_id}")
        await self.feed.top_up(self.max_held - self.held, self.request_size)

    async def reconfigure(self, compiled: CompiledPipeline) -> None:
        """Switch to a new config version without stopping.

        The open batch leaves first with the settings its records were processed under;
        batches already on their way finish with theirs. The consumer is updated (signals,
        ack_wait) before the switch, so a failure leaves the runner on the old version.
        """
        previous = self.compiled
        if consumer_config(compiled) != consumer_config(previous):
            await self.js.add_consumer(raw_stream(self.project_id), consumer_config(compiled))
        if self.batcher.items:
            self._start_delivery(self.batcher.take(), previous)
        self.compiled = compiled
        self._apply_sizes(compiled)
        self.wake.set()

    async def stop(self) -> None:
        """Stop pulling, deliver or release what is held, then let go of the consumer."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        # Withdraw interest first: the server drops our outstanding pull requests and the
        # messages it had already sent are nak'ed as they are dispatched (see _on_message),
        # so another worker gets them at once instead of after ack_wait.
        if self.feed:
            await self.feed.close()
        self._flush()
        self.gate.stop()  # batches waiting for a slot or a limit are released at once
        pending = [task for task in self.tasks if not task.done()]
        if pending:
            _, still = await asyncio.wait(pending, timeout=self.grace_seconds)
            for task in still:
                task.cancel()  # each delivery naks its own messages when cancelled
            if still:
                await asyncio.wait(still, timeout=5)
        # Heartbeats last until every delivery has settled: a delivery finishing during the
        # grace period must not be redelivered elsewhere meanwhile.
        for task in (self.timer, self.heartbeat):
            if task:
                task.cancel()
        self.stats.state = "stopped" if self.stats.state == "running" else self.stats.state
        self.stats.flow = None

    def on_reconnected(self) -> None:
        if self.feed:
            self.feed.reset()
        self.wake.set()

    def _on_lost(self, reason: str) -> None:
        self.consumer_lost = reason
        self.wake.set()

    async def _on_message(self, msg: Msg) -> None:
        """The pull subscription's callback: every record goes through here, so it stays lean."""
        feed = self.feed
        if not msg.reply:
            feed.on_status(msg)  # 404/408/409/503 on our inbox: a pull request ended
            return
        request_done = feed.on_delivered()
        self.held += 1
        self.held_since[msg.reply] = time.monotonic()
        if self.stopping.is_set():
            await self.settle([msg], NAK)
            return
        counters = self.counters
        counters.received += 1
        try:
            record = orjson.loads(msg.data)
        except ValueError:  # includes UnicodeDecodeError
            record = None
        if type(record) is not dict:
            counters.transform_errors += 1
            reason = ("the raw record is not a JSON object, so no filter or transform can run on it; "
                      "check what publishes to the raw subject")
            self.stats.note_record_error("transform", reason, msg.data)
            self._spawn(self._dead_letter_one(msg, reason))
        else:
            outcome, value = self.compiled.process(record)
            if outcome is RecordOutcome.PASSED:
                was_empty = not self.batcher.items
                full = self.batcher.add((msg, value), time.monotonic())
                if full is not None:
                    self._start_delivery(full)
                elif was_empty:
                    self.wake.set()
            else:
                if outcome is RecordOutcome.TRANSFORM_ERROR:
                    counters.transform_errors += 1
                    self.stats.note_record_error("transform", value, msg.data)
                    self._spawn(self._dead_letter_one(msg, value))
                else:
                    if outcome is RecordOutcome.FILTERED:
                        counters.filtered += 1
                    else:
                        counters.filter_errors += 1
                        self.stats.note_record_error("filter", value, msg.data)
                        logger.debug("project %s: %s", self.project_id, value)
                    self.held -= 1
                    del self.held_since[msg.reply]
                    await self.nc.publish(msg.reply, ACK)
        if request_done:
            await feed.top_up(self.max_held - self.held, self.request_size)

    def _flush(self) -> None:
        if self.batcher.items:
            self._start_delivery(self.batcher.take())

    def _start_delivery(self, items: list[tuple[Msg, dict]], compiled: CompiledPipeline | None = None) -> None:
        self._spawn(self._deliver(items, compiled or self.compiled))

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        task.add_done_callback(report_failure("pipeline-delivery"))

    async def settle(self, msgs: list[Msg], payload: bytes) -> None:
        """Ack or nak held messages. The list is emptied first, so settling it twice is harmless."""
        batch = list(msgs)
        msgs.clear()
        self.held -= len(batch)
        held_since = self.held_since
        for msg in batch:
            held_since.pop(msg.reply, None)
        publish = self.nc.publish
        try:
            for msg in batch:
                await publish(msg.reply, payload)
        except Exception:  # noqa: BLE001 -- unacked messages are redelivered after ack_wait: no loss
            logger.warning("project %s: could not send %s for %d message(s)", self.project_id, payload.decode(),
                           len(batch), exc_info=True)
        if self.feed and not self.stopping.is_set():
            await self.feed.top_up(self.max_held - self.held, self.request_size)

    async def keep_alive(self, msgs: list[Msg], seconds: float) -> bool:
        """Wait ``seconds`` holding the messages (the heartbeat keeps them alive); False if stopping."""
        try:
            await asyncio.wait_for(self.stopping.wait(), seconds)
            return False
        except TimeoutError:
            return True

    async def _run_heartbeats(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            await self.send_heartbeats()

    async def send_heartbeats(self) -> int:
        """+WPI for every message held longer than HEARTBEAT_SECONDS; returns how many were sent."""
        limit = time.monotonic() - HEARTBEAT_SECONDS
        publish = self.nc.publish
        sent = 0
        try:
            for reply, since in list(self.held_since.items()):  # a copy: settle() runs meanwhile
                if since > limit:
                    break
                await publish(reply, IN_PROGRESS)
                sent += 1
        except nats.errors.OutboundBufferLimitError:
            # Disconnected with a full reconnect buffer: the server cannot hear us anyway. If the
            # outage outlasts ack_wait the messages are redelivered (duplicates, never loss).
            logger.debug("project %s: heartbeat skipped while NATS is unreachable", self.project_id)
        return sent

    async def _deliver(self, items: list[tuple[Msg, dict]], compiled: CompiledPipeline) -> None:
        msgs = [msg for msg, _ in items]
        try:
            await deliver_batch(self, msgs, [record for _, record in items], compiled)
        except asyncio.CancelledError:
            await self.settle(msgs, NAK)
            raise
        except Exception as exc:
            # Released with a delay: an immediate redelivery of a batch that fails the same way would spin.
            self.stats.failed(f"delivering a batch failed unexpectedly: {type(exc).__name__}: {exc}", transient=True)
            logger.exception("project %s: delivering a batch failed unexpectedly; releasing it for 5 s",
                             self.project_id)
            await self.settle(msgs, NAK_LATER)

    async def _dead_letter_one(self, msg: Msg, reason: str) -> None:
        try:
            stored = await self.dead_letters.write([msg], reason=reason, attempts=0, last_error=reason,
                                                   request_id=None)
        except asyncio.CancelledError:
            await self.settle([msg], NAK)
            raise
        except Exception:
            logger.exception("project %s: writing a dead letter failed; releasing the record for 5 s",
                             self.project_id)
            await self.settle([msg], NAK_LATER)
            return
        if stored:
            self.counters.dlq += 1
            await self.settle([msg], ACK)
        else:
            await self.settle([msg], NAK)

    async def _run_timer(self) -> None:
        """Flush batches at their max wait, re-request after lost requests, recover a lost consumer."""
        while not self.stopping.is_set():
            deadline = self.batcher.deadline
            timeout = 1.0 if deadline is None else max(0.0, deadline - time.monotonic())
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), min(timeout, 1.0))
            except TimeoutError:
                pass
            if self.stopping.is_set():
                return
            due = self.batcher.take_if_due(time.monotonic())
            if due:
                self._start_delivery(due)
            if self.consumer_lost:
                await self._recover_consumer()
            if self.feed:
                self.feed.expire_stale()
                try:
                    await self.feed.top_up(self.max_held - self.held, self.request_size)
                except nats.errors.OutboundBufferLimitError:
                    # NATS is down and the reconnect buffer is full; on_reconnected wakes us.
                    logger.debug("project %s: pull request deferred while NATS is unreachable", self.project_id)

    async def _recover_consumer(self) -> None:
        reason, self.consumer_lost = self.consumer_lost, None
        try:
            await self.js.add_consumer(raw_stream(self.project_id), consumer_config(self.compiled))
            logger.warning("project %s: pull consumer was lost (%s) and has been recreated", self.project_id, reason)
        except Exception as exc:  # noqa: BLE001 -- the stream may be gone with the project; retried
            logger.warning("project %s: pull consumer lost (%s), recreating failed: %s", self.project_id, reason, exc)
            self.consumer_lost = reason

