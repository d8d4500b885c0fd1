"""Serializers of the projects API: projects, members, API keys."""

from __future__ import annotations

from rest_framework import serializers

from projects import services
from projects.models import ApiKey, Membership, Project, Role


class ProjectSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()
    config_published = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = ["id", "name", "role", "created_at", "updated_at", "config_version", "config_published"]
        read_only_fields = ["id", "role", "created_at", "updated_at", "config_version", "config_published"]

    def get_role(self, project: Project) -> str | None:
        roles = self.context.get("roles") or {}
        return roles.get(project.pk)

    def get_config_published(self, project: Project) -> bool:
        return not project.config_pending


class MembershipSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField(source="user.id", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    name = serializers.CharField(source="user.name", read_only=True)

    class Meta:
        model = Membership
        fields = ["user_id", "email", "name", "role", "created_at"]
        read_only_fields = ["user_id", "email", "name", "created_at"]


class AddMemberSerializer(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices, default=Role.VIEWER)

    def validate_email(self, value: str) -> str:
        try:
            self.context["user"] = services.invitee(self.context["project"], value)
        except services.InviteError as exc:
            raise serializers.ValidationError(str(exc)) from None
        return self.context["user"].email


class ChangeRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class ApiKeySerializer(serializers.ModelSerializer):
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at", "is_active"]
        read_only_fields = ["id", "prefix", "created_at", "last_used_at", "revoked_at", "is_active"]

class NewApiKeySerializer(ApiKeySerializer):
    key = serializers.CharField(read_only=True, help_text="The secret. Shown only in this response.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = [*ApiKeySerializer.Meta.read_only_fields, "key"]
