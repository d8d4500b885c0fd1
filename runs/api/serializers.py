"""Query serializer of the runs API (responses are the folded runs as they are)."""

from __future__ import annotations

from rest_framework import serializers

from runs.store import FILTERS

MAX_PAGE = 200


class RunListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=FILTERS, required=False,
                                     help_text="delivered, retrying, in-flight, dead-lettered, released, unknown, "
                                               "or no-output (delivered, but the agent sent no output)")
    limit = serializers.IntegerField(min_value=1, max_value=MAX_PAGE, default=50)
    cursor = serializers.IntegerField(min_value=1, required=False)
