"""The one exception type of the receiver's HTTP boundary.

Every failure the client should hear about (bad key, bad body, full stream, NATS down)
becomes a ``Rejected`` carrying the HTTP status, a one-sentence message the sender can act
on, and for the retryable statuses the Retry-After seconds. The handler turns it into a
google.rpc.Status body; nothing else in the receiver answers with an error.
"""

from __future__ import annotations


class Rejected(Exception):
    """Answer the request with ``status`` and a google.rpc.Status whose message is ``message``."""

    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after
