"""What an outbound HTTP exchange came to: one ``Answer`` per attempt, classified once for every caller.

Pure code (no I/O): status classification, the one ``Retry-After`` parser, status lines and
body excerpts. A 2xx is success whatever its body; 408, 429 and 5xx (and failures without an
answer: refused or reset connections, timeouts) are worth retrying; any other answer will not
change on its own and is permanent.
"""

from __future__ import annotations

import enum
import math
import zlib
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from http import HTTPStatus

RETRYABLE_STATUSES = frozenset({408, 429})
EXCERPT_CHARS = 200
# A Retry-After of days is a misconfigured server, not a plan; the retry policy caps it again.
MAX_RETRY_AFTER_SECONDS = 3600.0


class Verdict(enum.Enum):
    SUCCESS = "success"
    RETRYABLE = "retryable"
    PERMANENT = "permanent"


@dataclass(frozen=True, slots=True)
class Answer:
    """One attempt's outcome.

    ``status`` is None when no HTTP answer arrived; ``failure`` then says why (``timeout``,
    ``connect``, ``policy``, ``request``, ``unexpected``). ``error`` is one sentence for the user
    ("" on success), ``excerpt`` the start of a non-2xx body, ``rtt`` the seconds the exchange took.
    """

    verdict: Verdict
    status: int | None = None
    error: str = ""
    retry_after: float | None = None
    rtt: float = 0.0
    excerpt: str = ""
    location: str = ""
    failure: str = ""

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.SUCCESS

    @property
    def retryable(self) -> bool:
        return self.verdict is Verdict.RETRYABLE

    @property
    def permanent(self) -> bool:
        return self.verdict is Verdict.PERMANENT

    @property
    def timed_out(self) -> bool:
        return self.failure == "timeout"


def classify_status(status: int) -> Verdict:
    if 200 <= status < 300:
        return Verdict.SUCCESS
    if status in RETRYABLE_STATUSES or 500 <= status < 600:
        return Verdict.RETRYABLE
    return Verdict.PERMANENT


def status_text(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def parse_retry_after(value: str | bytes | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds (``"120"``, also ``"1.5"``) or an
    HTTP date. Dates without a usable zone (``-0000``) are UTC, as HTTP dates always are; a date
    in the past or a negative number means "now" (0). Capped at an hour; None when absent or not
    understood. The SDK's ``glassflow_ai.parse_retry_after`` follows the same table (tests/outbound)."""
    if not value:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        seconds = None
    if seconds is not None:
        if not math.isfinite(seconds):
            return None
        return min(max(0.0, seconds), MAX_RETRY_AFTER_SECONDS)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max(0.0, when.timestamp() - now), MAX_RETRY_AFTER_SECONDS)


def excerpt_of(body: bytes, content_encoding: str = "") -> str:
    """The start of a body as one line of text, for error messages; undecodable bodies as they came."""
    encoding = content_encoding.strip().lower()
    if encoding in ("gzip", "deflate"):
        try:
            body = zlib.decompressobj(47).decompress(body, 64 * 1024)  # 47: gzip or zlib header
        except zlib.error:
            pass  # a body that claims an encoding it does not have is still worth showing
    text = " ".join(body[:4 * EXCERPT_CHARS].decode("utf-8", errors="replace").split())
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS - 1] + "…"
