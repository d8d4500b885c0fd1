"""How the worker reacts to an agent's answer: deliver, retry with backoff, or give up (dead letter).

Pure functions over status codes, headers and the retry settings, with the
sentence a user reads in the DLQ when delivery gives up.
"""

from __future__ import annotations

import random
from email.utils import parsedate_to_datetime
from http import HTTPStatus

from pipelines.stages.config import RetryPolicy

RETRYABLE_STATUSES = {408, 429}
HINTS = {
    401: "check the Authorization header in the pipeline settings",
    403: "check the agent's credentials in the pipeline settings",
    404: "check the agent endpoint URL in the pipeline settings",
    405: "the agent endpoint must accept POST",
    413: "lower the batch size in the pipeline settings",
    415: "the agent endpoint must accept application/json",
}


def is_success(status: int) -> bool:
    return 200 <= status < 300


def is_retryable(status: int) -> bool:
    """408, 429 and every 5xx are worth retrying; other non-2xx answers will not change on their own."""
    return status in RETRYABLE_STATUSES or 500 <= status < 600


def status_text(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def rejection_reason(status: int, body_excerpt: str) -> str:
    """The DLQ reason for a batch the agent refused outright (a 4xx other than 408/429)."""
    reason = f"agent endpoint answered {status_text(status)}"
    if body_excerpt:
        reason += f": {body_excerpt}"
    hint = HINTS.get(status)
    return f"{reason} ({hint})" if hint else reason


def exhausted_reason(last_error: str, attempts: int, elapsed_seconds: float) -> str:
    return (f"agent endpoint still failing after {attempts} attempt{'s' if attempts != 1 else ''} over "
            f"{elapsed_seconds:.0f} s (last: {last_error}); check that the agent is running and healthy, "
            "then replay this entry")


def parse_retry_after(value: str | None, now_epoch: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if absent or invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now_epoch)


def backoff_delay(attempt: int, policy: RetryPolicy, retry_after: float | None = None,
                  rng: random.Random | None = None) -> float:
    """Seconds before the next attempt, after ``attempt`` failed attempts (1-based).

    Exponential with "full jitter" between half and all of the step, so many workers
    retrying one agent spread out; a Retry-After the agent sent wins when it is longer,
    but is capped at max_backoff so a bad header cannot park a batch for hours.
    """
    step = min(policy.max_backoff_ms, policy.initial_backoff_ms * 2 ** max(0, attempt - 1)) / 1000
    jittered = step * (0.5 + 0.5 * (rng or random).random())
    if retry_after is not None:
        jittered = max(jittered, min(retry_after, policy.max_backoff_ms / 1000))
    return jittered


def should_give_up(attempts: int, elapsed_seconds: float, next_delay: float, policy: RetryPolicy) -> bool:
    """True when another attempt would exceed maxAttempts or start after maxElapsedSeconds."""
    return attempts >= policy.max_attempts or elapsed_seconds + next_delay > policy.max_elapsed_seconds
