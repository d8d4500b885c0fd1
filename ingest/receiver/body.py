"""Reading a request body within limits, and gunzipping it without ever inflating a bomb.

Both the bytes on the wire and the decompressed bytes are bounded by the same limit. The
compressed limit is enforced while reading (a declared Content-Length over it is refused
before reading anything; a chunked body is cut off as soon as it passes the limit). The
decompressed limit is enforced by ``zlib.decompressobj`` with ``max_length``, so a 1 GB
stream of zeros packed into 1 MB costs at most ``limit`` bytes of memory, never 1 GB.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable
from typing import Any

from .errors import Rejected

Receive = Callable[[], Awaitable[dict[str, Any]]]

# wbits for "gzip header and trailer required" (zlib's 16 + MAX_WBITS convention).
_GZIP_WBITS = 16 + zlib.MAX_WBITS


class ClientDisconnected(Exception):
    """The client went away before sending its whole body; there is no one to answer."""


def too_large(limit: int, what: str) -> Rejected:
    return Rejected(413, f"{what} is larger than the limit of {limit} bytes: send smaller batches "
                         f"(for example a lower max batch size in the exporter)")


async def read_body(receive: Receive, limit: int, content_length: str | None) -> bytes:
    """The whole body of an ASGI http request, refusing more than ``limit`` bytes with 413."""
    if content_length is not None:
        try:
            declared = int(content_length)
        except ValueError:
            raise Rejected(400, f"Content-Length {content_length[:40]!r} is not a number") from None
        if declared > limit:
            raise too_large(limit, "request body")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnected
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise too_large(limit, "request body")
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def decode_content(body: bytes, content_encoding: str | None, limit: int) -> bytes:
    """Undo ``Content-Encoding`` (none, identity or gzip), keeping the result within ``limit``."""
    encoding = (content_encoding or "").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding in ("gzip", "x-gzip"):
        return gunzip(body, limit)
    raise Rejected(415, f"unsupported Content-Encoding {encoding[:40]!r}: send gzip or no compression")


MAX_GZIP_MEMBERS = 64
# Room left under NATS max_payload for headers and, should the record ever be dead-lettered,
# the DLQ entry's envelope (workers keep entries 16 KiB under max_payload): a record accepted
# here must also fit, whole and replayable, into a dead letter.
RECORD_ROOM = 24 * 1024


def gunzip(body: bytes, limit: int) -> bytes:
    """Decompress a gzip body (several concatenated members allowed, as RFC 1952 permits).

    Exporters send one member; a few are tolerated. Each member copies the rest of the body
    (``unused_data``), so an unbounded number would make a body of many empty members
    quadratic, and this runs on the event loop.
    """
    out: list[bytes] = []
    produced = 0
    data = body
    for _ in range(MAX_GZIP_MEMBERS):
        inflater = zlib.decompressobj(_GZIP_WBITS)
        try:
            # Ask for at most one byte more than the room left: getting it proves the limit
            # is exceeded without inflating the rest.
            chunk = inflater.decompress(data, limit - produced + 1)
        except zlib.error as exc:
            raise Rejected(400, f"body is not valid gzip: {exc}") from None
        produced += len(chunk)
        if produced > limit:
            raise too_large(limit, "decompressed request body")
        out.append(chunk)
        if not inflater.eof:
            raise Rejected(400, "body is not valid gzip: the compressed stream is truncated")
        data = inflater.unused_data
        if not data:
            return out[0] if len(out) == 1 else b"".join(out)
    raise Rejected(400, f"body has more than {MAX_GZIP_MEMBERS} concatenated gzip members; send one")
