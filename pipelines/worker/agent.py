"""HTTP delivery to agent endpoints through one shared httpx client with the outbound policy enforced.

Every TCP connection goes through ``GuardedBackend``: the host is resolved, every
address it resolved to is checked with ``projects.outbound.check_address`` and the
connection is made to a checked address. Checking at connect time (not only when the
URL was saved) means a DNS name that later points inside the network is refused, and
connecting to the address that was checked leaves no gap for DNS rebinding.
"""

from __future__ import annotations

import asyncio
import importlib.util
import socket
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass

import httpcore
import httpx

from pipelines.stages.retry import is_retryable, is_success, parse_retry_after, rejection_reason, status_text
from projects.outbound import OutboundTargetError, check_address

BODY_EXCERPT_CHARS = 200

# httpcore tries `import sniffio` several times per request and falls back to asyncio when it
# is missing; a failed import is not cached, so each try searches sys.path again (about a third
# of the client's CPU per request here). Recording the known absence makes the failure instant.
# Installing sniffio would do the same; this only applies when it is not installed.
if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
    sys.modules["sniffio"] = None  # type: ignore[assignment]


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """A network backend that only connects to addresses the outbound policy allows."""

    def __init__(self, allow_private: bool):
        self.allow_private = allow_private
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: Iterable | None = None) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout)
        except (OSError, TimeoutError) as exc:
            raise httpcore.ConnectError(f"could not resolve {host}: {exc or 'timed out'}") from None
        addresses = list(dict.fromkeys(info[4][0] for info in infos))
        for address in addresses:
            check_address(address, allow_private=self.allow_private)  # OutboundTargetError refuses the batch
        last_error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                                     socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        raise last_error or httpcore.ConnectError(f"{host} resolved to no address")

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable | None = None) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not outbound targets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, *, allow_private: bool, limits: httpx.Limits):
        super().__init__(limits=limits)
        # httpx offers no argument for the network backend, so its pool is rebuilt with the
        # same limits around ours (httpx is pinned; the attribute is stable within 0.28).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(), max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(allow_private))


@dataclass(frozen=True)
class Attempt:
    """The outcome of one POST: success, something worth retrying, or a permanent refusal."""

    ok: bool
    status: int | None = None
    error: str = ""
    retry_after: float | None = None
    permanent_reason: str | None = None  # set when retrying cannot help: the batch goes to the DLQ now

    @property
    def retryable(self) -> bool:
        return not self.ok and self.permanent_reason is None


class AgentClient:
    """The process-wide HTTP client for agent endpoints (connection pooling across projects)."""

    def __init__(self, *, allow_private: bool, max_connections: int = 100, max_keepalive: int = 50):
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_keepalive,
                              keepalive_expiry=30)
        self.client = httpx.AsyncClient(transport=GuardedTransport(allow_private=allow_private, limits=limits),
                                        follow_redirects=False, timeout=10.0)

    async def close(self) -> None:
        await self.client.aclose()

    async def post(self, url: str, body: bytes, headers: dict[str, str], timeout_seconds: float) -> Attempt:
        try:
            # httpx's timeout bounds each step (connect, write, every read); a response trickling in
            # byte by byte would outlive it many times. This bounds the whole exchange.
            async with asyncio.timeout(timeout_seconds):
                response = await self.client.post(url, content=body, headers=headers, timeout=timeout_seconds)
        except TimeoutError:
            return Attempt(False, error=f"no complete answer within {timeout_seconds * 1000:.0f} ms")
        except OutboundTargetError as exc:
            return Attempt(False, error=str(exc), permanent_reason=f"agent endpoint address refused: {exc}")
        except (UnicodeEncodeError, ValueError) as exc:  # a header httpx cannot encode: retrying cannot help
            return Attempt(False, error=str(exc), permanent_reason=f"the request could not be built: {exc}")
        except httpx.TimeoutException:
            return Attempt(False, error=f"no answer within {timeout_seconds * 1000:.0f} ms")
        except httpx.UnsupportedProtocol as exc:
            return Attempt(False, error=str(exc), permanent_reason=f"agent endpoint URL is not usable: {exc}")
        except httpx.InvalidURL as exc:
            return Attempt(False, error=str(exc), permanent_reason=f"agent endpoint URL is not valid: {exc}")
        except httpx.TransportError as exc:
            return Attempt(False, error=f"could not reach the agent endpoint: {exc or type(exc).__name__}")
        status = response.status_code
        if is_success(status):
            return Attempt(True, status=status)
        excerpt = _excerpt(response)
        if is_retryable(status):
            return Attempt(False, status=status, error=f"{status_text(status)}{': ' + excerpt if excerpt else ''}",
                           retry_after=parse_retry_after(response.headers.get("retry-after"), time.time()))
        if 300 <= status < 400:
            location = response.headers.get("location", "")
            reason = (f"agent endpoint answered {status_text(status)} to {location or 'another URL'}; redirects are "
                      "not followed, so set the final URL in the pipeline settings")
            return Attempt(False, status=status, error=status_text(status), permanent_reason=reason)
        return Attempt(False, status=status, error=f"{status_text(status)}{': ' + excerpt if excerpt else ''}",
                       permanent_reason=rejection_reason(status, excerpt))


def _excerpt(response: httpx.Response) -> str:
    text = " ".join(response.text.split())
    return text if len(text) <= BODY_EXCERPT_CHARS else text[:BODY_EXCERPT_CHARS - 1] + "…"
