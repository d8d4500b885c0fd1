"""The contract every sink kind implements: validate, mask and restore its typed config, and deliver.

Delivery is async and shared by the sink worker and the "send test message" action. The
exchange itself (address policy, pinning, timeouts, classification) is the shared
``outbound`` core; an HTTP kind only says what to send (``request``) and maps its target's
non-2xx answers to a ``TransportError`` (``raise_for_answer``), whose one-sentence message is
what the user sees as the sink's last error; ``permanent`` tells the worker not to retry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from outbound import Answer, Outbound

USER_AGENT = "glassflow-ai-sink/0.1"


class ConfigError(ValueError):
    """Invalid sink config; ``errors`` maps each config key to its message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{key}: {message}" for key, message in errors.items()))
        self.errors = errors


class TransportError(Exception):
    """A delivery failed. ``permanent`` errors go to the DLQ at once; others are retried.

    ``retry_after`` is the wait the target asked for (Retry-After), in seconds. ``status`` (the HTTP
    status, None without an answer) and ``timed_out`` tell the sink's concurrency controller whether
    the target asked for less.
    """

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None,
                 status: int | None = None, timed_out: bool = False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_after = retry_after
        self.status = status
        self.timed_out = timed_out


@dataclass(frozen=True)
class DeliveryContext:
    """What a delivery needs besides the sink's config: the process's outbound client and the timeout."""

    outbound: Outbound
    timeout: float = 10.0


@dataclass(frozen=True)
class HttpRequest:
    method: str
    url: str
    body: bytes
    headers: dict[str, str]


MAX_PER_MINUTE_LIMIT = 60_000


def clean_max_per_minute(config: dict, errors: dict[str, str], default: int | None) -> int | None:
    """The optional ``max_per_minute`` key: deliveries a minute to this target; None = no limit."""
    value = config.get("max_per_minute", default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PER_MINUTE_LIMIT:
        errors["max_per_minute"] = f"must be a whole number from 1 to {MAX_PER_MINUTE_LIMIT}, or null for no limit"
        return default
    return value


class SinkKind:
    name: ClassVar[str]
    label: ClassVar[str]
    # Deliveries a minute when the config sets no max_per_minute (None: unlimited).
    default_max_per_minute: ClassVar[int | None] = None

    @classmethod
    def clean_config(cls, config: Any, *, allow_private: bool, stored: dict | None = None) -> dict:
        """Return the normalised config or raise ConfigError; masked values keep ``stored`` secrets."""
        raise NotImplementedError

    @classmethod
    def mask_config(cls, config: dict) -> dict:
        raise NotImplementedError

    @classmethod
    async def deliver(cls, config: dict, message: dict, context: DeliveryContext) -> None:
        """Deliver one output message (docs/records.md); return on success or raise TransportError."""
        raise NotImplementedError


class HttpSinkKind(SinkKind):
    """A kind that delivers with one HTTP request; subclasses build it and map their answers."""

    target: ClassVar[str]  # names the other side in messages: "the webhook", "Slack"

    @classmethod
    def request(cls, config: dict, message: dict) -> HttpRequest:
        raise NotImplementedError

    @classmethod
    def raise_for_answer(cls, answer: Answer) -> None:
        """Raise the TransportError a non-2xx HTTP answer means for this kind."""
        raise TransportError(f"{cls.target} answered {answer.error}", permanent=answer.permanent,
                             retry_after=answer.retry_after, status=answer.status)

    @classmethod
    async def deliver(cls, config: dict, message: dict, context: DeliveryContext) -> None:
        request = cls.request(config, message)
        headers = {**request.headers, "Content-Type": "application/json"}
        answer = await context.outbound.send(request.method, request.url, request.body, headers,
                                             timeout=context.timeout, target=cls.target)
        if answer.ok:
            return
        if answer.status is None:  # no HTTP answer: the core's sentence already names the target
            raise TransportError(answer.error, permanent=answer.permanent, timed_out=answer.failure == "timeout")
        try:
            cls.raise_for_answer(answer)
        except TransportError as exc:
            exc.status = exc.status if exc.status is not None else answer.status
            raise
