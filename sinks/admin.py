"""Operators' view of sinks (config holds secrets, so it is not shown)."""

from __future__ import annotations

from django.contrib import admin

from sinks.models import Sink


@admin.register(Sink)
class SinkAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "project", "enabled", "last_error_at", "created_at"]
    list_filter = ["kind", "enabled"]
    search_fields = ["name", "project__name"]
    exclude = ["config"]
    readonly_fields = ["last_error", "last_error_at"]
