"""Pipelined JetStream publishing with one wildcard reply subscription and a bounded wait.

A JetStream publish is a plain NATS publish with a reply subject; the stream answers on it
with a PubAck (``{"stream":..,"seq":..}``, ``"duplicate":true`` when ``Nats-Msg-Id`` was
already stored, or ``{"error":{..}}``). We publish every record of a request at once, each
with reply ``_INBOX.<nuid>.<n>``, and collect the answers in a single subscription on
``_INBOX.<nuid>.*``. nats-py's flusher task coalesces the buffered PUBs into one socket
write per event-loop turn, so a request costs one network round trip, not one per record.

Why not ``js.publish_async``: it allocates a future, a done-callback and a semaphore slot
per message and parses every PubAck into a dataclass; and its futures are never failed when
the connection drops, so waiting on them needs our own deadline anyway. Here one future per
request completes when its last ack arrives (or on its first error) and the whole wait is
bounded by ``timeout``; acks that arrive after the deadline find no entry and are dropped.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg

logger = logging.getLogger(__name__)

MSG_ID_HEADER = "Nats-Msg-Id"

# PubAck errors that mean "the stream (or the server's storage) is full": discard=new refuses
# the write. nats-server answers 10077 with "maximum bytes exceeded" / "maximum messages
# exceeded" (checked against the pinned server), 10023/10047 for exhausted resources; the
# description is matched too, because servers word and number these differently across versions.
_FULL_CODES = frozenset({10023, 10047, 10077})
_FULL_WORDS = ("maximum bytes", "maximum messages", "insufficient resources", "resource limits exceeded",
               "insufficient storage")


class PublishError(Exception):
    """JetStream did not store every message; ``full`` is True when it refused for lack of room."""

    def __init__(self, message: str, full: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.full = full


@dataclass(frozen=True)
class PublishResult:
    stored: int
    duplicates: int


class AckClient(Client):
    """A nats-py client that hands PubAcks of the receiver's reply subscription straight to it.

    nats-py turns every incoming message into a ``Msg`` object, queues it and wakes the
    subscription's task to run an async callback: about half of the receiver's CPU per
    record went there. For the one subscription that only ever carries PubAcks we take the
    parsed frame directly instead. ``_process_msg`` is nats-py's (pinned) internal entry
    point for every MSG/HMSG; anything not for that subscription goes through it unchanged.
    """

    def __init__(self) -> None:
        super().__init__()
        self._ack_sid: int | None = None
        self._ack_handler: Callable[[bytes, bytes, bytes], None] | None = None

    async def _process_msg(self, sid: int, subject: bytes, reply: bytes, data: bytes, headers: bytes) -> None:
        if sid == self._ack_sid and self._ack_handler is not None:
            self.stats["in_msgs"] += 1
            self.stats["in_bytes"] += len(data)
            self._ack_handler(subject, data, headers)
            return
        await super()._process_msg(sid, subject, reply, data, headers)


class _Waiting:
    __slots__ = ("remaining", "duplicates", "future", "error")

    def __init__(self, count: int, future: asyncio.Future) -> None:
        self.remaining = count
        self.duplicates = 0
        self.future = future
        self.error: PublishError | None = None


def classify_ack_error(data: bytes) -> PublishError:
    try:
        error = json.loads(data).get("error")
    except (ValueError, AttributeError):
        error = None
    if not isinstance(error, dict):
        error = {}
    description = str(error.get("description", "unknown error"))
    err_code = error.get("err_code")
    full = err_code in _FULL_CODES or any(word in description.lower() for word in _FULL_WORDS)
    if full:
        return PublishError(f"the project's stream is full ({description}): retry later", full=True)
    return PublishError(f"JetStream refused the message ({description}, err_code {err_code})")


class AckPublisher:
    def __init__(self, nc: Client) -> None:
        self._nc = nc
        self._prefix = ""
        self._waiting: dict[int, _Waiting] = {}
        self._next = 0
        self._sub = None
        self._fast_write = False

    async def start(self) -> None:
        """Subscribe the reply wildcard; nats-py re-subscribes it by itself after a reconnect."""
        nc = self._nc
        self._prefix = f"{nc.new_inbox()}."
        self._fast_write = all(callable(getattr(nc, name, None)) for name in ("_send_command", "_flush_pending"))
        self._sub = await nc.subscribe(self._prefix + "*", cb=self._on_ack_msg,
                                       pending_msgs_limit=1_000_000, pending_bytes_limit=256 * 1024**2)
        if isinstance(nc, AckClient):
            nc._ack_handler = self._on_ack_frame
            nc._ack_sid = self._sub._id

    @property
    def in_flight(self) -> int:
        return len(self._waiting)

    async def _on_ack_msg(self, msg: Msg) -> None:
        """PubAck through a regular subscription callback (plain nats-py client)."""
        no_responders = not msg.data and bool(msg.headers) and msg.headers.get("Status") == "503"
        self._settle(int(msg.subject[len(self._prefix):]), msg.data, no_responders)

    def _on_ack_frame(self, subject: bytes, data: bytes, headers: bytes) -> None:
        """PubAck straight from the protocol parser (AckClient)."""
        no_responders = not data and bool(headers) and headers.startswith(b"NATS/1.0 503")
        self._settle(int(subject[len(self._prefix):]), data, no_responders)

    def _settle(self, token: int, data: bytes, no_responders: bool) -> None:
        waiting = self._waiting.pop(token, None)
        if waiting is None:
            return  # the request already gave up (deadline or an earlier error)
        if no_responders:
            error: PublishError | None = PublishError(
                "no JetStream stream answered: the project's stream is missing or has no leader right now")
        elif b'"error"' in data:
            error = classify_ack_error(data)
        else:
            error = None
            if b'"duplicate"' in data:
                waiting.duplicates += 1
        if error is not None:
            if waiting.error is None:
                waiting.error = error
            if not waiting.future.done():
                waiting.future.set_result(None)  # fail fast: the request is answered with an error anyway
            return
        waiting.remaining -= 1
        if waiting.remaining == 0 and not waiting.future.done():
            waiting.future.set_result(None)

    async def publish(self, subject: str, payloads: Sequence[bytes], msg_id_base: str | None,
                      timeout: float) -> PublishResult:
        """Publish ``payloads`` to ``subject`` and wait (at most ``timeout`` s) until all are stored.

        Message ``i`` gets ``Nats-Msg-Id: {msg_id_base}-{i}`` so that a retry of the same
        request is de-duplicated by the stream. Raises PublishError unless every message was
        acknowledged.
        """
        count = len(payloads)
        if count == 0:
            return PublishResult(0, 0)
        nc = self._nc
        if not nc.is_connected:
            raise PublishError("not connected to NATS right now: retry later")
        start = self._next
        self._next += count
        waiting = _Waiting(count, asyncio.get_running_loop().create_future())
        registry = self._waiting
        try:
            async with asyncio.timeout(timeout):
                for token in range(start, start + count):
                    registry[token] = waiting
                if self._fast_write:
                    await self._write_batch(subject, payloads, msg_id_base, start)
                else:
                    for index, payload in enumerate(payloads):
                        headers = {MSG_ID_HEADER: f"{msg_id_base}-{index}"} if msg_id_base else None
                        await nc.publish(subject, payload, reply=f"{self._prefix}{start + index}", headers=headers)
                await waiting.future
        except TimeoutError:
            raise PublishError(f"JetStream did not acknowledge {waiting.remaining} of {count} messages "
                               f"within {timeout:g}s: retry later") from None
        except (nats.errors.ConnectionClosedError, nats.errors.ConnectionReconnectingError,
                nats.errors.ConnectionDrainingError, nats.errors.OutboundBufferLimitError,
                nats.errors.StaleConnectionError) as exc:
            raise PublishError(f"lost the NATS connection while publishing ({type(exc).__name__}): "
                               "retry later") from None
        finally:
            if waiting.remaining:
                for token in range(start, start + count):
                    registry.pop(token, None)
        if waiting.error is not None:
            raise waiting.error
        return PublishResult(count, waiting.duplicates)

    async def _write_batch(self, subject: str, payloads: Sequence[bytes], msg_id_base: str | None,
                           start: int) -> None:
        """Hand all HPUB commands of a request to the connection's write buffer in one piece.

        This is what ``nc.publish`` does per message, minus its per-call costs (header
        validation, a regex per header name, one coroutine per message), which were the
        largest item in the receiver's profile. Uses nats-py internals (``_send_command``,
        ``_flush_pending``) of the version pinned in requirements.txt, checked in ``start()``;
        without them we fall back to ``nc.publish``.
        """
        nc = self._nc
        head = f"HPUB {subject} {self._prefix}".encode()
        id_head = f"NATS/1.0\r\n{MSG_ID_HEADER}: {msg_id_base}-".encode() if msg_id_base else None
        parts = []
        for index, payload in enumerate(payloads):
            header = b"NATS/1.0\r\n\r\n" if id_head is None else b"%b%d\r\n\r\n" % (id_head, index)
            parts.append(b"%b%d %d %d\r\n%b%b\r\n" % (head, start + index, len(header),
                                                         len(header) + len(payload), header, payload))
        nc.stats["out_msgs"] += len(payloads)
        nc.stats["out_bytes"] += sum(len(payload) for payload in payloads)
        await nc._send_command(b"".join(parts))
        await nc._flush_pending()
