"""Delivering one batch to the agent: POST, retry with backoff, or dead-letter, then ack.

The request id is fixed before the first attempt, so an agent that sees the same
``X-Request-ID`` twice knows it is a retry of one batch. Records redelivered by JetStream
after a crash or an expired ack_wait are batched anew and get a new id: an agent that must
not process a record twice de-duplicates on the record (for example traceId/spanId/timestamp).
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import TYPE_CHECKING

import orjson
from nats.aio.msg import Msg

from outbound import gave_up_reason
from pipelines.stages.concurrency import Signal
from pipelines.stages.records import CompiledPipeline
from pipelines.worker.flow import signal_for
from pipelines.worker.protocol import ACK, NAK, NAK_LATER

if TYPE_CHECKING:
    from pipelines.worker.runner import PipelineRunner

logger = logging.getLogger(__name__)


def request_headers(compiled: CompiledPipeline, request_id: str) -> dict[str, str]:
    headers = dict(compiled.config.agent_headers)
    headers.update({"Content-Type": "application/json", "X-Project-ID": compiled.config.project_id,
                    "X-Request-ID": request_id,
                    # The agent's own time limit: an SDK agent answers 503 before we give up on it.
                    "X-Deadline-Ms": str(compiled.config.request_timeout_ms)})
    return headers


async def deliver_batch(runner: PipelineRunner, msgs: list[Msg], records: list[dict], compiled: CompiledPipeline
                        ) -> None:
    """Deliver one batch; ``msgs`` is emptied once the batch is settled (see PipelineRunner.settle)."""
    count = len(msgs)
    config = compiled.config
    counters = runner.counters
    request_id = str(uuid.uuid4())
    # orjson: about a third of the CPU per record of json.dumps on this path; NaN becomes null,
    # which is what JSON requires, and transform outputs may be maps with non-string keys.
    body = orjson.dumps(records, default=str, option=orjson.OPT_NON_STR_KEYS)
    headers = request_headers(compiled, request_id)
    run = runner.runs.begin(config.project_id, request_id, msgs, records, body)
    timeout = config.request_timeout_ms / 1000
    started = time.monotonic()
    failing_since: float | None = None
    attempts = 0
    outcome = "delivered"

    gate = runner.gate
    # max_concurrency 1 keeps strict order: one batch, with its retries, at a time (the lock is FIFO).
    # The heartbeat keeps the messages alive while the batch waits.
    ordered = gate.strict_order
    if ordered:
        await runner.order_lock.acquire()
    try:
        while True:
            attempts += 1
            # Every attempt passes the gate: adaptive concurrency, Retry-After pauses, rate and day limits.
            ticket = await gate.admit(count, runner.stopping, first_attempt=attempts == 1)
            if ticket is None:
                attempts -= 1
                outcome = "released"  # shutting down: let another worker take the batch now
                await runner.settle(msgs, NAK)
                break
            sent = time.monotonic()
            try:
                attempt = await runner.agent.post(config.agent_endpoint, body, headers, timeout)
            except BaseException:
                gate.finish(ticket, Signal.ERROR)
                raise
            run.attempt(attempt.status, attempt.error, time.monotonic() - sent)
            signal = signal_for(attempt.ok, attempt.status, attempt.answer.timed_out)
            # The exchange's own duration: time spent waiting for this task to run is not the agent's.
            gate.finish(ticket, signal, attempt.retry_after if signal is Signal.BACK_PRESSURE else None,
                        attempt.answer.rtt or None)
            if attempt.ok:
                counters.batches_sent += 1
                counters.records_sent += count
                runner.stats.delivered()
                await runner.settle(msgs, ACK)
                break
            counters.agent_errors += 1
            runner.stats.failed(attempt.error, transient=attempt.permanent_reason is None)
            if attempt.permanent_reason:
                outcome = "dead-lettered"
                await runner.dead_letter(msgs, reason=attempt.permanent_reason, attempts=attempts,
                                         last_error=attempt.error, request_id=request_id, not_stored=NAK_LATER)
                break
            # Transient: retried while the stream holds the records, unless deadLetterAfter is set.
            now = time.monotonic()
            failing_since = failing_since or now
            delay = config.retry.delay(attempts, attempt.retry_after)
            if config.retry.gives_up(now - failing_since, delay):
                outcome = "dead-lettered"
                reason = gave_up_reason("agent endpoint", attempt.error, attempts, now - failing_since)
                await runner.dead_letter(msgs, reason=reason, attempts=attempts, last_error=attempt.error,
                                         request_id=request_id, not_stored=NAK_LATER)
                break
            logger.info("project %s batch %s: attempt %d failed (%s); retrying in %.1f s", config.project_id,
                        request_id, attempts, attempt.error, delay)
            if not await runner.keep_alive(msgs, delay):
                outcome = "released"  # shutting down: let another worker take the batch now
                await runner.settle(msgs, NAK)
                break
    finally:
        if ordered:
            runner.order_lock.release()
    run.outcome(outcome)
    # The totals are this worker's counters, the figures the stats and the Activity page show
    # (summed there over every worker), so the log and the dashboard never disagree.
    logger.info("project %s batch %s: %s records=%d attempts=%d duration_ms=%.0f; worker totals: in=%d "
                "filtered=%d filter_errors=%d transform_errors=%d out=%d", config.project_id, request_id, outcome,
                count, attempts, (time.monotonic() - started) * 1000, counters.received, counters.filtered,
                counters.filter_errors, counters.transform_errors, counters.records_sent)
