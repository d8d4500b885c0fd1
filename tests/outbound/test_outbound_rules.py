"""The outbound core's pure rules on plain data: classification, the one Retry-After parser, backoff."""

from __future__ import annotations

import random

import pytest
from glassflow_ai import parse_retry_after as sdk_parse_retry_after

from outbound import RetryPolicy, Verdict, classify_status, parse_retry_after
from outbound.answers import MAX_RETRY_AFTER_SECONDS, excerpt_of

NOW = 40.0  # seconds after the epoch


@pytest.mark.parametrize(("status", "verdict"), [
    (200, Verdict.SUCCESS), (201, Verdict.SUCCESS), (204, Verdict.SUCCESS), (299, Verdict.SUCCESS),
    (408, Verdict.RETRYABLE), (429, Verdict.RETRYABLE), (500, Verdict.RETRYABLE), (503, Verdict.RETRYABLE),
    (599, Verdict.RETRYABLE),
    (301, Verdict.PERMANENT), (400, Verdict.PERMANENT), (401, Verdict.PERMANENT), (404, Verdict.PERMANENT),
    (413, Verdict.PERMANENT), (422, Verdict.PERMANENT), (100, Verdict.PERMANENT),
])
def test_every_status_has_one_verdict(status, verdict):
    assert classify_status(status) is verdict


@pytest.mark.parametrize("parse", [parse_retry_after, sdk_parse_retry_after], ids=["runtime", "sdk"])
@pytest.mark.parametrize(("header", "expected"), [
    (None, None), ("", None), ("   ", None),
    ("7", 7.0), (" 7 ", 7.0), ("0", 0.0), ("1.5", 1.5), ("-3", 0.0),
    ("Thu, 01 Jan 1970 00:01:40 GMT", 60.0),
    ("Thu, 01 Jan 1970 00:01:40 -0000", 60.0),  # -0000 is "zone unknown": HTTP dates are UTC
    ("Thu, 01 Jan 1970 00:01:40 +0000", 60.0),
    ("Thu, 01 Jan 1970 01:01:40 +0100", 60.0),
    ("Thu, 01 Jan 1970 00:00:10 GMT", 0.0),  # in the past: now
    ("soon", None), ("nan", None), ("inf", None), ("1e400", None), ("Thu, 99 Foo", None),
    ("99999999", MAX_RETRY_AFTER_SECONDS), ("Fri, 01 Jan 9999 00:00:00 GMT", MAX_RETRY_AFTER_SECONDS),
])
def test_retry_after_is_read_as_seconds_or_an_http_date_by_the_runtime_and_the_sdk_alike(parse, header, expected):
    assert parse(header, now=NOW) == expected


def test_retry_after_may_come_as_raw_header_bytes():
    assert parse_retry_after(b"2", NOW) == 2.0


POLICY = RetryPolicy(initial_backoff=0.1, max_backoff=1.0, max_retry_after=5.0)


@pytest.mark.parametrize(("attempt", "retry_after", "low", "high"), [
    (1, None, 0.05, 0.1), (2, None, 0.1, 0.2), (3, None, 0.2, 0.4), (10, None, 0.5, 1.0), (10_000, None, 0.5, 1.0),
    (1, 0.7, 0.7, 0.7),  # what the target asked for replaces the backoff, longer...
    (6, 0.2, 0.2, 0.2),  # ...or shorter
    (1, 3600, 5.0, 5.0),  # but never beyond max_retry_after
])
def test_backoff_grows_with_jitter_up_to_a_cap_and_honours_retry_after(attempt, retry_after, low, high):
    for seed in range(20):
        assert low <= POLICY.delay(attempt, retry_after, random.Random(seed)) <= high


@pytest.mark.parametrize(("policy", "failing_for", "delay", "gives_up"), [
    (RetryPolicy(), 86_400.0 * 30, 30.0, False),  # the default holds on while the stream holds the data
    (RetryPolicy(dead_letter_after=60), 59.0, 0.5, False),
    (RetryPolicy(dead_letter_after=60), 59.95, 0.1, True),
])
def test_only_a_dead_letter_after_setting_gives_up(policy, failing_for, delay, gives_up):
    assert policy.gives_up(failing_for, delay) is gives_up


@pytest.mark.parametrize(("body", "encoding", "expected"), [
    (b"  oops\n  bad   thing ", "", "oops bad thing"),
    (b"plain text, not gzip", "gzip", "plain text, not gzip"),
    (b"\xff\xfe broken utf-8", "", "\ufffd\ufffd broken utf-8"),
    (b"x" * 1000, "", "x" * 199 + "…"),
])
def test_error_excerpts_are_one_short_line_whatever_the_body(body, encoding, expected):
    assert excerpt_of(body, encoding) == expected
