"""A fake OpenAI-compatible server on loopback: ``/v1/responses`` and ``/v1/chat/completions``.

It answers with a structured triage (JSON text in the shape the agent's output_type asks for),
or, depending on ``mode``, stalls (holds the request until released) or fails with 500. Every
request is recorded with its path and JSON body, so tests can check what the client sent.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TRIAGE = {"summary": "api cannot get database connections", "severity": "critical",
          "root_cause": "the connection pool is exhausted", "remediation": "raise the pool size"}


@dataclass
class Seen:
    path: str
    body: dict


def responses_answer(model: str, text: str) -> dict:
    return {"id": "resp_fake", "object": "response", "created_at": int(time.time()), "model": model,
            "status": "completed", "error": None, "incomplete_details": None, "instructions": None,
            "parallel_tool_calls": True, "tool_choice": "auto", "tools": [], "temperature": None, "top_p": None,
            "output": [{"type": "message", "id": "msg_fake", "role": "assistant", "status": "completed",
                        "content": [{"type": "output_text", "text": text, "annotations": []}]}],
            "usage": {"input_tokens": 10, "output_tokens": 20, "total_tokens": 30,
                      "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}}}


def chat_answer(model: str, text: str) -> dict:
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                         "message": {"role": "assistant", "content": text, "refusal": None}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30}}


class FakeOpenAI:
    def __init__(self) -> None:
        self.mode = "ok"  # ok | stall | fail
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 -- http.server's naming
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {"raw": raw.decode(errors="replace")}
                with fake.lock:
                    fake.seen.append(Seen(self.path, body))
                    mode = fake.mode
                if mode == "stall":
                    fake.release.wait(30)
                    return self.answer(200, {})
                if mode == "fail":
                    return self.answer(500, {"error": {"message": "the model is down", "type": "server_error"}})
                text = json.dumps(TRIAGE)
                if self.path.endswith("/responses"):
                    return self.answer(200, responses_answer(body.get("model", "?"), text))
                if self.path.endswith("/chat/completions"):
                    return self.answer(200, chat_answer(body.get("model", "?"), text))
                return self.answer(404, {"error": {"message": f"no route {self.path}"}})

            def answer(self, status: int, data: dict) -> None:
                payload = json.dumps(data).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (stalled mode)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def model_calls(self) -> list[Seen]:
        with self.lock:
            return [seen for seen in self.seen if seen.path.endswith(("/responses", "/chat/completions"))]

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
