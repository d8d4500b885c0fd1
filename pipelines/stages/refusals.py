"""What an agent's refusal means to the user: the dead-letter sentences of the agent delivery.

Classification, Retry-After and backoff live in the shared ``outbound`` core; this module only
holds the agent-specific wording, with a hint per status of what to change in the pipeline.
"""

from __future__ import annotations

from outbound import status_text

HINTS = {
    401: "check the Authorization header in the pipeline settings",
    403: "check the agent's credentials in the pipeline settings",
    404: "check the agent endpoint URL in the pipeline settings",
    405: "the agent endpoint must accept POST",
    413: "lower the batch size in the pipeline settings",
    415: "the agent endpoint must accept application/json",
}


def rejection_reason(status: int, body_excerpt: str) -> str:
    """The DLQ reason for a batch the agent refused outright (a 4xx other than 408/429)."""
    reason = f"agent endpoint answered {status_text(status)}"
    if body_excerpt:
        reason += f": {body_excerpt}"
    hint = HINTS.get(status)
    return f"{reason} ({hint})" if hint else reason
