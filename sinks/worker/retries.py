"""Deliver one output message to one sink with retries: the policy every sink shares.

408/429/5xx, timeouts and connection errors are retried with capped exponential backoff and
jitter (a Retry-After from the target replaces the backoff for that wait) for as long as it
takes, or until the sink's "dead-letter after" time when it has one; any other failure is
permanent at once. With a ``gate`` (a sink whose max_concurrency is above 1), every attempt waits for
the adaptive concurrency controller's admission and reports its answer to it. The caller keeps the message
in progress meanwhile and decides what to do with the outcome (ack, DLQ, or nak on shutdown).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from outbound import RetryPolicy, gave_up_reason
from pipelines.stages.concurrency import Signal
from pipelines.worker.flow import DeliveryGate, signal_for
from sinks.kinds.base import DeliveryContext, SinkKind, TransportError

logger = logging.getLogger(__name__)


@dataclass
class DeliveryOutcome:
    delivered: bool
    attempts: int
    error: str = ""
    reason: str = ""
    interrupted: bool = False  # shutdown during a backoff wait: the message goes back to the stream


async def deliver_with_retries(kind: type[SinkKind], config: dict, message: dict, context: DeliveryContext,
                               policy: RetryPolicy, stop: asyncio.Event, label: str = "sink",
                               on_failed_attempt: Callable[[str, bool], None] | None = None,
                               gate: DeliveryGate | None = None) -> DeliveryOutcome:
    """Deliver until success, a permanent error, the budget or ``stop``.

    ``on_failed_attempt(error, permanent)`` runs after every failed attempt as it happens, so the
    sink's last error, failure count and "stalled since" are visible during an outage, not only
    once it ends.
    """
    failing_since = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        ticket = None
        if gate is not None:
            ticket = await gate.admit(1, stop, first_attempt=attempt == 1)
            if ticket is None:  # stopping while waiting for a turn: nothing was sent
                return DeliveryOutcome(False, attempt - 1, "", interrupted=True)
        started = time.monotonic()
        try:
            await kind.deliver(config, message, context)
            if ticket is not None:
                gate.finish(ticket, Signal.OK, rtt=time.monotonic() - started)
            return DeliveryOutcome(True, attempt)
        except TransportError as exc:
            error = exc
        except asyncio.CancelledError:
            if ticket is not None:
                gate.finish(ticket, Signal.ERROR)
            raise
        except Exception as exc:  # noqa: BLE001 -- e.g. a config the kind cannot read: retrying will not help
            logger.exception("%s: delivery failed unexpectedly", label)
            error = TransportError(f"the sink could not deliver: {type(exc).__name__}: {exc}", permanent=True)
        if ticket is not None:
            gate.finish(ticket, signal_for(False, error.status, error.timed_out), error.retry_after,
                        rtt=time.monotonic() - started)
        if on_failed_attempt is not None:
            on_failed_attempt(error.message, error.permanent)
        if error.permanent:
            return DeliveryOutcome(False, attempt, error.message, f"permanent failure: {error.message}")
        elapsed = time.monotonic() - failing_since
        wait = policy.delay(attempt, error.retry_after)
        if policy.gives_up(elapsed, wait):
            return DeliveryOutcome(False, attempt, error.message, gave_up_reason(label, error.message, attempt, elapsed))
        logger.info("%s: attempt %d failed (%s); retrying in %.1f s", label, attempt, error.message, wait)
        try:
            await asyncio.wait_for(stop.wait(), wait)
        except TimeoutError:
            continue
        return DeliveryOutcome(False, attempt, error.message, interrupted=True)
