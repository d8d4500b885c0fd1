"""The contract every sink kind implements: declare, validate, mask and restore its typed config, and deliver.

A kind declares its config keys as ``ConfigField``s (``form_rows``, sinks/kinds/fields.py): the
generic sink form shows and reads them, ``mask_config`` masks the secret ones, and
``clean_config`` refuses keys it does not declare, checks ``max_per_minute`` (every kind has it)
and leaves the kind's own keys to ``clean_fields``. Delivery is async and shared by the sink worker and the "send test message" action. The
exchange itself (address policy, pinning, timeouts, classification) is the shared
``outbound`` core; an HTTP kind only says what to send (``request``) and maps its target's
non-2xx answers to a ``TransportError`` (``raise_for_answer``), whose one-sentence message is
what the user sees as the sink's last error; ``permanent`` tells the worker not to retry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from outbound import Answer, Outbound
from outbound.policy import OutboundTargetError, check_url
from projects.masking import mask_url, restore_value
from sinks.kinds.fields import URL, ConfigField

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


def clean_secret_url(config: dict, key: str, stored: dict, errors: dict[str, str], *, allow_private: bool,
                     required: str) -> str:
    """A URL that is itself the secret (an incoming webhook): a masked value keeps the stored one."""
    url = config.get(key, "")
    if isinstance(url, str):
        url = restore_value(url.strip(), stored.get(key, ""), mask_url(stored.get(key, "")))
    if not isinstance(url, str) or not url:
        errors[key] = required
    else:
        try:
            check_url(url, allow_private=allow_private)
        except OutboundTargetError as exc:
            errors[key] = str(exc)
    return url


def _listing(keys: list[str]) -> str:
    return " and ".join(filter(None, [", ".join(keys[:-1]), keys[-1]])) if keys else "its settings"


class SinkKind:
    name: ClassVar[str]
    label: ClassVar[str]
    # Deliveries a minute when the config sets no max_per_minute (None: unlimited).
    default_max_per_minute: ClassVar[int | None] = None
    # Why the default is what it is, shown in the form next to it ("Slack's one a second").
    default_max_per_minute_note: ClassVar[str] = ""
    # The config keys besides max_per_minute, as the sink form lays them out: a row of fields each.
    form_rows: ClassVar[tuple[tuple[ConfigField, ...], ...]] = ()
    # A sample sink name for the form.
    name_placeholder: ClassVar[str] = "incident-webhook"

    @classmethod
    def fields(cls) -> tuple[ConfigField, ...]:
        return tuple(field for row in cls.form_rows for field in row)

    @classmethod
    def clean_config(cls, config: Any, *, allow_private: bool, stored: dict | None = None) -> dict:
        """Return the normalised config or raise ConfigError; masked values keep ``stored`` secrets."""
        keys = [field.key for field in cls.fields()]
        if not isinstance(config, dict):
            raise ConfigError({"config": f"must be an object with {_listing(keys)}"})
        errors: dict[str, str] = {}
        unknown = set(config) - {*keys, "max_per_minute"}
        if unknown:
            errors["config"] = f"unknown keys {', '.join(sorted(unknown))}"
        cleaned = cls.clean_fields(config, errors, allow_private=allow_private, stored=stored or {})
        max_per_minute = clean_max_per_minute(config, errors, cls.default_max_per_minute)
        if errors:
            raise ConfigError(errors)
        if max_per_minute is not None or cls.default_max_per_minute is not None:
            cleaned["max_per_minute"] = max_per_minute  # a null that overrides a default is kept
        return cleaned

    @classmethod
    def clean_fields(cls, config: dict, errors: dict[str, str], *, allow_private: bool, stored: dict) -> dict:
        """The kind's own keys, normalised; each problem goes into ``errors`` under its key."""
        raise NotImplementedError

    @classmethod
    def mask_config(cls, config: dict) -> dict:
        """The config as the API and the pages show it: secret fields masked."""
        return {**config, **{field.key: field.mask(config.get(field.key)) for field in cls.fields() if field.masked}}

    @classmethod
    def target_of(cls, config: dict) -> str:
        """The address deliveries go to (its first URL field): the pacer's key, the list's "Target"."""
        return next((str(config.get(field.key) or "") for field in cls.fields() if field.widget == URL), "")

    @classmethod
    def describe_target(cls, masked: dict) -> str:
        """What the sinks list shows as the target, from the masked config."""
        return cls.target_of(masked)

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
