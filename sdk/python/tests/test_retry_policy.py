"""Retry-After parsing and backoff bounds."""

from __future__ import annotations

import pytest
from glassflow_ai import RetryPolicy, parse_retry_after

NOW = 1_445_412_480.0  # Wed, 21 Oct 2015 07:28:00 GMT


@pytest.mark.parametrize(
    "value, expected",
    [
        ("120", 120.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("nan", None),
    ],
)
def test_retry_after_accepts_seconds_and_http_dates(value, expected):
    assert parse_retry_after(value, now=NOW) == expected


@pytest.mark.parametrize("retry", range(8))
def test_backoff_grows_exponentially_within_jitter_and_cap(retry):
    policy = RetryPolicy(backoff_base=0.5, backoff_max=10.0)
    ceiling = min(10.0, 0.5 * 2**retry)
    for _ in range(50):
        assert ceiling / 2 <= policy.delay(retry) <= ceiling
