"""What the browser posts, for page tests: the pipeline editor's form with the saved defaults, and
the form of a new webhook sink."""

from __future__ import annotations


def pipeline_form(**overrides) -> dict:
    data = {"action": "save", "filter": "", "t-count": "0", "h-count": "0", "agent_endpoint": "",
            "batch_size": "10", "batch_max_wait_ms": "1000", "signals": ["logs"]}
    return {**data, **overrides}


def webhook_sink_form(**overrides) -> dict:
    data = {"action": "save", "name": "hook", "url": "https://hooks.example.com/x", "method": "POST", "h-count": "0"}
    return {**data, **overrides}
