"""``GlassFlow`` and ``AsyncGlassFlow``: send an agent's output to the GlassFlow receiver.

Both POST ``{"payload": ..., "request_id": ...}`` to ``{endpoint}/internal/agent-output`` with
the project's ``X-API-Key`` and retry 429, 5xx, timeouts and connection errors with backoff.
A retried request may reach the server twice (the first answer can be lost after the server
acted on it); pass the batch's ``request_id`` so consumers can tell duplicates apart.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx

from ._errors import TransportError
from ._retry import RETRYABLE_STATUS, RetryPolicy, error_for, result_of

OUTPUT_PATH = "/internal/agent-output"
USER_AGENT = "glassflow-ai-python/0.2.0"


class _Base:
    def __init__(
        self,
        api_key: str,
        endpoint: str = "http://localhost:4318",
        timeout: float = 10.0,
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        retry_after_max: float = 60.0,
    ) -> None:
        if not api_key:
            raise ValueError("api_key is required: use an API key of the GlassFlow project")
        if not endpoint.startswith(("http://", "https://")):
            raise ValueError(f"endpoint must be an http(s) URL, got {endpoint!r}")
        self.api_key = api_key
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout
        self.policy = RetryPolicy(max_retries, backoff_base, backoff_max, retry_after_max)

    def _request_parts(self, payload: Any, request_id: str | None) -> tuple[str, bytes, dict[str, str]]:
        # Serialised once up front: a payload that is not JSON fails here with TypeError,
        # before any network traffic, and every retry sends identical bytes.
        body = json.dumps({"payload": payload, "request_id": request_id}).encode()
        headers = {"Content-Type": "application/json", "X-API-Key": self.api_key, "User-Agent": USER_AGENT}
        return self.endpoint + OUTPUT_PATH, body, headers

    def _transport_error(self, exc: httpx.HTTPError, attempts: int) -> TransportError:
        kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
        return TransportError(
            f"request to {self.endpoint}{OUTPUT_PATH} {kind} after {attempts} attempts: {exc or type(exc).__name__}",
            attempts=attempts,
        )


class GlassFlow(_Base):
    """Synchronous client. Use as a context manager or call ``close()``."""

    def __init__(
        self,
        api_key: str,
        endpoint: str = "http://localhost:4318",
        timeout: float = 10.0,
        max_retries: int = 5,
        *,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        retry_after_max: float = 60.0,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(api_key, endpoint, timeout, max_retries, backoff_base, backoff_max, retry_after_max)
        self._owns_client = http_client is None
        self._client = http_client or httpx.Client(timeout=timeout)

    def send_output(self, payload: Any, request_id: str | None = None) -> dict:
        """Send one output message; returns the server's JSON answer ({} if it has none).

        Raises AuthenticationError, RequestError, RateLimitError, ServerError or TransportError.
        """
        url, body, headers = self._request_parts(payload, request_id)
        retry = 0
        while True:
            attempts = retry + 1
            try:
                response = self._client.post(url, content=body, headers=headers, timeout=self.timeout)
            except httpx.TransportError as exc:
                if retry >= self.policy.max_retries:
                    raise self._transport_error(exc, attempts) from exc
                time.sleep(self.policy.delay(retry))
            else:
                if response.is_success:
                    return result_of(response)
                if response.status_code not in RETRYABLE_STATUS or retry >= self.policy.max_retries:
                    raise error_for(response, attempts)
                time.sleep(self.policy.delay(retry, response))
            retry += 1

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> GlassFlow:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncGlassFlow(_Base):
    """Asyncio twin of ``GlassFlow``. Use as an async context manager or ``await close()``."""

    def __init__(
        self,
        api_key: str,
        endpoint: str = "http://localhost:4318",
        timeout: float = 10.0,
        max_retries: int = 5,
        *,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        retry_after_max: float = 60.0,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(api_key, endpoint, timeout, max_retries, backoff_base, backoff_max, retry_after_max)
        self._owns_client = http_client is None
        self._client = http_client or httpx.AsyncClient(timeout=timeout)

    async def send_output(self, payload: Any, request_id: str | None = None) -> dict:
        """Async ``GlassFlow.send_output``."""
        url, body, headers = self._request_parts(payload, request_id)
        retry = 0
        while True:
            attempts = retry + 1
            try:
                response = await self._client.post(url, content=body, headers=headers, timeout=self.timeout)
            except httpx.TransportError as exc:
                if retry >= self.policy.max_retries:
                    raise self._transport_error(exc, attempts) from exc
                await asyncio.sleep(self.policy.delay(retry))
            else:
                if response.is_success:
                    return result_of(response)
                if response.status_code not in RETRYABLE_STATUS or retry >= self.policy.max_retries:
                    raise error_for(response, attempts)
                await asyncio.sleep(self.policy.delay(retry, response))
            retry += 1

    async def close(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> AsyncGlassFlow:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
