"""Group items into batches of at most ``size``, released when full or ``max_wait`` after the first item.

The clock is passed in, so the rule is testable on plain numbers; the worker calls
``add`` for each record and ``take_if_due`` from a timer.
"""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")


class Batcher(Generic[T]):
    def __init__(self, size: int, max_wait_seconds: float):
        if size < 1:
            raise ValueError("batch size must be at least 1")
        self.size = size
        self.max_wait = max_wait_seconds
        self.items: list[T] = []
        self.opened_at: float | None = None

    def __len__(self) -> int:
        return len(self.items)

    @property
    def deadline(self) -> float | None:
        """When the open batch must go out, or None when nothing is waiting."""
        return None if self.opened_at is None else self.opened_at + self.max_wait

    def add(self, item: T, now: float) -> list[T] | None:
        """Add an item; return the batch if it just became full."""
        if not self.items:
            self.opened_at = now
        self.items.append(item)
        if len(self.items) >= self.size:
            return self.take()
        return None

    def take_if_due(self, now: float) -> list[T] | None:
        if self.opened_at is not None and now >= self.opened_at + self.max_wait:
            return self.take()
        return None

    def take(self) -> list[T]:
        items, self.items, self.opened_at = self.items, [], None
        return items
