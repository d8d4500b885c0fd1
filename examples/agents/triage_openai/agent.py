"""The triage example with an LLM: the OpenAI Agents SDK writes the summary, root cause and remediation.

Same HTTP contract as ``examples/agents/triage/agent.py`` (reused for the rules, the webhook
inbox and serving): the SDK's AgentApp receives a batch, calls ``LLMTriage`` and sends the
output under the batch's request id. Everything runs on uvicorn's one event loop (``async``
handler, ``Runner.run``), so the Agents SDK's HTTP connections are never shared across loops.

Settings (environment):

| variable | default | meaning |
|---|---|---|
| OPENAI_API_KEY | (required for the LLM) | without it the rules answer, and say so at start |
| OPENAI_BASE_URL | OpenAI | any OpenAI-compatible server (vLLM, Ollama, a gateway) |
| OPENAI_MODEL | gpt-4.1-mini | model name |
| OPENAI_API | responses | ``responses`` or ``chat_completions`` (most compatible servers offer only this) |
| OPENAI_TIMEOUT | 20 | seconds for the whole model call (the SDK also answers before the pipeline's deadline) |
| OPENAI_MAX_RETRIES | 1 | retries inside the OpenAI client; the pipeline retries the batch after that |
| OPENAI_TRACING | off | ``1`` sends traces to OpenAI (off by default: your data stays where OPENAI_BASE_URL points) |
| TRIAGE_FALLBACK | off | ``rules``: when the model fails, answer with the rules, marked ``"fallback": true``; otherwise 503 and the pipeline retries |

    pip install -r examples/agents/triage_openai/requirements.txt     # from the repository root
    OPENAI_API_KEY=sk-... GLASSFLOW_API_KEY=gfk_... python examples/agents/triage_openai/agent.py
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

logger = logging.getLogger("triage-openai-agent")

_spec = importlib.util.spec_from_file_location(
    "triage_agent", Path(__file__).resolve().parent.parent / "triage" / "agent.py")
rules = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rules)
from glassflow_ai import AgentRequest, TransientError  # noqa: E402  (importable once rules set the path)

MAX_RECORDS = 200  # keep the prompt bounded; the batch size of the pipeline is usually far smaller
INSTRUCTIONS = """You are an on-call SRE. You receive a batch of OpenTelemetry log records as JSON
(resourceAttributes["service.name"] names the service). Group them by service, find the most severe
problem, and answer with a one-sentence summary, a severity (critical, error, warning or info), the most
likely root cause and a concrete remediation. Be specific and brief; do not invent facts that are not
in the records."""


@dataclass(frozen=True)
class Settings:
    api_key: str = ""
    base_url: str | None = None
    model: str = "gpt-4.1-mini"
    api: Literal["responses", "chat_completions"] = "responses"
    timeout: float = 20.0
    max_retries: int = 1
    tracing: bool = False
    fallback: bool = False

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        api = env.get("OPENAI_API", "responses").strip().lower().replace("-", "_")
        if api in ("chat", "chat_completions", "chatcompletions"):
            api = "chat_completions"
        if api not in ("responses", "chat_completions"):
            raise SystemExit(f"OPENAI_API={api!r}: use responses or chat_completions")
        fallback = env.get("TRIAGE_FALLBACK", "").strip().lower()
        if fallback not in ("", "off", "rules"):
            raise SystemExit(f"TRIAGE_FALLBACK={fallback!r}: use rules, or leave it unset")
        return cls(api_key=env.get("OPENAI_API_KEY", ""), base_url=env.get("OPENAI_BASE_URL") or None,
                   model=env.get("OPENAI_MODEL", "gpt-4.1-mini"), api=api,
                   timeout=float(env.get("OPENAI_TIMEOUT", "20")), max_retries=int(env.get("OPENAI_MAX_RETRIES", "1")),
                   tracing=env.get("OPENAI_TRACING", "").strip().lower() in ("1", "true", "on", "yes"),
                   fallback=fallback == "rules")


class LLMTriage:
    """``await LLMTriage(settings)(batch)`` -> the triage payload written by the model."""

    def __init__(self, settings: Settings):
        from agents import Agent, OpenAIChatCompletionsModel, OpenAIResponsesModel, set_tracing_disabled
        from openai import AsyncOpenAI
        from openai.types.chat import ChatCompletion
        from openai.types.responses import Response
        from pydantic import BaseModel

        # pydantic builds these models lazily, on the first answer: ~0.5 s of CPU on the event
        # loop, during which no deadline can fire. Build them now, before the first batch.
        for model in (Response, ChatCompletion):
            model.model_rebuild()

        class Triage(BaseModel):
            summary: str
            severity: Literal["critical", "error", "warning", "info"]
            root_cause: str
            remediation: str

        self.settings = settings
        set_tracing_disabled(not settings.tracing)
        # One client for the process: created here, used only on uvicorn's event loop.
        client = AsyncOpenAI(api_key=settings.api_key, base_url=settings.base_url, timeout=settings.timeout,
                             max_retries=settings.max_retries)
        model_class = OpenAIResponsesModel if settings.api == "responses" else OpenAIChatCompletionsModel
        self.agent = Agent(name="GlassFlow triage", instructions=INSTRUCTIONS,
                           model=model_class(model=settings.model, openai_client=client), output_type=Triage)

    async def __call__(self, batch: AgentRequest) -> dict[str, Any]:
        from agents import Runner

        baseline = rules.triage(batch.records)  # per-service counts are computed, not guessed
        try:
            async with asyncio.timeout(self.settings.timeout):
                result = await Runner.run(self.agent, json.dumps(batch.records[:MAX_RECORDS], default=str))
            answer = result.final_output.model_dump()
        except Exception as exc:  # noqa: BLE001 -- any model failure: retry the batch, or the marked fallback
            reason = _describe(exc, self.settings.timeout)
            if not self.settings.fallback:
                logger.warning("batch %s: %s; answering 503 so the pipeline retries", batch.request_id, reason)
                raise TransientError(f"the model call failed: {reason}", retry_after=_retry_after(exc)) from exc
            logger.warning("batch %s: %s; answering with the rules (TRIAGE_FALLBACK=rules)", batch.request_id, reason)
            return {**baseline, "engine": "rules", "fallback": True, "fallback_reason": reason}
        logger.info("batch %s: %d records -> %s (%s)", batch.request_id, len(batch.records), answer["severity"],
                    self.settings.model)
        return {**answer, "services": baseline["services"], "engine": self.settings.model}


def _describe(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, TimeoutError) or "Timeout" in type(exc).__name__:
        return f"no answer from the model within {timeout:g} s"
    status = getattr(exc, "status_code", None)
    return f"{type(exc).__name__}{f' {status}' if status else ''}: {str(exc)[:200]}"


def _retry_after(exc: BaseException) -> float:
    response = getattr(exc, "response", None)
    try:
        return max(1.0, float(response.headers.get("retry-after", "")))
    except (AttributeError, TypeError, ValueError):
        return 2.0


def main() -> None:
    settings = Settings.from_env()
    if not settings.api_key:
        logging.basicConfig(level=logging.INFO)
        logger.warning("OPENAI_API_KEY is not set: running the rule-based triage instead")
        return rules.main()
    rules.main(LLMTriage(settings), name=f"triage agent ({settings.model}, {settings.api} API)")


if __name__ == "__main__":
    main()
