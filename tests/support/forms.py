"""What the browser posts: the pipeline editor's form data with the saved defaults, for page tests."""

from __future__ import annotations


def pipeline_form(**overrides) -> dict:
    data = {"action": "save", "filter": "", "t-count": "0", "h-count": "0", "agent_endpoint": "",
            "batch_size": "10", "batch_max_wait_ms": "1000", "signals": ["logs"]}
    return {**data, **overrides}
