"""``AgentApp``: serve an agent function behind HTTP for a GlassFlow pipeline (a plain ASGI app).

The pipeline POSTs a batch (JSON array of records) with ``X-Request-ID`` (the same on every retry
of the batch), ``X-Project-ID`` and ``X-Deadline-Ms`` (how long it waits for an answer). The app
parses the batch, runs your function (``def`` in a thread pool, ``async def`` on the loop) with at
most ``max_concurrency`` batches at once, sends the returned payload with ``send_output`` under
the batch's request id, and answers:

- 200 once the output was accepted (or the function returned None: nothing to send);
- 503 + Retry-After when the work did not finish before the deadline (a little shorter than the
  pipeline's timeout, so the pipeline hears an answer instead of timing out), when the function
  raised ``TransientError`` (or TimeoutError / ConnectionError), when all slots are busy, or when
  the receiver could not take the output: the pipeline retries the batch;
- 4xx when the batch is bad (``AgentRequestError`` on parsing, ``BadBatchError`` from your
  function): the pipeline dead-letters it;
- 500 for any other exception (retried by the pipeline, then dead-lettered).

Idempotent on ``X-Request-ID``: a retry that arrives while the first run is still working waits
for that same run (work that outlived a deadline is not thrown away), a retry after success gets
the stored answer, and a payload already computed is sent again rather than computed again, so a
retried batch yields one output. Mount it in any ASGI app (it answers every path it is given:
POST = a batch, GET = health) or run it with ``serve()`` (uvicorn).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import math
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Union

from ._errors import AgentRequestError, AuthenticationError, GlassFlowError, RequestError
from .agent import AgentRequest, _header, parse_agent_request
from .client import AsyncGlassFlow

logger = logging.getLogger("glassflow_ai.server")

# Union and asyncio.TimeoutError (not X | Y, TimeoutError): the SDK supports Python 3.9 and 3.10.
Handler = Callable[[AgentRequest], Union[Any, Awaitable[Any]]]  # noqa: UP007


class TransientError(Exception):
    """Raise from your function when a retry may succeed (model overloaded, dependency down):
    the pipeline gets 503 with ``Retry-After: retry_after`` and sends the batch again."""

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BadBatchError(ValueError):
    """Raise from your function when this batch can never succeed: the pipeline gets ``status``
    (a 4xx, 422 by default) and dead-letters the batch with your message."""

    def __init__(self, message: str, status: int = 422) -> None:
        if not 400 <= status < 500 or status in (408, 429):
            raise ValueError("BadBatchError status must be a 4xx the pipeline does not retry")
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict
    retry_after: float | None = None

    @property
    def final(self) -> bool:
        """Stored for retries of the same request id: a success or a refusal, not a transient failure."""
        return self.status < 500


@dataclass
class _State:
    done: OrderedDict = field(default_factory=OrderedDict)      # request id -> final Answer
    running: dict = field(default_factory=dict)                 # request id -> asyncio.Task
    computed: OrderedDict = field(default_factory=OrderedDict)  # request id -> payload not yet sent


class AgentApp:
    """An ASGI app that runs ``handler(batch) -> payload`` for each batch the pipeline POSTs.

    ``api_key``: the project's key for ``send_output``; without it each batch must carry an
    ``X-GlassFlow-Key`` header (add it to the pipeline's agent headers).
    """

    def __init__(
        self,
        handler: Handler,
        *,
        api_key: str | None = None,
        endpoint: str = "http://localhost:4318",
        max_concurrency: int = 8,
        max_queue: int | None = None,
        deadline_seconds: float = 30.0,
        run_timeout: float = 300.0,
        remember: int = 2048,
        max_body_bytes: int = 32 * 1024 * 1024,
        name: str = "agent",
        glassflow: AsyncGlassFlow | None = None,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.handler = handler
        self.is_async = inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
            getattr(handler, "__call__", None))  # noqa: B004 -- an object whose __call__ is async
        self.api_key = api_key or None
        self.endpoint = endpoint
        self.max_concurrency = max_concurrency
        self.max_queue = max_concurrency if max_queue is None else max_queue
        self.deadline_seconds = deadline_seconds
        self.run_timeout = run_timeout
        self.remember = remember
        self.max_body_bytes = max_body_bytes
        self.name = name
        self._glassflow = glassflow
        self._clients: dict[str, AsyncGlassFlow] = {}
        self._slots: asyncio.Semaphore | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._state = _State()
        self.outputs_sent = 0
        self.runs_started = 0

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            if scope["method"] == "POST":
                await self._post(scope, receive, send)
            elif scope["method"] in ("GET", "HEAD"):
                await _respond(send, 200, {"ok": True, "agent": self.name})
            else:
                await _respond(send, 405, {"error": "POST a batch, or GET for health"})

    async def _lifespan(self, receive: Callable, send: Callable) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def aclose(self) -> None:
        """Cancel runs still working and close the HTTP clients (called on ASGI lifespan shutdown)."""
        for task in list(self._state.running.values()):
            task.cancel()
        for client in self._clients.values():
            await client.close()
        self._clients.clear()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    async def _post(self, scope: dict, receive: Callable, send: Callable) -> None:
        headers = dict(scope.get("headers") or [])
        body = await _read_body(receive, self.max_body_bytes)
        if body is None:
            return await _respond(send, 413, {"error": f"batch larger than {self.max_body_bytes} bytes"})
        try:
            batch = parse_agent_request(body, headers)
        except AgentRequestError as exc:
            return await _respond(send, 400, {"error": str(exc)})
        if batch.request_id is None:  # not from a pipeline: nothing to de-duplicate on
            batch = AgentRequest(batch.records, batch.project_id, f"local-{uuid.uuid4()}")
        glassflow = self._client_for(_header(headers, "X-GlassFlow-Key"))
        if glassflow is None:
            return await _respond(send, 503, {"error": "no API key: pass api_key (GLASSFLOW_API_KEY) to the agent "
                                                       "or add an X-GlassFlow-Key header to the pipeline's agent "
                                                       "headers"}, retry_after=5)
        answer = await self.answer(batch, glassflow, self._deadline(_header(headers, "X-Deadline-Ms")))
        await _respond(send, answer.status, answer.body, retry_after=answer.retry_after)

    def _deadline(self, header: str | None) -> float:
        """Seconds we may take: the configured deadline, cut to finish before the pipeline gives up."""
        try:
            budget = float(header) / 1000 if header else math.inf
        except ValueError:
            budget = math.inf
        if not math.isfinite(budget) or budget <= 0:
            return self.deadline_seconds
        # Leave time for our answer to reach the pipeline, and for a busy event loop to notice the
        # deadline late: 10 % of the budget, at least 500 ms.
        return max(0.05, min(self.deadline_seconds, budget - max(0.5, budget * 0.1)))

    def _client_for(self, header_key: str | None) -> AsyncGlassFlow | None:
        if self._glassflow is not None:
            return self._glassflow
        key = self.api_key or header_key
        if not key:
            return None
        if key not in self._clients:
            if len(self._clients) >= 16:  # keys from headers: keep a few clients, not one per typo
                self._clients.pop(next(iter(self._clients)))
            # Few, short retries: the pipeline retries the whole batch, with its own backoff.
            self._clients[key] = AsyncGlassFlow(key, self.endpoint, timeout=5.0, max_retries=2)
        return self._clients[key]

    async def answer(self, batch: AgentRequest, glassflow: AsyncGlassFlow, deadline: float) -> Answer:
        """The answer for one POST of ``batch``, joining a run of the same request id if there is one."""
        state, request_id = self._state, batch.request_id
        if request_id in state.done:
            state.done.move_to_end(request_id)
            return state.done[request_id]
        task = state.running.get(request_id)
        if task is None:
            if len(state.running) >= self.max_concurrency + self.max_queue:
                return Answer(503, {"error": f"the agent is busy with {len(state.running)} batches; retry later"},
                              retry_after=1)
            task = asyncio.get_running_loop().create_task(self._run(batch, glassflow))
            state.running[request_id] = task
            task.add_done_callback(lambda done: self._finished(request_id, done))
        try:
            # shield: a deadline (or the client going away) ends this answer, not the work.
            return await asyncio.wait_for(asyncio.shield(task), deadline)
        except asyncio.TimeoutError:  # noqa: UP041
            return Answer(503, {"error": f"the agent did not finish within {deadline * 1000:.0f} ms; it keeps "
                                         "working and a retry of this batch gets the result"}, retry_after=1)

    def _finished(self, request_id: str, task: asyncio.Task) -> None:
        self._state.running.pop(request_id, None)
        if task.cancelled() or task.exception() is not None:
            return
        answer = task.result()
        if answer.final:
            _remember(self._state.done, request_id, answer, self.remember)

    async def _run(self, batch: AgentRequest, glassflow: AsyncGlassFlow) -> Answer:
        request_id, computed = batch.request_id, self._state.computed
        if request_id not in computed:
            try:
                payload = await self._call_handler(batch)
            except TransientError as exc:
                return Answer(503, {"error": str(exc) or "transient failure"}, retry_after=exc.retry_after)
            except BadBatchError as exc:
                return Answer(exc.status, {"error": str(exc)})
            except (TimeoutError, asyncio.TimeoutError, ConnectionError) as exc:  # noqa: UP041
                logger.warning("batch %s: %s", request_id, exc or type(exc).__name__)
                return Answer(503, {"error": f"transient failure: {exc or type(exc).__name__}"}, retry_after=1)
            except Exception as exc:  # noqa: BLE001 -- the pipeline retries 500, then dead-letters the batch
                logger.exception("batch %s: the agent function failed", request_id)
                return Answer(500, {"error": f"the agent failed: {type(exc).__name__}: {exc}"})
            if payload is None:
                return Answer(200, {"ok": True, "requestId": request_id, "output": False})
            _remember(computed, request_id, payload, self.remember)
        payload = computed[request_id]
        try:
            await glassflow.send_output(payload, request_id=request_id)
        except TypeError as exc:
            computed.pop(request_id, None)
            return Answer(500, {"error": f"the agent's output is not JSON-serialisable: {exc}"})
        except AuthenticationError as exc:  # fixable on our side: the pipeline keeps the batch meanwhile
            return Answer(503, {"error": f"could not send the output: {exc}"}, retry_after=5)
        except RequestError as exc:
            computed.pop(request_id, None)
            return Answer(422, {"error": f"GlassFlow refused the output: {exc}"})
        except GlassFlowError as exc:
            return Answer(503, {"error": f"could not send the output: {exc}"}, retry_after=1)
        computed.pop(request_id, None)
        self.outputs_sent += 1
        return Answer(200, {"ok": True, "requestId": request_id, "output": True})

    async def _call_handler(self, batch: AgentRequest) -> Any:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_concurrency)
        async with self._slots:
            self.runs_started += 1
            async with _timeout(self.run_timeout):
                if self.is_async:
                    return await self.handler(batch)
                if self._executor is None:
                    self._executor = ThreadPoolExecutor(self.max_concurrency, thread_name_prefix="agent")
                return await asyncio.get_running_loop().run_in_executor(self._executor, self.handler, batch)


def _timeout(seconds: float):
    if hasattr(asyncio, "timeout"):
        return asyncio.timeout(seconds)
    return _WaitFor(seconds)  # Python < 3.11


class _WaitFor:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.handle = None

    async def __aenter__(self) -> None:
        task = asyncio.current_task()
        self.handle = asyncio.get_running_loop().call_later(self.seconds, task.cancel)

    async def __aexit__(self, kind, exc, tb) -> bool:
        self.handle.cancel()
        if kind is asyncio.CancelledError:
            raise asyncio.TimeoutError from None  # noqa: UP041
        return False


def _remember(cache: OrderedDict, key: str, value: Any, size: int) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > size:
        cache.popitem(last=False)


async def _read_body(receive: Callable, limit: int) -> bytes | None:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


async def _respond(send: Callable, status: int, body: dict, retry_after: float | None = None) -> None:
    data = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    if retry_after is not None:
        headers.append((b"retry-after", str(max(0, math.ceil(retry_after))).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


def serve(app: AgentApp | Handler, host: str = "127.0.0.1", port: int = 9000, **options: Any) -> None:
    """Run an AgentApp (or a handler, wrapped with ``options``) with uvicorn until interrupted."""
    try:
        import uvicorn
    except ImportError:
        raise ImportError("serve() needs uvicorn: pip install 'glassflow-ai[serve]' "
                          "(or mount the AgentApp in your own ASGI server)") from None
    if not isinstance(app, AgentApp):
        app = AgentApp(app, **options)
    uvicorn.run(app, host=host, port=port, log_level="info", lifespan="on")
