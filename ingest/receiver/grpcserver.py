"""OTLP/gRPC (port 4317) beside the HTTP receiver: the three collector services over the same runtime.

grpcio's asyncio server runs on the receiver's event loop and is started and stopped by the ASGI
lifespan, so it shares the NATS connection, the key index, the publisher, the limits, the
de-duplication and the durability rule (answer OK only after every JetStream ack) with
OTLP/HTTP: each ``Export`` goes through ``ReceiverApp.ingest`` exactly like a protobuf POST.

The handlers are generic with no (de)serialiser: the request arrives as the raw protobuf bytes
(already gunzipped by gRPC when the client sent ``grpc-encoding: gzip``), so the
``Nats-Msg-Id`` is the same content hash as over HTTP and decoding happens once, in our code.

Errors follow the OTLP/gRPC specification: UNAUTHENTICATED, INVALID_ARGUMENT, and for what a
retry fixes RESOURCE_EXHAUSTED (stream full) or UNAVAILABLE (NATS down, acks late) with a
``google.rpc.RetryInfo`` in the status details (the Collector reads ``grpc-status-details-bin``;
the Python SDK reads a ``google.rpc.retryinfo-bin`` trailer, so both are sent).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc import aio

from ingest.otlp import encode_response, flatten_logs, flatten_metrics, flatten_spans

from .errors import Rejected

if TYPE_CHECKING:
    from .app import ReceiverApp

logger = logging.getLogger(__name__)

# service name -> (OTLP signal, stream subject signal, flattener): the HTTP routes' triples.
SERVICES = {
    "opentelemetry.proto.collector.logs.v1.LogsService": ("logs", "logs", flatten_logs),
    "opentelemetry.proto.collector.trace.v1.TraceService": ("traces", "spans", flatten_spans),
    "opentelemetry.proto.collector.metrics.v1.MetricsService": ("metrics", "metrics", flatten_metrics),
}

# The HTTP status of a Rejected -> the gRPC code the OTLP specification asks for.
GRPC_CODES = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    413: grpc.StatusCode.INVALID_ARGUMENT,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    503: grpc.StatusCode.UNAVAILABLE,
}

# Responses are tiny; requests are bounded by RECEIVER_MAX_BODY_BYTES (after decompression too:
# gRPC core checks the inflated size against max_receive_message_length while inflating).
_MAX_SEND = 1024 * 1024


def status_details(code: grpc.StatusCode, message: str, retry_after: int) -> tuple[tuple[str, bytes], ...]:
    """Trailing metadata carrying a RetryInfo of ``retry_after`` seconds, in both places clients read it."""
    info = error_details_pb2.RetryInfo()
    info.retry_delay.seconds = retry_after
    status = status_pb2.Status(code=code.value[0], message=message)
    status.details.add().Pack(info)
    return (("google.rpc.retryinfo-bin", info.SerializeToString()),
            ("grpc-status-details-bin", status.SerializeToString()))


class OtlpGrpcService:
    """The ``Export`` method of the three services; one instance per receiver app."""

    def __init__(self, app: ReceiverApp) -> None:
        self.app = app

    def handlers(self) -> list[grpc.GenericRpcHandler]:
        handlers = []
        for service, route in SERVICES.items():
            method = grpc.unary_unary_rpc_method_handler(self._export_for(service, route))
            handlers.append(grpc.method_handlers_generic_handler(service, {"Export": method}))
        return handlers

    def _export_for(self, service: str, route: tuple):
        path = f"/{service}/Export"

        async def export(request: bytes, context: aio.ServicerContext) -> bytes:
            return await self.export(path, route, request, context)

        return export

    async def export(self, path: str, route: tuple, body: bytes, context: aio.ServicerContext) -> bytes:
        app = self.app
        runtime = app.runtime
        metrics = runtime.metrics
        metrics.in_flight.inc()
        code = grpc.StatusCode.INTERNAL
        try:
            metrics.body_bytes.labels(path).observe(len(body))
            # Metadata keys arrive lower-case; "-bin" values are bytes and never carry a key.
            headers = {key.encode("latin-1"): value.encode("latin-1")
                       for key, value in context.invocation_metadata() or () if isinstance(value, str)}
            key = app.authenticate(headers)
            _, rejected, message = await app.ingest(key, route, body)
            code = grpc.StatusCode.OK
            return encode_response(route[0], "protobuf", rejected, message)
        except Rejected as exc:
            code = GRPC_CODES.get(exc.status, grpc.StatusCode.INTERNAL)
            if exc.status >= 429:
                app.log_refusal(path, exc)
            if exc.retry_after is not None:
                context.set_trailing_metadata(status_details(code, exc.message, exc.retry_after))
            await context.abort(code, exc.message)
        except aio.AbortError:
            raise
        except asyncio.CancelledError:
            code = grpc.StatusCode.CANCELLED  # the client went away or its deadline passed
            raise
        except Exception:
            logger.exception("unexpected error answering gRPC %s", path)
            await context.abort(grpc.StatusCode.INTERNAL, "internal error in the receiver; see its logs")
        finally:
            metrics.in_flight.dec()
            metrics.count_grpc(path, code)
        raise AssertionError("unreachable: abort() raises")  # pragma: no cover


async def start_grpc_server(app: ReceiverApp, listen: str, reuse_port: bool) -> aio.Server:
    """Bind ``listen`` ("host:port") and start serving; raises RuntimeError when the port is taken."""
    server = aio.server(options=[
        ("grpc.max_receive_message_length", app.config.max_body_bytes),
        ("grpc.max_send_message_length", _MAX_SEND),
        # Only the worker processes of one `runreceiver --workers N` may share the port: a second,
        # stray receiver must fail to start instead of silently taking half of the connections.
        ("grpc.so_reuseport", 1 if reuse_port else 0),
    ])
    server.add_generic_rpc_handlers(OtlpGrpcService(app).handlers())
    try:
        port = server.add_insecure_port(listen)
    except RuntimeError as exc:
        raise RuntimeError(f"cannot listen for OTLP/gRPC on {listen}: {exc}") from None
    if port == 0:
        raise RuntimeError(f"cannot listen for OTLP/gRPC on {listen}: the address is in use or invalid")
    await server.start()
    logger.info("OTLP/gRPC receiver listening on %s", listen)
    return server


async def stop_grpc_server(server: aio.Server, graceful_seconds: float) -> None:
    """Refuse new calls, let calls in flight finish (up to ``graceful_seconds``), then cancel the rest."""
    started = time.monotonic()
    await server.stop(graceful_seconds)
    logger.info("OTLP/gRPC receiver stopped (%.1f s)", time.monotonic() - started)
