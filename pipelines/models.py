"""One pipeline per project: which records go to the agent, in what shape, and how delivery retries."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from pipelines.stages.config import DEFAULT_SIGNALS, PIPELINE_NUMBERS
from projects.models import Project


def default_signals() -> list[str]:
    return list(DEFAULT_SIGNALS)


def _number(name: str, field: type[models.Field] = models.PositiveIntegerField) -> models.Field:
    """The field of a numeric setting, its default and bounds from ``PIPELINE_NUMBERS`` (no default: nullable)."""
    setting = PIPELINE_NUMBERS[name]
    validators = [MinValueValidator(setting.minimum), MaxValueValidator(setting.maximum)]
    if setting.default is None:
        return field(null=True, blank=True, validators=validators)
    return field(default=setting.default, validators=validators)


class Pipeline(models.Model):
    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="pipeline", primary_key=True)
    enabled = models.BooleanField(default=False)
    filter = models.TextField(blank=True, default="", help_text="expr-lang expression yielding a bool; empty = all")
    # [{"expression": str, "output_name": str, "output_type": one of stages.config.OUTPUT_TYPES}, ...] validated by
    # pipelines.validation.clean_transforms before it is stored.
    transforms = models.JSONField(default=list, blank=True)
    agent_endpoint = models.URLField(max_length=2000, blank=True, default="")
    agent_headers = models.JSONField(default=dict, blank=True)
    batch_size = _number("batch_size")
    batch_max_wait_ms = _number("batch_max_wait_ms")
    signals = models.JSONField(default=default_signals)
    retry_initial_backoff_ms = _number("retry_initial_backoff_ms")
    retry_max_backoff_ms = _number("retry_max_backoff_ms")
    # Transient agent failures are retried while the stream holds the records; set, a batch failing
    # transiently for this many minutes goes to the dead letters instead (null = never).
    dead_letter_after_minutes = _number("dead_letter_after_minutes")
    request_timeout_ms = _number("request_timeout_ms")
    # Upper bound of the adaptive concurrency (batches in flight to the agent per worker); 1 keeps order.
    max_concurrency = _number("max_concurrency")
    # Optional cost guards: over them records wait in the stream (nothing is dropped).
    max_batches_per_minute = _number("max_batches_per_minute")
    max_records_per_day = _number("max_records_per_day", models.PositiveBigIntegerField)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"pipeline of {self.project}"
