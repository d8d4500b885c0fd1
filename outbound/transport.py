"""The one HTTP client for outbound targets: agent endpoints, webhooks and Slack.

``Outbound.send(method, url, body, headers, timeout=…, target=…)`` makes one attempt and
returns an ``Answer``; it never raises for anything the target or the network did.

- **Address policy at connect time.** ``GuardedBackend`` resolves the host when a connection
  is opened, checks every address with ``projects.outbound.check_address`` and connects to a
  checked address itself, so DNS cannot switch to an internal address between check and use.
- **One pool keyed by origin.** Connections are pooled per (scheme, host name, port), never per
  address, and TLS verifies the certificate for the host name that was asked for: a kept-alive
  connection to ``a.example`` is never used for ``b.example`` on the same address.
- **Bounded exchange.** ``timeout`` bounds the whole attempt (DNS, connect, TLS, request and
  the complete answer), not each step, so an answer trickling in cannot outlive it.
- **Lean.** httpcore is used directly (httpx's request/response models cost as much CPU as the
  exchange itself); a URL is parsed and checked once, and bodies are not decoded: a 2xx is
  success whatever it carries, and error excerpts are decoded leniently.
"""

from __future__ import annotations

import asyncio
import importlib.util
import ipaddress
import logging
import socket
import ssl
import sys
import time
from collections.abc import Iterable
from urllib.parse import urlsplit

import httpcore

from outbound.answers import Answer, Verdict, classify_status, excerpt_of, parse_retry_after, status_text
from projects.outbound import OutboundTargetError, check_address, check_url

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024  # read (and drop) at most this much of an answer; more closes the connection
EXCERPT_BYTES = 4096

# httpcore tries `import sniffio` on every request and falls back to asyncio when it is missing;
# a failed import is not cached. Recording the known absence makes the failure instant.
if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
    sys.modules["sniffio"] = None  # type: ignore[assignment]


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """A network backend that only connects to addresses the outbound policy allows."""

    def __init__(self, allow_private: bool):
        self.allow_private = allow_private
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: Iterable | None = None) -> httpcore.AsyncNetworkStream:
        try:
            addresses = [str(ipaddress.ip_address(host.strip("[]")))]
        except ValueError:
            addresses = await _resolve(host, port, timeout)
        for address in addresses:
            check_address(address, allow_private=self.allow_private)  # OutboundTargetError: never connect
        last_error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                                     socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc  # the next address of the name (IPv4 after IPv6, another replica)
        raise last_error or httpcore.ConnectError(f"{host} resolved to no address")

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable | None = None) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not outbound targets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


async def _resolve(host: str, port: int, timeout: float | None) -> list[str]:
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout)
    except UnicodeError as exc:  # getaddrinfo's IDNA step: empty or over-long labels
        raise InvalidTarget(f"the host name {host!r} is not valid ({exc})") from None
    except (OSError, TimeoutError) as exc:
        detail = getattr(exc, "strerror", None) or str(exc) or "timed out"
        raise httpcore.ConnectError(f"could not resolve {host}: {detail}") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise httpcore.ConnectError(f"{host} resolved to no address")
    return addresses


class InvalidTarget(ValueError):
    """The URL cannot be sent to as it is; retrying cannot help."""


def parse_target(url: str, allow_private: bool) -> httpcore.URL:
    """Check an outbound URL against the policy and turn it into httpcore's form, once per URL."""
    check_url(url, allow_private=allow_private)  # OutboundTargetError: the policy refuses it as written
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
        ascii_host = f"[{host}]" if ":" in host else host
    except ValueError:
        try:
            ascii_host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:  # an empty label (hooks..example.com) or one over 63 characters
            raise InvalidTarget(f"the host name {host!r} is not valid ({exc})") from None
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return httpcore.URL(scheme=parts.scheme.encode("ascii"), host=ascii_host.encode("ascii"),
                        port=parts.port, target=target.encode("utf-8"))


class Outbound:
    """The process-wide outbound client: one connection pool for every target of this process."""

    def __init__(self, *, allow_private: bool, max_connections: int = 100, max_keepalive: int = 50,
                 keepalive_expiry: float = 30.0, ssl_context: ssl.SSLContext | None = None,
                 user_agent: str = "glassflow-ai/0.1"):
        self.allow_private = allow_private
        self.user_agent = user_agent.encode("ascii")
        if ssl_context is None:
            import httpx  # its context carries certifi's CA bundle, as before

            ssl_context = httpx.create_ssl_context()
        self.pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context, max_connections=max_connections, max_keepalive_connections=max_keepalive,
            keepalive_expiry=keepalive_expiry, network_backend=GuardedBackend(allow_private))
        self._targets: dict[str, httpcore.URL | ValueError] = {}

    async def close(self) -> None:
        await self.pool.aclose()

    async def __aenter__(self) -> Outbound:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def _target(self, url: str) -> httpcore.URL:
        found = self._targets.get(url)
        if found is None:
            if len(self._targets) > 4096:
                self._targets.clear()  # many one-off URLs (test sends): start over rather than grow
            try:
                found = parse_target(url, self.allow_private)
            except (InvalidTarget, OutboundTargetError) as exc:
                found = exc
            self._targets[url] = found
        if isinstance(found, ValueError):
            raise type(found)(*found.args)  # a fresh one: re-raising the cached one would grow its traceback
        return found

    async def send(self, method: str, url: str, body: bytes, headers: dict[str, str] | Iterable[tuple[str, str]],
                   *, timeout: float, target: str = "the endpoint") -> Answer:
        """One attempt. ``target`` names the other side in error sentences ("the webhook")."""
        started = time.monotonic()
        try:
            request_url = self._target(url)
            items = headers.items() if isinstance(headers, dict) else headers
            encoded = [(name.encode("ascii"), value.encode("ascii")) for name, value in items]
            if not any(name.lower() == b"user-agent" for name, _ in encoded):
                encoded.append((b"User-Agent", self.user_agent))
            steps = {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
            async with asyncio.timeout(timeout):
                async with self.pool.stream(method.encode("ascii"), request_url, headers=encoded, content=body,
                                            extensions={"timeout": steps}) as response:
                    status = response.status
                    verdict = classify_status(status)
                    kept = await _read(response, verdict is Verdict.SUCCESS)
        except asyncio.CancelledError:
            raise
        except (TimeoutError, httpcore.TimeoutException):
            return _failed(Verdict.RETRYABLE, "timeout", f"{target} did not answer within {timeout:g} s", started)
        except InvalidTarget as exc:
            return _failed(Verdict.PERMANENT, "request", f"{target} cannot be reached: {exc}", started)
        except OutboundTargetError as exc:
            return _failed(Verdict.PERMANENT, "policy", f"{target} is not allowed: {exc}", started)
        except (UnicodeError, httpcore.LocalProtocolError, httpcore.UnsupportedProtocol) as exc:
            return _failed(Verdict.PERMANENT, "request", f"the request to {target} could not be built: {exc}",
                           started)
        except httpcore.ConnectError as exc:
            return _failed(Verdict.RETRYABLE, "connect", f"could not connect to {target}: {exc or 'refused'}",
                           started)
        except httpcore.NetworkError as exc:  # reset, closed mid-answer
            return _failed(Verdict.RETRYABLE, "connect",
                           f"the connection to {target} failed: {exc or type(exc).__name__}", started)
        except httpcore.RemoteProtocolError as exc:
            return _failed(Verdict.RETRYABLE, "protocol", f"{target} answered with broken HTTP: {exc}", started)
        except Exception as exc:  # noqa: BLE001 -- whatever it was, the caller gets a verdict, never a hot loop
            logger.exception("outbound request to %s failed unexpectedly", target)
            return _failed(Verdict.RETRYABLE, "unexpected",
                           f"the request to {target} failed unexpectedly: {type(exc).__name__}: {exc}", started)
        rtt = time.monotonic() - started
        if verdict is Verdict.SUCCESS:
            return Answer(verdict, status, rtt=rtt)
        excerpt = excerpt_of(kept, _header(response.headers, b"content-encoding"))
        retry_after = None
        if verdict is Verdict.RETRYABLE:
            retry_after = parse_retry_after(_header(response.headers, b"retry-after"), time.time())
        error = status_text(status) + (f": {excerpt}" if excerpt else "")
        return Answer(verdict, status, error, retry_after, rtt, excerpt, _header(response.headers, b"location"))


async def _read(response: httpcore.Response, success: bool) -> bytes:
    """Read the answer so the connection can be reused; keep only an excerpt of an error's body."""
    kept = bytearray()
    total = 0
    async for chunk in response.aiter_stream():
        total += len(chunk)
        if not success and len(kept) < EXCERPT_BYTES:
            kept += chunk[:EXCERPT_BYTES - len(kept)]
        if total > MAX_BODY_BYTES:
            break  # leaving early closes this connection instead of reading a huge answer
    return bytes(kept)


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def _failed(verdict: Verdict, failure: str, error: str, started: float) -> Answer:
    return Answer(verdict, None, error, None, time.monotonic() - started, failure=failure)
