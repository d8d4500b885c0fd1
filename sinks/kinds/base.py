"""The contract every sink kind implements: validate, mask and restore its typed config, and deliver.

Delivery is async and shared by the sink worker and the "send test message" action. A kind
maps an HTTP answer to success or a ``TransportError`` whose one-sentence message is what
the user sees as the sink's last error; ``permanent`` tells the worker not to retry.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import socket
import time
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import httpx

from projects.outbound import OutboundTargetError, check_address, check_url

USER_AGENT = "glassflow-ai-sink/0.1"
RETRYABLE_STATUS = frozenset({408, 429})
MAX_ERROR_BODY = 200


class ConfigError(ValueError):
    """Invalid sink config; ``errors`` maps each config key to its message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{key}: {message}" for key, message in errors.items()))
        self.errors = errors


class TransportError(Exception):
    """A delivery failed. ``permanent`` errors go to the DLQ at once; others are retried.

    ``retry_after`` is the wait the target asked for (Retry-After), in seconds.
    """

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass(frozen=True)
class DeliveryContext:
    """What a delivery needs besides the sink's config: the HTTP client and the outbound policy."""

    client: httpx.AsyncClient
    allow_private: bool
    timeout: float = 10.0


def new_http_client(timeout: float = 10.0, max_connections: int = 100) -> httpx.AsyncClient:
    """The worker's shared client. Redirects are not followed: a 3xx is reported, not chased,
    so a target cannot bounce us to an address the outbound policy would refuse."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=20, keepalive_expiry=30),
        follow_redirects=False, headers={"User-Agent": USER_AGENT})


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent or invalid."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


async def pin_url(url: str, *, allow_private: bool) -> tuple[list[str], dict[str, str], dict[str, Any]]:
    """Resolve the URL's host, check every address against the outbound policy, and return the
    URL rewritten to each address, with the Host header and TLS server name to keep.

    Connecting to the addresses we checked (instead of letting the client resolve again)
    closes the window in which a DNS answer could change to an internal address.
    """
    try:
        check_url(url, allow_private=allow_private)
    except OutboundTargetError as exc:
        raise TransportError(f"the URL is not allowed: {exc}", permanent=True) from None
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise TransportError(f"could not resolve {host}: {exc.strerror or exc}") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise TransportError(f"{host} has no addresses")
    pinned = []
    for address in addresses:
        try:
            check_address(address, allow_private=allow_private)
        except OutboundTargetError as exc:
            raise TransportError(f"{host} resolves to a refused address: {exc}", permanent=True) from None
        ip = ipaddress.ip_address(address.split("%")[0])
        literal = f"[{ip}]" if ip.version == 6 else str(ip)
        netloc = f"{literal}:{parts.port}" if parts.port else literal
        pinned.append(urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")))
    bare = f"[{host}]" if ":" in host else host
    host_header = f"{bare}:{parts.port}" if parts.port else bare
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return pinned, {"Host": host_header}, extensions


async def send_http(context: DeliveryContext, method: str, url: str, *, body: bytes,
                    headers: dict[str, str], target: str) -> httpx.Response:
    """Send one request to an outbound URL under the policy; network failures become retryable
    TransportErrors naming ``target`` (for example "the webhook")."""
    pinned, host_header, extensions = await pin_url(url, allow_private=context.allow_private)
    all_headers = {**headers, **host_header, "Content-Type": "application/json"}
    for index, address_url in enumerate(pinned):
        try:
            # httpx's timeout bounds each step; this bounds the whole exchange (a trickling answer).
            async with asyncio.timeout(context.timeout):
                return await context.client.request(method, address_url, content=body, headers=all_headers,
                                                    extensions=extensions, timeout=context.timeout)
        except (httpx.TimeoutException, TimeoutError):
            raise TransportError(f"{target} did not answer within {context.timeout:g} s") from None
        except (UnicodeEncodeError, ValueError) as exc:  # a header httpx cannot encode: retrying cannot help
            raise TransportError(f"the request to {target} could not be built: {exc}", permanent=True) from None
        except httpx.ConnectError as exc:
            if index + 1 < len(pinned):
                continue  # the next address of the name (IPv4 after IPv6, another replica)
            raise TransportError(f"could not connect to {target}: {exc or 'connection refused'}") from None
        except httpx.HTTPError as exc:
            raise TransportError(f"the request to {target} failed: {exc.__class__.__name__} {exc}".strip()) from None
    raise AssertionError("unreachable: pin_url returns at least one address")


def status_text(response: httpx.Response) -> str:
    return f"{response.status_code} {response.reason_phrase}".strip()


def body_excerpt(response: httpx.Response) -> str:
    text = " ".join(response.text.split())
    return text if len(text) <= MAX_ERROR_BODY else text[:MAX_ERROR_BODY] + "…"


def is_retryable(status: int) -> bool:
    return status in RETRYABLE_STATUS or status >= 500


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
        """Deliver one output message (section 4.3); return on success or raise TransportError."""
        raise NotImplementedError
