"""A NATS connection for synchronous Django code.

Django views run in threads; nats-py is asyncio. The bridge owns one event loop in a
daemon thread and one connection on it, and runs coroutines there with a bounded
wait. When NATS is unreachable it fails fast (``NatsUnavailable``) for a short while
instead of making every request wait for a connect timeout; the caller records the
work as pending and the reconciler finishes it later.

Only real unavailability (no connection, no answer while disconnected, JetStream itself
answering 503) opens that fail-fast window. JetStream refusing one request (an API error
such as "bad request" for message sequence 0, or "not found") is that caller's problem:
it raises ``NatsRejected`` and leaves the bridge working for every other tenant.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import nats
from django.conf import settings
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import APIError

logger = logging.getLogger(__name__)
T = TypeVar("T")

FAIL_FAST_SECONDS = 2.0


class NatsUnavailable(Exception):
    """NATS could not be reached or did not answer in time."""


class NatsRejected(NatsUnavailable):
    """JetStream answered and refused this one request (an API error with a 4xx code).

    A subclass of ``NatsUnavailable`` so callers that only know "NATS could not do it" keep
    degrading gracefully, but it never opens the fail-fast window. ``status`` is JetStream's
    code (400, 404, ...), ``err_code`` its specific error number.
    """

    def __init__(self, error: APIError) -> None:
        self.status = error.code or 400
        self.err_code = error.err_code
        self.description = error.description or "JetStream refused the request"
        super().__init__(self.description)


class NatsBridge:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._nc: Client | None = None
        self._down_until = 0.0

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="nats-bridge", daemon=True).start()
                self._loop = loop
            return self._loop

    async def _connection(self) -> Client:
        nc = self._nc
        if nc is not None and nc.is_connected:
            return nc
        if nc is not None and not nc.is_closed:
            raise NatsUnavailable("the connection to NATS is down and reconnecting")

        async def quiet(exc: Exception) -> None:
            logger.debug("NATS: %s", exc)

        self._nc = await nats.connect(
            servers=settings.NATS_SERVERS, connect_timeout=settings.NATS_CONNECT_TIMEOUT,
            allow_reconnect=True, max_reconnect_attempts=-1, reconnect_time_wait=1,
            error_cb=quiet, name="glassflow-control-plane")
        return self._nc

    async def _run(self, operation: Callable[[JetStreamContext], Awaitable[T]]) -> T:
        nc = await self._connection()
        return await operation(nc.jetstream(timeout=settings.NATS_CONNECT_TIMEOUT + 3))

    def call(self, operation: Callable[[JetStreamContext], Awaitable[T]], timeout: float | None = None) -> T:
        """Run ``operation(js)`` on the bridge's loop and return its result, or raise NatsUnavailable."""
        if time.monotonic() < self._down_until:
            raise NatsUnavailable("NATS was unreachable moments ago")
        timeout = timeout if timeout is not None else settings.NATS_CONNECT_TIMEOUT + 5
        future = asyncio.run_coroutine_threadsafe(self._run(operation), self._event_loop())
        try:
            return future.result(timeout)
        except NatsRejected:
            raise
        except NatsUnavailable:
            self._down_until = time.monotonic() + FAIL_FAST_SECONDS
            raise
        except APIError as exc:
            if exc.code is not None and 400 <= exc.code < 500:
                raise NatsRejected(exc) from exc
            self._down_until = time.monotonic() + FAIL_FAST_SECONDS  # 503: JetStream itself is unavailable
            raise NatsUnavailable(f"JetStream is unavailable: {exc}") from exc
        except (TimeoutError, OSError, nats.errors.Error) as exc:
            future.cancel()
            # A slow operation on a healthy connection is that request's problem; only a missing
            # connection means the next callers would wait in vain too.
            if not (isinstance(exc, TimeoutError) and self._nc is not None and self._nc.is_connected):
                self._down_until = time.monotonic() + FAIL_FAST_SECONDS
            raise NatsUnavailable(f"NATS did not answer: {exc.__class__.__name__} {exc}".strip()) from exc

    def reset(self) -> None:
        """Drop the connection (next call reconnects, re-reading settings). Used by tests and after forks."""
        nc, self._nc, self._down_until = self._nc, None, 0.0
        if nc is not None and self._loop is not None:
            future = asyncio.run_coroutine_threadsafe(nc.close(), self._loop)
            try:
                future.result(5)
            except Exception:  # noqa: BLE001  closing a broken connection may fail; it is gone either way
                logger.debug("closing the NATS connection failed", exc_info=True)


bridge = NatsBridge()
