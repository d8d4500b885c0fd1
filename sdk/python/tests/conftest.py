"""Fixtures: a real loopback HTTP server that records requests and answers from a script, and a
URL where nothing listens. Tests reach the helpers only through fixtures, so they work under
pytest's importlib import mode too."""

from __future__ import annotations

import json
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Answer:
    status: int = 200
    body: bytes = b'{"status":"accepted"}'
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    hang: bool = False  # hold the request until the test ends (to provoke client timeouts)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


class ScriptedServer:
    def __init__(self) -> None:
        self.script: deque[Answer] = deque()
        self.requests: list[Recorded] = []
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                server.requests.append(
                    Recorded("POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                answer = server.script.popleft() if server.script else Answer()
                if answer.hang:
                    server.release.wait(30)
                    return
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        # A short poll interval keeps shutdown() (called at teardown) from waiting half a second.
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def reply(
        self,
        status: int = 200,
        body: bytes = b'{"status":"accepted"}',
        *,
        times: int = 1,
        content_type: str = "application/json",
        hang: bool = False,
        **headers: str,
    ) -> None:
        """Queue ``times`` identical answers; header keyword names use _ for - (Retry_After)."""
        all_headers = {"Content-Type": content_type, **{k.replace("_", "-"): v for k, v in headers.items()}}
        self.script.extend(Answer(status, body, all_headers, hang) for _ in range(times))

    def reply_status(self, status: int, code: int, message: str, *, times: int = 1, **headers: str) -> None:
        """Queue a google.rpc.Status JSON answer, as the GlassFlow receiver sends on errors."""
        body = json.dumps({"code": code, "message": message}).encode()
        self.reply(status, body, times=times, **headers)

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    scripted = ScriptedServer()
    yield scripted
    scripted.stop()


@pytest.fixture
def closed_port_url():
    # Bind then close: nothing listens there afterwards, so connecting is refused at once.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"
