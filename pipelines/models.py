"""One pipeline per project: which records go to the agent, in what shape, and how delivery retries."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from projects.models import Project

SIGNALS = ("logs", "spans", "metrics")
OUTPUT_TYPES = ("string", "int", "int64", "float64", "bool")

BATCH_SIZE_MAX = 1000
BATCH_WAIT_MAX_MS = 60_000
MAX_CONCURRENCY_MAX = 10_000


def default_signals() -> list[str]:
    return ["logs"]


DEAD_LETTER_AFTER_MAX_MINUTES = 7 * 24 * 60


class Pipeline(models.Model):
    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="pipeline", primary_key=True)
    enabled = models.BooleanField(default=False)
    filter = models.TextField(blank=True, default="", help_text="expr-lang expression yielding a bool; empty = all")
    # [{"expression": str, "output_name": str, "output_type": one of OUTPUT_TYPES}, ...] validated by
    # pipelines.validation.clean_transforms before it is stored.
    transforms = models.JSONField(default=list, blank=True)
    agent_endpoint = models.URLField(max_length=2000, blank=True, default="")
    agent_headers = models.JSONField(default=dict, blank=True)
    batch_size = models.PositiveIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(BATCH_SIZE_MAX)])
    batch_max_wait_ms = models.PositiveIntegerField(
        default=1000, validators=[MinValueValidator(1), MaxValueValidator(BATCH_WAIT_MAX_MS)])
    signals = models.JSONField(default=default_signals)
    retry_initial_backoff_ms = models.PositiveIntegerField(
        default=500, validators=[MinValueValidator(1), MaxValueValidator(600_000)])
    retry_max_backoff_ms = models.PositiveIntegerField(
        default=30_000, validators=[MinValueValidator(1), MaxValueValidator(3_600_000)])
    # Transient agent failures are retried while the stream holds the records; set, a batch failing
    # transiently for this many minutes goes to the dead letters instead (null = never).
    dead_letter_after_minutes = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(DEAD_LETTER_AFTER_MAX_MINUTES)])
    request_timeout_ms = models.PositiveIntegerField(
        default=10_000, validators=[MinValueValidator(100), MaxValueValidator(300_000)])
    # Upper bound of the adaptive concurrency (batches in flight to the agent per worker); 1 keeps order.
    max_concurrency = models.PositiveIntegerField(
        default=64, validators=[MinValueValidator(1), MaxValueValidator(MAX_CONCURRENCY_MAX)])
    # Optional cost guards: over them records wait in the stream (nothing is dropped).
    max_batches_per_minute = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(1_000_000)])
    max_records_per_day = models.PositiveBigIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(10**12)])
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"pipeline of {self.project}"
