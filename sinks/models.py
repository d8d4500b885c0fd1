"""A project's sinks. ``config`` is typed per kind: sinks.kinds validates it before it is stored.

``consumer_generation`` grows each time a disabled sink is enabled again; the data plane
names the sink's JetStream consumer after it, so a runsink process acting on the older
"disabled" document can only ever delete the old consumer, never the re-enabled one.
"""

from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from projects.models import Project

DEAD_LETTER_AFTER_MAX_MINUTES = 7 * 24 * 60
MAX_CONCURRENCY_MAX = 256  # sinks.worker.consumer.MAX_CONCURRENCY_LIMIT


class Sink(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="sinks")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20)
    enabled = models.BooleanField(default=True)
    config = models.JSONField(default=dict)
    # Transient failures are retried while the stream holds the outputs; set, an output failing
    # transiently for this many minutes goes to the dead letters instead (null = never).
    dead_letter_after_minutes = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(DEAD_LETTER_AFTER_MAX_MINUTES)])
    # Outputs delivered at once, at most (an adaptive controller finds the target's capacity below it);
    # 1 keeps the outputs' order, more delivers faster but out of order (docs/sinks.md).
    max_concurrency = models.PositiveIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_CONCURRENCY_MAX)])
    last_error = models.TextField(blank=True, default="")
    last_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    consumer_generation = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="sink_name_unique_in_project")]

    def __str__(self) -> str:
        return f"{self.kind} sink {self.name}"

    def save(self, *args, **kwargs) -> None:
        if self.enabled and getattr(self, "_stored_enabled", None) is False:
            self.consumer_generation += 1
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = [*kwargs["update_fields"], "consumer_generation"]
        super().save(*args, **kwargs)
        self._stored_enabled = self.enabled

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._stored_enabled = instance.__dict__.get("enabled")
        return instance

    @property
    def consumer_name(self) -> str:
        from sinks.worker.consumer import consumer_name

        return consumer_name(self.id, self.consumer_generation)
