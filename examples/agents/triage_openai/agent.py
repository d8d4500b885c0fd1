"""The triage example with an LLM: the OpenAI Agents SDK writes the summary, root cause and remediation.

Same HTTP contract as ``examples/agents/triage/agent.py`` (which this file reuses for the
server, the SDK calls and the fallback): a batch of flat records in, one output sent back with
``send_output`` under the batch's request id. The LLM is used only when OPENAI_API_KEY is set;
without it, or when the model call fails, the rule-based triage answers instead, so the
pipeline never stalls on the LLM.

    pip install -r examples/agents/triage_openai/requirements.txt
    OPENAI_API_KEY=sk-... GLASSFLOW_API_KEY=gfk_... python examples/agents/triage_openai/agent.py
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
from pathlib import Path
from typing import Literal

logger = logging.getLogger("triage-openai-agent")

_spec = importlib.util.spec_from_file_location(
    "triage_agent", Path(__file__).resolve().parent.parent / "triage" / "agent.py")
rules = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rules)

MODEL = os.environ.get("OPENAI_MODEL", "gpt-4.1-mini")
MAX_RECORDS = 200  # keep the prompt bounded; the batch size of the pipeline is usually far smaller
INSTRUCTIONS = """You are an on-call SRE. You receive a batch of OpenTelemetry log records as JSON
(resourceAttributes["service.name"] names the service). Group them by service, find the most severe
problem, and answer with a one-sentence summary, a severity (critical, error, warning or info), the most
likely root cause and a concrete remediation. Be specific and brief; do not invent facts that are not
in the records."""


def llm_triage_factory():
    """Return an ``analyse(records) -> payload`` that asks the model, falling back to the rules."""
    from agents import Agent, Runner
    from pydantic import BaseModel

    class Triage(BaseModel):
        summary: str
        severity: Literal["critical", "error", "warning", "info"]
        root_cause: str
        remediation: str

    agent = Agent(name="GlassFlow triage", instructions=INSTRUCTIONS, model=MODEL, output_type=Triage)

    def analyse(records: list[dict]) -> dict:
        baseline = rules.triage(records)  # per-service counts are computed, not guessed
        try:
            result = Runner.run_sync(agent, json.dumps(records[:MAX_RECORDS], default=str))
        except Exception:  # noqa: BLE001  any model/API failure: answer with the rules rather than stall
            logger.exception("the model call failed; using the rule-based triage for this batch")
            return {**baseline, "engine": "rules"}
        return {**result.final_output.model_dump(), "services": baseline["services"], "engine": MODEL}

    return analyse


if __name__ == "__main__":
    if os.environ.get("OPENAI_API_KEY"):
        rules.main(llm_triage_factory(), name=f"triage agent ({MODEL})")
    else:
        logging.basicConfig(level=logging.INFO)
        logger.warning("OPENAI_API_KEY is not set: running the rule-based triage instead")
        rules.main()
