"""The adaptive concurrency controller and the rate guards, driven by a simulated clock.

A tiny discrete-event simulation stands in for an agent: requests start whenever the
controller allows, each finishes after a latency given by the agent model (which may depend
on how many requests the agent has open), or is refused with 429 above a capacity.
"""

from __future__ import annotations

import heapq
from datetime import UTC, datetime

import pytest

from pipelines.stages.concurrency import ConcurrencyController, ControllerSettings, Signal, Ticket
from pipelines.stages.ratelimit import DailyBudget, RateLimiter


def simulate(latency, *, seconds: float, max_concurrency: int = 64, capacity: int | None = None,
             retry_after: float = 1.0) -> dict:
    controller = ConcurrencyController(ControllerSettings(max_concurrency=max_concurrency))
    events: list = []
    serial = 0
    open_at_agent = 0
    done = refused = 0
    rtts: list[tuple[float, float]] = []
    limits: list[tuple[float, int]] = []

    def start_what_may(now: float) -> None:
        nonlocal serial, open_at_agent
        while controller.can_start(now):
            ticket = controller.start(now)
            open_at_agent += 1
            if capacity is not None and open_at_agent > capacity:
                heapq.heappush(events, (now + 0.001, serial, "refused", ticket))
            else:
                heapq.heappush(events, (now + latency(open_at_agent), serial, "ok", ticket))
            serial += 1
        if controller.paused_until > now:
            heapq.heappush(events, (controller.paused_until, serial, "wake", None))
            serial += 1

    start_what_may(0.0)
    while events:
        now, _, kind, ticket = heapq.heappop(events)
        if now > seconds:
            break
        if kind != "wake":
            open_at_agent -= 1
            if kind == "ok":
                controller.finish(ticket, now, Signal.OK)
                done += 1
                rtts.append((now, now - ticket.started))
            else:
                controller.finish(ticket, now, Signal.BACK_PRESSURE, retry_after)
                refused += 1
            limits.append((now, controller.limit))
        start_what_may(now)
    return {"per_second": done / seconds, "refused": refused, "controller": controller, "rtts": rtts,
            "limits": limits}


def steady(series: list[tuple[float, float]], after: float) -> list[float]:
    return sorted(value for at, value in series if at >= after)


def test_a_slow_agent_with_unlimited_capacity_gets_hundreds_of_requests_in_flight():
    run = simulate(lambda _open: 0.5, seconds=15, max_concurrency=1000)
    reached = min(at for at, limit in run["limits"] if limit == 1000)
    assert reached <= 6.0  # slow start: one doubling per round trip, 1 → 1000 in ten of them
    assert run["per_second"] >= 1300  # 2,000/s once there
    assert run["refused"] == 0


def test_an_agent_with_a_hard_capacity_is_used_near_it_with_few_refusals():
    run = simulate(lambda _open: 0.5, seconds=30, capacity=20)
    ideal = 20 / 0.5
    assert run["per_second"] >= 0.8 * ideal
    late_limits = steady(run["limits"], after=10)
    assert 17 <= late_limits[len(late_limits) // 2] <= 20
    # One overshoot at the end of slow start, then a probe above the capacity every ~10 s.
    assert run["refused"] <= 0.1 * run["per_second"] * 30
    assert run["controller"].decreases <= 4


@pytest.mark.parametrize(("knee", "base"), [(8, 0.1), (4, 0.2), (16, 0.05)])
def test_a_queueing_agent_settles_near_its_knee_and_keeps_latency_low(knee, base):
    run = simulate(lambda open_: base * max(1.0, open_ / knee), seconds=20)
    late = steady(run["limits"], after=5)
    median = late[len(late) // 2]
    assert knee <= median <= knee * 1.6
    late_rtts = steady(run["rtts"], after=5)
    assert late_rtts[int(0.99 * (len(late_rtts) - 1))] <= 2 * base


def test_max_concurrency_one_never_lets_two_requests_out():
    run = simulate(lambda _open: 0.05, seconds=5, max_concurrency=1)
    assert max(limit for _, limit in run["limits"]) == 1
    assert run["per_second"] == pytest.approx(20, rel=0.05)


def test_retry_after_pauses_new_requests_until_it_has_passed():
    controller = ConcurrencyController(ControllerSettings(initial=4))
    first, second = controller.start(0.0), controller.start(0.0)
    controller.finish(first, 0.01, Signal.BACK_PRESSURE, retry_after=2.0)
    assert not controller.can_start(1.99)
    controller.finish(second, 0.5, Signal.OK)
    assert not controller.can_start(1.99)
    assert controller.can_start(2.01)


@pytest.mark.parametrize(("signal", "expected"), [
    (Signal.BACK_PRESSURE, 15),  # 20 × 0.75
    (Signal.TIMEOUT, 15),
    (Signal.ERROR, 20),  # a connection error says nothing about load
])
def test_congestion_signals_shrink_the_limit_multiplicatively(signal, expected):
    controller = ConcurrencyController(ControllerSettings(initial=20))
    controller.slow_start = False
    tickets = [controller.start(0.0) for _ in range(20)]
    controller.finish(tickets[-1], 0.1, signal)
    assert controller.limit == expected


def test_a_back_pressure_answer_caps_the_limit_under_the_refused_concurrency():
    controller = ConcurrencyController(ControllerSettings(initial=1, max_concurrency=64))
    controller.limit = 32
    tickets = [controller.start(0.0) for _ in range(32)]
    controller.finish(tickets[21], 0.01, Signal.BACK_PRESSURE)  # the 22nd request was refused
    assert controller.limit == 16  # the overshooting doubling is undone (slow start ends)
    assert controller.ceiling == 22


def test_only_one_decrease_per_burst_of_refusals():
    controller = ConcurrencyController(ControllerSettings(initial=40))
    controller.slow_start = False
    tickets = [controller.start(0.0) for _ in range(40)]
    for ticket in tickets[20:]:
        controller.finish(ticket, 0.01, Signal.BACK_PRESSURE)
    assert controller.limit == 20  # min(20 refused - 1 … ) once, not 0.75 ** 20
    assert controller.decreases == 1


def test_rtt_well_above_the_baseline_decreases_and_near_it_increases():
    controller = ConcurrencyController(ControllerSettings(initial=10))
    controller.slow_start = False
    controller.baseline = 0.1
    now = 0.0
    tickets = [controller.start(now) for _ in range(10)]
    for ticket in tickets:
        controller.finish(ticket, now + 0.105, Signal.OK)
    assert controller.limit == 11
    now = 1.0
    tickets = [controller.start(now) for _ in range(11)]
    for ticket in tickets:
        controller.finish(ticket, now + 0.3, Signal.OK)
    assert controller.limit == 9  # floor(11 × 0.9)


def test_the_limit_does_not_grow_when_it_is_not_reached():
    controller = ConcurrencyController(ControllerSettings(initial=8))
    for step in range(50):
        ticket = controller.start(step * 0.2)
        controller.finish(ticket, step * 0.2 + 0.1, Signal.OK)
    assert controller.limit == 8


def test_a_target_that_got_slower_on_its_own_is_relearnt():
    run_controller = ConcurrencyController(ControllerSettings(initial=1))
    now = 0.0
    for latency in [0.1] * 40 + [2.0] * 40:
        tickets = [run_controller.start(now) for _ in range(run_controller.limit)]
        now += latency
        for ticket in tickets:
            run_controller.finish(ticket, now, Signal.OK)
    assert run_controller.baseline == pytest.approx(2.0, rel=0.1)
    assert run_controller.limit >= 32


def test_rtt_percentiles_come_from_recent_successes():
    controller = ConcurrencyController()
    assert controller.rtt_percentiles() == (None, None)
    for index in range(100):
        controller.finish(Ticket(0.0, 1), (index + 1) / 1000, Signal.OK)
    p50, p99 = controller.rtt_percentiles()
    assert p50 == pytest.approx(0.05, abs=0.002)
    assert p99 == pytest.approx(0.099, abs=0.002)


@pytest.mark.parametrize(("per_minute", "requests", "span"), [(60, 10, 9.0), (600, 10, 0.9), (6, 3, 20.0)])
def test_the_rate_limiter_spaces_requests_evenly(per_minute, requests, span):
    limiter = RateLimiter(per_minute)
    now = 0.0
    sent = []
    while len(sent) < requests:
        wait = limiter.wait(now)
        now += wait
        limiter.take(now)
        sent.append(now)
    assert sent[-1] - sent[0] == pytest.approx(span)


def test_the_daily_budget_holds_records_back_until_midnight_utc_and_counts_every_worker():
    noon = datetime(2026, 1, 15, 12, 0, tzinfo=UTC).timestamp()
    budget = DailyBudget(100)
    budget.spend(60, noon)
    assert budget.wait(noon) == 0
    budget.synced_to(budget.day, total=90, added=60)  # another worker already sent 30 today
    assert budget.used(noon) == 90
    budget.spend(10, noon)
    assert budget.wait(noon) == 12 * 3600
    assert budget.wait(noon + 12 * 3600 + 1) == 0  # a new UTC day


@pytest.mark.parametrize(("ok", "status", "timed_out", "expected"), [
    (True, 200, False, Signal.OK),
    (False, 429, False, Signal.BACK_PRESSURE),
    (False, 503, False, Signal.BACK_PRESSURE),
    (False, 408, False, Signal.BACK_PRESSURE),
    (False, 504, False, Signal.BACK_PRESSURE),
    (False, None, True, Signal.TIMEOUT),
    (False, 400, False, Signal.OK),  # a refusal is a normal answer: its RTT counts
    (False, 500, False, Signal.ERROR),  # a broken agent is not a loaded one
    (False, None, False, Signal.ERROR),  # connection refused
])
def test_each_answer_maps_to_what_it_says_about_the_agents_load(ok, status, timed_out, expected):
    from pipelines.worker.flow import signal_for

    assert signal_for(ok, status, timed_out) is expected
