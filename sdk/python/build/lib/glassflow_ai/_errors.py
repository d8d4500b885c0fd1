"""Exceptions raised by the GlassFlow client; every one derives from ``GlassFlowError``."""

from __future__ import annotations


class GlassFlowError(Exception):
    """Base class. ``status_code`` is the HTTP status (None when no response arrived) and
    ``server_message`` the ``message`` of the server's google.rpc.Status JSON body, if any."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        server_message: str | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.server_message = server_message
        self.attempts = attempts


class AuthenticationError(GlassFlowError):
    """401: the API key is missing, unknown or revoked. Never retried."""


class RequestError(GlassFlowError):
    """Any other 4xx (except 429): the request itself is wrong. Never retried."""


class ServerError(GlassFlowError):
    """5xx answers persisted after every retry."""


class RateLimitError(GlassFlowError):
    """429 answers persisted after every retry."""


class TransportError(GlassFlowError):
    """No HTTP answer (connection refused/reset, DNS, timeout) after every retry."""


class AgentRequestError(GlassFlowError, ValueError):
    """The pipeline's POST to an agent is not a JSON array of record objects."""
