"""Operators' view of projects, members and keys (key hashes are never shown)."""

from __future__ import annotations

from django.contrib import admin

from projects.models import ApiKey, Membership, Project, ProjectTombstone


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "id", "created_at", "config_version", "config_published_version"]
    search_fields = ["name", "id"]
    readonly_fields = ["id", "created_at", "updated_at", "config_version", "config_published_version",
                       "config_published_at"]
    inlines = [MembershipInline]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "project", "created_at", "last_used_at", "revoked_at"]
    search_fields = ["name", "prefix", "project__name"]
    list_filter = ["revoked_at"]
    exclude = ["key_hash"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]


@admin.register(ProjectTombstone)
class ProjectTombstoneAdmin(admin.ModelAdmin):
    list_display = ["project_id", "deleted_at"]
