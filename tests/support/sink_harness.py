"""Test harness shared by the sink and dead-letter tests: scriptable loopback HTTP endpoints standing
in for webhooks and Slack, a real sink worker in a thread, and project setup through the real code.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import nats

from outbound import RetryPolicy
from projects import natsops
from projects.configsync import remove_project, sync_project
from projects.streams import StreamLimits, output_subject
from sinks.worker.consumer import ConsumerOptions
from sinks.worker.worker import SinkWorker, SinkWorkerSettings
from tests.support.clients import client_for
from tests.support.factories import make_team


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    status: int = 0

    def json(self):
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)


class StubServer:
    """An HTTP endpoint on 127.0.0.1 that answers from a script (then ``default``) and records requests.

    ``down()`` closes the listening socket so connections are refused; ``up()`` listens again
    on the same port.
    """

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.script: deque[Reply] = deque()
        self.default = Reply()
        self.lock = threading.Lock()
        self.port = 0
        self.server: ThreadingHTTPServer | None = None

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def reply(self, *replies: Reply) -> None:
        with self.lock:
            self.script.extend(replies)

    def received(self) -> list[Recorded]:
        with self.lock:
            return list(self.requests)

    def up(self) -> StubServer:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def handle_any(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with stub.lock:
                    reply = stub.script.popleft() if stub.script else stub.default
                    stub.requests.append(Recorded(self.command, self.path, dict(self.headers.items()), body,
                                                  time.monotonic(), reply.status))
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            do_POST = do_PUT = do_PATCH = handle_any

            def log_message(self, *args):
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def down(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def fast_options(**retry) -> SinkWorkerSettings:
    policy = RetryPolicy(**{"initial_backoff": 0.05, "max_backoff": 0.2, **retry})
    return SinkWorkerSettings(consumer=ConsumerOptions(retry=policy, request_timeout=3, batch_size=10,
                                                  fetch_timeout=0.2, ack_wait=30),
                         allow_private_targets=True, stats_interval=0.2, grace_seconds=5)


class WorkerThread:
    """A real SinkWorker (its own event loop and NATS connection) running beside a synchronous test."""

    def __init__(self, nats_url: str, options: SinkWorkerSettings | None = None):
        self.nats_url = nats_url
        self.options = options or fast_options()
        self.ready = threading.Event()
        self.worker: SinkWorker | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._main, daemon=True)

    def _main(self) -> None:
        async def main():
            nc = await nats.connect(self.nats_url, connect_timeout=2)
            self.worker = SinkWorker(self.options, nc)
            self.loop = asyncio.get_running_loop()
            self.ready.set()
            await self.worker.run()

        try:
            asyncio.run(main())
        except BaseException as exc:  # noqa: BLE001  reported by stop()
            self.error = exc
            self.ready.set()

    def start(self) -> WorkerThread:
        self.thread.start()
        assert self.ready.wait(10), "sink worker did not start"
        return self

    def stop(self) -> None:
        if self.loop is not None and self.worker is not None:
            self.loop.call_soon_threadsafe(self.worker.stop.set)
        self.thread.join(20)
        assert not self.thread.is_alive(), "sink worker did not stop"
        if self.error is not None:
            raise self.error


SMALL_STREAM_BYTES = 16 * 1024**2


def teams_with_streams(settings):
    """Factory of teams (owner, admin, viewer, outsider) whose project has real streams and a KV
    document. Streams are small and removed afterwards: JetStream reserves each stream's
    max_bytes, and the session's nats-server would otherwise run out of storage."""
    settings.STREAM_MAX_BYTES = SMALL_STREAM_BYTES
    made = []

    def make():
        team = make_team()
        assert sync_project(team.project.pk)
        made.append(team.project.pk)
        return team

    yield make
    for project_id in made:
        remove_project(project_id)


def add_sink(team, name: str, kind: str, config: dict, enabled: bool = True) -> dict:
    response = client_for(team.admin).post(f"/api/v1/projects/{team.project.pk}/sinks/", {
        "name": name, "kind": kind, "config": config, "enabled": enabled}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def consumer_info(js, project_id, sink_id):
    from nats.js.errors import NotFoundError

    async def info(jetstream):
        try:
            return await jetstream.consumer_info(f"gf-ai-output-{project_id}", f"sink-{sink_id}")
        except NotFoundError:
            return None

    return js.run(info)


def publish_output(js, project_id, payload, request_id: str = "req-1") -> dict:
    message = {"projectId": str(project_id), "requestId": request_id, "receivedAt": "2026-01-15T10:30:02.120Z",
               "payload": payload}

    async def publish(jetstream):
        await jetstream.publish(output_subject(project_id), json.dumps(message).encode())

    js.run(publish)
    return message


# The sink worker driven step by step (tests/sinks/test_sink_worker_steps.py and friends).
SMALL_LIMITS = StreamLimits(max_bytes=SMALL_STREAM_BYTES)  # JetStream reserves max_bytes: keep the server roomy
# A config bucket of these tests' own: sink workers of other tests (the end-to-end ones run as
# subprocesses) watch gf-ai-config and would share, and take, these tests' sink consumers.
STEPS_BUCKET = f"gf-ai-config-steps-{uuid.uuid4().hex[:8]}"


def steps_options(**retry) -> SinkWorkerSettings:
    return dataclasses.replace(fast_options(**retry), config_bucket=STEPS_BUCKET)


async def project_with_sink(js, url: str | None = None, *, bucket: str = STEPS_BUCKET, enabled: bool = True,
                            kind: str = "webhook", name: str = "hook", config: dict | None = None,
                            **sink) -> tuple[str, str]:
    """A project with small streams and a config document in ``bucket`` listing one sink: a webhook
    POSTing to ``url`` unless ``config`` says otherwise; ``sink`` adds fields (e.g. maxConcurrency)."""
    project_id, sink_id = str(uuid.uuid4()), str(uuid.uuid4())
    await natsops.ensure_streams(js, project_id, SMALL_LIMITS)
    kv = await natsops.config_bucket(js, bucket, 1)
    config = config if config is not None else {"url": url, "method": "POST", "headers": {}}
    await natsops.put_config_document(kv, {"projectId": project_id, "version": 1, "sinks": [
        {"id": sink_id, "name": name, "kind": kind, "enabled": enabled, **sink, "config": config}]})
    return project_id, sink_id


async def publish_request(js, project_id: str, request_id: str, payload: dict | None = None) -> None:
    message = {"projectId": project_id, "requestId": request_id, "receivedAt": "t", "payload": payload or {}}
    await js.publish(output_subject(project_id), json.dumps(message).encode())


async def publish_numbered(js, project_id: str, count: int) -> None:
    """Outputs r0..r{count-1}, each with payload {"n": n}."""
    for n in range(count):
        await publish_request(js, project_id, f"r{n}", {"n": n})
