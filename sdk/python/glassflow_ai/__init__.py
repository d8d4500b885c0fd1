"""GlassFlow AI Runtime SDK for agents: serve an agent function, or parse batches and send results yourself.

from glassflow_ai import AgentApp, serve

def triage(batch):                     # or: async def triage(batch)
    return {"summary": f"{len(batch.records)} records"}

serve(AgentApp(triage, api_key="gfk_..."), port=9000)   # answers the pipeline, sends the output

Or by hand:

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
from .server import AgentApp, BadBatchError, TransientError, serve

__version__ = "0.2.0"

__all__ = [
    "AgentApp",
    "AgentRequest",
    "AgentRequestError",
    "AsyncGlassFlow",
    "AuthenticationError",
    "BadBatchError",
    "GlassFlow",
    "GlassFlowError",
    "RateLimitError",
    "RequestError",
    "RetryPolicy",
    "ServerError",
    "TransientError",
    "TransportError",
    "parse_agent_request",
    "parse_retry_after",
    "serve",
]
