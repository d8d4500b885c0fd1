"""Servers for the browser test: the ASGI app in a thread, worker subprocesses, a fake agent and webhook.

The web app runs under uvicorn (not Django's WSGI live server) because the live tail is a
server-sent-events stream from an async view. Workers run as the real management commands
against the session's nats-server; the agent and the webhook are small local HTTP servers
that record what they receive.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def asgi_server() -> Iterator[str]:
    """Serve a fresh ASGI handler (so WhiteNoise sees the test's static settings) on a free port."""
    import uvicorn
    from django.core.handlers.asgi import ASGIHandler

    port = free_port()
    config = uvicorn.Config(ASGIHandler(), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-ui-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


class Recorder:
    """A local HTTP server that records JSON bodies and answers with ``status`` (changeable)."""

    def __init__(self, on_body=None):
        self.bodies: list = []
        self.status = 200
        self.on_body = on_body
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802  (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                status = recorder.status
                if status < 300:
                    recorder.bodies.append(body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if status < 300 and recorder.on_body is not None:
                    recorder.on_body(body, dict(self.headers))

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Agent(Recorder):
    """An AI agent: for every batch it receives, it sends one output back through the receiver."""

    def __init__(self):
        self.receiver_url = ""
        self.key = ""
        super().__init__(on_body=self.answer)

    def answer(self, batch, headers) -> None:
        payload = {"summary": f"{len(batch)} record(s) analysed", "severity": "critical",
                   "levels": sorted({str(record.get("level")) for record in batch})}
        httpx.post(f"{self.receiver_url}/internal/agent-output", headers={"X-API-Key": self.key},
                   json={"payload": payload, "request_id": headers.get("X-Request-ID")}, timeout=5)


class Workers:
    """runreceiver, runpipeline and runsink as subprocesses pointed at the test's NATS."""

    def __init__(self, nats_url: str, log_dir: Path):
        self.nats_url = nats_url
        self.log_dir = log_dir
        self.receiver_port = free_port()
        self.processes: list[subprocess.Popen] = []

    @property
    def receiver_url(self) -> str:
        return f"http://127.0.0.1:{self.receiver_port}"

    def start(self) -> Workers:
        env = {**os.environ, "NATS_URL": self.nats_url, "ALLOW_PRIVATE_TARGETS": "1", "PYTHONUNBUFFERED": "1"}
        commands = [["runreceiver", "--port", str(self.receiver_port), "--grpc-port", "0"], ["runpipeline", "--metrics-port", "0"],
                    ["runsink", "--metrics-port", "0", "--initial-backoff-ms", "100"]]
        for command in commands:
            log = open(self.log_dir / f"{command[0]}.log", "wb")  # noqa: SIM115  closed with the process
            self.processes.append(subprocess.Popen([sys.executable, "manage.py", *command], cwd=ROOT, env=env,
                                                   stdout=log, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.receiver_url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"{process.args} exited; see {self.log_dir}")
            time.sleep(0.2)
        raise RuntimeError("the receiver did not become healthy")

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()


def otlp_logs(*severities: tuple[int, str, str]) -> dict:
    """An OTLP/JSON ExportLogsServiceRequest with one record per (number, text, body)."""
    now = str(time.time_ns())
    return {"resourceLogs": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "checkout"}}]},
        "scopeLogs": [{"scope": {"name": "e2e"}, "logRecords": [
            {"timeUnixNano": now, "severityNumber": number, "severityText": text, "body": {"stringValue": body}}
            for number, text, body in severities]}]}]}
