"""Request serializers of the dead letters API (responses are the stored entries as they are)."""

from __future__ import annotations

from rest_framework import serializers

from projects.streams import DLQ_STAGES

MAX_PAGE = 200
MAX_BULK = 1000


class ListQuerySerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=DLQ_STAGES, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=MAX_PAGE, default=50)
    cursor = serializers.IntegerField(min_value=1, required=False)


class BulkSerializer(serializers.Serializer):
    seqs = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False,
                                 max_length=MAX_BULK, allow_empty=False)
    all = serializers.BooleanField(required=False, default=False)
    stage = serializers.ChoiceField(choices=DLQ_STAGES, required=False)

    def validate(self, attrs: dict) -> dict:
        if bool(attrs.get("seqs")) == bool(attrs.get("all")):
            raise serializers.ValidationError('Send either "seqs": [...] or "all": true (optionally with "stage").')
        if attrs.get("seqs") and "stage" in attrs:
            raise serializers.ValidationError({"stage": '"stage" only applies with "all": true.'})
        return attrs


class BulkResultSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    failed = serializers.ListField(child=serializers.DictField())
