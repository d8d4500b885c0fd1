"""Adaptive concurrency: how many requests to one target may be in flight right now.

A pure, deterministic controller (no I/O, no clock of its own: every call is given ``now``),
in the spirit of Vector's Adaptive Request Concurrency and the Envoy/Netflix concurrency
limits. It learns the target's capacity from what it observes:

- **Slow start.** The limit starts at 1 and doubles after every interval in which it was
  reached and nothing went wrong, so a 500 ms agent reaches hundreds of requests in flight
  within seconds. The first congestion signal ends slow start.
- **Additive increase.** Afterwards the limit grows after every interval in which it was reached
  while the round-trip time (RTT) stayed near its moving baseline: by a step that starts at one
  and doubles with each clean interval up to a quarter of the limit (so a limit of ten moves by
  one or two, a limit of 300 regains half in a few round trips); by half the distance when it
  is far under a capacity seen before, and by one near it.
- **Multiplicative decrease.** Back-pressure answers (429, 503, 408, 504), timeouts, or an
  interval whose median RTT rose well above the baseline shrink the limit, at most once per
  interval. A back-pressure answer also remembers the concurrency at which it came
  (``ceiling``): later refusals step just under the refused concurrency, and the limit probes
  above a known ceiling only after ``probe_intervals`` clean intervals, so an agent with a hard
  capacity is not pushed into a 429 every few seconds.
- **Pause.** A ``Retry-After`` stops new requests until it has passed.

An interval lasts about one baseline RTT (at least ``min_interval``). The baseline is the
median RTT of an interval, followed quickly downwards and slowly upwards, so load we cause
ourselves does not become the new normal at once, while a real change of the target's own
latency is learned within some tens of intervals. "Well above" means more than
``max(rtt_slack × baseline, deviation_scale × deviation, min_slack)`` above it, where
``deviation`` is the moving mean distance of interval RTTs from the baseline: a noisy agent
gets more room than a steady one.
"""

from __future__ import annotations

import enum
import math
import statistics
from collections import deque
from dataclasses import dataclass


class Signal(enum.Enum):
    OK = "ok"  # a 2xx, or a definitive refusal (4xx): the target worked normally
    BACK_PRESSURE = "back-pressure"  # 429, 503, 408: the target asks for less
    TIMEOUT = "timeout"  # no complete answer in time
    ERROR = "error"  # could not connect, DNS...: says nothing about load; neither RTT nor adjustment


@dataclass(frozen=True)
class ControllerSettings:
    max_concurrency: int = 64
    initial: int = 1
    decrease_ratio: float = 0.9  # RTT rising above the baseline
    back_pressure_ratio: float = 0.75  # 429/503/408/timeouts
    rtt_slack: float = 0.2
    deviation_scale: float = 1.0
    min_slack: float = 0.025  # seconds: scheduling noise on loopback or a busy worker is not congestion
    min_interval: float = 0.005
    baseline_fall: float = 0.5
    baseline_rise: float = 0.05
    probe_intervals: int = 30
    max_pause: float = 60.0
    rtt_samples: int = 512


@dataclass(frozen=True)
class Ticket:
    """One request in flight: when it started and how many were in flight with it."""

    started: float
    in_flight: int


class ConcurrencyController:
    """Decides whether another request may start; learns from each request's outcome."""

    def __init__(self, settings: ControllerSettings | None = None):
        self.settings = settings or ControllerSettings()
        s = self.settings
        self.limit = max(1, min(s.initial, s.max_concurrency))
        self.in_flight = 0
        self.paused_until = 0.0
        self.slow_start = True
        self.baseline: float | None = None
        self.deviation = 0.0
        self.ceiling: int | None = None
        self.clean_at_ceiling = 0
        self.step = 1
        self.recent_rtts: deque[float] = deque(maxlen=s.rtt_samples)
        self.decreases = 0
        self.last_decrease_at = -math.inf
        self._reset_interval(0.0)

    def _reset_interval(self, now: float) -> None:
        self.interval_start = now
        self.interval_rtts: list[float] = []
        self.interval_started = 0
        self.interval_reached = self.in_flight >= self.limit
        self.interval_back_pressure: int | None = None  # lowest concurrency at which a 429/503 came
        self.interval_timeout = False

    def set_max(self, max_concurrency: int) -> None:
        """A new per-pipeline bound (config change); the learnt state is kept."""
        self.settings = ControllerSettings(**{**self.settings.__dict__, "max_concurrency": max(1, max_concurrency)})
        self.limit = min(self.limit, self.settings.max_concurrency)

    def can_start(self, now: float) -> bool:
        return self.in_flight < self.limit and now >= self.paused_until

    def start(self, now: float) -> Ticket:
        """Record a request as started (the caller checked ``can_start``)."""
        self.in_flight += 1
        self.interval_started += 1
        if self.in_flight >= self.limit:
            self.interval_reached = True
        return Ticket(now, self.in_flight)

    def finish(self, ticket: Ticket, now: float, signal: Signal, retry_after: float | None = None,
               rtt: float | None = None) -> None:
        """Record the outcome of a request started with ``ticket``; ``rtt`` is the exchange's own
        duration when the caller measured it (else the time since ``start``)."""
        self.in_flight = max(0, self.in_flight - 1)
        if retry_after is not None and retry_after > 0:
            self.paused_until = max(self.paused_until, now + min(retry_after, self.settings.max_pause))
        if signal is Signal.OK:
            rtt = max(0.0, now - ticket.started if rtt is None else rtt)
            self.recent_rtts.append(rtt)
            if ticket.started >= self.interval_start:
                # Only requests sent under the current limit say how that limit is doing.
                self.interval_rtts.append(rtt)
        elif ticket.started < self.last_decrease_at:
            pass  # started before the last decrease: it reports on a concurrency already left behind
        elif signal is Signal.BACK_PRESSURE:
            level = ticket.in_flight
            if self.interval_back_pressure is None or level < self.interval_back_pressure:
                self.interval_back_pressure = level
        elif signal is Signal.TIMEOUT:
            self.interval_timeout = True
        self._maybe_adjust(now)

    def _interval_length(self) -> float:
        return max(self.settings.min_interval, self.baseline or 0.0)

    def _maybe_adjust(self, now: float) -> None:
        congested = self.interval_back_pressure is not None or self.interval_timeout
        # An interval ends after about one round trip and once half the requests sent in it came back:
        # the first answers to arrive are the fastest, and judging a new limit by them alone overshoots.
        if not congested and (len(self.interval_rtts) < max(1, self.interval_started // 2)
                              or now - self.interval_start < self._interval_length()):
            return
        s = self.settings
        # The median, not the mean: a few answers delayed by a busy host (ours) must not read as
        # a slower agent.
        mean = statistics.median(self.interval_rtts) if self.interval_rtts else None
        too_slow = False
        if mean is not None:
            if self.baseline is None:
                self.baseline = mean
            else:
                slack = max(s.rtt_slack * self.baseline, s.deviation_scale * self.deviation, s.min_slack)
                # The round trip after a Retry-After pause starts everything at once: that burst queues
                # at the agent and in our own event loop, and says nothing about the limit.
                too_slow = mean > self.baseline + slack and now > self.paused_until + self.baseline
                if not too_slow:  # congestion is not noise: it must not widen the tolerance
                    self.deviation += 0.25 * (abs(mean - self.baseline) - self.deviation)
                if mean < self.baseline:
                    # In slow start the first round trips carry connection set-up: take the lowest.
                    alpha = 1.0 if self.slow_start else s.baseline_fall
                    self.baseline += alpha * (mean - self.baseline)
                elif self.limit == 1 and too_slow:
                    # One request at a time cannot queue behind our own: the target itself got
                    # slower. Adopt its new latency and find the concurrency for it again.
                    self.baseline, self.deviation, too_slow, self.slow_start = mean, 0.0, False, True
                elif not self.interval_reached:
                    # Only while we are not pushing at the limit: RTT measured under our own full
                    # load would otherwise become the new normal and ratchet the limit upwards.
                    self.baseline += s.baseline_rise * (mean - self.baseline)
        if self.interval_back_pressure is not None:
            level = self.interval_back_pressure
            known = self.ceiling is not None
            self.ceiling = level
            # The first refusal: multiplicative, and never above the concurrency that was refused.
            # Once a capacity has been seen, a refusal at concurrency N says the capacity is below N
            # now: step just under it (a probe above the old capacity costs one step, not a quarter).
            cut = self.limit if known else math.floor(self.limit * s.back_pressure_ratio)
            self._decrease(min(level - 1, cut), now)
        elif self.interval_timeout:
            self._decrease(math.floor(self.limit * s.back_pressure_ratio), now)
        elif too_slow:
            self._decrease(math.floor(self.limit * s.decrease_ratio), now)
        elif self.interval_reached:
            self._increase()
        self._reset_interval(now)

    def _decrease(self, limit: int, now: float) -> None:
        if self.slow_start:
            # The last doubling overshot: the previous limit was fine (as in TCP's slow start).
            limit = min(limit, self.limit // 2)
            self.slow_start = False
        self.decreases += 1
        self.clean_at_ceiling = 0
        self.step = 1
        self.last_decrease_at = now
        self.limit = max(1, min(limit, self.settings.max_concurrency))

    def _increase(self) -> None:
        top = self.settings.max_concurrency
        if self.slow_start:
            self.limit = min(top, self.limit * 2)
            return
        if self.ceiling is not None:
            if self.limit >= self.ceiling:
                self.ceiling = None  # a clean interval at the refused concurrency: capacity grew, forget it
            elif self.limit + 1 >= self.ceiling:
                # Just under the concurrency that was refused last time: probe it only now and then.
                self.clean_at_ceiling += 1
                if self.clean_at_ceiling < self.settings.probe_intervals:
                    return
                self.clean_at_ceiling = 0
            else:
                # Far under a known capacity: close half the gap at once (as TCP CUBIC does below its
                # last maximum), so one refusal does not cost many round trips of lower throughput.
                self.limit = min(top, self.limit + max(1, (self.ceiling - 1 - self.limit) // 2))
                return
            self.limit = min(top, self.limit + 1)  # at a known capacity: one step at a time
            return
        # No capacity known: the step doubles with every clean interval, up to a quarter of the limit,
        # so a spurious decrease of a large limit is repaired in tens of round trips, not hundreds,
        # while a small limit (a queueing agent near its knee) still moves one at a time.
        self.limit = min(top, self.limit + self.step)
        self.step = min(self.step * 2, max(1, self.limit // 4))

    def rtt_percentiles(self) -> tuple[float | None, float | None]:
        """p50 and p99 of the recent successful round trips, in seconds."""
        if not self.recent_rtts:
            return None, None
        ordered = sorted(self.recent_rtts)
        last = len(ordered) - 1
        return ordered[round(0.5 * last)], ordered[round(0.99 * last)]
