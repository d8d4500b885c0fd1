"""A small HTTP/1.1 client connection pool on asyncio protocols, for the outbound core.

Why not httpx/httpcore: profiling the pipeline worker at batch 10 showed the HTTP exchange
costing more CPU than everything else together, most of it in per-request object layers
(httpx models, h11 events, anyio streams) and in the pool polling every idle socket for
readability on each request. Here a connection is an ``asyncio.Protocol`` whose state
changes as events arrive (a closed socket marks itself unusable at once, nothing is
polled), the response is parsed by ``httptools`` (the C parser uvicorn uses, already a
dependency), and a request is written with one ``write``.

- Connections are pooled per origin (scheme, host name, port) and never shared across
  host names; TLS is set up by asyncio with ``server_hostname`` = the requested host, so
  the certificate is verified for that host on every new connection.
- ``connect`` is given by the caller: it resolves and checks the addresses (the outbound
  policy) and opens the socket to a checked address.
- Bodies are not decoded (no Content-Encoding handling): callers see raw bytes.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httptools

TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
FORBIDDEN_IN_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")  # controls but HTAB (RFC 9110 field-value)
# A target chooses what it answers: the status line and headers (1xx interim answers included)
# may take this much before the answer is refused, and at most this much of a body is read
# (the excerpt keeps less); past it the answer stands on its status and the connection is
# closed instead of drained, so an endless or 10 GB body costs neither memory nor the timeout.
MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 256 * 1024


class _Surplus(Exception):
    """Raised inside the parser when bytes follow a complete answer (see ``Connection.on_message_begin``)."""


class RequestError(ValueError):
    """The request cannot be written as given (a header name or value HTTP does not allow)."""


class ConnectionLost(ConnectionError):
    """The connection closed before the answer was complete."""

    def __init__(self, message: str, *, answered: bool):
        super().__init__(message)
        self.answered = answered  # False: no byte of an answer arrived (safe to try a fresh connection)


class ProtocolError(ValueError):
    """The other side's answer is not valid HTTP/1.1."""


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str
    host: str  # ASCII (IDNA) host name or address literal, as in the URL
    port: int

    @property
    def tls(self) -> bool:
        return self.scheme == "https"


class Connection(asyncio.Protocol):
    """One HTTP/1.1 connection; one request at a time."""

    def __init__(self, origin: Origin):
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = time.monotonic()
        self.used = False
        self._parser = httptools.HttpResponseParser(self)
        self._done: asyncio.Future | None = None
        self._limit = 0
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = bytearray()
        self.received = 0
        self.keep_alive = False
        self._started = False
        self._head_bytes = 0
        self._headers_done = False  # of the final answer (interim 1xx answers do not count)
        self._delimited = False  # Content-Length or chunked: else the body ends when the connection closes

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self._done is None or self._done.done():
            # Bytes nobody asked for (after the answer, or while idle) would be read as the next
            # request's answer (response smuggling): this connection is done.
            self.close()
            return
        self._started = True
        if not self._headers_done:
            self._head_bytes += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._finish(ProtocolError("the answer asked to switch protocols"))
        except httptools.HttpParserError as exc:
            if isinstance(exc.__context__, _Surplus):
                self.close()  # the answer before the surplus stands; the connection does not
                return
            self._finish(ProtocolError(f"the answer is not valid HTTP/1.1 ({exc})"))
            return
        if not self._headers_done and self._head_bytes > MAX_HEAD_BYTES:
            self._finish(ProtocolError(f"the status line and headers exceed {MAX_HEAD_BYTES // 1024} KiB"))

    def eof_received(self) -> bool | None:
        return None  # close the transport; connection_lost does the rest

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._headers_done and not self._delimited and exc is None:
            self._finish(None)  # an answer without a length ends where the connection does (HTTP/1.0 style)
            return
        if self._done is not None and not self._done.done():
            detail = f": {exc}" if exc else ""
            self._finish(ConnectionLost(f"the connection closed before the answer was complete{detail}",
                                        answered=self._started))

    # httptools callbacks
    def on_message_begin(self) -> None:
        if self._done is None or self._done.done():
            raise _Surplus  # a second answer to one request: stop parsing (data_received closes)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))
        lowered = name.lower()
        if lowered == b"content-length" or (lowered == b"transfer-encoding" and b"chunked" in value.lower()):
            self._delimited = True

    def on_headers_complete(self) -> None:
        self.status = self._parser.get_status_code()
        if 100 <= self.status < 200:
            return  # interim (100 Continue, 103 Early Hints): the final answer follows
        self.keep_alive = self._parser.should_keep_alive()
        self._headers_done = True
        if self.status in (204, 304):
            self._delimited = True  # no body by definition

    def on_body(self, data: bytes) -> None:
        if self._done is None or self._done.done():
            return  # cut off below; the rest of this read is not ours to keep
        self.received += len(data)
        room = self._limit - len(self.body)
        if room > 0:
            self.body += data[:room]
        if self.received > MAX_BODY_BYTES:
            self.keep_alive = False
            self._finish(None)
            self.close()

    def on_message_complete(self) -> None:
        if not self._headers_done:
            self.headers = []  # an interim answer ended; its headers are not the final answer's
            return
        self._finish(None)

    def _finish(self, error: Exception | None) -> None:
        done = self._done
        if done is not None and not done.done():
            if error is None:
                done.set_result(None)
            else:
                done.set_exception(error)
        if error is not None and self.transport is not None:
            self.closed = True
            self.transport.close()

    async def exchange(self, request: bytes, keep_body: int) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """Write the request and wait for the whole answer; the body is kept up to ``keep_body`` bytes."""
        self._reset()
        self._limit = keep_body
        self._done = asyncio.get_running_loop().create_future()
        self.used = True
        self.transport.write(request)
        try:
            await self._done
        finally:
            self._done = None
        return self.status, self.headers, bytes(self.body)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


Connect = Callable[[Origin, Callable[[], Connection]], Awaitable[Connection]]


class Pool:
    """Connections per origin: at most ``max_connections`` in all and ``max_per_origin`` to one origin,
    by default half of them: one slow or hostile target cannot hold every connection of the
    process, yet one busy agent may keep as many batches in flight as a large ``max_concurrency``
    asks (a quarter cut a 500 ms agent at limit 1000 from 14k to 1.4k records/s). Idle ones are
    kept ``keepalive_expiry`` seconds."""

    def __init__(self, connect: Connect, *, max_connections: int = 100, max_idle_per_origin: int = 50,
                 keepalive_expiry: float = 30.0, max_per_origin: int | None = None):
        self._connect = connect
        self.max_connections = max_connections
        self.max_per_origin = max_per_origin or max(1, max_connections // 2)
        self.max_idle_per_origin = max_idle_per_origin
        self.keepalive_expiry = keepalive_expiry
        self._idle: dict[Origin, deque[Connection]] = {}
        self._open = 0
        self._open_to: dict[Origin, int] = {}
        self._waiters: deque[asyncio.Future] = deque()  # waiting for room under max_connections
        self._origin_waiters: dict[Origin, deque[asyncio.Future]] = {}  # waiting for room under max_per_origin

    async def request(self, origin: Origin, request: bytes, keep_body: int) -> tuple[int, list, bytes]:
        connection = await self._acquire(origin)
        reused = connection.used
        try:
            answer = await connection.exchange(request, keep_body)
        except ConnectionLost as exc:
            self._release(connection, reusable=False)
            if not reused or exc.answered:
                raise
            # The server closed this idle connection just as we wrote to it (a keep-alive race):
            # nothing was answered, so the request goes once more on a fresh connection.
            connection = await self._acquire(origin, fresh=True)
            try:
                answer = await connection.exchange(request, keep_body)
            except BaseException:
                self._release(connection, reusable=False)
                raise
        except BaseException:
            self._release(connection, reusable=False)  # cancelled or timed out mid-answer: not reusable
            raise
        self._release(connection, reusable=connection.keep_alive)
        return answer

    async def _acquire(self, origin: Origin, fresh: bool = False) -> Connection:
        while True:
            idle = self._idle.get(origin)
            now = time.monotonic()
            while idle and not fresh:
                connection = idle.pop()  # the most recently used: the least likely to have been closed
                if not connection.closed and now - connection.idle_since < self.keepalive_expiry:
                    return connection
                self._discard(connection)
            if self._open_to.get(origin, 0) >= self.max_per_origin:
                if idle:  # fresh, and this origin's room is taken by idle connections: retire one
                    self._discard(idle.popleft())
                    continue
                queue = self._origin_waiters.setdefault(origin, deque())
            elif self._open < self.max_connections or self._evict_one_idle():
                break
            else:
                queue = self._waiters
            # Wait for a connection to come back (ours to reuse, or room for a new one).
            waiter = asyncio.get_running_loop().create_future()
            queue.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._wake(origin)  # woken and cancelled at once: pass the wake-up on, or it is lost
                raise
            finally:
                if waiter in queue:
                    queue.remove(waiter)
                if not queue and self._origin_waiters.get(origin) is queue:
                    self._origin_waiters.pop(origin, None)
        self._open += 1
        self._open_to[origin] = self._open_to.get(origin, 0) + 1
        try:
            return await self._connect(origin, lambda: Connection(origin))
        except BaseException:
            self._forget(origin)
            self._wake(origin)
            raise

    def _release(self, connection: Connection, *, reusable: bool) -> None:
        idle = self._idle.setdefault(connection.origin, deque())
        if reusable and not connection.closed and len(idle) < self.max_idle_per_origin:
            connection.idle_since = time.monotonic()
            idle.append(connection)
        else:
            self._discard(connection)
        self._wake(connection.origin)

    def _discard(self, connection: Connection) -> None:
        connection.close()
        self._forget(connection.origin)

    def _forget(self, origin: Origin) -> None:
        self._open -= 1
        left = self._open_to[origin] - 1
        if left:
            self._open_to[origin] = left
        else:
            del self._open_to[origin]

    def _evict_one_idle(self) -> bool:
        for idle in self._idle.values():
            if idle:
                self._discard(idle.popleft())
                return True
        return False

    def _wake(self, origin: Origin) -> None:
        """Something changed for ``origin`` and for the whole pool: one waiter of each looks again."""
        for queue in (self._origin_waiters.get(origin), self._waiters):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                    break

    async def close(self) -> None:
        for idle in self._idle.values():
            while idle:
                self._discard(idle.popleft())
        self._idle.clear()


def encode_request(method: str, target: bytes, host_header: bytes, headers, body: bytes,
                   user_agent: bytes) -> bytes:
    """The request head and body as one buffer; refuses header names and values HTTP does not allow."""
    lines = [method.encode("ascii"), b" ", target, b" HTTP/1.1\r\nHost: ", host_header,
             b"\r\nContent-Length: ", str(len(body)).encode("ascii"), b"\r\n"]
    agent = True
    for name, value in headers:
        raw_name, raw_value = name.encode("ascii"), value.encode("ascii")
        if not TOKEN.fullmatch(raw_name) or FORBIDDEN_IN_VALUE.search(raw_value):
            raise RequestError(f"the header {name!r} has a name or value HTTP does not allow")
        lowered = raw_name.lower()
        if lowered in (b"host", b"content-length", b"transfer-encoding", b"connection"):
            continue  # set by the client; a user's own would make the request ambiguous
        if lowered == b"user-agent":
            agent = False
        lines += (raw_name, b": ", raw_value.strip(b" \t"), b"\r\n")
    if agent:
        lines += (b"User-Agent: ", user_agent, b"\r\n")
    lines += (b"\r\n", body)
    return b"".join(lines)
