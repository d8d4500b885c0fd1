"""The delivery gate of one pipeline: adaptive concurrency, rate and daily cost guards, in asyncio.

Every attempt to send a batch passes ``admit`` and reports its outcome with ``finish``. The
decisions are the pure ``ConcurrencyController``, ``RateLimiter`` and ``DailyBudget``; this shell
only queues the waiting batches (first come, first served; retries go to the front) and wakes
the head of the queue when a request finished or a wait (Retry-After, rate spacing, the next UTC
day) ran out. The runner's heartbeat keeps waiting batches' messages alive (``+WPI``), so nothing is
redelivered meanwhile and nothing is dropped: over a limit, records simply wait (and the runner
stops pulling once it holds enough).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from pipelines.stages.concurrency import ConcurrencyController, ControllerSettings, Signal, Ticket
from pipelines.stages.ratelimit import DailyBudget, RateLimiter

BACK_PRESSURE_STATUSES = frozenset({408, 429, 503, 504})
THROTTLE_RATE = "batches per minute"
THROTTLE_DAY = "records per day"


def signal_for(ok: bool, status: int | None, timed_out: bool) -> Signal:
    """What an attempt's outcome says about the agent's load."""
    if ok:
        return Signal.OK
    if timed_out:
        return Signal.TIMEOUT
    if status in BACK_PRESSURE_STATUSES:
        return Signal.BACK_PRESSURE
    if status is not None and 400 <= status < 500:
        return Signal.OK  # a definitive refusal: the agent answered normally, its RTT is valid
    return Signal.ERROR


class LagProbe:
    """How late this process's event loop runs its timers: a busy or starved worker (CPU shared
    with other processes, thousands of messages to handle) delays every answer it reads by about
    that much, and such delays are ours, not the agent's. The recent worst lateness is kept."""

    PERIOD = 0.05

    def __init__(self) -> None:
        self.lag = 0.0
        self._handle: asyncio.TimerHandle | None = None
        self._expected = 0.0

    def start(self) -> None:
        if self._handle is None:
            loop = asyncio.get_running_loop()
            self._expected = loop.time() + self.PERIOD
            self._handle = loop.call_at(self._expected, self._tick)

    def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        late = max(0.0, loop.time() - self._expected)
        # Rise at once, decay over about a second: an answer read late carries the lateness it met.
        self.lag = late if late > self.lag else self.lag * 0.95
        self._expected = loop.time() + self.PERIOD
        self._handle = loop.call_at(self._expected, self._tick)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


@dataclass
class _Waiter:
    records: int
    first_attempt: bool
    future: asyncio.Future


@dataclass
class FlowFigures:
    """What the stats and /metrics show for one pipeline in this worker."""

    limit: int
    in_flight: int
    waiting: int
    rtt_p50_ms: float | None
    rtt_p99_ms: float | None
    throttled_seconds: float
    throttled_by: str


class DeliveryGate:
    def __init__(self, max_concurrency: int, *, max_batches_per_minute: int | None = None,
                 max_records_per_day: int | None = None, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time):
        self.controller = ConcurrencyController(ControllerSettings(max_concurrency=max_concurrency))
        self.rate: RateLimiter | None = None
        self.budget: DailyBudget | None = None
        self.clock = clock
        self.wall = wall
        self.waiters: deque[_Waiter] = deque()
        self.throttled_seconds = 0.0
        self.throttled_by = ""
        self._throttled_since: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self.lag = LagProbe()
        self.round_trips: deque[float] = deque(maxlen=512)
        self.configure(max_concurrency, max_batches_per_minute, max_records_per_day)

    def configure(self, max_concurrency: int, max_batches_per_minute: int | None,
                  max_records_per_day: int | None) -> None:
        """Apply a config version; what was learnt and counted so far is kept."""
        self.controller.set_max(max_concurrency)
        if max_batches_per_minute is None:
            self.rate = None
        elif self.rate is None or self.rate.spacing != 60.0 / max_batches_per_minute:
            self.rate = RateLimiter(max_batches_per_minute)
        if max_records_per_day is None:
            self.budget = None
        elif self.budget is None:
            self.budget = DailyBudget(max_records_per_day)
        else:
            self.budget.limit = max_records_per_day
        self._pump()

    @property
    def strict_order(self) -> bool:
        return self.controller.settings.max_concurrency == 1

    async def admit(self, records: int, stopping: asyncio.Event, *, first_attempt: bool = True) -> Ticket | None:
        """Wait until this attempt may go out; None when the runner stops first. The runner's heartbeat
        keeps the waiting batch's messages alive (+WPI every second) however long that takes."""
        self.lag.start()
        if not self.waiters and self._blocked_for(records, first_attempt) == 0.0:
            return self._take(records, first_attempt)
        if stopping.is_set():
            return None
        waiter = _Waiter(records, first_attempt, asyncio.get_running_loop().create_future())
        if first_attempt:
            self.waiters.append(waiter)
        else:
            self.waiters.appendleft(waiter)  # a retry was admitted once: it must not queue behind newer batches
        self._pump()
        try:
            return await waiter.future  # stop() answers every waiter with None
        except asyncio.CancelledError:
            self._abandon(waiter)
            raise

    def _abandon(self, waiter: _Waiter) -> None:
        if waiter.future.done() and not waiter.future.cancelled():
            ticket = waiter.future.result()
            if ticket is not None:  # admitted just as the runner stopped: nothing was sent
                self.controller.finish(ticket, self.clock(), Signal.ERROR)
                self._pump()
        else:
            waiter.future.cancel()
            if waiter in self.waiters:
                self.waiters.remove(waiter)

    def stop(self) -> None:
        """The runner stops: every queued attempt gets None (its messages are released by the caller)."""
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.future.done():
                waiter.future.set_result(None)
        self.lag.stop()
        if self._timer is not None:
            self._timer.cancel()

    def finish(self, ticket: Ticket, signal: Signal, retry_after: float | None = None,
               rtt: float | None = None) -> None:
        if rtt is not None:
            if signal is Signal.OK:
                self.round_trips.append(rtt)  # as measured: what the stats show
            rtt = max(0.0, rtt - self.lag.lag)  # what the controller judges: without our own lateness
        self.controller.finish(ticket, self.clock(), signal, retry_after, rtt)
        self._pump()

    def _blocked_for(self, records: int, first_attempt: bool) -> float:
        """Seconds the next attempt must wait for a timed reason; 0.0 when it may go now; -1.0 when it
        waits for a request to finish (no timer needed). Also tracks what throttles it."""
        now = self.clock()
        reason, wait = "", 0.0
        if self.budget is not None and first_attempt:
            wait = self.budget.wait(self.wall())
            reason = THROTTLE_DAY if wait else ""
        if not wait and self.rate is not None:
            wait = self.rate.wait(now)
            reason = THROTTLE_RATE if wait else ""
        self._note_throttle(reason, now)
        if wait:
            return wait
        if now < self.controller.paused_until:
            return self.controller.paused_until - now
        return 0.0 if self.controller.can_start(now) else -1.0

    def _note_throttle(self, reason: str, now: float) -> None:
        if self._throttled_since is not None:
            self.throttled_seconds += now - self._throttled_since
        self._throttled_since = now if reason else None
        self.throttled_by = reason

    def _take(self, records: int, first_attempt: bool) -> Ticket:
        now = self.clock()
        if self.rate is not None:
            self.rate.take(now)
        if self.budget is not None and first_attempt:
            self.budget.spend(records, self.wall())
        return self.controller.start(now)

    def _pump(self) -> None:
        """Admit queued attempts from the head while they may go; arm a timer for a timed wait."""
        while self.waiters:
            head = self.waiters[0]
            if head.future.done():
                self.waiters.popleft()
                continue
            wait = self._blocked_for(head.records, head.first_attempt)
            if wait != 0.0:
                if wait > 0:
                    self._arm(min(wait, 5.0))  # re-check now and then: a day's budget may be raised
                return
            self.waiters.popleft()
            head.future.set_result(self._take(head.records, head.first_attempt))
        self._note_throttle("", self.clock())

    def _arm(self, delay: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(delay, self._pump)

    def figures(self) -> FlowFigures:
        if self._throttled_since is not None:  # count the wait that is still going on
            now = self.clock()
            self.throttled_seconds += now - self._throttled_since
            self._throttled_since = now
        p50, p99 = _percentiles(self.round_trips) if self.round_trips else self.controller.rtt_percentiles()
        return FlowFigures(
            limit=self.controller.limit, in_flight=self.controller.in_flight, waiting=len(self.waiters),
            rtt_p50_ms=None if p50 is None else round(p50 * 1000, 1),
            rtt_p99_ms=None if p99 is None else round(p99 * 1000, 1),
            throttled_seconds=round(self.throttled_seconds, 3), throttled_by=self.throttled_by)


def _percentiles(samples: deque[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    last = len(ordered) - 1
    return ordered[round(0.5 * last)], ordered[round(0.99 * last)]
