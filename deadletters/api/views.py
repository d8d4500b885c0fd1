"""Dead letters API: viewers read, admins replay and discard (tenancy via ProjectScoped).

Everything is read from JetStream through the NATS bridge (``projects.api.jetstream.call``); when
NATS cannot be reached the answer is 503 with a message saying so, never a stale or empty list
that looks like success. Replaying and discarding are ``deadletters.store``'s, shared with the page.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from deadletters import store
from deadletters.api.serializers import BulkResultSerializer, BulkSerializer, ListQuerySerializer
from projects.api.jetstream import call
from projects.api.views import ProjectScoped

BULK_TIMEOUT = 120.0


class DeadLetterBase(ProjectScoped, APIView):
    def replayable_sinks(self) -> set[str]:
        return {str(pk) for pk in self.project.sinks.filter(enabled=True).values_list("pk", flat=True)}


class DeadLetterListView(DeadLetterBase):
    @extend_schema(operation_id="projects_deadletters_list", parameters=[ListQuerySerializer], responses={200: dict})
    def get(self, request, project_id):
        query = ListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params, project_id = query.validated_data, self.project.pk
        page = call(lambda js: store.list_entries(js, project_id, stage=params.get("stage"),
                                                  limit=params["limit"], cursor=params.get("cursor")))
        return Response({"results": page.items, "next_cursor": page.next_cursor})


class DeadLetterDetailView(DeadLetterBase):
    @extend_schema(responses={200: dict})
    def get(self, request, project_id, seq):
        project_id = self.project.pk
        return Response(call(lambda js: store.get_entry(js, project_id, seq), missing=(store.EntryNotFound,)))

    @extend_schema(responses={204: None})
    def delete(self, request, project_id, seq):
        project_id = self.project.pk
        call(lambda js: store.delete_entry(js, project_id, seq), missing=(store.EntryNotFound,))
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeadLetterReplayView(DeadLetterBase):
    @extend_schema(request=None, responses={200: dict})
    def post(self, request, project_id, seq):
        project_id, sinks = self.project.pk, self.replayable_sinks()
        try:
            sent = call(lambda js: store.replay_one(js, project_id, seq, sinks), missing=(store.EntryNotFound,))
        except store.ReplayError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response({"replayed": 1, "messages": sent})


def _bulk_schema(operation_id: str):
    return extend_schema_view(post=extend_schema(operation_id=operation_id, request=BulkSerializer,
                                                 responses={200: BulkResultSerializer}))


class DeadLetterBulkView(DeadLetterBase):
    """``{"seqs": [...]}`` or ``{"all": true, "stage": ...}``; answers how many were done and why the rest were not."""

    def post(self, request, project_id):
        body = BulkSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        params = body.validated_data
        sequences = None if params.get("all") else params["seqs"]
        operation = self.operation(self.project.pk, sequences, params.get("stage"))
        done, failed = call(operation, timeout=BULK_TIMEOUT)
        return Response({"done": done, "failed": [{"seq": seq, "error": error} for seq, error in failed]})


@_bulk_schema("projects_deadletters_bulk_replay")
class DeadLetterBulkReplayView(DeadLetterBulkView):
    def operation(self, project_id, sequences, stage):
        sinks = self.replayable_sinks()
        return lambda js: store.replay_many(js, project_id, sequences, stage, sinks)


@_bulk_schema("projects_deadletters_bulk_discard")
class DeadLetterBulkDiscardView(DeadLetterBulkView):
    def operation(self, project_id, sequences, stage):
        return lambda js: store.discard_many(js, project_id, sequences, stage)
