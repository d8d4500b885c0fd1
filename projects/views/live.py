"""Live tail of a project's incoming records and agent outputs as server-sent events.

An async view (the ASGI app serves it without holding a thread): tenancy is checked
first, then the generator subscribes with plain core NATS to ``gf-ai-raw.{id}.>`` and
``gf-ai-output.{id}.out``. Core subscriptions see what the receiver publishes into the
streams without creating consumers or touching acks, so watching never disturbs the
pipeline. The stream is bounded: at most ``MAX_EVENTS_PER_SECOND`` events (the rest are
counted and reported as skipped), each event cut to ``MAX_EVENT_CHARS``, and it ends
after ``MAX_SECONDS``; the browser offers "Resume" to open a new one.

Each stream holds a NATS connection, so a user may hold at most ``LIVE_TAILS_PER_USER`` at once,
counted across all web processes: a stream takes one of the user's numbered slots in the shared
``ratelimit`` cache (an atomic ``add``) and frees it when it ends; a slot left by a crashed process
expires shortly after the longest a stream can last.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator

import nats
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import caches
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse

from projects.tenancy import membership_for

logger = logging.getLogger(__name__)

MAX_EVENTS_PER_SECOND = 10
MAX_SECONDS = 300
MAX_EVENT_CHARS = 2000
KEEPALIVE_SECONDS = 15.0
QUEUE_SIZE = 200


def sse(event: str, data: str) -> str:
    return f"event: {event}\ndata: {data}\n\n"


def compact(payload: bytes) -> str:
    """One line of JSON (SSE data cannot contain newlines), cut to a readable size."""
    try:
        text = json.dumps(json.loads(payload), separators=(",", ":"), ensure_ascii=False)
    except ValueError:
        text = payload.decode("utf-8", errors="replace").replace("\r", " ").replace("\n", " ")
    return text if len(text) <= MAX_EVENT_CHARS else text[:MAX_EVENT_CHARS - 1] + "…"


async def tail_events(project_id: object, *, max_seconds: float = MAX_SECONDS,
                      per_second: int = MAX_EVENTS_PER_SECOND) -> AsyncIterator[str]:
    """SSE text for the project's raw records and outputs until ``max_seconds`` have passed."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(QUEUE_SIZE)
    skipped = 0

    def handler(kind: str):
        async def on_message(msg) -> None:
            nonlocal skipped
            try:
                queue.put_nowait((kind, msg.data))
            except asyncio.QueueFull:
                skipped += 1  # a burst larger than the browser could show anyway

        return on_message

    yield "retry: 5000\n\n"
    try:
        nc = await nats.connect(servers=settings.NATS_SERVERS, connect_timeout=settings.NATS_CONNECT_TIMEOUT,
                                max_reconnect_attempts=3, reconnect_time_wait=1, name="glassflow-live-tail")
    except Exception as exc:  # noqa: BLE001  tell the browser instead of failing the response half-way
        logger.info("live tail of project %s: NATS unreachable (%s)", project_id, exc)
        yield sse("end", "NATS is unreachable; try again shortly")
        return
    try:
        await nc.subscribe(f"gf-ai-raw.{project_id}.>", cb=handler("raw"))
        await nc.subscribe(f"gf-ai-output.{project_id}.out", cb=handler("output"))
        yield sse("status", "live")
        deadline = loop.time() + max_seconds
        window_start, sent_in_window, reported_skips, last_write = loop.time(), 0, 0, loop.time()
        while (remaining := deadline - loop.time()) > 0:
            item = None
            try:
                # Wake at least once a second so skips are reported even when nothing else is sent.
                item = await asyncio.wait_for(queue.get(), timeout=min(1.0, remaining))
            except TimeoutError:
                pass
            now = loop.time()
            if now - window_start >= 1.0:
                window_start, sent_in_window = now, 0
            if item is not None:
                if sent_in_window < per_second:
                    sent_in_window += 1
                    last_write = now
                    yield sse(item[0], compact(item[1]))
                else:
                    skipped += 1
            if skipped != reported_skips and sent_in_window < per_second:
                reported_skips, last_write = skipped, now
                yield sse("status", f"live · {skipped} skipped (sampling)")
            elif now - last_write >= KEEPALIVE_SECONDS:
                last_write = now
                yield ": keep-alive\n\n"  # proxies close idle connections
        yield sse("end", f"closed after {int(max_seconds // 60) or 1} min · press Resume")
    finally:
        await nc.close()


def _slot_key(user_id: object, slot: int) -> str:
    return f"live-tail:{user_id}:{slot}"


async def take_slot(user_id: object) -> str | None:
    """The cache key of a free live-tail slot of the user, now taken; None when all are in use."""
    cache, token = caches["ratelimit"], uuid.uuid4().hex
    for slot in range(settings.LIVE_TAILS_PER_USER):
        if await cache.aadd(_slot_key(user_id, slot), token, timeout=MAX_SECONDS + 60):
            return _slot_key(user_id, slot)
    return None


async def limited(events: AsyncIterator[str], slot: str) -> AsyncIterator[str]:
    """The events, freeing the slot when the stream ends (finished, closed by the browser, failed)."""
    try:
        async for event in events:
            yield event
    finally:
        await caches["ratelimit"].adelete(slot)


async def refused(message: str) -> AsyncIterator[str]:
    yield "retry: 60000\n\n"
    yield sse("end", message)


async def live_tail(request: HttpRequest, project_id) -> HttpResponse:
    """``GET /projects/{id}/live/``: the event stream, for members of the project only."""
    user = await request.auser()
    if not user.is_authenticated:
        raise Http404("No such project.")
    await sync_to_async(membership_for)(user, project_id)  # 404 for non-members
    slot = await take_slot(user.pk)
    if slot is None:
        # An EventSource cannot read the body of an error status, so the refusal is an "end"
        # event the page shows; the header tells scripts and tests apart from a finished stream.
        limit = settings.LIVE_TAILS_PER_USER
        response = StreamingHttpResponse(refused(
            f"you have {limit} live tails open, the most one user may have (LIVE_TAILS_PER_USER={limit}); "
            "close one (another tab or window) and press Resume"), content_type="text/event-stream")
        response["X-Live-Tail-Refused"] = "limit"
        response["Cache-Control"] = "no-cache"
        return response
    response = StreamingHttpResponse(limited(tail_events(project_id), slot), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx would otherwise buffer the stream
    return response
