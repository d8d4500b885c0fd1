"""Local HTTP stand-ins for the end-to-end tests: an AI agent that answers through the SDK, and
recorders for webhooks and Slack that can be taken down and brought back on the same port.

All of them are real HTTP servers on loopback (``http.server`` in threads). Each request is
recorded with its headers; what a server answers is set by the test (``status``), never mocked.
The servers speak HTTP/1.0 (one connection per request), so closing the listening socket really
makes the target unreachable: no keep-alive connection survives an outage.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from glassflow_ai import GlassFlow, parse_agent_request

from tests.support.loopback_http import serve_in_thread, stop_serving, write_answer


@dataclass
class Request:
    """One HTTP request a stand-in received, and the status it answered."""

    method: str
    headers: dict[str, str]
    body: Any
    status: int
    at: float = field(default_factory=time.monotonic)

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers.items() if key.lower() == name.lower()), None)


class StandIn:
    """A recording HTTP server on 127.0.0.1; ``status`` is what it answers (changeable any time).

    ``hold()``: further requests are recorded and then held (not answered) until ``release()``, so
    a test can kill the client while it is known to be waiting for those answers.
    """

    def __init__(self, name: str, port: int = 0):
        self.name = name
        self.status = 200
        self.answer_body: dict | bytes = {}
        self.requests: list[Request] = []
        self.held: list[Request] = []
        self.lock = threading.Lock()
        self._hold_after: int | None = None
        self._released = threading.Event()
        self.port = port
        self.server: ThreadingHTTPServer | None = None
        self.start()

    def start(self) -> StandIn:
        """Listen (again) on the same port: a target that comes back after an outage."""
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802  (http.server's naming)
                stand_in._handle(self)

            do_PUT = do_PATCH = do_POST  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = serve_in_thread(self.server, f"stand-in-{self.name}")
        return self

    def stop(self) -> None:
        """Stop listening: new connections are refused until ``start()``."""
        if self.server is not None:
            stop_serving(self.server)
            self.server = None

    def close(self) -> None:
        self.release()
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{self.name}"

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        raw = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        headers = dict(handler.headers.items())
        status, answer = self.respond(handler.command, raw, headers)
        payload = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        content_type = "text/plain" if isinstance(answer, bytes) else "application/json"
        try:
            write_answer(handler, status, payload, {"Content-Type": content_type})
        except OSError:
            pass  # the client went away (a killed worker): what it sent is recorded anyway

    def respond(self, method: str, raw: bytes, headers: dict[str, str]) -> tuple[int, dict | bytes]:
        request = Request(method, headers, json.loads(raw or b"null"), self.status)
        if self.record(request):
            self._released.wait(60)  # the client is killed meanwhile; this answer reaches no one
        return request.status, self.answer_body

    def record(self, request: Request) -> bool:
        """Keep the request; True if it is to be held."""
        with self.lock:
            hold = self._hold_after is not None and self.accepted_count() >= self._hold_after
            self.requests.append(request)
            if hold:
                self.held.append(request)
            return hold

    def accepted_count(self) -> int:
        """What ``hold_after`` counts (caller holds the lock): requests answered 2xx."""
        return sum(1 for request in self.requests if request.status < 300)

    def hold(self) -> None:
        self.hold_after(0)

    def hold_after(self, count: int) -> None:
        self._released.clear()
        self._hold_after = count

    def release(self) -> None:
        self._hold_after = None
        self._released.set()

    def delivered(self) -> list[Request]:
        """Requests answered with 2xx."""
        with self.lock:
            return [request for request in self.requests if request.status < 300]


class Agent(StandIn):
    """An AI agent: records each batch with its headers and, when it accepts one, sends one output
    back through the receiver with the SDK (``send_output(payload, request_id=X-Request-ID)``)
    before answering 200, like ``examples/agents/triage`` does.

    ``hold_after(n)`` counts records: once ``n`` records were accepted, further batches are held.
    """

    def __init__(self, receiver_url: str = "", api_key: str = "", send_outputs: bool = True):
        self.receiver_url = receiver_url
        self.api_key = api_key
        self.send_outputs = send_outputs
        self.outputs: dict[str, dict] = {}  # request id -> payload sent with send_output
        self.send_errors: list[str] = []
        self._clients = threading.local()
        super().__init__("agent")
        self.answer_body = {"ok": True}

    def respond(self, method: str, raw: bytes, headers: dict[str, str]) -> tuple[int, dict]:
        batch = parse_agent_request(raw, headers)
        status = self.status
        request = Request(method, headers, batch.records, status)
        if self.record(request):
            self._released.wait(60)  # the worker is killed meanwhile; this answer reaches no one
            return 200, self.answer_body
        if status >= 300:
            return status, {"error": f"agent answered {status} on purpose"}
        if self.send_outputs:
            payload = self.analyse(batch.records, batch.request_id)
            try:
                self.client().send_output(payload, request_id=batch.request_id)
            except Exception as exc:  # noqa: BLE001  the pipeline retries the batch on our 502
                self.send_errors.append(repr(exc))
                request.status = 502
                return 502, {"error": f"could not send the output: {exc}"}
            with self.lock:
                self.outputs[batch.request_id] = payload
        return status, self.answer_body

    def accepted_count(self) -> int:
        return sum(len(request.body) for request in self.requests if request.status < 300)  # records

    @staticmethod
    def analyse(records: list[dict], request_id: str | None) -> dict:
        services = sorted({str((record.get("resourceAttributes") or {}).get("service.name")) for record in records})
        return {"summary": f"{len(records)} error record(s) from {', '.join(services)}", "severity": "critical",
                "root_cause": "database pool exhausted", "remediation": "raise the pool size",
                "seqs": sorted(seq_of(record) for record in records), "batch": request_id}

    def client(self) -> GlassFlow:
        client = getattr(self._clients, "client", None)
        if client is None:
            client = self._clients.client = GlassFlow(self.api_key, endpoint=self.receiver_url, timeout=5,
                                                      max_retries=5, backoff_base=0.05, backoff_max=0.5)
        return client

    def received_records(self) -> list[dict]:
        """Every record of every batch the agent received (held and refused ones included)."""
        with self.lock:
            return [record for request in self.requests for record in request.body]

    def accepted_records(self) -> list[dict]:
        return [record for request in self.delivered() for record in request.body]


def seq_of(record: dict) -> int:
    """The sequence number the tests put into every log record's attributes (-1 when missing)."""
    return (record.get("attributes") or {}).get("seq", -1)


def distinct_seqs(records: list[dict], key: Callable[[dict], int] = seq_of) -> set[int]:
    return {key(record) for record in records}


def slack_ids(slack: StandIn, request_ids: set[str]) -> list[str]:
    """The batch request ids the Slack posts name in their footer (``_GlassFlow · request <id> · …_``),
    one entry per post that names one."""
    return sorted(request_id for request in slack.delivered() for request_id in request_ids
                  if request_id in request.body["text"])
