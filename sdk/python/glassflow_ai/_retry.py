"""Retry policy shared by the sync and async clients: which answers to retry, how long to wait,
and how a final answer turns into an exception."""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import dataclass
from datetime import timezone
from email.utils import parsedate_to_datetime

import httpx

from ._errors import AuthenticationError, GlassFlowError, RateLimitError, RequestError, ServerError

RETRYABLE_STATUS = frozenset({429}) | frozenset(range(500, 600))


MAX_RETRY_AFTER_SECONDS = 3600.0


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds, also ``1.5``, or an HTTP date);
    None if absent or unreadable. A date in the past or a negative number means 0; a date without
    a usable zone (``-0000``) is UTC, as HTTP dates always are; capped at an hour. The runtime's
    ``outbound.parse_retry_after`` follows the same table (tests/outbound/test_outbound_rules.py)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if moment is None:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)  # noqa: UP017 -- the SDK supports Python 3.9
        seconds = moment.timestamp() - (time.time() if now is None else now)
    if not math.isfinite(seconds):  # NaN, inf
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER_SECONDS)


@dataclass(frozen=True)
class RetryPolicy:
    """``max_retries`` retries after the first attempt; exponential backoff with jitter, or the
    server's Retry-After (capped at ``retry_after_max`` so a misconfigured server cannot park the
    agent for hours)."""

    max_retries: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    retry_after_max: float = 60.0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if self.backoff_base < 0 or self.backoff_max < 0 or self.retry_after_max < 0:
            raise ValueError("backoff_base, backoff_max and retry_after_max must be >= 0")

    def delay(self, retry: int, response: httpx.Response | None = None) -> float:
        """Seconds to sleep before retry number ``retry`` (0-based)."""
        if response is not None:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            if retry_after is not None:
                return min(retry_after, self.retry_after_max)
        ceiling = min(self.backoff_max, self.backoff_base * (2**retry))
        # "Equal jitter": never less than half the step, so retries still spread out in time
        # but many agents failing together do not retry in lockstep.
        return ceiling / 2 + random.uniform(0, ceiling / 2)


def server_message(response: httpx.Response) -> str | None:
    """The ``message`` of a google.rpc.Status JSON body, else a short piece of the text."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        text = response.text.strip()
        return text[:300] or None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return body["message"]
    return None


def error_for(response: httpx.Response, attempts: int) -> GlassFlowError:
    """The exception for a final non-2xx answer."""
    status = response.status_code
    detail = server_message(response)
    reason = f"{status} {response.reason_phrase}".strip()
    suffix = f": {detail}" if detail else ""
    error: type[GlassFlowError] = RequestError
    message = f"GlassFlow rejected the request with {reason}{suffix}"
    if status == 401:
        error = AuthenticationError
        message = f"GlassFlow answered {reason}{suffix} (check the project API key passed as api_key)"
    elif status == 429:
        error = RateLimitError
        message = f"GlassFlow is still rate limiting after {attempts} attempts ({reason}{suffix})"
    elif status >= 500:
        error = ServerError
        message = f"GlassFlow answered {reason}{suffix} after {attempts} attempts"
    return error(message, status_code=status, server_message=detail, attempts=attempts)


def result_of(response: httpx.Response) -> dict:
    """The JSON object of a 2xx answer; {} when the body is empty or not an object."""
    if not response.content:
        return {}
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}
