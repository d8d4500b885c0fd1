"""GlassFlow AI Runtime SDK for agents: parse the pipeline's batches and send results back.

from glassflow_ai import GlassFlow, parse_agent_request

batch = parse_agent_request(request_body, request_headers)
with GlassFlow(api_key="gfk_...", endpoint="http://localhost:4318") as gf:
    gf.send_output({"summary": "..."}, request_id=batch.request_id)
"""

from __future__ import annotations

from ._errors import (
    AgentRequestError,
    AuthenticationError,
    GlassFlowError,
    RateLimitError,
    RequestError,
    ServerError,
    TransportError,
)
from ._retry import RetryPolicy, parse_retry_after
from .agent import AgentRequest, parse_agent_request
from .client import AsyncGlassFlow, GlassFlow

__version__ = "0.1.0"

__all__ = [
    "AgentRequest",
    "AgentRequestError",
    "AsyncGlassFlow",
    "AuthenticationError",
    "GlassFlow",
    "GlassFlowError",
    "RateLimitError",
    "RequestError",
    "RetryPolicy",
    "ServerError",
    "TransportError",
    "parse_agent_request",
    "parse_retry_after",
]
