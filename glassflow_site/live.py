"""Live tail of a project's incoming records and agent outputs as server-sent events.

An async view (the ASGI app serves it without holding a thread): tenancy is checked
first, then the generator subscribes with plain core NATS to ``gf-ai-raw.{id}.>`` and
``gf-ai-output.{id}.out``. Core subscriptions see what the receiver publishes into the
streams without creating consumers or touching acks, so watching never disturbs the
pipeline. The stream is bounded: at most ``MAX_EVENTS_PER_SECOND`` events (the rest are
counted and reported as skipped), each event cut to ``MAX_EVENT_CHARS``, and it ends
after ``MAX_SECONDS``; the browser offers "Resume" to open a new one.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

import nats
from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse

from projects.access import membership_for

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


async def live_tail(request: HttpRequest, project_id) -> HttpResponse:
    """``GET /projects/{id}/live/``: the event stream, for members of the project only."""
    user = await request.auser()
    if not user.is_authenticated:
        raise Http404("No such project.")
    await sync_to_async(membership_for)(user, project_id)  # 404 for non-members
    response = StreamingHttpResponse(tail_events(project_id), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx would otherwise buffer the stream
    return response
