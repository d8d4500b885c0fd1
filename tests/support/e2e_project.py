"""One project set up through the real control-plane API, and look-ups of its JetStream state.

Every change goes through ``/api/v1/`` in a transactional test, so the control plane publishes the
configuration document to ``gf-ai-config`` after each commit, exactly as in production, and the
data-plane processes pick it up from there.
"""

from __future__ import annotations

import json
from typing import Any

import nats.js.errors
from rest_framework.test import APIClient

from projects import streams
from tests.support.clients import Js, client_for
from tests.support.deadline import wait_for

AGENT_TOKEN = "Bearer agent-secret-e2e"
# Small backoffs keep the fault tests short; outages pause (no dead_letter_after), so only a 4xx dead-letters.
FAST_RETRIES = {"initial_backoff_ms": 20, "max_backoff_ms": 200}


class ProjectApi:
    """A project of the test's user: its id, one API key, and the API calls the tests need."""

    def __init__(self, user, name: str, js: Js):
        self.user = user
        self.client: APIClient = client_for(user)
        self.js = js
        created = self.call("post", "/api/v1/projects/", {"name": name}, expect=201)
        self.id: str = str(created["id"])
        key = self.call("post", self.path("keys/"), {"name": "otel-sdk"}, expect=201)
        self.key: str = key["key"]
        self.key_id: int = key["id"]
        self.deleted = False

    def path(self, suffix: str = "") -> str:
        return f"/api/v1/projects/{self.id}/{suffix}"

    def call(self, method: str, path: str, data: Any = None, expect: int = 200) -> Any:
        response = getattr(self.client, method)(path, data, format="json")
        assert response.status_code == expect, f"{method.upper()} {path}: {response.status_code} {response.content!r}"
        return response.json() if response.content else None

    def configure_pipeline(self, agent_url: str, **settings: Any) -> dict:
        body = {"enabled": True, "filter": "", "transforms": [], "agent_endpoint": agent_url,
                "agent_headers": {"Authorization": AGENT_TOKEN}, "batch_size": 10, "batch_max_wait_ms": 100,
                "signals": ["logs"], "request_timeout_ms": 3000, "retry_policy": FAST_RETRIES, **settings}
        return self.call("put", self.path("pipeline/"), body)

    def add_sink(self, name: str, kind: str, config: dict) -> dict:
        return self.call("post", self.path("sinks/"), {"name": name, "kind": kind, "config": config}, expect=201)

    def add_webhook(self, webhook: Any, name: str = "ops-webhook") -> dict:
        """A POST webhook sink to the stand-in ``webhook``, returned once the sink worker consumes for it."""
        hook = self.add_sink(name, "webhook", {"url": webhook.url, "method": "POST", "headers": {}})
        self.wait_for_sink_consumers(hook["id"])
        return hook

    def sink(self, sink_id: str) -> dict:
        return self.call("get", self.path(f"sinks/{sink_id}/"))

    def dead_letters(self, stage: str | None = None) -> list[dict]:
        query = f"?stage={stage}&limit=200" if stage else "?limit=200"
        return self.call("get", self.path(f"deadletters/{query}"))["results"]

    def replay(self, seq: int) -> dict:
        return self.call("post", self.path(f"deadletters/{seq}/replay/"))

    def stats(self) -> dict:
        return self.call("get", self.path("stats/"))

    def delete(self) -> None:
        if not self.deleted:
            self.call("delete", self.path(), expect=204)
            self.deleted = True

    # ---- JetStream state (what the workers did, seen from the server)

    @property
    def raw_stream(self) -> str:
        return streams.raw_stream(self.id)

    @property
    def output_stream(self) -> str:
        return streams.output_stream(self.id)

    def consumer(self, stream: str, name: str):
        """``ConsumerInfo``, or None while the consumer does not exist."""

        async def info(js):
            try:
                return await js.consumer_info(stream, name)
            except nats.js.errors.NotFoundError:
                return None

        return self.js.run(info)

    def stored(self, stream: str) -> int:
        async def count(js):
            return (await js.stream_info(stream)).state.messages

        return self.js.run(count)

    def wait_for_sink_consumers(self, *sink_ids: str, timeout: float = 15.0) -> None:
        """A new sink starts at *new* outputs: nothing may be sent before its consumer exists."""
        wait_for(lambda: all(self.consumer(self.output_stream, f"sink-{sink_id}") for sink_id in sink_ids),
                 timeout=timeout, interval=0.1, message=f"the sink worker created consumers for {sink_ids}")

    def settled(self, stream: str, name: str) -> bool:
        """True once the consumer has nothing pending and nothing waiting for an ack."""
        info = self.consumer(stream, name)
        return info is not None and info.num_pending == 0 and info.num_ack_pending == 0

    def wait_settled(self, stream: str, name: str, timeout: float = 30.0) -> None:
        wait_for(lambda: self.settled(stream, name), timeout=timeout, interval=0.1,
                 message=f"consumer {name} on {stream} has everything acknowledged")

    def worker_stats(self, worker_id: str) -> dict | None:
        """The pipeline worker's counters for this project from KV ``gf-ai-stats``."""
        async def read(js):
            try:
                kv = await js.key_value("gf-ai-stats")
                return json.loads((await kv.get(f"{self.id}.pipeline.{worker_id}")).value)
            except (nats.js.errors.BucketNotFoundError, nats.js.errors.KeyNotFoundError, nats.js.errors.NotFoundError):
                return None

        return self.js.run(read)
