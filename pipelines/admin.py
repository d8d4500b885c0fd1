"""Operators' view of pipelines."""

from __future__ import annotations

from django.contrib import admin

from pipelines.models import Pipeline


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    list_display = ["project", "enabled", "agent_endpoint", "batch_size", "batch_max_wait_ms", "updated_at"]
    list_filter = ["enabled"]
    search_fields = ["project__name", "agent_endpoint"]
    exclude = ["agent_headers"]
