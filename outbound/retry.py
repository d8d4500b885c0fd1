"""When to try an outbound delivery again, in one unit (seconds), for agents and sinks alike.

Transient failures (no answer, 408, 429, 5xx) are retried with capped exponential backoff
for as long as it takes: the stream holds the data meanwhile, so an outage pauses delivery
instead of filling the dead letters. Only when ``dead_letter_after`` is set does a transient
failure that has lasted that long give up. Permanent failures never reach this policy.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    initial_backoff: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = 300.0
    dead_letter_after: float | None = None  # seconds of transient failure; None: retry while the stream holds

    def delay(self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds before the next attempt, after ``attempt`` failed attempts (1-based).

        A Retry-After the target sent is what it asked for, so it replaces the backoff (capped
        at ``max_retry_after`` so a bad header cannot park a delivery for hours). Otherwise the
        step doubles up to ``max_backoff`` and a random half to all of it is waited, so many
        workers retrying one target spread out.
        """
        if retry_after is not None:
            return min(max(0.0, retry_after), self.max_retry_after)
        step = min(self.max_backoff, self.initial_backoff * 2 ** min(max(0, attempt - 1), 32))
        return step * (0.5 + 0.5 * (rng or random).random())

    def gives_up(self, failing_for: float, next_delay: float) -> bool:
        """True when the next attempt would start after ``dead_letter_after`` seconds of failure."""
        return self.dead_letter_after is not None and failing_for + next_delay > self.dead_letter_after


def gave_up_reason(target: str, last_error: str, attempts: int, failing_for: float) -> str:
    """The dead-letter sentence for a delivery that gave up on a transient failure."""
    return (f"{target} still failing after {attempts} attempt{'s' if attempts != 1 else ''} over "
            f"{failing_for:.0f} s (last: {last_error}), past its \"dead-letter after\" setting; check that it "
            "is running and healthy, then replay this entry")
