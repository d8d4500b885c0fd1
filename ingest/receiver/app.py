"""The receiver's ASGI application: OTLP/HTTP and agent output in, JetStream out.

A plain ASGI callable with a dict of routes: no framework and no Django on the request path.
Each ingest request runs the same short sequence -- authenticate, read and inflate the body
within limits, decode and flatten (pure, ``ingest.otlp``), serialise, publish and wait for
every JetStream ack -- and any failure is a ``Rejected`` answered with a google.rpc.Status.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

import orjson

from ingest.otlp import (
    CONTENT_TYPES,
    OtlpDecodeError,
    UnsupportedContentType,
    decode_request,
    encode_response,
    encoding_for,
    flatten_logs,
    flatten_metrics,
    flatten_spans,
)
from projects.streams import raw_subject

from .agentoutput import handle_agent_output
from .asgi import Receive, Scope, Send, header, header_map, respond, respond_json, respond_rejected
from .body import RECORD_ROOM, ClientDisconnected, decode_content, read_body
from .errors import Rejected
from .grpcserver import start_grpc_server, stop_grpc_server
from .keyindex import ProjectKey, presented_key
from .publisher import PublishError
from .receiver_config import ReceiverConfig
from .runtime import Runtime

logger = logging.getLogger(__name__)

# (OTLP signal, stream subject signal, flattener) per path.
OTLP_ROUTES: dict[str, tuple[str, str, Callable[[Any, int], list[dict[str, Any]]]]] = {
    "/v1/logs": ("logs", "logs", flatten_logs),
    "/v1/traces": ("traces", "spans", flatten_spans),
    "/v1/metrics": ("metrics", "metrics", flatten_metrics),
}
# Bodies above this are decoded and flattened in a worker thread, so that one large request
# does not stall the event loop (and with it every other request's acks) for its whole duration.
OFFLOAD_BYTES = 512 * 1024
PROTOBUF_TYPE = "application/x-protobuf"
REFUSAL_LOG_SECONDS = 10.0

# orjson: compact UTF-8 JSON straight to bytes at a fraction of the stdlib encoder's CPU, which
# was the largest single per-record cost of ingest (the pipeline worker decodes with orjson too).
_encode_record = orjson.dumps


class ReceiverApp:
    def __init__(self, config: ReceiverConfig | None = None) -> None:
        self.config = config or ReceiverConfig.from_settings()
        self.runtime: Runtime | None = None
        self.grpc_server = None
        self._refusals = 0
        self._last_refusal_log = -REFUSAL_LOG_SECONDS

    async def startup(self) -> None:
        self.runtime = Runtime(self.config)
        await self.runtime.start()
        if self.config.grpc_listen:
            self.grpc_server = await start_grpc_server(self, self.config.grpc_listen, self.config.grpc_reuse_port)

    async def shutdown(self) -> None:
        # uvicorn has finished the HTTP requests in flight; the gRPC calls finish next, and only
        # then is NATS drained, so every call answered OK has its acks.
        if self.grpc_server is not None:
            await stop_grpc_server(self.grpc_server, self.config.grpc_graceful_seconds)
        if self.runtime is not None:
            await self.runtime.stop()
            self.runtime.metrics.process_exiting()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    logger.exception("receiver failed to start")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        runtime = self.runtime
        if runtime is None:
            raise RuntimeError("the receiver was called before its startup ran")
        status = 500
        try:
            route = OTLP_ROUTES.get(path)
            if route is not None or path == "/internal/agent-output":
                runtime.metrics.in_flight.inc()
                try:
                    if route is not None:
                        status = await self._otlp(scope, receive, send, route)
                    else:
                        status = await handle_agent_output(self, scope, receive, send)
                finally:
                    runtime.metrics.in_flight.dec()
            elif path in ("/healthz", "/readyz", "/metrics"):
                status = await self._operational(scope, send, path)
            else:
                status = 404
                await respond_rejected(send, Rejected(404, f"no such endpoint {path[:100]!r}"), None)
        except ClientDisconnected:
            status = 499  # nginx's convention for "client closed the request"
        except Exception:
            # A bug or a hostile input we did not foresee: answer 500, keep serving everyone else.
            logger.exception("unexpected error answering %s %s", scope.get("method"), path)
            status = 500
            with contextlib.suppress(Exception):  # the response may already have started
                await respond_rejected(send, Rejected(500, "internal error in the receiver; see its logs"), None)
        finally:
            runtime.metrics.count_request(path, status)

    def log_refusal(self, path: str, rejected: Rejected) -> None:
        # During an outage every request is refused the same way: one line per interval, with a count.
        now = time.monotonic()
        self._refusals += 1
        if now - self._last_refusal_log >= REFUSAL_LOG_SECONDS:
            logger.warning("%s answered %d (%d refusals since the last report): %s", path, rejected.status,
                           self._refusals, rejected.message)
            self._last_refusal_log = now
            self._refusals = 0

    async def _operational(self, scope: Scope, send: Send, path: str) -> int:
        runtime = self.runtime
        if scope["method"] not in ("GET", "HEAD"):
            await respond_rejected(send, Rejected(405, f"{path} accepts GET only"), None, allow=b"GET, HEAD")
            return 405
        if path == "/healthz":
            await respond_json(send, 200, {"status": "ok"})
            return 200
        if path == "/readyz":
            checks = {"nats": runtime.connected, "config": runtime.index.loaded}
            status = 200 if all(checks.values()) else 503
            await respond_json(send, status, {"status": "ready" if status == 200 else "not ready", **checks})
            return status
        runtime.metrics.projects.set(runtime.index.project_count)
        await respond(send, 200, runtime.metrics.render(), runtime.metrics.content_type)
        return 200

    def authenticate(self, headers: dict[bytes, bytes]) -> ProjectKey:
        """The project key of the request, or Rejected (401, or 503 while no configuration is loaded)."""
        runtime = self.runtime
        secret = presented_key(headers)
        if not secret:
            raise Rejected(401, "missing API key: send it in the X-API-Key header "
                                "(or Authorization: Bearer <key>)")
        if not runtime.index.loaded:
            raise Rejected(503, "the receiver has not loaded the project configuration yet: retry later",
                           retry_after=self.config.retry_after_unavailable)
        key = runtime.index.authenticate(secret)
        if key is None:
            raise Rejected(401, "unknown or revoked API key: create one on the project's API keys page")
        runtime.keyuse.record(key.prefix)
        return key

    async def read_request_body(self, scope: Scope, receive: Receive, headers: dict[bytes, bytes],
                                path: str) -> bytes:
        limit = self.config.max_body_bytes
        raw = await read_body(receive, limit, header(headers, b"content-length"))
        self.runtime.metrics.body_bytes.labels(path).observe(len(raw))
        return decode_content(raw, header(headers, b"content-encoding"), limit)

    async def publish(self, subject: str, payloads: list[bytes], msg_id_base: str | None) -> int:
        """Publish and wait for every ack; returns how many were duplicates. PublishError -> 429/503."""
        runtime = self.runtime
        started = time.perf_counter()
        try:
            result = await runtime.publisher.publish(subject, payloads, msg_id_base, self.config.publish_timeout)
        except PublishError as exc:
            if exc.full:
                raise Rejected(429, exc.message, retry_after=self.config.retry_after_full) from None
            raise Rejected(503, exc.message, retry_after=self.config.retry_after_unavailable) from None
        runtime.metrics.publish_seconds.observe(time.perf_counter() - started)
        return result.duplicates

    async def ingest(self, key: ProjectKey, route: tuple, body: bytes,
                     content_type: str = PROTOBUF_TYPE) -> tuple[int, int, str]:
        """Decode, flatten, publish and wait for the acks of one decompressed OTLP body (HTTP or gRPC).

        Returns (records stored, records refused through partial_success, its message);
        raises Rejected (400, 429, 503).
        """
        signal, subject_signal, flatten = route
        max_record = max(self.runtime.nc.max_payload - RECORD_ROOM, 1)
        if len(body) > OFFLOAD_BYTES:
            payloads, rejected = await asyncio.to_thread(_records, signal, body, content_type, flatten, max_record)
        else:
            payloads, rejected = _records(signal, body, content_type, flatten, max_record)
        # The id of a record is its request's content hash and its position, so the
        # retry of a request that got 429/503 stores only what was missing.
        msg_id_base = f"{hashlib.sha256(body).hexdigest()[:32]}-{subject_signal}"
        await self.publish(raw_subject(key.project_id, subject_signal), payloads, msg_id_base)
        metrics = self.runtime.metrics
        metrics.records.labels(subject_signal).inc(len(payloads))
        message = ""
        if rejected:
            metrics.rejected.labels(subject_signal).inc(rejected)
            message = (f"{rejected} records were larger than the {max_record}-byte message limit "
                       f"of NATS after flattening and were dropped")
        return len(payloads), rejected, message

    async def _otlp(self, scope: Scope, receive: Receive, send: Send, route: tuple) -> int:
        signal = route[0]
        headers = header_map(scope)
        content_type = header(headers, b"content-type") or ""
        try:
            encoding: str | None = encoding_for(content_type)
        except UnsupportedContentType:
            encoding = None
        try:
            if scope["method"] != "POST":
                raise Rejected(405, f"{scope['path']} accepts POST only")
            key = self.authenticate(headers)
            if encoding is None:
                raise Rejected(415, f"unsupported content type {content_type[:60]!r}: "
                                    "use application/x-protobuf or application/json")
            body = await self.read_request_body(scope, receive, headers, scope["path"])
            _, rejected, message = await self.ingest(key, route, body, content_type)
        except Rejected as exc:
            if exc.status >= 429:
                self.log_refusal(scope["path"], exc)
            await respond_rejected(send, exc, encoding)
            return exc.status
        await respond(send, 200, encode_response(signal, encoding, rejected, message), CONTENT_TYPES[encoding])
        return 200


def _records(signal: str, body: bytes, content_type: str, flatten: Callable, max_record: int
             ) -> tuple[list[bytes], int]:
    """Decode, flatten and serialise; records too large for one NATS message are counted as rejected."""
    try:
        request = decode_request(signal, body, content_type)
    except OtlpDecodeError as exc:
        raise Rejected(400, exc.message) from None
    # Strings are valid UTF-8 here (protobuf refuses unpaired surrogates), so orjson cannot fail.
    payloads = [_encode_record(record) for record in flatten(request, time.time_ns())]
    if any(len(payload) > max_record for payload in payloads):
        kept = [payload for payload in payloads if len(payload) <= max_record]
        return kept, len(payloads) - len(kept)
    return payloads, 0


def create_app() -> ReceiverApp:
    """Factory for uvicorn (``--factory``): reads Django settings, nothing else of Django."""
    if not logging.getLogger().handlers:
        # A worker process spawned by uvicorn (--workers > 1) did not run manage.py's
        # django.setup(), so apply the project's LOGGING here or its log lines would be lost.
        from logging.config import dictConfig

        from django.conf import settings

        dictConfig(settings.LOGGING)
    from .server import explain_invalid_requests

    explain_invalid_requests()
    return ReceiverApp()

