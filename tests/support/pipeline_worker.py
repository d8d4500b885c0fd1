"""Shared pieces of the pipeline worker tests: a scriptable local agent, config documents, waiting helpers.

Imported by the ``test_worker_*`` modules (this module has no tests of its own).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from pipelines.stages import compile_pipeline, parse_pipeline
from pipelines.worker import PipelineRunner, PipelineWorkerSettings
from pipelines.worker.agentclient import AgentClient
from pipelines.worker.counters import Counters, ProjectStats
from projects.natsops import ensure_streams
from projects.streams import StreamLimits, raw_subject

LIMITS = StreamLimits(max_bytes=64 * 1024**2)


@dataclass
class AgentRequest:
    headers: dict[str, str]
    records: list
    status: int = 0
    received_at: float = field(default_factory=time.monotonic)


@dataclass
class Agent:
    """An HTTP agent on loopback that records every POST and answers as scripted."""

    url: str = ""
    requests: list[AgentRequest] = field(default_factory=list)
    # (index of the request, request) -> (status, headers, delay in seconds)
    script: Callable[[int, AgentRequest], tuple[int, dict, float]] = lambda index, request: (200, {}, 0.0)
    lock: threading.Lock = field(default_factory=threading.Lock)
    open: int = 0  # requests being answered right now
    peak: int = 0  # the most requests ever open at once

    def answered(self, status: int = 200) -> list[AgentRequest]:
        with self.lock:
            return [request for request in self.requests if request.status == status]

    def delivered(self) -> list:
        return [record for request in self.answered(200) for record in request.records]


def _handler(agent: Agent):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802 -- http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            request = AgentRequest({k.lower(): v for k, v in self.headers.items()}, json.loads(body))
            with agent.lock:
                index = len(agent.requests)
                agent.requests.append(request)
                agent.open += 1
                agent.peak = max(agent.peak, agent.open)
            try:
                status, headers, delay = agent.script(index, request)
                if delay:
                    time.sleep(delay)
            finally:
                with agent.lock:
                    agent.open -= 1
            request.status = status
            payload = b'{"ok":true}' if status < 300 else b"agent says no"
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    return Handler


class AgentServer(ThreadingHTTPServer):
    request_queue_size = 256  # many batches in flight open many connections at once
    daemon_threads = True


@contextlib.contextmanager
def agent_server() -> Iterator[Agent]:
    """A local HTTP agent answering as ``Agent.script`` says (the ``agent`` fixture of tests/conftest.py)."""
    state = Agent()
    server = AgentServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/ingest"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


async def new_project(nc) -> str:
    """A project id with its streams (the ``project`` fixture of tests/conftest.py)."""
    project_id = str(uuid.uuid4())
    await ensure_streams(nc.jetstream(), project_id, LIMITS)
    return project_id


def config_document(project_id: str, endpoint: str, version: int = 1, **pipeline) -> dict:
    """A config document shaped like projects.configdoc's output, with fast retries for tests."""
    section = {"enabled": True, "filter": "", "transforms": [], "agentEndpoint": endpoint,
               "agentHeaders": {"Authorization": "Bearer agent-secret"}, "batchSize": 10, "batchMaxWaitMs": 100,
               "signals": ["logs"], "requestTimeoutMs": 2000,
               "retry": {"initialBackoffMs": 50, "maxBackoffMs": 200}}
    section.update(pipeline)
    return {"schema": 1, "projectId": project_id, "name": "test", "version": version, "apiKeys": [],
            "pipeline": section, "sinks": []}


def log_record(n: int, severity: int = 17) -> dict:
    return {"resourceAttributes": {"service.name": "checkout"}, "scope": {"name": "lib"},
            "severityNumber": severity, "severityText": "ERROR" if severity >= 17 else "INFO",
            "body": f"record {n}", "attributes": {"n": n}, "traceId": "", "spanId": "",
            "timestamp": "2024-01-15T10:30:00Z"}


async def publish_records(nc, project_id: str, records: list[dict], signal: str = "logs") -> None:
    js = nc.jetstream()
    subject = raw_subject(project_id, signal)
    for start in range(0, len(records), 500):
        futures = [await js.publish_async(subject, json.dumps(record).encode())
                   for record in records[start:start + 500]]
        await asyncio.gather(*futures)


def make_runner(nc, document: dict, *, allow_private: bool = True, **options) -> PipelineRunner:
    compiled = compile_pipeline(parse_pipeline(document))
    return PipelineRunner(nc, nc.jetstream(), compiled, AgentClient(allow_private=allow_private),
                          ProjectStats(Counters()), **options)


def worker_settings(nats_server, **overrides) -> PipelineWorkerSettings:
    values = {"servers": [nats_server.url], "stream_limits": LIMITS, "allow_private_targets": True,
              "metrics_port": 0, "grace_seconds": 5.0}
    values.update(overrides)
    return PipelineWorkerSettings(**values)


async def dead_letters(nc, project_id: str) -> list[dict]:
    """Every entry in the project's pipeline DLQ, oldest first."""
    js = nc.jetstream()
    info = await js.stream_info(f"gf-ai-dlq-{project_id}")
    entries = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        if info.state.messages == 0:
            break
        message = await js.get_msg(f"gf-ai-dlq-{project_id}", seq)
        entries.append(json.loads(message.data))
    return entries


@contextlib.asynccontextmanager
async def running(runner: PipelineRunner):
    await runner.start()
    try:
        yield runner
    finally:
        await runner.stop()
        await runner.agent.close()


async def consumer_settled(nc, project_id: str) -> bool:
    """True when every message in the raw stream has been acked by the pipeline consumer.

    The ack floor is the reliable signal: right after a publish, num_pending may not count
    the new message yet (the server updates it asynchronously).
    """
    js = nc.jetstream()
    last = (await js.stream_info(f"gf-ai-raw-{project_id}")).state.last_seq
    info = await js.consumer_info(f"gf-ai-raw-{project_id}", "pipeline")
    return info.num_ack_pending == 0 and info.ack_floor.stream_seq >= last


BASE_DIR = Path(__file__).resolve().parents[2]


def start_worker(nats_url: str, worker_id: str, tmp_path: Path, bucket: str) -> subprocess.Popen:
    env = dict(os.environ, NATS_URL=nats_url, CONFIG_BUCKET=bucket, ALLOW_PRIVATE_TARGETS="1", DEBUG="0", LOG_LEVEL="WARNING",
               SECRET_KEY=os.environ.get("SECRET_KEY", "crash-test-secret-key"), GLASSFLOW_VAR_DIR=str(tmp_path))
    log = open(tmp_path / f"{worker_id}.log", "wb")  # noqa: SIM115 -- closed with the process
    return subprocess.Popen([sys.executable, str(BASE_DIR / "manage.py"), "runpipeline", "--metrics-port", "0",
                             "--worker-id", worker_id], cwd=BASE_DIR, env=env, stdout=log, stderr=log,
                            start_new_session=True)
