"""The one RFC 3339 module: what every stored time looks like, and what a reader accepts."""

from datetime import UTC, datetime, timedelta, timezone

from glassflow_site.timestamps import format_rfc3339, now_rfc3339, parse_rfc3339


def test_formats_utc_with_z_from_datetimes_and_epoch_seconds():
    moment = datetime(2026, 11, 30, 21, 0, 1, 250000, tzinfo=timezone(timedelta(hours=1)))
    assert format_rfc3339(moment) == "2026-11-30T20:00:01.250Z"
    assert format_rfc3339(0) == "1970-01-01T00:00:00.000Z"
    assert format_rfc3339(moment, timespec="seconds") == "2026-11-30T20:00:01Z"
    assert format_rfc3339(None) is None
    assert now_rfc3339().endswith("Z")


def test_parses_what_go_and_python_writers_produce():
    assert parse_rfc3339("2026-11-30T20:00:01.123456789Z") == datetime(2026, 11, 30, 20, 0, 1, 123456, tzinfo=UTC)
    assert parse_rfc3339(b"2026-11-30T21:00:01+01:00") == datetime(2026, 11, 30, 20, 0, 1, tzinfo=UTC)
    assert parse_rfc3339("2026-11-30T20:00:01") == datetime(2026, 11, 30, 20, 0, 1, tzinfo=UTC)


def test_answers_none_for_what_is_not_a_time():
    for value in (None, "", "yesterday", b"\xff\xfe", 12, "2026-13-01T00:00:00Z"):
        assert parse_rfc3339(value) is None


def test_round_trips():
    moment = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert parse_rfc3339(format_rfc3339(moment)) == moment
