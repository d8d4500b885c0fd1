"""The pipeline editor's form state: rows of transforms and headers read from and written to POST data.

Validation is not done here: ``to_payload`` produces the same document the REST API
accepts, and the view hands it to ``PipelineSerializer`` so the form and the API share
every rule. This module only knows the field names (``t-<n>-expression``, ``h-<n>-name``...)
and the row actions (add, remove, move up/down) that work without JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.http import QueryDict

from pipelines.models import Pipeline
from pipelines.stages.config import DEFAULT_OUTPUT_TYPE, DEFAULT_SIGNALS, OUTPUT_TYPES, SIGNALS, default
from projects.masking import mask_headers

MAX_ROWS = 50


@dataclass
class EditorState:
    enabled: bool = False
    filter: str = ""
    transforms: list[dict] = field(default_factory=list)
    agent_endpoint: str = ""
    headers: list[dict] = field(default_factory=list)
    batch_size: str = str(default("batch_size"))
    batch_max_wait_ms: str = str(default("batch_max_wait_ms"))
    signals: list[str] = field(default_factory=lambda: list(DEFAULT_SIGNALS))
    max_concurrency: str = str(default("max_concurrency"))
    max_batches_per_minute: str = ""
    max_records_per_day: str = ""
    dead_letter_after_minutes: str = ""
    records: str = ""

    @classmethod
    def from_pipeline(cls, pipeline: Pipeline) -> EditorState:
        """The saved pipeline, with header values masked (the form never carries stored secrets)."""
        return cls(
            enabled=pipeline.enabled,
            filter=pipeline.filter,
            transforms=[dict(row) for row in pipeline.transforms],
            agent_endpoint=pipeline.agent_endpoint,
            headers=[{"name": name, "value": value} for name, value in mask_headers(pipeline.agent_headers).items()],
            batch_size=str(pipeline.batch_size),
            batch_max_wait_ms=str(pipeline.batch_max_wait_ms),
            signals=list(pipeline.signals),
            max_concurrency=str(pipeline.max_concurrency),
            max_batches_per_minute=_blank_if_none(pipeline.max_batches_per_minute),
            max_records_per_day=_blank_if_none(pipeline.max_records_per_day),
            dead_letter_after_minutes=_blank_if_none(pipeline.dead_letter_after_minutes),
        )

    @classmethod
    def from_post(cls, data: QueryDict) -> EditorState:
        transforms = []
        for index in range(min(_count(data, "t-count"), MAX_ROWS)):
            row = {"expression": data.get(f"t-{index}-expression", ""),
                   "output_name": data.get(f"t-{index}-output_name", "").strip(),
                   "output_type": data.get(f"t-{index}-output_type", DEFAULT_OUTPUT_TYPE)}
            transforms.append(row)
        headers = [{"name": data.get(f"h-{index}-name", "").strip(), "value": data.get(f"h-{index}-value", "")}
                   for index in range(min(_count(data, "h-count"), MAX_ROWS))]
        return cls(
            enabled=data.get("enabled") in ("on", "true", "1"),
            filter=data.get("filter", ""),
            transforms=transforms,
            agent_endpoint=data.get("agent_endpoint", "").strip(),
            headers=headers,
            batch_size=data.get("batch_size", "").strip(),
            batch_max_wait_ms=data.get("batch_max_wait_ms", "").strip(),
            signals=[signal for signal in data.getlist("signals") if signal in SIGNALS],
            max_concurrency=data.get("max_concurrency", str(default("max_concurrency"))).strip(),
            max_batches_per_minute=data.get("max_batches_per_minute", "").strip(),
            max_records_per_day=data.get("max_records_per_day", "").strip(),
            dead_letter_after_minutes=data.get("dead_letter_after_minutes", "").strip(),
            records=data.get("records", ""),
        )

    def apply(self, action: str) -> bool:
        """Apply a row action such as ``add-transform`` or ``up-2``; False if ``action`` is not one."""
        verb, _, number = action.partition(":")
        index = int(number) if number.isdigit() else -1
        rows = self.headers if verb.endswith("header") else self.transforms
        if verb == "add-transform" and len(self.transforms) < MAX_ROWS:
            self.transforms.append({"expression": "", "output_name": "", "output_type": DEFAULT_OUTPUT_TYPE})
        elif verb == "add-header" and len(self.headers) < MAX_ROWS:
            self.headers.append({"name": "", "value": ""})
        elif verb in ("remove-transform", "remove-header") and 0 <= index < len(rows):
            rows.pop(index)
        elif verb == "up" and 0 < index < len(self.transforms):
            self.transforms[index - 1], self.transforms[index] = self.transforms[index], self.transforms[index - 1]
        elif verb == "down" and 0 <= index < len(self.transforms) - 1:
            self.transforms[index + 1], self.transforms[index] = self.transforms[index], self.transforms[index + 1]
        else:
            return False
        return True

    def meaningful_transforms(self) -> list[dict]:
        """Rows the user typed something into; wholly empty rows are ignored rather than reported."""
        return [row for row in self.transforms if row["expression"].strip() or row["output_name"]]

    def to_payload(self) -> dict:
        """The document PipelineSerializer validates (masked header values are restored by it)."""
        return {
            "enabled": self.enabled,
            "filter": self.filter,
            "transforms": self.meaningful_transforms(),
            "agent_endpoint": self.agent_endpoint,
            "agent_headers": {row["name"]: row["value"] for row in self.headers if row["name"] or row["value"]},
            "batch_size": self.batch_size,
            "batch_max_wait_ms": self.batch_max_wait_ms,
            "signals": self.signals,
            "max_concurrency": self.max_concurrency,
            # An empty box means "no limit".
            "max_batches_per_minute": self.max_batches_per_minute or None,
            "max_records_per_day": self.max_records_per_day or None,
            "dead_letter_after_minutes": self.dead_letter_after_minutes or None,
        }


def _blank_if_none(value: int | None) -> str:
    return "" if value is None else str(value)


def _count(data: QueryDict, key: str) -> int:
    value = data.get(key, "0")
    return int(value) if value.isdigit() else 0


OUTPUT_TYPE_CHOICES = OUTPUT_TYPES
SIGNAL_CHOICES = SIGNALS
