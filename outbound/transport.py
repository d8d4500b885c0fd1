"""The one HTTP client for outbound targets: agent endpoints, webhooks and Slack.

``Outbound.send(method, url, body, headers, timeout=…, target=…)`` makes one attempt and
returns an ``Answer``; it never raises for anything the target or the network did.

- **Address policy at connect time.** ``Outbound._connect`` resolves the host when a connection
  is opened, checks every address with ``outbound.policy.check_address`` and connects to a
  checked address itself, so DNS cannot switch to an internal address between check and use.
- **One pool keyed by origin.** Connections are pooled per (scheme, host name, port), never per
  address, and TLS verifies the certificate for the host name that was asked for: a kept-alive
  connection to ``a.example`` is never used for ``b.example`` on the same address.
- **Bounded exchange.** ``timeout`` bounds the whole attempt (DNS, connect, TLS, request and
  the complete answer), not each step, so an answer trickling in cannot outlive it.
- **Lean.** ``outbound.http1``: asyncio protocols and the httptools parser, one write per
  request, idle connections that mark themselves closed instead of being polled (httpx and
  httpcore cost more CPU per request than everything else the worker does at batch 10); a
  URL is parsed and checked once; bodies are not decoded: a 2xx is success whatever it
  carries, and error excerpts are decoded leniently.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from outbound.answers import Answer, Verdict, classify_status, excerpt_of, parse_retry_after, status_text
from outbound.http1 import (
    Connection,
    ConnectionLost,
    Origin,
    Pool,
    ProtocolError,
    RequestError,
    encode_request,
)
from outbound.policy import OutboundTargetError, check_address, check_url

logger = logging.getLogger(__name__)

EXCERPT_BYTES = 4096
REQUEST_TARGET_SAFE = "!$&'()*+,;=:@/?%~"  # RFC 3986 pchar, "/" and "?" (letters, digits and "-._" always are)


class InvalidTarget(ValueError):
    """The URL cannot be sent to as it is; retrying cannot help."""


class ConnectFailed(ConnectionError):
    """No connection could be opened (DNS, refused, unreachable, TLS handshake or certificate)."""


@dataclass(frozen=True, slots=True)
class Target:
    origin: Origin
    request_target: bytes  # path and query
    host_header: bytes


def parse_target(url: str, allow_private: bool) -> Target:
    """Check an outbound URL against the policy and split it for the client, once per URL."""
    check_url(url, allow_private=allow_private)  # OutboundTargetError: the policy refuses it as written
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        ipaddress.ip_address(host)
        ascii_host = host
    except ValueError:
        try:
            ascii_host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:  # an empty label (hooks..example.com) or one over 63 characters
            raise InvalidTarget(f"the host name {host!r} is not valid ({exc})") from None
    scheme = parts.scheme
    port = parts.port or (443 if scheme == "https" else 80)
    literal = f"[{ascii_host}]" if ":" in ascii_host else ascii_host
    host_header = literal if parts.port is None else f"{literal}:{parts.port}"
    # Whatever the tenant typed, the request line gets one token: spaces, controls and non-ASCII
    # are percent-encoded (UTF-8), escapes already there are kept.
    target = quote((parts.path or "/") + (f"?{parts.query}" if parts.query else ""), safe=REQUEST_TARGET_SAFE)
    return Target(Origin(scheme, ascii_host, port), target.encode("utf-8"), host_header.encode("ascii"))


async def _resolve(host: str, port: int) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except UnicodeError as exc:  # getaddrinfo's IDNA step: empty or over-long labels
        raise InvalidTarget(f"the host name {host!r} is not valid ({exc})") from None
    except OSError as exc:
        raise ConnectFailed(f"could not resolve {host}: {getattr(exc, 'strerror', None) or exc}") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise ConnectFailed(f"{host} resolved to no address")
    return addresses


class Outbound:
    """The process-wide outbound client: one connection pool for every target of this process."""

    def __init__(self, *, allow_private: bool, max_connections: int = 100, max_keepalive: int = 50,
                 keepalive_expiry: float = 30.0, ssl_context: ssl.SSLContext | None = None,
                 user_agent: str = "glassflow-ai/0.1", max_per_origin: int | None = None):
        self.allow_private = allow_private
        self.user_agent = user_agent.encode("ascii")
        if ssl_context is None:
            import httpx  # its context carries certifi's CA bundle, as before

            ssl_context = httpx.create_ssl_context()
        self.ssl_context = ssl_context
        self.pool = Pool(self._connect, max_connections=max_connections, max_idle_per_origin=max_keepalive,
                         keepalive_expiry=keepalive_expiry, max_per_origin=max_per_origin)
        self._targets: dict[str, Target | ValueError] = {}

    async def close(self) -> None:
        await self.pool.close()

    async def __aenter__(self) -> Outbound:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _connect(self, origin: Origin, factory) -> Connection:
        """Resolve, check every address against the policy, connect to a checked one (TLS for the host name)."""
        addresses = await _resolve(origin.host, origin.port)
        for address in addresses:
            check_address(address, allow_private=self.allow_private)  # OutboundTargetError: never connect
        loop = asyncio.get_running_loop()
        tls = self.ssl_context if origin.tls else None
        last_error: Exception | None = None
        for address in addresses:
            try:
                _, protocol = await loop.create_connection(factory, address, origin.port, ssl=tls,
                                                           server_hostname=origin.host if tls else None)
                return protocol
            except ssl.SSLCertVerificationError as exc:
                # Retryable like any connect failure: an expired or mismatched certificate is
                # fixed by its owner, and pausing delivery until then beats dead-lettering the data.
                raise ConnectFailed(f"the TLS certificate of {origin.host} was refused: "
                                    f"{exc.verify_message or exc.reason} (CERTIFICATE_VERIFY_FAILED)") from None
            except ssl.SSLError as exc:  # the handshake: another address will not differ
                raise ConnectFailed(f"the TLS handshake with {origin.host} failed: {exc.reason or exc}") from None
            except OSError as exc:
                last_error = exc  # the next address of the name (IPv4 after IPv6, another replica)
        raise ConnectFailed(getattr(last_error, "strerror", None) or str(last_error) or "refused")

    def _target(self, url: str) -> Target:
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
            where = self._target(url)
            items = headers.items() if isinstance(headers, dict) else headers
            request = encode_request(method, where.request_target, where.host_header, items, body, self.user_agent)
            async with asyncio.timeout(timeout):
                status, answer_headers, kept = await self.pool.request(where.origin, request, EXCERPT_BYTES)
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            return _failed(Verdict.RETRYABLE, "timeout", f"{target} did not answer within {timeout:g} s", started)
        except InvalidTarget as exc:
            return _failed(Verdict.PERMANENT, "request", f"{target} cannot be reached: {exc}", started)
        except OutboundTargetError as exc:
            return _failed(Verdict.PERMANENT, "policy", f"{target} is not allowed: {exc}", started)
        except (RequestError, UnicodeError) as exc:
            return _failed(Verdict.PERMANENT, "request", f"the request to {target} could not be built: {exc}",
                           started)
        except ConnectFailed as exc:
            return _failed(Verdict.RETRYABLE, "connect", f"could not connect to {target}: {exc}", started)
        except ConnectionLost as exc:
            return _failed(Verdict.RETRYABLE, "connect", f"the connection to {target} failed: {exc}", started)
        except ProtocolError as exc:
            return _failed(Verdict.RETRYABLE, "protocol", f"{target} answered with broken HTTP: {exc}", started)
        except OSError as exc:  # reset or unreachable mid-exchange
            return _failed(Verdict.RETRYABLE, "connect", f"the connection to {target} failed: {exc}", started)
        except Exception as exc:  # noqa: BLE001 -- whatever it was, the caller gets a verdict, never a hot loop
            logger.exception("outbound request to %s failed unexpectedly", target)
            return _failed(Verdict.RETRYABLE, "unexpected",
                           f"the request to {target} failed unexpectedly: {type(exc).__name__}: {exc}", started)
        rtt = time.monotonic() - started
        verdict = classify_status(status)
        if verdict is Verdict.SUCCESS:
            return Answer(verdict, status, rtt=rtt)
        excerpt = excerpt_of(kept, _header(answer_headers, b"content-encoding"))
        retry_after = None
        if verdict is Verdict.RETRYABLE:
            retry_after = parse_retry_after(_header(answer_headers, b"retry-after"), time.time())
        error = status_text(status) + (f": {excerpt}" if excerpt else "")
        return Answer(verdict, status, error, retry_after, rtt, excerpt, _header(answer_headers, b"location"))


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


def _failed(verdict: Verdict, failure: str, error: str, started: float) -> Answer:
    return Answer(verdict, None, error, None, time.monotonic() - started, failure=failure)
