"""Cost and rate guards: how long a batch must wait before it may go out. Pure (``now`` is given).

- ``RateLimiter``: at most ``per_minute`` requests a minute, evenly spaced (one token, refilled
  every ``60 / per_minute`` seconds), so an LLM budget or Slack's one message a second is never
  exceeded in a burst.
- ``DailyBudget``: at most ``limit`` records a UTC day over every worker of a pipeline. Each
  worker counts what it sends (``pending``) and adds it to a shared counter now and then
  (``synced``, read back from the stats bucket); the day rolls over at midnight UTC.

Nothing here drops anything: the caller holds the batch (its records stay unacked in the
stream) until the guard lets it go.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class RateLimiter:
    def __init__(self, per_minute: float):
        self.spacing = 60.0 / per_minute
        self.next_free = 0.0

    def wait(self, now: float) -> float:
        """Seconds until the next request may go out (0: now)."""
        return max(0.0, self.next_free - now)

    def take(self, now: float) -> None:
        self.next_free = max(self.next_free, now) + self.spacing


def utc_day(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d")


def seconds_to_midnight(epoch: float) -> float:
    moment = datetime.fromtimestamp(epoch, UTC)
    midnight = (moment + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - moment).total_seconds()


class DailyBudget:
    """Records a pipeline may still send today; ``epoch`` is wall-clock time (days are UTC days)."""

    def __init__(self, limit: int):
        self.limit = limit
        self.day = ""
        self.synced = 0  # the shared count of every worker, as last read
        self.pending = 0  # sent by this worker and not yet added to the shared count

    def _roll(self, epoch: float) -> None:
        day = utc_day(epoch)
        if day != self.day:
            self.day, self.synced, self.pending = day, 0, 0

    def used(self, epoch: float) -> int:
        self._roll(epoch)
        return self.synced + self.pending

    def wait(self, epoch: float) -> float:
        """Seconds until records may be sent (0: now). A batch may go while anything is left, so the
        day's total can pass the limit by less than one batch (per worker) instead of a batch larger
        than the rest waiting forever."""
        return 0.0 if self.used(epoch) < self.limit else seconds_to_midnight(epoch)

    def spend(self, records: int, epoch: float) -> None:
        self._roll(epoch)
        self.pending += records

    def synced_to(self, day: str, total: int, added: int) -> None:
        """The shared counter of ``day`` now holds ``total``, including ``added`` of our pending records."""
        if day == self.day:
            self.synced = total
            self.pending = max(0, self.pending - added)
