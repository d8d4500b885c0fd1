"""End to end: the OpenAI example agent (its own process, as its README runs it) against a fake
OpenAI-compatible server on loopback, through both APIs, with a healthy, a stalled and a failing model.

What it checks is what the pipeline sees: 200 only after the structured output was sent under
the batch's request id; 503 with Retry-After (in time for the pipeline's deadline) when the model
stalls or fails, so the batch is retried; or, with TRIAGE_FALLBACK=rules, the rules' answer
marked as a fallback. Tracing never leaves the machine unless asked.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support.browser import free_port
from tests.support.deadline import wait_for
from tests.support.fake_openai import TRIAGE, FakeOpenAI
from tests.support.processes import start_example_agent
from tests.support.sink_harness import StubServer

pytest.importorskip("agents", reason="openai-agents is pinned in requirements-dev.txt")

RECORDS = [{"resourceAttributes": {"service.name": "api"}, "severityNumber": 17, "severityText": "ERROR",
            "body": "Connection refused: database pool exhausted"},
           {"resourceAttributes": {"service.name": "web"}, "severityNumber": 9, "body": "ok"}]


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    yield fake
    fake.stop()


@pytest.fixture
def receiver() -> Iterator[StubServer]:
    stub = StubServer().up()
    yield stub
    stub.down()


@pytest.fixture
def start_agent(fake_openai, receiver, tmp_path):
    processes = []

    def start(api: str, **env: str) -> str:
        port = free_port()
        environment = {"PATH": "/usr/bin:/bin", "OPENAI_API_KEY": "sk-fake", "OPENAI_BASE_URL": fake_openai.url,
                       "OPENAI_MODEL": "fake-model", "OPENAI_API": api, "OPENAI_TIMEOUT": "1",
                       "OPENAI_MAX_RETRIES": "0", "GLASSFLOW_API_KEY": "gfk_test",
                       "GLASSFLOW_ENDPOINT": receiver.url(""), "AGENT_PORT": str(port), **env}
        process, url = start_example_agent("examples/agents/triage_openai/agent.py", environment, port,
                                           tmp_path / f"agent-{port}.log")
        processes.append(process)
        return url

    yield start
    for process in processes:
        process.terminate()
        process.wait(10)


def post(url: str, request_id: str, deadline_ms: int = 5000) -> httpx.Response:
    return httpx.post(url, json=RECORDS, timeout=10,
                      headers={"X-Request-ID": request_id, "X-Project-ID": "p1", "X-Deadline-Ms": str(deadline_ms)})


def outputs(receiver: StubServer) -> list[dict]:
    return [request.json() for request in receiver.received() if request.path == "/internal/agent-output"]


@pytest.mark.parametrize(("api", "path"), [("responses", "/v1/responses"),
                                           ("chat_completions", "/v1/chat/completions")])
def test_every_batch_gets_the_models_structured_answer_on_either_api(start_agent, fake_openai, receiver, api, path):
    url = start_agent(api)
    for n in range(10):  # sequential batches share one event loop and one connection pool
        response = post(url, f"batch-{n}")
        assert response.status_code == 200, response.text
    sent = outputs(receiver)
    assert [output["request_id"] for output in sent] == [f"batch-{n}" for n in range(10)]
    for output in sent:
        assert output["payload"] == {**TRIAGE, "engine": "fake-model", "services": output["payload"]["services"]}
        assert output["payload"]["services"]["api"]["severity"] == "error", "counts come from the rules"
    calls = fake_openai.model_calls()
    assert len(calls) == 10 and {call.path for call in calls} == {path}
    if api == "responses":
        assert calls[0].body["text"]["format"]["type"] == "json_schema", "structured output"
    else:
        assert calls[0].body["response_format"]["type"] == "json_schema", "structured output"
    assert "pool exhausted" in str(calls[0].body), "the records are the model's input"
    assert {seen.path for seen in fake_openai.seen} == {path}, "no tracing requests unless OPENAI_TRACING=1"


@pytest.mark.parametrize("api", ["responses", "chat_completions"])
def test_a_stalled_model_answers_503_before_the_pipelines_deadline_and_the_retry_succeeds(
        start_agent, fake_openai, receiver, api):
    url = start_agent(api, OPENAI_TIMEOUT="4")
    assert post(url, "warm-up").status_code == 200  # an agent in service has answered before
    fake_openai.mode = "stall"
    started = time.monotonic()
    response = post(url, "stalled", deadline_ms=2000)
    elapsed = time.monotonic() - started
    assert response.status_code == 503 and response.headers["retry-after"]
    assert elapsed < 2.0, f"answered after {elapsed:.2f}s, after the pipeline would have given up"
    assert [output["request_id"] for output in outputs(receiver)] == ["warm-up"]
    fake_openai.mode = "ok"
    fake_openai.release.set()  # the stalled call ends (with an unusable answer) and the retry calls again
    retry = wait_for(lambda: (r := post(url, "stalled")).status_code == 200 and r, timeout=15,
                     message="a retry of the batch succeeds once the model answers")
    assert retry.json()["requestId"] == "stalled"
    assert [output["request_id"] for output in outputs(receiver)] == ["warm-up", "stalled"], "one output per batch"


@pytest.mark.parametrize("api", ["responses", "chat_completions"])
def test_a_failing_model_answers_503_so_the_pipeline_retries(start_agent, fake_openai, receiver, api):
    url = start_agent(api)
    fake_openai.mode = "fail"
    response = post(url, "failing")
    assert response.status_code == 503 and response.headers["retry-after"]
    assert "the model call failed" in response.json()["error"] and outputs(receiver) == []
    fake_openai.mode = "ok"
    assert post(url, "failing").status_code == 200
    assert outputs(receiver)[0]["payload"]["engine"] == "fake-model"


def test_with_the_rules_fallback_a_failing_model_gives_a_marked_rules_answer(start_agent, fake_openai, receiver):
    url = start_agent("chat_completions", TRIAGE_FALLBACK="rules")
    fake_openai.mode = "fail"
    response = post(url, "fallback")
    assert response.status_code == 200
    [output] = outputs(receiver)
    payload = output["payload"]
    assert payload["engine"] == "rules" and payload["fallback"] is True
    assert "500" in payload["fallback_reason"] and payload["severity"] == "error"
