"""Example triage agent for the GlassFlow AI Runtime: rules, no LLM, served by the SDK's AgentApp.

A GlassFlow pipeline POSTs batches of flat log records here. ``triage`` groups them by
``service.name``, picks the worst severity and writes a summary, a likely root cause and a
remediation; the SDK (``glassflow_ai.AgentApp``) does the rest: it sends that output with
``send_output`` under the batch's request id, answers 200 once it was accepted, 503 when it
could not be sent (the pipeline retries the same X-Request-ID), and answers a retry of a batch
it already handled with the same result instead of sending a second output.

    pip install './sdk/python[serve]'      # from the repository root
    GLASSFLOW_API_KEY=gfk_... GLASSFLOW_ENDPOINT=http://127.0.0.1:4318 python examples/agents/triage/agent.py
    # then set the pipeline's agent endpoint to http://127.0.0.1:9000/

Without GLASSFLOW_API_KEY (as under ``make run``, which starts the agent before any key
exists) the agent uses the key sent in the ``X-GlassFlow-Key`` header, which you add to the
pipeline's agent headers. For local demos it also has a webhook inbox: point a webhook sink at
``http://127.0.0.1:9000/webhook``; every delivery is logged and ``GET /webhook`` lists the last 50.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

try:
    from glassflow_ai import AgentApp, AgentRequest
except ImportError:  # running from a checkout without `pip install ./sdk/python`
    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "sdk" / "python"))
    from glassflow_ai import AgentApp, AgentRequest

logger = logging.getLogger("triage-agent")

# OTLP severity numbers: 1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20 ERROR, 21-24 FATAL.
LEVELS = [(21, "critical"), (17, "error"), (13, "warning"), (9, "info"), (0, "debug")]
RANK = {"debug": 0, "info": 1, "warning": 2, "error": 3, "critical": 4}
TEXT_LEVELS = {"fatal": "critical", "critical": "critical", "error": "error", "err": "error", "warn": "warning",
               "warning": "warning", "info": "info", "debug": "debug", "trace": "debug"}
HINTS = [  # (words in the message, remediation)
    (("pool", "exhausted"), "Raise the connection pool size or find the code path that leaks connections."),
    (("connection refused",), "Check that the dependency is up and reachable from the service (DNS, ports)."),
    (("timeout", "timed out"), "Look at the latency of the called dependency; add timeouts and retries with backoff."),
    (("out of memory", "oom"), "Raise the memory limit or look for a leak in the last deployment."),
    (("permission", "denied", "unauthorized", "forbidden"), "Check credentials and permissions of the service."),
    (("disk", "no space"), "Free disk space or grow the volume."),
]


def severity_of(record: dict) -> str:
    text = TEXT_LEVELS.get(str(record.get("severityText") or "").lower())
    if text:
        return text
    number = record.get("severityNumber") or 0
    return next(name for floor, name in LEVELS if number >= floor) if isinstance(number, int) else "info"


def message_of(record: dict) -> str:
    body = record.get("body")
    return body if isinstance(body, str) else json.dumps(body)


def remediation_for(message: str) -> str:
    lowered = message.lower()
    for words, hint in HINTS:
        if any(word in lowered for word in words):
            return hint
    return "Look at the service's logs around the time of the first error and at its last deployment."


def triage(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The agent's output for one batch: summary, severity, root_cause, remediation, per-service counts."""
    services: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        service = (record.get("resourceAttributes") or {}).get("service.name") or "unknown"
        services[str(service)].append(record)
    if not services:
        return {"summary": "Empty batch.", "severity": "info", "root_cause": "", "remediation": "", "services": {}}
    per_service = {}
    for service, items in services.items():
        worst = max((severity_of(r) for r in items), key=RANK.__getitem__)
        top = Counter(message_of(r) for r in items if severity_of(r) == worst).most_common(1)[0]
        per_service[service] = {"records": len(items), "severity": worst, "top_message": top[0],
                                "occurrences": top[1]}
    service, worst = max(per_service.items(), key=lambda item: (RANK[item[1]["severity"]], item[1]["records"]))
    summary = (f"{worst['severity'].capitalize()} in {service}: {worst['top_message']} "
               f"({worst['occurrences']}x in a batch of {len(records)} records from "
               f"{len(per_service)} service{'s' if len(per_service) != 1 else ''}).")
    return {
        "summary": summary,
        "severity": worst["severity"],
        "root_cause": f"{service} logged \"{worst['top_message']}\" {worst['occurrences']} time(s).",
        "remediation": remediation_for(worst["top_message"]),
        "services": per_service,
    }


class WebhookInbox:
    """The last deliveries of a webhook sink pointed at ``/webhook`` (a local stand-in for your service)."""

    def __init__(self, size: int = 50):
        self._items: deque[Any] = deque(maxlen=size)

    def add(self, item: Any) -> None:
        self._items.appendleft(item)

    def items(self) -> list[Any]:
        return list(self._items)


async def _json(send: Callable, status: int, data: dict) -> None:
    payload = json.dumps(data).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


def with_webhook_inbox(agent: Callable, inbox: WebhookInbox) -> Callable:
    """An ASGI app: ``/webhook`` is the demo inbox, every other path is the agent (mounted as-is)."""

    async def app(scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") != "/webhook":
            return await agent(scope, receive, send)
        if scope["method"] == "GET":
            return await _json(send, 200, {"deliveries": inbox.items()})
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        try:
            item = json.loads(body or b"null")
        except ValueError:
            item = body.decode(errors="replace")
        inbox.add(item)
        logger.info("webhook received: %s", json.dumps(item)[:2000])
        await _json(send, 200, {"ok": True})

    return app


def rules_handler(batch: AgentRequest) -> dict[str, Any]:
    output = triage(batch.records)
    logger.info("batch %s: %d records -> %s", batch.request_id, len(batch.records), output["severity"])
    return output


def build_app(handler: Callable = rules_handler, *, api_key: str | None = None,
              endpoint: str = "http://127.0.0.1:4318", name: str = "triage", **options: Any) -> Callable:
    """The agent (an SDK AgentApp around ``handler``) plus the demo webhook inbox, as one ASGI app."""
    agent = AgentApp(handler, api_key=api_key, endpoint=endpoint, name=name, **options)
    return with_webhook_inbox(agent, WebhookInbox())


def main(handler: Callable = rules_handler, name: str = "triage agent", **options: Any) -> None:
    import uvicorn  # pinned by the project; `pip install './sdk/python[serve]'` elsewhere

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per batch is enough
    api_key = os.environ.get("GLASSFLOW_API_KEY", "")
    endpoint = os.environ.get("GLASSFLOW_ENDPOINT", "http://127.0.0.1:4318")
    host, port = os.environ.get("AGENT_HOST", "127.0.0.1"), int(os.environ.get("AGENT_PORT", "9000"))
    # Without a key the agent still starts (runstack --with-example-agent launches it before you
    # have minted one) and takes the key from each request's X-GlassFlow-Key header.
    if not api_key:
        logger.info("GLASSFLOW_API_KEY is not set: using the X-GlassFlow-Key header of each batch")
    app = build_app(handler, api_key=api_key or None, endpoint=endpoint, name=name,
                    max_concurrency=int(os.environ.get("AGENT_CONCURRENCY", "8")), **options)
    logger.info("%s listening on http://%s:%d/ (outputs go to %s)", name, host, port, endpoint)
    uvicorn.run(app, host=host, port=port, log_level="warning", lifespan="on")


if __name__ == "__main__":
    main()
