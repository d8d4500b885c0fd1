"""Minimal ASGI plumbing: header access, responses, google.rpc.Status error bodies."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from ingest.otlp import CONTENT_TYPES, JSON, encode_status

from .errors import Rejected

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

# google.rpc.Code of each HTTP status we answer with (the mapping gRPC gateways use).
_RPC_CODES = {400: 3, 401: 16, 404: 5, 405: 12, 413: 3, 415: 3, 429: 8, 500: 13, 503: 14}


def header_map(scope: Scope) -> dict[bytes, bytes]:
    """Request headers by lower-case name (ASGI servers lower-case them); a repeated header keeps its last value."""
    return dict(scope["headers"])


def header(headers: dict[bytes, bytes], name: bytes) -> str | None:
    value = headers.get(name)
    return None if value is None else value.decode("latin-1")


async def respond(send: Send, status: int, body: bytes, content_type: str,
                  extra_headers: list[tuple[bytes, bytes]] | None = None) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    if extra_headers:
        headers.extend(extra_headers)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def respond_json(send: Send, status: int, document: object,
                       extra_headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await respond(send, status, json.dumps(document, separators=(",", ":")).encode(), "application/json",
                  extra_headers)


async def respond_rejected(send: Send, rejected: Rejected, encoding: str | None, allow: bytes = b"POST") -> None:
    """A google.rpc.Status body in the request's encoding (JSON when it has none we speak)."""
    encoding = encoding or JSON
    extra = []
    if rejected.retry_after is not None:
        extra.append((b"retry-after", str(rejected.retry_after).encode()))
    if rejected.status == 405:
        extra.append((b"allow", allow))
    body = encode_status(_RPC_CODES.get(rejected.status, 2), rejected.message, encoding)
    await respond(send, rejected.status, body, CONTENT_TYPES[encoding], extra)
