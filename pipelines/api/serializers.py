"""The pipeline API's serializer: validation shared with the browser form, secrets masked on output."""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from outbound.policy import OutboundTargetError, check_url
from pipelines import validation
from pipelines.models import Pipeline
from pipelines.stages.config import PIPELINE_NUMBERS, default
from projects.masking import mask_headers, restore_headers, same_origin


def _number(name: str, **kwargs) -> serializers.IntegerField:
    """The field of a numeric setting, bounded by ``PIPELINE_NUMBERS``; settings without a default take null."""
    setting = PIPELINE_NUMBERS[name]
    if setting.default is None:
        kwargs.setdefault("allow_null", True)
    return serializers.IntegerField(min_value=setting.minimum, max_value=setting.maximum, **kwargs)


class RetryPolicySerializer(serializers.Serializer):
    initial_backoff_ms = _number("retry_initial_backoff_ms", source="retry_initial_backoff_ms")
    max_backoff_ms = _number("retry_max_backoff_ms", source="retry_max_backoff_ms")


class PipelineSerializer(serializers.ModelSerializer):
    transforms = serializers.JSONField(required=False)
    agent_headers = serializers.JSONField(required=False)
    signals = serializers.JSONField(required=False)
    retry_policy = RetryPolicySerializer(source="*", required=False)
    batch_size = _number("batch_size", required=False)
    batch_max_wait_ms = _number("batch_max_wait_ms", required=False)
    request_timeout_ms = _number("request_timeout_ms", required=False)
    agent_endpoint = serializers.CharField(max_length=2000, allow_blank=True, required=False)
    max_concurrency = _number("max_concurrency", required=False)
    max_batches_per_minute = _number("max_batches_per_minute", required=False)
    max_records_per_day = _number("max_records_per_day", required=False)
    dead_letter_after_minutes = _number("dead_letter_after_minutes", required=False)

    class Meta:
        model = Pipeline
        fields = ["enabled", "filter", "transforms", "agent_endpoint", "agent_headers", "batch_size",
                  "batch_max_wait_ms", "signals", "retry_policy", "request_timeout_ms", "max_concurrency",
                  "max_batches_per_minute", "max_records_per_day", "dead_letter_after_minutes", "updated_at"]
        read_only_fields = ["updated_at"]

    def validate_filter(self, value: str) -> str:
        try:
            return validation.clean_filter(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate_transforms(self, value):
        try:
            return validation.clean_transforms(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate_signals(self, value):
        try:
            return validation.clean_signals(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate_agent_endpoint(self, value: str) -> str:
        value = value.strip()
        if value:
            try:
                check_url(value, allow_private=settings.ALLOW_PRIVATE_TARGETS)
            except OutboundTargetError as exc:
                raise serializers.ValidationError(str(exc)) from None
        return value

    def validate_agent_headers(self, value):
        try:
            cleaned = validation.clean_headers(value)
            stored = self.instance.agent_headers if self.instance else {}
            endpoint = self.initial_data.get("agent_endpoint") if isinstance(self.initial_data, dict) else None
            changed = (self.instance is not None and endpoint is not None
                       and not same_origin(str(endpoint).strip(), self.instance.agent_endpoint))
            return restore_headers(cleaned, stored, target_changed=changed)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate(self, attrs: dict) -> dict:
        instance = self.instance
        enabled = attrs.get("enabled", instance.enabled if instance else False)
        endpoint = attrs.get("agent_endpoint", instance.agent_endpoint if instance else "")
        if enabled and not endpoint:
            raise serializers.ValidationError({"agent_endpoint": "An enabled pipeline needs an agent endpoint."})
        if (instance is not None and instance.agent_headers and "agent_headers" not in attrs
                and not same_origin(endpoint, instance.agent_endpoint)):
            # Keeping the stored headers would hand their secrets to the new server, chosen by
            # someone who may never have seen them (PATCH with only a new endpoint).
            raise serializers.ValidationError({"agent_headers": (
                "the agent endpoint now points to another server: send agent_headers again with their values "
                "(or {} to drop them); stored secrets are only sent to the server they were entered for")})
        initial = attrs.get("retry_initial_backoff_ms", instance.retry_initial_backoff_ms if instance
                            else default("retry_initial_backoff_ms"))
        maximum = attrs.get("retry_max_backoff_ms", instance.retry_max_backoff_ms if instance
                            else default("retry_max_backoff_ms"))
        if initial > maximum:
            raise serializers.ValidationError(
                {"retry_policy": "initial_backoff_ms must not be larger than max_backoff_ms."})
        return attrs

    def to_representation(self, instance: Pipeline) -> dict:
        data = super().to_representation(instance)
        data["agent_headers"] = mask_headers(instance.agent_headers)
        return data
