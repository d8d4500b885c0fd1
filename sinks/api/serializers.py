"""The sinks API's serializer: per-kind config validation (sinks.kinds), secrets masked on output."""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from sinks.kinds import KINDS, get_kind
from sinks.kinds.base import ConfigError
from sinks.models import DEAD_LETTER_AFTER_MAX_MINUTES, MAX_CONCURRENCY_MAX, Sink


class SinkSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=[])  # the registry's kinds, read when the serializer is built
    config = serializers.JSONField()
    dead_letter_after_minutes = serializers.IntegerField(min_value=1, max_value=DEAD_LETTER_AFTER_MAX_MINUTES,
                                                         required=False, allow_null=True)
    max_concurrency = serializers.IntegerField(min_value=1, max_value=MAX_CONCURRENCY_MAX, required=False)

    class Meta:
        model = Sink
        fields = ["id", "name", "kind", "enabled", "config", "dead_letter_after_minutes", "max_concurrency",
                  "last_error", "last_error_at", "created_at",
                  "updated_at"]
        read_only_fields = ["id", "last_error", "last_error_at", "created_at", "updated_at"]

    def get_fields(self) -> dict:
        fields = super().get_fields()
        fields["kind"].choices = sorted(KINDS)
        return fields

    def validate_name(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError("A sink needs a name.")
        project = self.context["project"]
        clash = Sink.objects.filter(project=project, name=value)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError("Another sink of this project has this name.")
        return value

    def validate(self, attrs: dict) -> dict:
        kind_name = attrs.get("kind", self.instance.kind if self.instance else None)
        if self.instance is not None and kind_name != self.instance.kind:
            raise serializers.ValidationError({"kind": "The kind of a sink cannot change; create a new sink."})
        if "config" in attrs or self.instance is None:
            kind = get_kind(kind_name)
            stored = self.instance.config if self.instance else None
            try:
                attrs["config"] = kind.clean_config(attrs.get("config"), allow_private=settings.ALLOW_PRIVATE_TARGETS,
                                                    stored=stored)
            except ConfigError as exc:
                raise serializers.ValidationError({"config": exc.errors}) from None
        return attrs

    def to_representation(self, instance: Sink) -> dict:
        data = super().to_representation(instance)
        data["config"] = get_kind(instance.kind).mask_config(instance.config)
        return data
