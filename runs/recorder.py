"""Writing the run history: one small event per step of a batch's life, published without waiting.

Events go to ``gf-ai-runs.{projectId}.{token}`` (``token`` = the request id, or a hash of it
when it is not a valid subject token), so every event of one run shares a subject and is read
back by subject. Kinds:

- ``start``: request id, project, record count, the records sent (whole when the batch body fits
  ``preview_bytes``, else the first records that fit and ``truncated: true``), raw subject(s);
- ``attempt``: number, HTTP status (or null), error, latency;
- ``outcome``: ``delivered``, ``dead-lettered`` or ``released`` (handed back on shutdown);
- ``output`` (written by the receiver): an agent output that arrived with this request id.

The pipeline must never wait for its history: events are appended to one bounded in-memory
queue per process (a synchronous call, no I/O) and a background task publishes them as plain
NATS messages into the stream, without waiting for JetStream's acknowledgement. When the queue
is full (NATS slow or away) the oldest events are dropped and counted: history is diagnostic,
the records themselves are never at stake.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import orjson

from projects.streams import runs_subject

logger = logging.getLogger(__name__)

TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")
OUTPUT_PREVIEW_BYTES = 16 * 1024


def run_token(request_id: str) -> str:
    """The subject token of a request id: the id itself when it is a safe token (UUIDs are)."""
    if TOKEN.fullmatch(request_id):
        return request_id
    return "h" + hashlib.sha256(request_id.encode()).hexdigest()[:40]


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class RunHistorySettings:
    enabled: bool = True
    preview_bytes: int = 64 * 1024
    buffer_events: int = 10_000
    buffer_bytes: int = 16 * 1024**2  # start events carry records: bound the memory, not only the count


def records_preview(records: list[Any], body: bytes, limit: int) -> tuple[bytes, bool]:
    """The JSON array to store for a batch: its body when it fits, else the first records that fit."""
    if len(body) <= limit:
        return body, False
    parts, size = [], 2
    for record in records:
        encoded = orjson.dumps(record, default=str, option=orjson.OPT_NON_STR_KEYS)
        if size + len(encoded) + 1 > limit:
            break
        parts.append(encoded)
        size += len(encoded) + 1
    return b"[" + b",".join(parts) + b"]", True


def output_event(request_id: str, received_at: str, payload: Any) -> bytes:
    """The ``output`` event the receiver writes for an agent output carrying a request id."""
    event = {"type": "output", "requestId": request_id, "receivedAt": received_at, "at": now_ms()}
    encoded = orjson.dumps(payload, default=str)
    if len(encoded) > OUTPUT_PREVIEW_BYTES:
        event["payload"] = encoded[:OUTPUT_PREVIEW_BYTES].decode(errors="ignore")
        event["truncated"] = True
    else:
        event["payload"] = payload
    return orjson.dumps(event, default=str)


async def record_output(nc: Any, project_id: object, request_id: str, received_at: str, payload: Any) -> None:
    """Add an agent output to its run (receiver side); a failure here never fails the output itself."""
    try:
        await nc.publish(runs_subject(project_id, run_token(request_id)),
                         output_event(request_id, received_at, payload))
    except Exception as exc:  # noqa: BLE001 -- the output is stored; only its history entry is lost
        logger.warning("run history: could not record the output of %s: %s", request_id, exc)


class Run:
    """One batch's history; the delivery path calls ``attempt`` after each POST and ``outcome`` once."""

    __slots__ = ("history", "subject", "request_id", "attempts")

    def __init__(self, history: RunHistory, subject: str, request_id: str):
        self.history = history
        self.subject = subject
        self.request_id = request_id
        self.attempts = 0

    def attempt(self, status: int | None, error: str, latency_seconds: float) -> None:
        self.attempts += 1
        self.history.emit(self.subject, orjson.dumps({
            "type": "attempt", "requestId": self.request_id, "n": self.attempts, "status": status,
            "error": error, "latencyMs": round(latency_seconds * 1000, 1), "at": now_ms()}))

    def outcome(self, outcome: str) -> None:
        self.history.emit(self.subject, orjson.dumps({
            "type": "outcome", "requestId": self.request_id, "outcome": outcome, "attempts": self.attempts,
            "at": now_ms()}))


class _Disabled:
    """Stands in for a Run when history is off: the delivery path calls it unconditionally."""

    def attempt(self, status: int | None, error: str, latency_seconds: float) -> None:
        pass

    def outcome(self, outcome: str) -> None:
        pass


DISABLED_RUN = _Disabled()


class RunHistory:
    """The process's run-history writer: a bounded queue and one task publishing it to NATS."""

    def __init__(self, nc: Any, settings: RunHistorySettings | None = None):
        self.nc = nc
        self.settings = settings or RunHistorySettings()
        self.queue: deque[tuple[str, bytes]] = deque()
        self.queued_bytes = 0
        self.published = 0
        self.dropped = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        if self.settings.enabled and self._task is None:
            self._task = asyncio.create_task(self._publish_loop(), name="run-history")

    def begin(self, project_id: str, request_id: str, msgs: list[Any], records: list[Any],
              body: bytes) -> Run | _Disabled:
        """Record the start of a batch; returns the Run to report attempts and the outcome to."""
        if not self.settings.enabled:
            return DISABLED_RUN
        subject = runs_subject(project_id, run_token(request_id))
        preview, truncated = records_preview(records, body, self.settings.preview_bytes)
        subjects = list(dict.fromkeys(msg.subject for msg in msgs))
        head = {"type": "start", "requestId": request_id, "projectId": project_id, "count": len(msgs),
                "at": now_ms(), "truncated": truncated,
                # Replay puts each record back where it came from; a mixed batch lists one per record.
                "subjects": subjects if len(subjects) == 1 else [msg.subject for msg in msgs]}
        # The records are spliced in as the bytes already encoded for the agent: no second encoding.
        self.emit(subject, orjson.dumps(head)[:-1] + b',"records":' + preview + b"}")
        return Run(self, subject, request_id)

    def emit(self, subject: str, data: bytes) -> None:
        queue, settings = self.queue, self.settings
        queue.append((subject, data))
        self.queued_bytes += len(data)
        while len(queue) > settings.buffer_events or (self.queued_bytes > settings.buffer_bytes and len(queue) > 1):
            self.queued_bytes -= len(queue.popleft()[1])
            self.dropped += 1
        if not self._wake.is_set():
            self._wake.set()

    async def _publish_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self._drain()

    async def _drain(self) -> None:
        publish, queue = self.nc.publish, self.queue
        while queue:
            subject, data = queue.popleft()
            self.queued_bytes -= len(data)
            try:
                await publish(subject, data)
                self.published += 1
            except Exception as exc:  # noqa: BLE001 -- disconnected or closed: history waits for no one
                self.dropped += 1 + len(queue)
                queue.clear()
                self.queued_bytes = 0
                logger.warning("run history: could not publish (%s); events dropped so far: %d", exc, self.dropped)

    async def close(self) -> None:
        """Publish what is queued, then stop (called before the NATS connection drains)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self.nc is not None and not self.nc.is_closed:
            await self._drain()
