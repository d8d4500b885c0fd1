"""Projects, memberships, API keys and the bookkeeping that keeps NATS in step with them.

``config_version`` is bumped in the same transaction as every change to a project's
keys, pipeline or sinks; ``config_published_version`` records what has reached the
``gf-ai-config`` KV bucket. The gap between them is the outbox: whatever could not be
published (NATS down) is published later by the reconciler, built from the database
at that moment, so no update is lost and none is applied out of order.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F

from projects.apikeys import hash_key, new_key


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    VIEWER = "viewer", "Viewer"


ROLE_RANK = {Role.VIEWER: 0, Role.ADMIN: 1, Role.OWNER: 2}


class Project(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    config_version = models.BigIntegerField(default=1, editable=False)
    config_published_version = models.BigIntegerField(default=0, editable=False)
    config_published_at = models.DateTimeField(null=True, blank=True, editable=False)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="projects")

    class Meta:
        ordering = ["name", "created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def config_pending(self) -> bool:
        return self.config_published_version < self.config_version

    def bump_config_version(self) -> None:
        """Mark the configuration changed; call inside the transaction that changes it."""
        Project.objects.filter(pk=self.pk).update(config_version=F("config_version") + 1)


class Membership(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="one_membership_per_user")]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} of {self.project}"


class ApiKey(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @classmethod
    def mint(cls, project: Project, name: str, created_by=None) -> tuple[ApiKey, str]:
        """Create a key and return it with its secret, which is never stored and never shown again."""
        prefix, secret = new_key()
        key = cls.objects.create(project=project, name=name, prefix=prefix, key_hash=hash_key(secret),
                                 created_by=created_by)
        return key, secret


class ProjectTombstone(models.Model):
    """A deleted project whose streams and config document still have to be removed from NATS."""

    project_id = models.UUIDField(primary_key=True)
    deleted_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"deleted project {self.project_id}"
