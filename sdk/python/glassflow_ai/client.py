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
    """What the sync and async clients share: settings, the request bytes and the retry decisions.

    Subclasses only perform the I/O: post, then sleep for ``_delay_after`` seconds and try again.
    """

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
        http_client: Any = None,
    ) -> None:
        if not api_key:
            raise ValueError("api_key is required: use an API key of the GlassFlow project")
        if not endpoint.startswith(("http://", "https://")):
            raise ValueError(f"endpoint must be an http(s) URL, got {endpoint!r}")
        self.api_key = api_key
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout
        self.policy = RetryPolicy(max_retries, backoff_base, backoff_max, retry_after_max)
        self._owns_client = http_client is None
        self._client = http_client or self._new_client(timeout)

    def _new_client(self, timeout: float) -> Any:
        raise NotImplementedError

    def _request_parts(self, payload: Any, request_id: str | None) -> tuple[str, bytes, dict[str, str]]:
        # Serialised once up front: a payload that is not JSON fails here with TypeError,
        # before any network traffic, and every retry sends identical bytes.
        body = json.dumps({"payload": payload, "request_id": request_id}).encode()
        headers = {"Content-Type": "application/json", "X-API-Key": self.api_key, "User-Agent": USER_AGENT}
        return self.endpoint + OUTPUT_PATH, body, headers

    def _delay_after(self, retry: int, outcome: httpx.Response | httpx.TransportError) -> float:
        """Seconds to wait before the next attempt after a failed one (a non-2xx answer or a
        transport error); raises the final error when the answer is not retryable or retries are spent."""
        attempts = retry + 1
        if isinstance(outcome, httpx.Response):
            if outcome.status_code not in RETRYABLE_STATUS or retry >= self.policy.max_retries:
                raise error_for(outcome, attempts)
            return self.policy.delay(retry, outcome)
        if retry >= self.policy.max_retries:
            kind = "timed out" if isinstance(outcome, httpx.TimeoutException) else "failed"
            raise TransportError(
                f"request to {self.endpoint}{OUTPUT_PATH} {kind} after {attempts} attempts: "
                f"{outcome or type(outcome).__name__}",
                attempts=attempts,
            ) from outcome
        return self.policy.delay(retry)


class GlassFlow(_Base):
    """Synchronous client. Use as a context manager or call ``close()``.

    ``http_client``: an ``httpx.Client`` to use instead of one of its own (then not closed here).
    """

    def _new_client(self, timeout: float) -> httpx.Client:
        return httpx.Client(timeout=timeout)

    def send_output(self, payload: Any, request_id: str | None = None) -> dict:
        """Send one output message; returns the server's JSON answer ({} if it has none).

        Raises AuthenticationError, RequestError, RateLimitError, ServerError or TransportError.
        """
        url, body, headers = self._request_parts(payload, request_id)
        retry = 0
        while True:
            try:
                outcome = self._client.post(url, content=body, headers=headers, timeout=self.timeout)
            except httpx.TransportError as exc:
                outcome = exc
            if isinstance(outcome, httpx.Response) and outcome.is_success:
                return result_of(outcome)
            time.sleep(self._delay_after(retry, outcome))
            retry += 1

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> GlassFlow:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncGlassFlow(_Base):
    """Asyncio twin of ``GlassFlow``. Use as an async context manager or ``await close()``.

    ``http_client``: an ``httpx.AsyncClient`` to use instead of one of its own (then not closed here).
    """

    def _new_client(self, timeout: float) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=timeout)

    async def send_output(self, payload: Any, request_id: str | None = None) -> dict:
        """Async ``GlassFlow.send_output``."""
        url, body, headers = self._request_parts(payload, request_id)
        retry = 0
        while True:
            try:
                outcome = await self._client.post(url, content=body, headers=headers, timeout=self.timeout)
            except httpx.TransportError as exc:
                outcome = exc
            if isinstance(outcome, httpx.Response) and outcome.is_success:
                return result_of(outcome)
            await asyncio.sleep(self._delay_after(retry, outcome))
            retry += 1

    async def close(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> AsyncGlassFlow:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
