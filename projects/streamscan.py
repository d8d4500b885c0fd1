"""Paging through a JetStream stream newest first, the way the dead letters and the run history are
listed (``deadletters.store``, ``runs.store``).

Messages are read by sequence (``get_msg``) from the newest down, ``CHUNK`` at a time fetched
concurrently, and at most ``SCAN_LIMIT`` sequences per page so a page of a sparse filter still
answers quickly; the page's cursor says where the next page continues. Async and free of Django.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

CHUNK = 64
SCAN_LIMIT = 5_000  # sequences examined per page at most; the cursor continues from there
MAX_SEQ = 2**64 - 1  # JetStream sequences are uint64


@dataclass
class Page:
    items: list[dict] = field(default_factory=list)
    next_cursor: int | None = None


async def get_message(js: JetStreamContext, stream: str, seq: int):
    """The message stored at ``seq``, or None when there is none (deleted, aged out, out of range)."""
    if not 1 <= seq <= MAX_SEQ:
        return None  # no such message; JetStream would answer "bad request"
    try:
        return await js.get_msg(stream, seq)
    except NotFoundError:
        return None


class NewestFirst:
    """The sequences from ``top`` down to the stream's first, with their messages (None where deleted)."""

    def __init__(self, js: JetStreamContext, stream: str, first_seq: int, top: int):
        self.js, self.stream = js, stream
        self.first = max(first_seq, 1)
        self.seq = self.top = top  # the next sequence to read; where the scan started
        self.last = top  # the stream's newest sequence when the scan started (set by ``below``)
        self.scanned = 0

    @classmethod
    async def below(cls, js: JetStreamContext, stream: str, cursor: int | None) -> NewestFirst | None:
        """A scan from the newest message, or from just below ``cursor`` (a page after the first);
        None when the stream does not exist (no page to show yet)."""
        try:
            info = await js.stream_info(stream)
        except NotFoundError:
            return None
        last = info.state.last_seq
        scan = cls(js, stream, info.state.first_seq, last if cursor is None else min(last, cursor - 1))
        scan.last = last
        return scan

    async def next_chunk(self) -> list[tuple[int, Any]]:
        """The next ``CHUNK`` sequences and messages, newest first; empty at the oldest or the scan limit."""
        if self.seq < self.first or self.scanned >= SCAN_LIMIT:
            return []
        chunk = list(range(self.seq, max(self.first, self.seq - CHUNK + 1) - 1, -1))
        messages = await asyncio.gather(*(get_message(self.js, self.stream, seq) for seq in chunk))
        self.scanned += len(chunk)
        self.seq = chunk[-1] - 1
        return list(zip(chunk, messages, strict=True))

    def cursor_at(self, seq: int) -> int | None:
        """The cursor of a full page whose last item is at ``seq``: None when nothing older is left."""
        return seq if seq > self.first else None

    def cursor_left(self) -> int | None:
        """The cursor after the scan stopped (scan limit, or None at the oldest)."""
        return self.seq + 1 if self.seq >= self.first else None


async def newest_page(js: JetStreamContext, stream: str, cursor: int | None, limit: int, item_of) -> Page:
    """A page of at most ``limit`` items, newest first, from ``cursor`` down (or from the newest).

    ``await item_of(scan, seq, msg)`` turns each stored message into an item, or None to skip it;
    the page's ``next_cursor`` says where the next page starts (None at the oldest message).
    """
    scan, page = await NewestFirst.below(js, stream, cursor), Page()
    if scan is None:
        return page
    while chunk := await scan.next_chunk():
        for seq, msg in chunk:
            item = None if msg is None else await item_of(scan, seq, msg)
            if item is None:
                continue
            page.items.append(item)
            if len(page.items) == limit:
                page.next_cursor = scan.cursor_at(seq)
                return page
    page.next_cursor = scan.cursor_left()
    return page
