"""Example triage agent for the GlassFlow AI Runtime: no LLM, just the standard library and the SDK.

A GlassFlow pipeline POSTs batches of flat log records here. The agent groups them by
``service.name``, picks the worst severity, writes a summary, a likely root cause and a
remediation, and sends that back with ``send_output`` under the batch's request id, so the
project's sinks (webhooks, Slack) receive it. It answers 200 only after the output was
accepted; otherwise 502, and the pipeline retries the batch (same X-Request-ID).

    GLASSFLOW_API_KEY=gfk_... GLASSFLOW_ENDPOINT=http://127.0.0.1:4318 python agent.py
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
import threading
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

try:
    from glassflow_ai import AgentRequestError, GlassFlow, GlassFlowError, parse_agent_request
except ImportError:  # running from a checkout without `pip install ./sdk/python`
    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "sdk" / "python"))
    from glassflow_ai import AgentRequestError, GlassFlow, GlassFlowError, parse_agent_request

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
        self._lock = threading.Lock()

    def add(self, item: Any) -> None:
        with self._lock:
            self._items.appendleft(item)

    def items(self) -> list[Any]:
        with self._lock:
            return list(self._items)


class Handler(BaseHTTPRequestHandler):
    glassflow: GlassFlow | None = None
    endpoint = "http://127.0.0.1:4318"
    inbox = WebhookInbox()
    analyse = staticmethod(triage)  # records -> output payload; the OpenAI example plugs in its own

    def do_POST(self) -> None:  # noqa: N802  (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.rstrip("/") == "/webhook":
            return self.receive_webhook(body)
        glassflow, per_request = self.glassflow, False
        if glassflow is None and self.headers.get("X-GlassFlow-Key"):
            glassflow, per_request = GlassFlow(api_key=self.headers["X-GlassFlow-Key"], endpoint=self.endpoint), True
        if glassflow is None:
            return self.answer(503, {"error": "no API key: set GLASSFLOW_API_KEY on the agent or add an "
                                              "X-GlassFlow-Key header to the pipeline's agent headers"})
        try:
            self.triage_batch(glassflow, body)
        finally:
            if per_request:
                glassflow.close()

    def triage_batch(self, glassflow: GlassFlow, body: bytes) -> None:
        try:
            batch = parse_agent_request(body, dict(self.headers.items()))
        except AgentRequestError as exc:
            return self.answer(400, {"error": str(exc)})
        output = self.analyse(batch.records)
        try:
            glassflow.send_output(output, request_id=batch.request_id)
        except GlassFlowError as exc:
            logger.warning("send_output failed for %s: %s", batch.request_id, exc)
            return self.answer(502, {"error": f"could not send the output: {exc}"})
        logger.info("batch %s: %d records -> %s", batch.request_id, len(batch.records), output["severity"])
        return self.answer(200, {"ok": True})

    def receive_webhook(self, body: bytes) -> None:
        try:
            message = json.loads(body or b"null")
        except ValueError:
            message = body.decode(errors="replace")
        self.inbox.add(message)
        logger.info("webhook received: %s", json.dumps(message)[:2000])
        self.answer(200, {"ok": True})

    def do_GET(self) -> None:  # noqa: N802
        if self.path.rstrip("/") == "/webhook":
            return self.answer(200, {"deliveries": self.inbox.items()})
        self.answer(200, {"ok": True, "agent": "triage"})

    def answer(self, status: int, data: dict) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        logger.debug(format, *args)


def make_server(host: str, port: int, glassflow: GlassFlow | None,
                analyse: Callable[[list[dict]], dict] = triage,
                endpoint: str = "http://127.0.0.1:4318") -> ThreadingHTTPServer:
    handler = type("TriageHandler", (Handler,), {"glassflow": glassflow, "analyse": staticmethod(analyse),
                                                  "endpoint": endpoint, "inbox": WebhookInbox()})
    return ThreadingHTTPServer((host, port), handler)


def main(analyse: Callable[[list[dict]], dict] = triage, name: str = "triage agent") -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per batch is enough
    api_key = os.environ.get("GLASSFLOW_API_KEY", "")
    endpoint = os.environ.get("GLASSFLOW_ENDPOINT", "http://127.0.0.1:4318")
    host, port = os.environ.get("AGENT_HOST", "127.0.0.1"), int(os.environ.get("AGENT_PORT", "9000"))
    # Without a key the agent still starts (runstack --with-example-agent launches it before you
    # have minted one) and takes the key from each request's X-GlassFlow-Key header.
    glassflow = GlassFlow(api_key=api_key, endpoint=endpoint) if api_key else None
    if glassflow is None:
        logger.info("GLASSFLOW_API_KEY is not set: using the X-GlassFlow-Key header of each batch")
    server = make_server(host, port, glassflow, analyse, endpoint)
    logger.info("%s listening on http://%s:%d/ (outputs go to %s)", name, host, port, endpoint)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if glassflow is not None:
            glassflow.close()


if __name__ == "__main__":
    main()
