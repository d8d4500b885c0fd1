"""AgentApp served by uvicorn on loopback, POSTed to over real HTTP, sending outputs to a recording server."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import uvicorn
from glassflow_ai import AgentApp, BadBatchError, TransientError

BATCH = [{"body": "db pool exhausted", "severityText": "ERROR"}, {"body": "ok", "severityText": "INFO"}]


class Served:
    """An ASGI app under uvicorn in a thread, on a free loopback port."""

    def __init__(self, app) -> None:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)

    def post(self, body=BATCH, request_id="req-1", deadline_ms=None, path="/", **headers) -> httpx.Response:
        headers = {"X-Request-ID": request_id, "X-Project-ID": "p1", **headers}
        if deadline_ms is not None:
            headers["X-Deadline-Ms"] = str(deadline_ms)
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return httpx.post(self.url + path, content=data, headers=headers, timeout=10)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def serve():
    started = []

    def start(app) -> Served:
        started.append(Served(app))
        return started[-1]

    yield start
    for served in started:
        served.stop()


def outputs(server) -> list[dict]:
    return [request.json() for request in server.requests if request.path == "/internal/agent-output"]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_batch_becomes_one_output_sent_under_its_request_id(serve, server, kind):
    def triage(batch):
        return {"summary": f"{len(batch.records)} records", "project": batch.project_id}

    async def triage_async(batch):
        return triage(batch)

    agent = serve(AgentApp(triage if kind == "sync" else triage_async, api_key="gfk_t", endpoint=server.url))
    response = agent.post()
    assert response.status_code == 200 and response.json() == {"ok": True, "requestId": "req-1", "output": True}
    assert outputs(server) == [{"payload": {"summary": "2 records", "project": "p1"}, "request_id": "req-1"}]
    assert server.requests[0].headers["x-api-key"] == "gfk_t"


def test_a_retried_batch_returns_the_same_answer_and_sends_its_output_once(serve, server):
    calls = []
    agent = serve(AgentApp(lambda batch: calls.append(1) or {"n": len(calls)}, api_key="k", endpoint=server.url))
    first, second = agent.post(), agent.post()
    assert first.status_code == second.status_code == 200 and first.json() == second.json()
    assert len(calls) == 1 and len(outputs(server)) == 1
    assert agent.post(request_id="req-2").status_code == 200 and len(calls) == 2, "another batch runs anew"


def test_work_past_the_deadline_answers_503_in_time_and_the_retry_gets_its_result(serve, server):
    calls = []

    async def slow(batch):
        calls.append(1)
        await asyncio.sleep(0.8)
        return {"summary": "late but fine"}

    agent = serve(AgentApp(slow, api_key="k", endpoint=server.url))
    started = time.monotonic()
    response = agent.post(deadline_ms=700)
    elapsed = time.monotonic() - started
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    assert elapsed < 0.7, f"answered after {elapsed:.2f}s: the pipeline would have timed out first"
    retry = agent.post(deadline_ms=2000)  # joins the run that is still working
    assert retry.status_code == 200 and len(calls) == 1
    assert outputs(server) == [{"payload": {"summary": "late but fine"}, "request_id": "req-1"}]


def test_concurrent_posts_of_one_batch_share_one_run(serve, server):
    calls = []

    def slow(batch):
        calls.append(1)
        time.sleep(0.3)
        return {"ok": 1}

    agent = serve(AgentApp(slow, api_key="k", endpoint=server.url))
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda _: agent.post(), range(3)))
    assert [a.status_code for a in answers] == [200, 200, 200] and len(calls) == 1 and len(outputs(server)) == 1


def test_at_most_max_concurrency_batches_run_at_once(serve, server):
    running, peak, lock = [0], [0], threading.Lock()

    def slow(batch):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.2)
        with lock:
            running[0] -= 1
        return {"ok": 1}

    agent = serve(AgentApp(slow, api_key="k", endpoint=server.url, max_concurrency=2, max_queue=10))
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda i: agent.post(request_id=f"r{i}"), range(6)))
    assert all(a.status_code == 200 for a in answers) and peak[0] == 2


def test_batches_beyond_the_queue_are_turned_away_with_503(serve, server):
    started, release = threading.Event(), threading.Event()

    def hold(batch):
        started.set()
        release.wait(5)

    agent = serve(AgentApp(hold, api_key="k", endpoint=server.url, max_concurrency=1, max_queue=0))
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(agent.post, request_id="a")
        assert started.wait(5), "the first batch took the only slot"
        busy = agent.post(request_id="b")
        release.set()
        assert first.result().status_code == 200
    assert busy.status_code == 503 and "busy" in busy.json()["error"] and busy.headers["retry-after"] == "1"


def test_a_transient_failure_is_503_with_retry_after_and_runs_again_on_retry(serve, server):
    calls = []

    def flaky(batch):
        calls.append(1)
        if len(calls) == 1:
            raise TransientError("model overloaded", retry_after=7)
        return {"summary": "fine"}

    agent = serve(AgentApp(flaky, api_key="k", endpoint=server.url))
    response = agent.post()
    assert response.status_code == 503 and response.headers["retry-after"] == "7"
    assert response.json() == {"error": "model overloaded"}
    assert agent.post().status_code == 200 and len(calls) == 2 and len(outputs(server)) == 1


@pytest.mark.parametrize(("error", "status"), [(TimeoutError("model timed out"), 503),
                                               (ConnectionError("refused"), 503),
                                               (BadBatchError("no records with a body"), 422),
                                               (BadBatchError("too big", status=413), 413),
                                               (KeyError("service.name"), 500)])
def test_exceptions_map_to_the_status_the_pipeline_acts_on(serve, server, error, status):
    def fail(batch):
        raise error

    response = serve(AgentApp(fail, api_key="k", endpoint=server.url)).post()
    assert response.status_code == status and response.json()["error"]
    assert ("retry-after" in response.headers) == (status == 503)
    assert outputs(server) == []


def test_a_body_that_is_not_a_batch_is_400(serve, server):
    agent = serve(AgentApp(lambda batch: {"x": 1}, api_key="k", endpoint=server.url))
    response = agent.post(body=b'{"not": "an array"}')
    assert response.status_code == 400 and "JSON array" in response.json()["error"]


def test_when_the_receiver_fails_the_retry_resends_the_output_without_running_again(serve, server):
    calls = []
    server.reply(503, times=3)  # the client's first attempt and its two retries
    agent = serve(AgentApp(lambda batch: calls.append(1) or {"summary": "x"}, api_key="k", endpoint=server.url))
    response = agent.post()
    assert response.status_code == 503 and "could not send the output" in response.json()["error"]
    assert agent.post().status_code == 200 and len(calls) == 1
    assert [o["payload"] for o in outputs(server)] == [{"summary": "x"}] * 4


def test_returning_none_sends_nothing(serve, server):
    response = serve(AgentApp(lambda batch: None, api_key="k", endpoint=server.url)).post()
    assert response.status_code == 200 and response.json()["output"] is False and outputs(server) == []


def test_without_a_key_it_answers_503_until_the_pipeline_sends_one_in_a_header(serve, server):
    agent = serve(AgentApp(lambda batch: {"x": 1}, endpoint=server.url))
    missing = agent.post()
    assert missing.status_code == 503 and "X-GlassFlow-Key" in missing.json()["error"]
    assert agent.post(**{"X-GlassFlow-Key": "gfk_header"}).status_code == 200
    assert server.requests[-1].headers["x-api-key"] == "gfk_header"


def test_it_works_mounted_inside_another_asgi_app(serve, server):
    agent = AgentApp(lambda batch: {"mounted": True}, api_key="k", endpoint=server.url)

    async def site(scope, receive, send):
        if scope["type"] == "http" and scope["path"].startswith("/agent"):
            return await agent({**scope, "root_path": "/agent", "path": scope["path"][6:] or "/"}, receive, send)
        if scope["type"] == "lifespan":
            return await agent(scope, receive, send)
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    served = serve(site)
    assert served.post(path="/agent/").status_code == 200
    assert served.post(path="/elsewhere").status_code == 404
    assert httpx.get(served.url + "/agent/").json() == {"ok": True, "agent": "agent"}
    assert outputs(server)[0]["payload"] == {"mounted": True}


@pytest.mark.parametrize(("header", "expected"), [(None, 30.0), ("10000", 9.0), ("2000", 1.5), ("1000", 0.5),
                                                  ("100", 0.05), ("bogus", 30.0), ("100000", 30.0)])
def test_the_deadline_ends_before_the_pipelines_timeout(header, expected):
    assert AgentApp(lambda batch: None)._deadline(header) == pytest.approx(expected)


def test_serve_runs_a_plain_function_standalone(server):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    code = ("from glassflow_ai import serve\n"
            f"serve(lambda batch: {{'n': len(batch.records)}}, port={port}, api_key='k', endpoint='{server.url}')\n")
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None and time.monotonic() < deadline, "serve() did not come up"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        response = httpx.post(f"http://127.0.0.1:{port}/", json=BATCH, headers={"X-Request-ID": "s1"}, timeout=10)
        assert response.status_code == 200
        assert outputs(server) == [{"payload": {"n": 2}, "request_id": "s1"}]
    finally:
        process.terminate()
        process.wait(10)
