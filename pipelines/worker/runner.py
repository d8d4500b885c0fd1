"""One project's pipeline in this process: pull raw records, run the stages, batch, deliver, ack.

A ``PipelineRunner`` owns a ``PullFeed`` (pull.py) on the shared durable consumer ``pipeline``
of the project's raw stream; any number of runners in any number of processes share that
consumer and split the records. Messages are held (unacked, held.py) from arrival until their
fate is settled: acked after the agent answered 2xx (batchcall.py) or after their dead letter
was stored, nak'ed when the runner stops first. How many are held is bounded, so a slow agent
slows the pulling instead of filling memory. The runner composes the pieces: the protocol bytes
and consumer config (protocol.py), held-message accounting and heartbeats (held.py), the batch
timer (timer.py), the delivery gate (flow.py) and consumer recovery (recovery.py). The timer
and the heartbeat loop are supervised (glassflow_site.supervision): if one raises, it is
logged, counted, restarted.
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

from deadletters.publish import DeadLetterWriter
from glassflow_site.supervision import report_failure, supervise
from pipelines.stages.batching import Batcher
from pipelines.stages.records import CompiledPipeline, RecordOutcome
from pipelines.worker.agentclient import AgentClient
from pipelines.worker.batchcall import deliver_batch
from pipelines.worker.counters import ProjectStats
from pipelines.worker.flow import DeliveryGate
from pipelines.worker.held import HeldMessages
from pipelines.worker.protocol import ACK, CONSUMER_NAME, NAK, NAK_LATER, consumer_config
from pipelines.worker.pull import PullFeed
from pipelines.worker.recovery import ConsumerRecovery
from pipelines.worker.timer import run_batch_timer
from projects.streams import raw_stream
from runs.recorder import RunHistory, RunHistorySettings

logger = logging.getLogger(__name__)

MAX_HELD = 40_000  # per runner, under the consumer's max_ack_pending shared by all workers


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
        self.held = HeldMessages(nc, self.project_id)
        self.recovery = ConsumerRecovery(js, self.project_id, raw_stream(self.project_id))
        self.stopping = asyncio.Event()
        self.wake = asyncio.Event()
        self.tasks: set[asyncio.Task] = set()
        self.timer: asyncio.Task | None = None
        self.heartbeat: asyncio.Task | None = None
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
        self.heartbeat = supervise("pipeline-heartbeat", self.held.run_heartbeats,
                                   name=f"pipeline-heartbeat-{self.project_id}")
        await self.feed.top_up(self.max_held - self.held.count, self.request_size)

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
        self.recovery.lose(reason)
        self.wake.set()

    async def _on_message(self, msg: Msg) -> None:
        """The pull subscription's callback: every record goes through here, so it stays lean."""
        feed = self.feed
        if not msg.reply:
            feed.on_status(msg)  # 404/408/409/503 on our inbox: a pull request ended
            return
        request_done = feed.on_delivered()
        self.held.hold(msg)
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
                    await self.held.ack_now(msg, ACK)
        if request_done:
            await feed.top_up(self.max_held - self.held.count, self.request_size)

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
        """Ack or nak held messages (emptying the list), then pull more while running."""
        await self.held.settle(msgs, payload)
        if self.feed and not self.stopping.is_set():
            await self.feed.top_up(self.max_held - self.held.count, self.request_size)

    async def keep_alive(self, msgs: list[Msg], seconds: float) -> bool:
        """Wait ``seconds`` holding the messages (the heartbeat keeps them alive); False if stopping."""
        try:
            await asyncio.wait_for(self.stopping.wait(), seconds)
            return False
        except TimeoutError:
            return True

    async def send_heartbeats(self) -> int:
        return await self.held.send_heartbeats()

    async def dead_letter(self, msgs: list[Msg], *, reason: str, attempts: int, last_error: str,
                          request_id: str | None, not_stored: bytes) -> None:
        """Store the messages' dead letter, then ack them; ``not_stored`` (a nak) when storing failed."""
        stored = await self.dead_letters.write(msgs, reason=reason, attempts=attempts, last_error=last_error,
                                               request_id=request_id)
        if stored:
            self.counters.dlq += len(msgs)
            await self.settle(msgs, ACK)
        else:
            await self.settle(msgs, not_stored)

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
        msgs = [msg]
        try:
            await self.dead_letter(msgs, reason=reason, attempts=0, last_error=reason, request_id=None,
                                   not_stored=NAK)
        except asyncio.CancelledError:
            await self.settle(msgs, NAK)
            raise
        except Exception:
            logger.exception("project %s: writing a dead letter failed; releasing the record for 5 s",
                             self.project_id)
            await self.settle(msgs, NAK_LATER)

    async def _run_timer(self) -> None:
        """Flush batches at their max wait, re-request after lost requests, recover a lost consumer."""
        await run_batch_timer(self.batcher, self.wake, self.stopping, self._start_delivery, self._tick)

    async def _tick(self) -> None:
        if self.recovery.lost:
            await self.recovery.recover(consumer_config(self.compiled))
        if self.feed:
            self.feed.expire_stale()
            try:
                await self.feed.top_up(self.max_held - self.held.count, self.request_size)
            except nats.errors.OutboundBufferLimitError:
                # NATS is down and the reconnect buffer is full; on_reconnected wakes us.
                logger.debug("project %s: pull request deferred while NATS is unreachable", self.project_id)
