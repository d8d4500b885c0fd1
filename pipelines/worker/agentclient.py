"""Agent delivery over the shared outbound core: one POST, and what the answer means for the batch.

``outbound.Outbound`` does the exchange (address policy at connect time, pool per origin,
whole-exchange timeout, classification). This module only maps an agent's answer to the
sentence a user reads in the dead letters, like a sink kind maps its target's answers.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from outbound import Answer, Outbound, status_text
from pipelines.stages.refusals import rejection_reason

TARGET = "the agent endpoint"


@dataclass(frozen=True, slots=True)
class Attempt:
    """The outcome of one POST: the core's answer plus, when retrying cannot help, the DLQ reason.

    Everything else reads through to the answer: ``ok``, ``retryable``, ``status``, ``error``,
    ``retry_after``, ``timed_out``, ``rtt``."""

    answer: Answer
    permanent_reason: str | None = None

    def __getattr__(self, name: str):
        if name == "answer":  # not set yet (copying): no recursion
            raise AttributeError(name)
        return getattr(self.answer, name)


def permanent_reason(answer: Answer) -> str | None:
    """The dead-letter sentence for an agent answer that retrying cannot fix; None otherwise."""
    if not answer.permanent:
        return None
    status = answer.status
    if status is None:
        return answer.error
    if 300 <= status < 400:
        return (f"agent endpoint answered {status_text(status)} to {answer.location or 'another URL'}; redirects "
                "are not followed, so set the final URL in the pipeline settings")
    return rejection_reason(status, answer.excerpt)


class AgentClient:
    """The process-wide client for agent endpoints (one connection pool across projects)."""

    def __init__(self, *, allow_private: bool, max_connections: int = 100, max_keepalive: int = 50,
                 ssl_context: ssl.SSLContext | None = None):
        self.outbound = Outbound(allow_private=allow_private, max_connections=max_connections,
                                 max_keepalive=max_keepalive, ssl_context=ssl_context)

    async def close(self) -> None:
        await self.outbound.close()

    async def post(self, url: str, body: bytes, headers: dict[str, str], timeout_seconds: float) -> Attempt:
        answer = await self.outbound.send("POST", url, body, headers, timeout=timeout_seconds, target=TARGET)
        if answer.ok:
            return Attempt(answer)
        return Attempt(answer, permanent_reason(answer))
