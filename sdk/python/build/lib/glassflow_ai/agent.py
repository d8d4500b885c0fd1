"""Helpers for the agent side: read the batch that a GlassFlow pipeline POSTs to an agent."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._errors import AgentRequestError


@dataclass(frozen=True)
class AgentRequest:
    """One pipeline batch: the flat records plus the ids to pass back to ``send_output``."""

    records: list[dict[str, Any]] = field(default_factory=list)
    project_id: str | None = None
    request_id: str | None = None


def _header(headers: Mapping[Any, Any], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if isinstance(key, bytes):
            key = key.decode("latin-1")
        if key.lower() == wanted:
            if isinstance(value, bytes):
                value = value.decode("latin-1")
            value = str(value).strip()
            return value or None
    return None


def parse_agent_request(body: bytes | str, headers: Mapping[Any, Any]) -> AgentRequest:
    """Parse the pipeline's POST: a JSON array of records with ``X-Project-ID`` and
    ``X-Request-ID`` headers (looked up case-insensitively; str or bytes keys and values).

    Raises ``AgentRequestError`` (a ValueError) when the body is not a JSON array of objects.
    """
    try:
        records = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AgentRequestError(f"agent request body is not JSON: {exc}") from None
    if not isinstance(records, list):
        raise AgentRequestError(
            f"agent request body must be a JSON array of records, got {type(records).__name__}"
        )
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise AgentRequestError(f"record {index} of the agent request is not a JSON object")
    return AgentRequest(
        records=records,
        project_id=_header(headers, "X-Project-ID"),
        request_id=_header(headers, "X-Request-ID"),
    )
